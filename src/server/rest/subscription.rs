//! Seed 001, `GET /api/v1/billing/subscription`: the caller's subscription, its license and
//! each resource's limit and usage in the current billing period.

use std::collections::HashMap;

use axum::{extract::State, routing::get, Json, Router};
use chrono::Utc;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::{
    domain::quantity::Quantity,
    error::AppError,
    server::{
        auth::ApiPrincipal,
        db::{
            self,
            licenses::{self, LicenseRow},
        },
        ledger::{span_of, Ledger},
        rest::{
            licenses::{license_json, resource_json},
            shape::{id, quantity, timestamp_millis},
        },
        state::AppState,
    },
};

/// `GET /api/v1/billing/subscription`.
pub fn router() -> Router<AppState> {
    Router::new().route("/api/v1/billing/subscription", get(current_subscription))
}

/// 200 with the subscription as seed 001 shows it, for any key of the organization:
/// `userId` is the subscribing organization's id; each resource's `limit` is its included
/// amount per period (null when unlimited) and `limited` whether that is a hard limit;
/// `resourceUsage` is the organization's usage of it in the current billing period, null
/// while there is none. 401 without a valid key; 404 when the organization has no live
/// subscription (it is then on the default license, if there is one).
#[tracing::instrument(skip_all, fields(organization = principal.organization_id))]
async fn current_subscription(
    State(state): State<AppState>,
    principal: ApiPrincipal,
) -> Result<Json<Value>, AppError> {
    let ledger = Ledger::load(&state, principal.organization_id).await?;
    let subscription = ledger
        .plan
        .as_ref()
        .and_then(|plan| Some((plan, plan.subscription_id?)));
    let Some((plan, subscription_id)) = subscription else {
        return Err(AppError::NotFound("Subscription".into()));
    };
    let pool = state.db.pool();
    let organization_id = ledger.organization.id;
    let period = ledger.period_at(Utc::now());
    let totals = ledger.totals(&state, &period).await?;
    let activity: HashMap<i64, db::usage::Activity> =
        db::usage::activity_between(pool, organization_id, span_of(&period))
            .await?
            .into_iter()
            .map(|activity| (activity.metric_id, activity))
            .collect();

    let mut resources = Vec::new();
    for stored in licenses::resources_of(pool, plan.license_id).await? {
        let Some(resource) = ledger
            .resources
            .iter()
            .find(|r| r.metric.id == stored.metric_id)
        else {
            continue;
        };
        let metric = &resource.metric;
        let usage = activity.get(&metric.id).map(|activity| {
            let used = totals.get(&metric.id).copied().unwrap_or(Quantity::ZERO);
            json!({
                "id": usage_id(organization_id, metric.id, period.start.timestamp()),
                "resourceId": id(metric.id),
                "usage": quantity(used),
                "userId": id(organization_id),
                "createdAt": timestamp_millis(activity.first_day.max(db::unix_seconds(period.start))),
                "updatedAt": timestamp_millis(activity.last_updated),
            })
        });
        let mut resource = resource_json(&stored, plan.license_id, metric)?;
        resource["resourceUsage"] = usage.unwrap_or(Value::Null);
        resources.push(resource);
    }
    let license = LicenseRow {
        id: plan.license_id,
        name: plan.name.clone(),
        external_id: plan.external_id.clone(),
        description: plan.description.clone(),
        price: plan.price.clone(),
        currency: plan.currency.clone(),
        is_default: plan.is_default,
        created_at: plan.license_created_at,
        updated_at: plan.license_updated_at,
    };
    let created_at = plan.subscription_created_at.unwrap_or_default();
    Ok(Json(json!({
        "id": id(subscription_id),
        "userId": id(organization_id),
        "licenseId": id(plan.license_id),
        "status": plan.status,
        "createdAt": timestamp_millis(created_at),
        "updatedAt": timestamp_millis(plan.subscription_updated_at.unwrap_or(created_at)),
        "license": license_json(&license, resources),
    })))
}

/// A stable id, as digits, for an organization's usage of one metric in the period
/// starting at `period_start`: the same all period long, another one the next period.
fn usage_id(organization_id: i64, metric_id: i64, period_start: i64) -> String {
    let digest = Sha256::digest(format!("{organization_id}:{metric_id}:{period_start}"));
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    (u64::from_be_bytes(first) >> 1).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_usage_id_is_digits_stable_within_a_period_and_new_in_the_next() {
        let id = usage_id(1, 7, 1_767_225_600);
        assert!(id.chars().all(|c| c.is_ascii_digit()), "{id}");
        assert_eq!(id, usage_id(1, 7, 1_767_225_600));
        assert_ne!(id, usage_id(1, 7, 1_769_904_000));
        assert_ne!(id, usage_id(17, 7, 1_767_225_600));
    }
}
