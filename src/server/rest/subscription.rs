//! Seed 001, `GET /api/v1/billing/subscription`: the caller's subscription, its license and
//! each resource's limit and usage in the current billing period.

use std::collections::HashMap;

use axum::{extract::State, routing::get, Json, Router};
use chrono::Utc;
use serde::Serialize;
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

use crate::{
    domain::quantity::Quantity,
    error::AppError,
    server::{
        access::principal::ApiPrincipal,
        db::{self, licenses::LicenseRow},
        metering::ledger::{span_of, Ledger},
        rest::{
            licenses::{license_body, resource_body, LicenseBody, ResourceBody, ResourceUsageBody},
            shape::{id, quantity, timestamp_millis, ErrorBody},
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
/// amount per period, or its hard limit, and `limited` whether that is a hard limit (an
/// unlimited resource is `limit: 0, limited: false, unlimited: true`);
/// `resourceUsage` is the organization's usage of it in the current billing period, null
/// while there is none. 401 without a valid key; 404 when the organization has no live
/// subscription (it is then on the default license, if there is one).
#[utoipa::path(
    get, path = "/api/v1/billing/subscription", tag = "usage",
    responses(
        (status = 200, description = "The subscription, its license and this period's usage", body = SubscriptionBody),
        (status = 404, description = "The organization has no subscription of its own", body = ErrorBody),
    )
)]
pub(crate) async fn current_subscription(
    State(state): State<AppState>,
    principal: ApiPrincipal,
) -> Result<Json<SubscriptionBody>, AppError> {
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
    for resource in &ledger.resources {
        let Some(stored) = &resource.stored else {
            continue;
        };
        let metric = &resource.metric;
        let usage = activity.get(&metric.id).map(|activity| {
            let used = totals.get(&metric.id).copied().unwrap_or(Quantity::ZERO);
            ResourceUsageBody {
                id: usage_id(organization_id, metric.id, period.start.timestamp()),
                resource_id: id(metric.id),
                usage: quantity(used),
                user_id: id(organization_id),
                created_at: timestamp_millis(
                    activity.first_day.max(db::unix_seconds(period.start)),
                ),
                updated_at: timestamp_millis(activity.last_updated),
            }
        });
        resources.push(ResourceBody {
            resource_usage: Some(usage),
            ..resource_body(stored, plan.license.id, metric)?
        });
    }
    let license = LicenseRow {
        id: plan.license.id,
        name: plan.license.name.clone(),
        external_id: plan.license.external_id.clone(),
        description: plan.license.description.clone(),
        price: plan.license.price.clone(),
        currency: plan.license.currency.clone(),
        is_default: plan.license.is_default,
        created_at: plan.license.created_at,
        updated_at: plan.license.updated_at,
        version: 0,
    };
    let created_at = plan.subscription_created_at.unwrap_or_default();
    Ok(Json(SubscriptionBody {
        id: id(subscription_id),
        user_id: id(organization_id),
        license_id: id(plan.license.id),
        status: plan.status.clone().unwrap_or_default(),
        created_at: timestamp_millis(created_at),
        updated_at: timestamp_millis(plan.subscription_updated_at.unwrap_or(created_at)),
        license: license_body(&license, resources),
    }))
}

/// Seed 001's answer: the subscription and its license.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SubscriptionBody {
    pub id: String,
    /// The subscribing organization's id.
    pub user_id: String,
    pub license_id: String,
    /// `active`, `trialing` or `past_due`.
    #[schema(example = "active")]
    pub status: String,
    pub created_at: String,
    pub updated_at: String,
    pub license: LicenseBody,
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
