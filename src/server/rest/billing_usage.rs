//! Seed 002, `GET /api/billing/usage`: each metric's usage against its allowance, the
//! estimated cost and projections, for the current billing period or days asked for.

use axum::{
    extract::{rejection::QueryRejection, Query, State},
    routing::get,
    Json, Router,
};
use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::{IntoParams, ToSchema};

use crate::{
    domain::{
        aggregation::Aggregation,
        period::{start_of_day, supported_day, BillingPeriod, SUPPORTED_DAYS},
        quantity::Quantity,
        usage_level::Allowance,
    },
    error::AppError,
    model::usage::MetricUsage,
    server::{
        access::auth::Reader,
        metering::ledger::{usage_of, Ledger, Resource},
        rest::shape::{
            decimal, quantity, timestamp_seconds, Envelope, EnvelopeErrorBody, ShapedError,
        },
        state::AppState,
    },
};

/// `GET /api/billing/usage`.
pub fn router() -> Router<AppState> {
    Router::new().route("/api/billing/usage", get(billing_usage))
}

/// The query string; every field optional.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct UsageQuery {
    /// First day counted: an ISO 8601 date (`2024-01-01`) or date-time.
    start_date: Option<String>,
    /// Last day counted, included: an ISO 8601 date or date-time.
    end_date: Option<String>,
    /// Comma-separated metric codes (`api_calls` finds `apiCalls`).
    metrics: Option<String>,
}

/// 200 `{"success": true, "data": {period, metrics, estimatedCost, projectedUsage}}` for
/// any key of the organization, or its portal session's token (only the session's metrics).
/// Errors in seed 002's `{"success": false, "error": {code, message}}`: 401 `UNAUTHORIZED`
/// without a valid key; 400 `BAD_REQUEST` for a malformed date, a range that runs
/// backwards or spans more than 13 months, or an unknown metric; 403 `FORBIDDEN` for a
/// metric the portal session may not read.
#[utoipa::path(
    get, path = "/api/billing/usage", tag = "usage", params(UsageQuery),
    responses(
        (status = 200, description = "Usage, cost and projections", body = BillingUsageBody),
        (status = 400, description = "A malformed date, a backwards or over-long range, an unknown metric", body = EnvelopeErrorBody),
        (status = 403, description = "A metric the portal session may not read", body = EnvelopeErrorBody),
    ),
    security(("api_key" = []), ("bearer" = []), ("session" = []), ("portal" = []))
)]
pub(crate) async fn billing_usage(
    State(state): State<AppState>,
    reader: Result<Reader, AppError>,
    query: Result<Query<UsageQuery>, QueryRejection>,
) -> Result<Json<BillingUsageBody>, ShapedError<Envelope>> {
    let reader = reader?;
    let Query(query) = query.map_err(|rejection| AppError::BadRequest(rejection.body_text()))?;
    let ledger = Ledger::cached(&state, reader.organization_id()).await?;
    let now = Utc::now();
    let period = requested_period(&ledger, &query, now)?;
    let scope = reader.metrics();
    let wanted = wanted_resources(&ledger, query.metrics.as_deref())?;
    if let Some(resources) = &wanted {
        if !resources.iter().all(|r| scope.allows(&r.metric.code)) {
            return Err(AppError::Forbidden.into());
        }
    }
    let summary = ledger.summary_of(&state, period, now).await?;
    let thresholds = state.settings.thresholds;

    let shown: Vec<(&Resource, MetricUsage)> = match wanted {
        Some(resources) => resources
            .into_iter()
            .map(|resource| {
                let usage = summary
                    .metrics
                    .iter()
                    .find(|m| m.code == resource.metric.code)
                    .cloned()
                    .unwrap_or_else(|| {
                        usage_of(resource, Quantity::ZERO, (&period, now), &thresholds)
                    });
                (resource, usage)
            })
            .collect(),
        None => summary
            .metrics
            .iter()
            .filter(|usage| scope.allows(&usage.code))
            .filter_map(|usage| Some((ledger.resource_named(&usage.code)?, usage.clone())))
            .collect(),
    };
    let mut metrics = Map::new();
    let mut projected = Map::new();
    for (resource, usage) in &shown {
        metrics.insert(usage.code.clone(), to_value(metric_body(usage)));
        if matches!(resource.aggregation, Aggregation::Sum | Aggregation::Count) {
            let projection = ProjectionBody {
                projected: quantity(usage.projected),
                percentage: decimal(usage.projected_level.reported_percentage()),
            };
            projected.insert(usage.code.clone(), to_value(projection));
        }
    }
    let cost = &summary.estimated_cost;
    Ok(Json(BillingUsageBody {
        success: true,
        data: BillingUsageData {
            period: PeriodBody {
                start: timestamp_seconds(period.start),
                end: timestamp_seconds(period.end - chrono::Duration::seconds(1)),
            },
            metrics,
            estimated_cost: EstimatedCostBody {
                base: decimal(cost.totals.base),
                overage: decimal(cost.totals.overage),
                total: decimal(cost.totals.total),
                currency: cost.currency.to_lowercase(),
            },
            projected_usage: projected,
        },
    }))
}

fn to_value(body: impl Serialize) -> Value {
    serde_json::to_value(body).unwrap_or_default()
}

/// Seed 002's answer.
#[derive(Serialize, ToSchema)]
pub struct BillingUsageBody {
    pub success: bool,
    pub data: BillingUsageData,
}

/// The usage, cost and projections of a period.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BillingUsageData {
    pub period: PeriodBody,
    /// Keyed by metric code, in the plan's order.
    #[schema(value_type = HashMap<String, MetricUsageBody>)]
    pub metrics: Map<String, Value>,
    pub estimated_cost: EstimatedCostBody,
    /// Metrics that grow over a period (sums and counts), extended to its end.
    #[schema(value_type = HashMap<String, ProjectionBody>)]
    pub projected_usage: Map<String, Value>,
}

/// The span counted: its first and last second.
#[derive(Serialize, ToSchema)]
pub struct PeriodBody {
    #[schema(example = "2024-01-01T00:00:00Z")]
    pub start: String,
    #[schema(example = "2024-01-31T23:59:59Z")]
    pub end: String,
}

/// One metric's usage against its allowance. Every field the document types as a number is
/// one: an unlimited metric has `included`, `overage` and `percentage` 0 and `unlimited`
/// true; a zero allowance once exceeded has `percentage` 100 (its bar is full).
#[derive(Serialize, ToSchema)]
pub struct MetricUsageBody {
    pub name: String,
    pub unit: String,
    /// The amount included per period; 0 when unlimited.
    #[schema(value_type = f64)]
    pub included: Value,
    #[schema(value_type = f64)]
    pub used: Value,
    #[schema(value_type = f64)]
    pub overage: Value,
    /// Used ÷ included × 100, rounded up to two decimals; 0 when unlimited.
    #[schema(value_type = f64)]
    pub percentage: Value,
    /// No cap (added to the document's fields): `included` and `percentage` are then 0.
    pub unlimited: bool,
}

/// Usage expected by the period's end.
#[derive(Serialize, ToSchema)]
pub struct ProjectionBody {
    #[schema(value_type = f64)]
    pub projected: Value,
    /// The projection as a percentage of the included amount; 0 when unlimited.
    #[schema(value_type = f64)]
    pub percentage: Value,
}

/// The plan's price, overage before discount and tax, and what is owed after them.
#[derive(Serialize, ToSchema)]
pub struct EstimatedCostBody {
    #[schema(value_type = f64)]
    pub base: Value,
    #[schema(value_type = f64)]
    pub overage: Value,
    #[schema(value_type = f64)]
    pub total: Value,
    /// ISO 4217 code in lower case, as in the document.
    #[schema(example = "usd")]
    pub currency: String,
}

fn metric_body(usage: &MetricUsage) -> MetricUsageBody {
    MetricUsageBody {
        name: usage.name.clone(),
        unit: usage.unit.clone(),
        included: match usage.allowance {
            Allowance::Included(included) => quantity(included),
            Allowance::Unlimited => quantity(Quantity::ZERO),
        },
        used: quantity(usage.used),
        overage: quantity(usage.level.overage),
        percentage: decimal(usage.level.reported_percentage()),
        unlimited: usage.allowance == Allowance::Unlimited,
    }
}

/// One end of the range asked for.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Bound {
    /// A calendar date, a whole day in the organization's zone.
    Day(NaiveDate),
    /// A date-time, which counts its whole local day.
    Instant(DateTime<Utc>),
}

impl Bound {
    /// `2024-01-31`, `2024-01-31T10:00:00Z` (any offset), or `2024-01-31T10:00:00` read in
    /// the organization's zone.
    /// Days outside [`SUPPORTED_DAYS`] (in UTC and in the organization's zone) are refused.
    fn parse(name: &str, text: &str, time_zone: Tz) -> Result<Bound, AppError> {
        let text = text.trim();
        let bound = Self::read(text, time_zone).ok_or_else(|| {
            AppError::BadRequest(format!(
                "{name} must be an ISO 8601 date such as 2024-01-31 or date-time such as \
                 2024-01-31T10:00:00Z (got {text:?})"
            ))
        })?;
        let supported = match bound {
            Bound::Day(day) => supported_day(day),
            Bound::Instant(instant) => {
                supported_day(instant.date_naive())
                    && supported_day(instant.with_timezone(&time_zone).date_naive())
            }
        };
        if !supported {
            return Err(AppError::BadRequest(format!(
                "{name} must be a day from {SUPPORTED_DAYS} (got {text:?})"
            )));
        }
        Ok(bound)
    }

    fn read(text: &str, time_zone: Tz) -> Option<Bound> {
        if let Ok(day) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
            return Some(Bound::Day(day));
        }
        if let Ok(instant) = DateTime::parse_from_rfc3339(text) {
            return Some(Bound::Instant(instant.with_timezone(&Utc)));
        }
        let local = NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f").ok()?;
        let instant = time_zone.from_local_datetime(&local).earliest()?;
        Some(Bound::Instant(instant.with_timezone(&Utc)))
    }

    fn day(self, time_zone: Tz) -> NaiveDate {
        match self {
            Bound::Day(day) => day,
            Bound::Instant(instant) => instant.with_timezone(&time_zone).date_naive(),
        }
    }

    fn instant(self, time_zone: Tz) -> DateTime<Utc> {
        match self {
            Bound::Day(day) => start_of_day(day, time_zone),
            Bound::Instant(instant) => instant,
        }
    }
}

/// The days usage is counted over: the current billing period when no date is given; from
/// `startDate`'s day to `endDate`'s day, both whole and inclusive, when both are; and when
/// only one is, to the end (or from the start) of the billing period holding it.
fn requested_period(
    ledger: &Ledger,
    query: &UsageQuery,
    now: DateTime<Utc>,
) -> Result<BillingPeriod, AppError> {
    let zone = ledger.time_zone;
    let parse = |name: &str, text: &Option<String>| {
        text.as_deref()
            .filter(|text| !text.trim().is_empty())
            .map(|text| Bound::parse(name, text, zone))
            .transpose()
    };
    let start = parse("startDate", &query.start_date)?;
    let end = parse("endDate", &query.end_date)?;
    let (first_day, last_day) = match (start, end) {
        (None, None) => return Ok(ledger.period_at(now)),
        (Some(start), None) => (
            start.day(zone),
            ledger.period_at(start.instant(zone)).last_day,
        ),
        (None, Some(end)) => (ledger.period_at(end.instant(zone)).first_day, end.day(zone)),
        (Some(start), Some(end)) => {
            if let (Bound::Instant(from), Bound::Instant(to)) = (start, end) {
                if from > to {
                    return Err(AppError::BadRequest(
                        "Invalid date range: startDate must be before endDate".into(),
                    ));
                }
            }
            (start.day(zone), end.day(zone))
        }
    };
    BillingPeriod::requested(first_day, last_day, ledger.anchor, zone).map_err(AppError::BadRequest)
}

/// The metrics `metrics=a,b` names, in that order and each once; `None` without a filter.
/// 400 for a name the catalogue lacks, listing the known ones.
fn wanted_resources<'l>(
    ledger: &'l Ledger,
    filter: Option<&str>,
) -> Result<Option<Vec<&'l Resource>>, AppError> {
    let Some(filter) = filter.filter(|f| !f.trim().is_empty()) else {
        return Ok(None);
    };
    let mut wanted: Vec<&Resource> = Vec::new();
    for name in filter.split(',').map(str::trim).filter(|n| !n.is_empty()) {
        let resource = ledger.resource_named(name).ok_or_else(|| {
            let known: Vec<&str> = ledger
                .resources
                .iter()
                .map(|r| r.metric.code.as_str())
                .collect();
            AppError::BadRequest(format!(
                "Unknown metric {name:?}; known metrics: {}",
                known.join(", ")
            ))
        })?;
        if !wanted.iter().any(|w| w.metric.id == resource.metric.id) {
            wanted.push(resource);
        }
    }
    Ok(Some(wanted))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .expect("instant")
            .with_timezone(&Utc)
    }

    #[test]
    fn bounds_are_dates_or_date_times_in_iso_8601() {
        let berlin: Tz = "Europe/Berlin".parse().expect("zone");
        let day = NaiveDate::from_ymd_opt(2024, 1, 31).expect("day");
        let cases = [
            ("2024-01-31", Bound::Day(day)),
            (
                "2024-01-31T10:00:00Z",
                Bound::Instant(utc("2024-01-31T10:00:00Z")),
            ),
            (
                "2024-01-31T10:00:00.250-03:00",
                Bound::Instant(utc("2024-01-31T13:00:00.250Z")),
            ),
            // Without an offset: the organization's local time.
            (
                "2024-01-31T10:00:00",
                Bound::Instant(utc("2024-01-31T09:00:00Z")),
            ),
        ];
        for (text, bound) in cases {
            assert_eq!(
                Bound::parse("startDate", text, berlin).expect(text),
                bound,
                "{text}"
            );
        }
        // Late on the 31st in UTC is already 1 February in Berlin.
        assert_eq!(
            Bound::Instant(utc("2024-01-31T23:30:00Z")).day(berlin),
            day.succ_opt().expect("day")
        );
    }

    #[test]
    fn malformed_dates_are_refused_with_the_parameter_named() {
        for text in [
            "yesterday",
            "2024-13-01",
            "2024-02-30",
            "31/01/2024",
            "1706659200",
        ] {
            let error = Bound::parse("endDate", text, Tz::UTC).expect_err(text);
            assert!(
                matches!(&error, AppError::BadRequest(m) if m.starts_with("endDate must be")),
                "{text}: {error:?}"
            );
        }
    }
}
