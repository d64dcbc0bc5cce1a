//! Usage for the caller's organisation in its current billing period.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::domain::{
    period::BillingPeriod,
    quantity::Quantity,
    usage_level::{Allowance, Thresholds, UsageLevel},
};
use crate::error::AppError;

/// One organisation's usage of every metric its plan covers, in one billing period.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UsageSummary {
    /// Display name of the organisation.
    pub organization: String,
    pub period: BillingPeriod,
    pub thresholds: Thresholds,
    /// In the plan's display order.
    pub metrics: Vec<MetricUsage>,
}

/// Usage of one metric against its allowance.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MetricUsage {
    /// Stable identifier, e.g. `apiCalls`.
    pub code: String,
    /// Display name, e.g. "API Calls".
    pub name: String,
    /// Unit of measurement, e.g. "requests".
    pub unit: String,
    pub used: Quantity,
    pub allowance: Allowance,
    pub level: UsageLevel,
}

impl MetricUsage {
    /// Rates `used` against `allowance` with the instance's thresholds.
    pub fn new(
        code: String,
        name: String,
        unit: String,
        used: Quantity,
        allowance: Allowance,
        thresholds: &Thresholds,
    ) -> Self {
        let level = UsageLevel::assess(used, allowance, thresholds);
        MetricUsage {
            code,
            name,
            unit,
            used,
            allowance,
            level,
        }
    }
}

/// The signed-in organisation's usage for the current billing period.
///
/// Errors: `NotFound` (404) when the instance has no organisation yet, `Unauthorized` (401)
/// when the visitor must say which organisation (needs sign-in), `Unavailable` (503) when the
/// database does not answer.
#[server]
pub async fn get_usage_summary() -> Result<UsageSummary, AppError> {
    use crate::server::{auth::Principal, server_fn, usage::usage_summary};

    server_fn::respond(
        async {
            let state = server_fn::state()?;
            let principal = Principal::current(&state).await?;
            usage_summary(&state, &principal, chrono::Utc::now()).await
        }
        .await,
    )
}
