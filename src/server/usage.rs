//! Builds usage summaries from storage and the domain rules; shared by server functions and REST.

use std::str::FromStr;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use crate::{
    api::usage::{MetricUsage, UsageSummary},
    domain::{period::BillingPeriod, quantity::Quantity, usage_level::Allowance},
    error::AppError,
};

use super::{
    auth::Principal,
    db::{self, organizations},
    state::AppState,
};

/// The principal's organization's usage in the billing period containing `now`.
pub async fn usage_summary(
    state: &AppState,
    principal: &Principal,
    now: DateTime<Utc>,
) -> Result<UsageSummary, AppError> {
    let pool = state.db.pool();
    let organization = organizations::find(pool, principal.organization_id)
        .await?
        .ok_or_else(|| AppError::NotFound("Organization".into()))?;
    let time_zone = Tz::from_str(&organization.time_zone).unwrap_or_else(|_| {
        tracing::warn!(
            organization = organization.id,
            time_zone = organization.time_zone,
            "unknown time zone; using the default"
        );
        state.settings.default_time_zone
    });
    let period = BillingPeriod::calendar_month_containing(now, time_zone);
    let rows = db::usage::for_period(pool, organization.id, db::unix_seconds(period.start)).await?;
    let metrics = rows
        .into_iter()
        .map(|row| {
            let used = stored_quantity(row.used_micros)?;
            let allowance = match row.included_micros {
                Some(micros) => Allowance::Included(stored_quantity(micros)?),
                None => Allowance::Unlimited,
            };
            Ok(MetricUsage::new(
                row.code,
                row.name,
                row.unit,
                used,
                allowance,
                &state.settings.thresholds,
            ))
        })
        .collect::<Result<Vec<_>, AppError>>()?;
    Ok(UsageSummary {
        organization: organization.name,
        period,
        thresholds: state.settings.thresholds,
        metrics,
    })
}

/// Storage guarantees non-negative amounts by a check constraint; a violation is our fault.
fn stored_quantity(micros: i64) -> Result<Quantity, AppError> {
    Quantity::from_micros(micros).map_err(|error| {
        tracing::error!(micros, %error, "negative quantity in storage");
        AppError::Internal
    })
}
