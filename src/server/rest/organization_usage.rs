//! Seed 003, `GET /organizations/{organizationId}/usage`: messages sent per channel (SMS,
//! WhatsApp, e-mail, Sage) between two instants given as Unix time.

use std::str::FromStr;

use axum::{
    extract::{rejection::QueryRejection, Path, Query, State},
    routing::get,
    Json, Router,
};
use chrono::{DateTime, Utc};
use rust_decimal::{prelude::ToPrimitive, Decimal};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

use crate::{
    domain::{period::BillingPeriod, quantity::Quantity},
    error::AppError,
    model::usage::CHANNEL_METRICS,
    server::{
        access::auth::Reader,
        db::organizations,
        metering::ledger::Ledger,
        rest::shape::{quantity, Named, NamedErrorBody, ShapedError},
        state::AppState,
    },
};

/// `GET /organizations/{organizationId}/usage`.
pub fn router() -> Router<AppState> {
    Router::new().route(
        "/organizations/{organization_id}/usage",
        get(organization_usage),
    )
}

/// Unix times at or above this are read as milliseconds: as seconds they would lie after
/// the year 5000, as milliseconds they lie after March 1973.
const MILLISECONDS_FROM: i64 = 100_000_000_000;

/// The last millisecond of the year 9999: the latest time taken (and the document's maximum).
const LATEST_MILLISECONDS: i64 = 253_402_300_799_999;

/// Both required.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct RangeQuery {
    /// Unix time in seconds (or milliseconds, from 100 000 000 000), up to the end of 9999.
    #[param(required = true, value_type = f64, minimum = 0, maximum = 253402300799999_u64)]
    start_date: Option<String>,
    /// Unix time in seconds (or milliseconds); its local day is included.
    #[param(required = true, value_type = f64, minimum = 0, maximum = 253402300799999_u64)]
    end_date: Option<String>,
}

/// 200 `{"data": {"usageSms", "usageWhatsapp", "usageEmail", "usageSage"}}`: each channel's
/// total over the local days (of the organization's zone) from `startDate`'s to
/// `endDate`'s, both whole; a channel the catalogue lacks counts 0. Any key of the
/// organization reads it, or its portal session's token when the session may read every
/// channel. Errors in seed 003's `{"error", "message"}`: 401 `Unauthenticated` without a
/// valid key, 403 `Forbidden` for another organization or a portal session limited to
/// other metrics, 404 `ResourceNotFound` for no such organization, 422
/// `ValidationError` for a missing or non-numeric date, a start after the end or a range
/// over 13 months.
#[utoipa::path(
    get, path = "/organizations/{organizationId}/usage", tag = "usage",
    params(
        ("organizationId" = String, Path, description = "The organization's id or slug"),
        RangeQuery,
    ),
    responses(
        (status = 200, description = "Each channel's total", body = OrganizationUsageBody),
        (status = 403, description = "Another organization, or a portal session limited to other metrics", body = NamedErrorBody),
        (status = 404, description = "No such organization", body = NamedErrorBody),
        (status = 422, description = "Missing or non-numeric dates, a start after the end, a range over 13 months", body = NamedErrorBody),
    ),
    security(("api_key" = []), ("bearer" = []), ("session" = []), ("portal" = []))
)]
pub(crate) async fn organization_usage(
    State(state): State<AppState>,
    reader: Result<Reader, AppError>,
    Path(organization_id): Path<String>,
    query: Result<Query<RangeQuery>, QueryRejection>,
) -> Result<Json<OrganizationUsageBody>, ShapedError<Named>> {
    let reader = reader?;
    let organization_id = visible_organization(&state, &reader, &organization_id).await?;
    let Query(query) = query.map_err(|rejection| AppError::BadRequest(rejection.body_text()))?;
    let start = unix_time("startDate", query.start_date.as_deref())?;
    let end = unix_time("endDate", query.end_date.as_deref())?;
    if start > end {
        return Err(AppError::BadRequest(
            "Invalid date range: startDate must be before endDate".into(),
        )
        .into());
    }
    let ledger = Ledger::cached(&state, organization_id).await?;
    let scope = reader.metrics();
    let readable = CHANNEL_METRICS.iter().all(|metric| {
        ledger
            .resource_named(metric)
            .is_none_or(|resource| scope.allows(&resource.metric.code))
    });
    if !readable {
        return Err(AppError::Forbidden.into());
    }
    let zone = ledger.time_zone;
    let period = BillingPeriod::requested(
        start.with_timezone(&zone).date_naive(),
        end.with_timezone(&zone).date_naive(),
        ledger.anchor,
        zone,
    )
    .map_err(AppError::BadRequest)?;
    let totals = ledger.totals(&state, &period).await?;
    let channel = |metric: &str| {
        let total = ledger
            .resource_named(metric)
            .and_then(|resource| totals.get(&resource.metric.id).copied())
            .unwrap_or(Quantity::ZERO);
        quantity(total)
    };
    Ok(Json(OrganizationUsageBody {
        data: ChannelUsage {
            usage_sms: channel(CHANNEL_METRICS[0]),
            usage_whatsapp: channel(CHANNEL_METRICS[1]),
            usage_email: channel(CHANNEL_METRICS[2]),
            usage_sage: channel(CHANNEL_METRICS[3]),
        },
    }))
}

/// Seed 003's answer.
#[derive(Serialize, ToSchema)]
pub struct OrganizationUsageBody {
    pub data: ChannelUsage,
}

/// Each channel's total over the days asked for: the metrics `sms`, `whatsapp`, `email`
/// and `sage`.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ChannelUsage {
    #[schema(value_type = f64)]
    pub usage_sms: Value,
    #[schema(value_type = f64)]
    pub usage_whatsapp: Value,
    #[schema(value_type = f64)]
    pub usage_email: Value,
    #[schema(value_type = f64)]
    pub usage_sage: Value,
}

/// The id of the organization `requested` names (its id, or its slug) if the caller may
/// read it: 404 when there is none, 403 when it is not the caller's.
async fn visible_organization(
    state: &AppState,
    reader: &Reader,
    requested: &str,
) -> Result<i64, AppError> {
    let pool = state.db.pool();
    let organization = match requested.parse::<i64>() {
        Ok(id) => organizations::find(pool, id).await?,
        Err(_) => organizations::find_by_slug(pool, requested).await?,
    };
    match organization {
        None => Err(AppError::NotFound("Organization".into())),
        Some(organization) if organization.id != reader.organization_id() => {
            Err(AppError::Forbidden)
        }
        Some(organization) => Ok(organization.id),
    }
}

/// A required Unix time in seconds (fractions allowed) or milliseconds.
fn unix_time(name: &str, text: Option<&str>) -> Result<DateTime<Utc>, AppError> {
    let text = text
        .map(str::trim)
        .filter(|text| !text.is_empty())
        .ok_or_else(|| AppError::BadRequest(format!("{name} is required")))?;
    let invalid = || {
        AppError::BadRequest(format!(
            "{name} must be a Unix time in seconds or milliseconds (got {text:?})"
        ))
    };
    // `1.7e9` is a number too, as JSON and the document's `number` write it.
    let number = Decimal::from_str(text)
        .or_else(|_| Decimal::from_scientific(text))
        .ok()
        .filter(|number| *number >= Decimal::ZERO && *number <= Decimal::from(LATEST_MILLISECONDS))
        .ok_or_else(invalid)?;
    let seconds = if number.abs() >= Decimal::from(MILLISECONDS_FROM) {
        number / Decimal::from(1000)
    } else {
        number
    };
    seconds
        .floor()
        .to_i64()
        .and_then(|seconds| DateTime::from_timestamp(seconds, 0))
        .ok_or_else(invalid)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unix_times_are_seconds_or_milliseconds() {
        let instant = DateTime::from_timestamp(1_706_659_200, 0).expect("instant");
        for text in [
            "1706659200",
            "1706659200.9",
            "1706659200000",
            " 1706659200999 ",
            "1.7066592e9",
            "1.706659200999E12",
        ] {
            assert_eq!(
                unix_time("startDate", Some(text)).expect(text),
                instant,
                "{text}"
            );
        }
    }

    #[test]
    fn missing_or_non_numeric_times_are_refused_naming_the_parameter() {
        let cases = [
            (None, "startDate is required"),
            (Some(""), "startDate is required"),
            (Some("2024-01-31"), "startDate must be a Unix time"),
            (Some("soon"), "startDate must be a Unix time"),
            (Some("1e400"), "startDate must be a Unix time"),
            (Some("-5.1e199"), "startDate must be a Unix time"),
            (Some("-1"), "startDate must be a Unix time"),
            (Some("253402300800000"), "startDate must be a Unix time"),
        ];
        for (text, message) in cases {
            let error = unix_time("startDate", text).expect_err("refused");
            assert!(
                matches!(&error, AppError::BadRequest(m) if m.starts_with(message)),
                "{text:?}: {error:?}"
            );
        }
    }
}
