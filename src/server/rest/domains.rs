//! Domains (apps) and their mailbox accounts: `GET/POST /api/v1/domains`,
//! `DELETE /api/v1/domains/{id}`, `GET/POST /api/v1/domains/{id}/accounts`,
//! `DELETE /api/v1/domains/{id}/accounts/{accountId}`.

use axum::{
    extract::State,
    http::StatusCode,
    routing::{delete, get},
    Json, Router,
};
use chrono::Utc;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{
    domain::mailbox::{DomainName, MailboxAddress},
    error::AppError,
    server::{
        access::principal::ApiPrincipal,
        db::{
            self,
            domains::{self, AccountRow, DomainRow},
        },
        rest::extract::{Admin, Body, Ids, List, Params},
        rest::shape::{self, id, timestamp_millis, Created, ListQuery, Page},
        state::AppState,
    },
};

/// The domain and account routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/domains", get(search_domains).post(create_domain))
        .route("/api/v1/domains/{id}", delete(delete_domain))
        .route(
            "/api/v1/domains/{id}/accounts",
            get(list_accounts).post(create_account),
        )
        .route(
            "/api/v1/domains/{id}/accounts/{account_id}",
            delete(delete_account),
        )
}

/// A domain to add.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewDomain {
    /// A domain name; stored in lower case.
    #[schema(
        max_length = 253,
        pattern = r"^([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.?$"
    )]
    pub name: String,
}

/// An account to add to a domain.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAccount {
    /// An address of the domain.
    #[schema(max_length = 320, pattern = "^[!-?A-~]{1,64}@[^@]+$")]
    pub account: String,
    /// A relay account (default false).
    #[serde(default)]
    pub relay: bool,
}

/// 200 `{total, items: [{id, name, createdAt, updatedAt}]}`: the organization's domains
/// whose name holds `search`, by name, paged by `limit` and `offset`. 400 for a bad limit
/// or offset, 401 without a valid key.
#[utoipa::path(
    get, path = "/api/v1/domains", tag = "domains", params(ListQuery),
    responses(Page::<DomainBody>)
)]
pub(crate) async fn search_domains(list: List) -> Result<Json<Page<DomainBody>>, AppError> {
    list.search(domain_body, |domain| vec![domain.name.as_str()])
        .await
}

/// 201 with the new domain. Needs an admin key. 400 for a name that is not a domain name,
/// 401 without a valid key, 403 for a member key, 409 when the organization has it already.
#[utoipa::path(
    post, path = "/api/v1/domains", tag = "domains", request_body = NewDomain,
    responses(Created::<DomainBody>)
)]
pub(crate) async fn create_domain(
    State(state): State<AppState>,
    Admin(principal): Admin,
    Body(request): Body<NewDomain>,
) -> Result<Created<DomainBody>, AppError> {
    let name = DomainName::parse(&request.name).map_err(AppError::BadRequest)?;
    let now = db::unix_seconds(Utc::now());
    let domain_id = domains::insert(
        state.db.pool(),
        principal.organization_id,
        name.as_str(),
        now,
    )
    .await
    .map_err(|e| db::conflict_or(e, format!("the domain {} exists already", name.as_str())))?;
    let domain = DomainRow {
        id: domain_id,
        name: name.as_str().to_string(),
        created_at: now,
        updated_at: now,
    };
    state.live.usage_changed(principal.organization_id).await;
    Ok(Created(domain_body(&domain)))
}

/// 204: the domain and its accounts are gone; usage already recorded for them is kept.
/// Needs an admin key. 400 for an id that is not digits, 401, 403 for a member key, 404
/// for a domain the organization does not have.
#[utoipa::path(
    delete, path = "/api/v1/domains/{id}", tag = "domains", params(("id" = String, Path, description = "The domain's id")),
    responses((status = 204, description = "Deleted with its accounts"))
)]
pub(crate) async fn delete_domain(
    State(state): State<AppState>,
    Admin(principal): Admin,
    Ids([domain_id]): Ids<1>,
) -> Result<StatusCode, AppError> {
    if domains::delete(state.db.pool(), principal.organization_id, domain_id).await? {
        state.live.usage_changed(principal.organization_id).await;
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(AppError::NotFound("Domain".into()))
    }
}

/// 200 `{total, items: [{id, account, relay, domainId, createdAt, updatedAt}]}`: the
/// domain's accounts whose address holds `search`, by address. 400 for an id that is not digits, 401, 404 for a domain
/// the organization does not have.
#[utoipa::path(
    get, path = "/api/v1/domains/{id}/accounts", tag = "domains", params(("id" = String, Path, description = "The domain's id"), ListQuery),
    responses(
        (status = 200, description = "The domain's accounts, by address", body = Page<AccountBody>),
    )
)]
pub(crate) async fn list_accounts(
    State(state): State<AppState>,
    principal: ApiPrincipal,
    Ids([domain_id]): Ids<1>,
    Params(query): Params<ListQuery>,
) -> Result<Json<Page<AccountBody>>, AppError> {
    let domain: DomainRow = shape::own(&state, &principal, domain_id, "Domain").await?;
    let items: Vec<AccountBody> = domains::accounts(state.db.pool(), principal.organization_id)
        .await?
        .iter()
        .filter(|account| account.domain_id == domain.id)
        .filter(|account| query.matches([account.address.as_str()]))
        .map(account_body)
        .collect();
    Ok(Json(query.page(items)?))
}

/// 201 with the new account. Needs an admin key. 400 for an address outside the domain,
/// 401, 403 for a member key, 404 for a domain the organization does not have, 409 when
/// the organization has the address already.
#[utoipa::path(
    post, path = "/api/v1/domains/{id}/accounts", tag = "domains", params(("id" = String, Path, description = "The domain's id")),
    request_body = NewAccount,
    responses(Created::<AccountBody>)
)]
pub(crate) async fn create_account(
    State(state): State<AppState>,
    Admin(principal): Admin,
    Ids([domain_id]): Ids<1>,
    Body(request): Body<NewAccount>,
) -> Result<Created<AccountBody>, AppError> {
    let domain: DomainRow = shape::own(&state, &principal, domain_id, "Domain").await?;
    let address =
        MailboxAddress::parse_in(&request.account, &domain.name).map_err(AppError::BadRequest)?;
    let now = db::unix_seconds(Utc::now());
    let account_id = domains::insert_account(
        state.db.pool(),
        principal.organization_id,
        domain.id,
        (address.as_str(), request.relay),
        now,
    )
    .await
    .map_err(|e| {
        db::conflict_or(
            e,
            format!("the account {} exists already", address.as_str()),
        )
    })?;
    let account = AccountRow {
        id: account_id,
        domain_id: domain.id,
        address: address.as_str().to_string(),
        relay: i64::from(request.relay),
        created_at: now,
        updated_at: now,
    };
    state.live.usage_changed(principal.organization_id).await;
    Ok(Created(account_body(&account)))
}

/// 204: the account is gone; its recorded usage is kept. Needs an admin key. 400, 401,
/// 403 for a member key, 404 for an account not in this domain of the organization.
#[utoipa::path(
    delete, path = "/api/v1/domains/{id}/accounts/{accountId}", tag = "domains",
    params(("id" = String, Path, description = "The domain's id"), ("accountId" = String, Path, description = "The account's id")),
    responses((status = 204, description = "Deleted"))
)]
pub(crate) async fn delete_account(
    State(state): State<AppState>,
    Admin(principal): Admin,
    Ids([domain_id, account_id]): Ids<2>,
) -> Result<StatusCode, AppError> {
    let deleted = domains::delete_account(
        state.db.pool(),
        principal.organization_id,
        domain_id,
        account_id,
    )
    .await?;
    if deleted {
        state.live.usage_changed(principal.organization_id).await;
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(AppError::NotFound("Account".into()))
    }
}

/// A domain (app) of the organization.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DomainBody {
    pub id: String,
    #[schema(example = "acme.example")]
    pub name: String,
    pub created_at: String,
    pub updated_at: String,
}

fn domain_body(domain: &DomainRow) -> DomainBody {
    DomainBody {
        id: id(domain.id),
        name: domain.name.clone(),
        created_at: timestamp_millis(domain.created_at),
        updated_at: timestamp_millis(domain.updated_at),
    }
}

/// A mailbox account of a domain, as seed 000 lists them.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AccountBody {
    pub id: String,
    #[schema(example = "contato@acme.example")]
    pub account: String,
    pub relay: bool,
    pub domain_id: String,
    pub created_at: String,
    pub updated_at: String,
}

/// An account as seed 000 lists them, without the usage.
pub fn account_body(account: &AccountRow) -> AccountBody {
    AccountBody {
        id: id(account.id),
        account: account.address.clone(),
        relay: account.relay != 0,
        domain_id: id(account.domain_id),
        created_at: timestamp_millis(account.created_at),
        updated_at: timestamp_millis(account.updated_at),
    }
}
