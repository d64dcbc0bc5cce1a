//! Usage for the caller's organisation in its current billing period.

use leptos::prelude::*;

use crate::error::AppError;

use crate::model::usage::{AccountUsage, UsageHistory, UsageSummary};

/// The signed-in organisation's usage in its current billing period, or from `from` to `to`
/// (`YYYY-MM-DD`, whole local days, both inclusive) when both are given; for an embed
/// view's portal session, only its metrics.
///
/// Errors: `BadRequest` (400) for a malformed date, a range that runs backwards or is
/// longer than 13 months; `Unauthorized` (401) when not signed in, `Forbidden` (403) for a
/// platform admin, `Unavailable` (503) when the database does not answer.
#[server(output = crate::codec::JsonText)]
pub async fn get_usage_summary(from: String, to: String) -> Result<UsageSummary, AppError> {
    use crate::domain::period::BillingPeriod;
    use crate::model::usage::parse_day;
    use crate::server::{http::server_fn, metering::ledger::Ledger};

    server_fn::respond(
        async {
            let state = server_fn::state()?;
            let reader = server_fn::reader(&state).await?;
            let ledger = Ledger::cached(&state, reader.organization_id()).await?;
            let now = chrono::Utc::now();
            let period = match (parse_day("from", &from)?, parse_day("to", &to)?) {
                (Some(first), Some(last)) => {
                    BillingPeriod::requested(first, last, ledger.anchor, ledger.time_zone)
                        .map_err(AppError::BadRequest)?
                }
                _ => ledger.period_at(now),
            };
            let mut summary = ledger.summary_of(&state, period, now).await?;
            reader.metrics().retain(&mut summary.metrics, |m| &m.code);
            Ok(summary)
        }
        .await,
    )
}

/// The signed-in organisation's last 12 billing periods, each metric's total and cost;
/// for an embed view's portal session, only its metrics, in its language.
///
/// Errors as [`get_usage_summary`].
#[server(output = crate::codec::JsonText)]
pub async fn get_usage_history() -> Result<UsageHistory, AppError> {
    use crate::server::{access::auth::Reader, http::server_fn, metering::ledger::Ledger};

    let locale = crate::i18n::request_locale();
    server_fn::respond(
        async {
            let state = server_fn::state()?;
            let reader = server_fn::reader(&state).await?;
            let ledger = Ledger::cached(&state, reader.organization_id()).await?;
            let mut history = ledger.usage_history(&state, chrono::Utc::now()).await?;
            reader.metrics().retain(&mut history.metrics, |m| &m.code);
            let locale = match &reader {
                Reader::Portal(grant) => grant.locale,
                Reader::Member(_) => locale,
            };
            Ok(history.charted(locale))
        }
        .await,
    )
}

/// Every account of the signed-in organisation with its mails this billing period, by
/// domain and address.
///
/// Errors as [`get_usage_summary`].
#[server(output = crate::codec::JsonText)]
pub async fn get_account_usage() -> Result<Vec<AccountUsage>, AppError> {
    use crate::model::usage::BreakdownTotal;
    use crate::server::{
        db::{self, domains, usage::Dimension},
        http::server_fn,
        metering::ledger::{span_of, Ledger},
        platform::cache::Read,
    };

    server_fn::respond(
        async {
            let state = server_fn::state()?;
            let principal = server_fn::principal(&state).await?;
            let ledger = Ledger::cached(&state, principal.organization_id).await?;
            let period = ledger.period_at(chrono::Utc::now());
            let organization_id = principal.organization_id;
            let load = || async {
                let by_account = ledger
                    .breakdown(&state, Dimension::Account, &period)
                    .await?;
                let metric = ledger
                    .resource_named(&state.settings.mail_metric)
                    .map(|resource| resource.metric.code.clone())
                    .unwrap_or_default();
                let pool = state.db.pool();
                let names =
                    db::scoped::list::<domains::DomainRow, _>(pool, organization_id).await?;
                let mut accounts: Vec<AccountUsage> = domains::accounts(pool, organization_id)
                    .await?
                    .into_iter()
                    .map(|account| AccountUsage {
                        mails: BreakdownTotal::total_in(&by_account, &account.address, &metric),
                        domain: names
                            .iter()
                            .find(|domain| domain.id == account.domain_id)
                            .map(|domain| domain.name.clone())
                            .unwrap_or_default(),
                        relay: account.relay != 0,
                        account: account.address,
                    })
                    .collect();
                accounts.sort_by(|a, b| (&a.domain, &a.account).cmp(&(&b.domain, &b.account)));
                Ok(accounts)
            };
            let (from, to) = span_of(&period);
            let accounts = state
                .cache
                .get(
                    &state.live,
                    (organization_id, Read::Accounts(from, to)),
                    load,
                )
                .await?;
            Ok(accounts.as_ref().clone())
        }
        .await,
    )
}
