//! Seed 004, `GET /v2/ocamba/usage`: the organization's statements (billing periods with
//! their line items), searchable, sortable and paged.

use axum::{
    extract::{rejection::QueryRejection, Query, State},
    routing::get,
    Json, Router,
};
use chrono::Utc;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

use crate::{
    error::AppError,
    server::{
        access::principal::ApiPrincipal,
        metering::ledger::Ledger,
        metering::statements::{self, Statement},
        rest::shape::{bounded, decimal, id, timestamp_seconds, ErrorBody, Page, MAX_OFFSET},
        state::AppState,
    },
};

/// `GET /v2/ocamba/usage`.
pub fn router() -> Router<AppState> {
    Router::new().route("/v2/ocamba/usage", get(list_statements))
}

/// Statements per page unless `limit` says otherwise, and the most it may say.
pub const DEFAULT_LIMIT: usize = 20;
pub const MAX_LIMIT: usize = 100;

/// Every field optional.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StatementQuery {
    /// Part of a line item's name or description, ignoring case.
    search: Option<String>,
    /// Fields to sort on, comma-separated, `-field` for descending (default `-start_date`).
    #[param(example = "-amount")]
    sort: Option<String>,
    /// Statements per page, 1–100 (default 20).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 100)]
    limit: Option<String>,
    /// Statements to skip (default 0).
    #[param(value_type = Option<u32>, maximum = 4294967295_u64)]
    offset: Option<String>,
}

/// 200 `{total, items}` for any key of the organization: `total` counts the statements that
/// match `search` (a case-insensitive part of a line item's name or description), `items`
/// the page `offset`..`offset + limit` of them (limit 1–100, default 20) in `sort` order
/// (`field` or `-field`, several comma-separated; default `-start_date`, newest first).
/// `app_id` is the id of the license billed; `limit_status` is `"0"` within every
/// allowance, `"1"` warning, `"2"` critical, `"3"` over a hard limit; `usage_percent` the
/// highest share of an included amount used. 400 for a bad `sort`, `limit` or `offset`,
/// 401 without a valid key.
#[utoipa::path(
    get, path = "/v2/ocamba/usage", tag = "usage", params(StatementQuery),
    responses(
        (status = 200, description = "Statements, one per billing period", body = Page<StatementBody>),
        (status = 400, description = "An unknown sort field, a bad limit or offset", body = ErrorBody),
    )
)]
pub(crate) async fn list_statements(
    State(state): State<AppState>,
    principal: ApiPrincipal,
    query: Result<Query<StatementQuery>, QueryRejection>,
) -> Result<Json<Page<StatementBody>>, AppError> {
    let Query(query) = query.map_err(|rejection| AppError::BadRequest(rejection.body_text()))?;
    let order = statements::SortKey::parse_list(query.sort.as_deref().unwrap_or("-start_date"))?;
    let limit = bounded(
        "limit",
        query.limit.as_deref(),
        DEFAULT_LIMIT,
        1..=MAX_LIMIT,
    )?;
    let offset = bounded("offset", query.offset.as_deref(), 0, 0..=MAX_OFFSET)?;
    let ledger = Ledger::load(&state, principal.organization_id).await?;
    let mut listed = statements::list(&state, &ledger, Utc::now()).await?;
    statements::select(&mut listed, query.search.as_deref(), &order);
    let total = listed.len();
    let items = listed
        .iter()
        .skip(offset)
        .take(limit)
        .map(|statement| statement_body(&ledger, statement))
        .collect();
    Ok(Json(Page { total, items }))
}

/// Seed 004's statement: one billing period as billed.
#[derive(Serialize, ToSchema)]
pub struct StatementBody {
    pub id: String,
    /// The organization's id.
    pub company_id: String,
    /// The billed license's id.
    pub app_id: String,
    pub items: Vec<LineBody>,
    /// Sum of the lines' prices, before discount and tax.
    #[schema(value_type = f64)]
    pub price: Value,
    /// What is owed.
    #[schema(value_type = f64)]
    pub amount: Value,
    #[schema(example = "USD")]
    pub currency_code: String,
    /// `"0"` within every allowance, `"1"` warning, `"2"` critical, `"3"` over a hard limit.
    #[schema(example = "0")]
    pub limit_status: &'static str,
    /// The highest percentage of any included amount used.
    #[schema(value_type = f64)]
    pub usage_percent: Value,
    #[schema(example = "2021-11-01T00:00:00Z")]
    pub start_time: String,
    /// The start of the period's last day.
    #[schema(example = "2021-11-30T00:00:00Z")]
    pub end_time: String,
}

/// One line: `price = quantity × unit_price`, `discount = price × discount_rate %`,
/// `tax = (price − discount) × tax_rate %`, `amount = price − discount + tax`.
#[derive(Serialize, ToSchema)]
pub struct LineBody {
    /// The plan's name or the metric's code.
    pub name: String,
    #[schema(value_type = f64)]
    pub quantity: Value,
    #[schema(value_type = f64)]
    pub unit_price: Value,
    #[schema(value_type = f64)]
    pub price: Value,
    #[schema(value_type = f64)]
    pub discount_rate: Value,
    #[schema(value_type = f64)]
    pub discount: Value,
    #[schema(value_type = f64)]
    pub tax_rate: Value,
    #[schema(value_type = f64)]
    pub tax: Value,
    #[schema(value_type = f64)]
    pub amount: Value,
    pub description: String,
    /// Units per quantity: 1, or the package size.
    #[schema(value_type = f64)]
    pub unit: Value,
}

fn statement_body(ledger: &Ledger, statement: &Statement) -> StatementBody {
    StatementBody {
        id: id(statement.id),
        company_id: id(statement.organization_id),
        app_id: statement.license_id.map(id).unwrap_or_default(),
        items: statement
            .lines
            .iter()
            .map(|line| LineBody {
                name: line.name.clone(),
                quantity: decimal(line.quantity),
                unit_price: decimal(line.unit_price),
                price: decimal(line.price),
                discount_rate: decimal(line.discount_rate),
                discount: decimal(line.discount),
                tax_rate: decimal(line.tax_rate),
                tax: decimal(line.tax),
                amount: decimal(line.amount),
                description: line.description.clone(),
                unit: decimal(line.unit),
            })
            .collect(),
        price: decimal(statement.price),
        amount: decimal(statement.amount),
        currency_code: statement.currency.clone(),
        limit_status: statement.limit_status.as_str(),
        usage_percent: decimal(statement.usage_percent),
        start_time: timestamp_seconds(statement.period.start),
        end_time: timestamp_seconds(statement.last_day_start(ledger)),
    }
}
