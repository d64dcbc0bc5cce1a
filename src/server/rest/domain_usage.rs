//! Seed 000, `GET /api/v1/billing/{domainId}/civil/usage`: a domain's mails in the current
//! billing period, per account, what they cost, and the last six months.

use axum::{extract::State, routing::get, Json, Router};
use chrono::Utc;
use rust_decimal::Decimal;
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use crate::{
    domain::quantity::Quantity,
    error::AppError,
    model::usage::{BreakdownTotal, HistoryMonth},
    server::{
        access::principal::ApiPrincipal,
        db::{domains, usage::Dimension},
        metering::ledger::Ledger,
        rest::{
            domains::{account_body, AccountBody},
            extract::Ids,
            shape::{self, decimal, id, quantity},
        },
        state::AppState,
    },
};

/// `GET /api/v1/billing/{domainId}/civil/usage`.
pub fn router() -> Router<AppState> {
    Router::new().route("/api/v1/billing/{domainId}/civil/usage", get(domain_usage))
}

/// Months in `history`, the current one last.
pub const HISTORY_MONTHS: usize = 6;

/// 200 `{total, value, metrics, history}` for any key of the organization. Mails are the
/// `mail-metric` setting's metric (`emails` by default) sent with this `domainId`:
/// `total` is the domain's mails this billing period; `value` its share of what that
/// metric costs this period (the metric's charge × the domain's mails ÷ all mails, after
/// discount and tax, rounded to 6 decimals); `metrics` each of the domain's accounts with
/// its mails this period (`totalMails`, a string); `history` the last six periods, oldest
/// first, as `MM/YYYY` with the domain's mails and their share of the cost. 400 for a
/// `domainId` that is not an id, 401 without a valid key, 404 for a domain the
/// organization does not have.
#[utoipa::path(
    get, path = "/api/v1/billing/{domainId}/civil/usage", tag = "usage",
    params(("domainId" = String, Path, description = "The domain's id")),
    responses(
        (status = 200, description = "The domain's mails, their cost and six months of history", body = DomainUsageBody),
    )
)]
pub(crate) async fn domain_usage(
    State(state): State<AppState>,
    principal: ApiPrincipal,
    Ids([domain_id]): Ids<1>,
) -> Result<Json<DomainUsageBody>, AppError> {
    let pool = state.db.pool();
    let domain: domains::DomainRow = shape::own(&state, &principal, domain_id, "Domain").await?;
    let ledger = Ledger::cached(&state, principal.organization_id).await?;
    let mail_metric = ledger
        .resource_named(&state.settings.mail_metric)
        .map(|resource| resource.metric.code.clone());
    if mail_metric.is_none() {
        tracing::warn!(
            metric = state.settings.mail_metric,
            "mail-metric names no metric of the catalogue; every domain has 0 mails"
        );
    }
    let mail_metric = mail_metric.as_deref().unwrap_or_default();

    let now = Utc::now();
    let periods = ledger.period_at(now).last(HISTORY_MONTHS, ledger.time_zone);
    let months = ledger.history(&state, now, HISTORY_MONTHS).await?;
    let domain_key = id(domain.id);
    let mut history = Vec::with_capacity(months.len());
    for (period, month) in periods.iter().zip(&months) {
        let by_domain = ledger.breakdown(&state, Dimension::Domain, period).await?;
        let mails = BreakdownTotal::total_in(&by_domain, &domain_key, mail_metric);
        history.push((mails, cost_share(month, mail_metric, mails), month));
    }
    let (total, value) = history
        .last()
        .map_or((Quantity::ZERO, Decimal::ZERO), |(mails, cost, _)| {
            (*mails, *cost)
        });
    let current = ledger.period_at(now);
    let by_account = ledger
        .breakdown(&state, Dimension::Account, &current)
        .await?;
    let accounts: Vec<MailAccountBody> = domains::accounts(pool, principal.organization_id)
        .await?
        .into_iter()
        .filter(|account| account.domain_id == domain.id)
        .map(|account| MailAccountBody {
            total_mails: BreakdownTotal::total_in(&by_account, &account.address, mail_metric)
                .to_decimal()
                .normalize()
                .to_string(),
            account: account_body(&account),
        })
        .collect();
    Ok(Json(DomainUsageBody {
        total: quantity(total),
        value: decimal(value),
        metrics: accounts,
        history: history
            .iter()
            .map(|(mails, cost, month)| MonthBody {
                month: month.month.clone(),
                total: quantity(*mails),
                cost: decimal(*cost),
            })
            .collect(),
    }))
}

/// Seed 000's answer.
#[derive(Serialize, ToSchema)]
pub struct DomainUsageBody {
    /// The domain's mails this billing period.
    #[schema(value_type = f64)]
    pub total: Value,
    /// Their share of the mail metric's cost this period.
    #[schema(value_type = f64)]
    pub value: Value,
    /// Each account of the domain with its mails this period.
    pub metrics: Vec<MailAccountBody>,
    /// The last six periods, oldest first.
    pub history: Vec<MonthBody>,
}

/// An account and its mails this period.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MailAccountBody {
    #[serde(flatten)]
    pub account: AccountBody,
    /// A decimal string, as in the document.
    #[schema(example = "1")]
    pub total_mails: String,
}

/// One month of a domain's mails.
#[derive(Serialize, ToSchema)]
pub struct MonthBody {
    #[schema(example = "10/2025")]
    pub month: String,
    #[schema(value_type = f64)]
    pub total: Value,
    #[schema(value_type = f64)]
    pub cost: Value,
}

/// The part of `metric`'s cost in `month` that `mails` of its total account for.
fn cost_share(month: &HistoryMonth, metric: &str, mails: Quantity) -> Decimal {
    let Some(all) = month.metrics.iter().find(|m| m.code == metric) else {
        return Decimal::ZERO;
    };
    if all.total == Quantity::ZERO {
        return Decimal::ZERO;
    }
    // The share first: a domain's mails are part of the total, so it is at most 1 and the
    // product cannot overflow.
    mails
        .to_decimal()
        .checked_div(all.total.to_decimal())
        .and_then(|share| all.cost.checked_mul(share))
        .unwrap_or(all.cost)
        .round_dp(6)
        .normalize()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{domain::period::BillingPeriod, model::usage::MetricMonth};

    fn qty(text: &str) -> Quantity {
        Quantity::parse(text.parse().expect("decimal")).expect("quantity")
    }

    fn month(total: &str, cost: &str) -> HistoryMonth {
        let now = Utc::now();
        HistoryMonth {
            month: "10/2025".into(),
            period: BillingPeriod::calendar_month_containing(now, chrono_tz::Tz::UTC),
            metrics: vec![MetricMonth {
                code: "emails".into(),
                total: qty(total),
                cost: cost.parse().expect("cost"),
            }],
            cost: cost.parse().expect("cost"),
        }
    }

    #[test]
    fn a_domain_pays_its_share_of_the_metrics_cost() {
        let cases = [
            // 3 000 of 13 000 mails of a $3 charge.
            ("13000", "3", "3000", "0.692308"),
            ("13000", "3", "13000", "3"),
            ("1", "0.0005", "1", "0.0005"),
            ("500", "0", "500", "0"),
            ("0", "0", "0", "0"),
        ];
        for (total, cost, mails, share) in cases {
            assert_eq!(
                cost_share(&month(total, cost), "emails", qty(mails)),
                share.parse::<Decimal>().expect("share"),
                "{mails} of {total} at {cost}"
            );
        }
        assert_eq!(
            cost_share(&month("10", "1"), "sms", qty("10")),
            Decimal::ZERO
        );
    }
}
