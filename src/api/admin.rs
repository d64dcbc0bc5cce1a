//! The operator's view: every organization with its plan and how close it is to its limits.
//! Only a platform admin may call these; the check is here, on the server.

use leptos::prelude::*;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::{
    domain::usage_level::Band,
    error::AppError,
    model::usage::{UsageHistory, UsageSummary},
};

/// One organization as the operator's page for it shows it: its usage with the customer's
/// own components, and the licenses it can be put on.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OrganizationUsage {
    pub slug: String,
    pub name: String,
    pub summary: UsageSummary,
    pub history: UsageHistory,
    /// The license in force (by subscription or by default).
    pub license_id: Option<i64>,
    /// `(id, name)` of every license, by name.
    pub licenses: Vec<(i64, String)>,
}

/// The organization `slug`'s usage this period, its history and its license.
///
/// Errors: `Unauthorized` (401) when not signed in; `Forbidden` (403) for anyone but a
/// platform admin; `NotFound` (404) for no such organization.
#[server(output = crate::codec::JsonText)]
pub async fn get_organization_usage(slug: String) -> Result<OrganizationUsage, AppError> {
    use crate::server::{
        db::{licenses, organizations},
        http::server_fn,
        metering::ledger::Ledger,
    };

    let locale = crate::i18n::request_locale();
    server_fn::respond(
        async {
            let state = server_fn::state()?;
            server_fn::platform_admin(&state).await?;
            let pool = state.db.pool();
            let organization = organizations::find_by_slug(pool, slug.trim())
                .await?
                .ok_or_else(|| AppError::NotFound("Organization".into()))?;
            let ledger = Ledger::load(&state, organization.id).await?;
            let now = chrono::Utc::now();
            Ok(OrganizationUsage {
                summary: ledger.summary(&state, now).await?,
                history: ledger.usage_history(&state, now).await?.charted(locale),
                license_id: ledger.plan.as_ref().map(|plan| plan.license.id),
                licenses: licenses::list(pool)
                    .await?
                    .into_iter()
                    .map(|license| (license.id, license.name))
                    .collect(),
                slug: organization.slug,
                name: organization.name,
            })
        }
        .await,
    )
}

/// An organization as the operator's list shows it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OrganizationOverview {
    pub id: i64,
    pub slug: String,
    pub name: String,
    /// The license in force, if any.
    pub plan: Option<String>,
    /// The subscription's status; `None` on the default license.
    pub status: Option<String>,
    /// The highest percentage of any allowance used this period; `None` when nothing is
    /// limited (or a zero allowance is used, which is over its limit).
    pub highest_percent: Option<Decimal>,
    /// The worst band of any metric.
    pub band: Band,
    /// True when a metric is at or above 90 % of its allowance, or over it.
    pub at_risk: bool,
    /// Overage so far this period, after discount and tax, in `currency`.
    pub overage: Decimal,
    pub estimated_cost: Decimal,
    pub currency: String,
}

/// The percentage from which an organization counts as at risk.
pub const AT_RISK_PERCENT: u32 = 90;

/// The columns the list sorts on.
pub const ADMIN_SORTS: [&str; 4] = ["name", "usage", "overage", "cost"];

/// Keeps the organizations whose name, slug or plan holds `search` (any case), only those
/// at risk when `at_risk`, in `sort` order (`name`, `usage`, `overage`, `cost`; `-` first
/// for descending; blank: highest usage first).
pub fn select(
    organizations: &mut Vec<OrganizationOverview>,
    search: &str,
    at_risk: bool,
    sort: &str,
) -> Result<(), AppError> {
    let needle = search.trim().to_lowercase();
    organizations.retain(|o| {
        (!at_risk || o.at_risk)
            && (needle.is_empty()
                || o.name.to_lowercase().contains(&needle)
                || o.slug.to_lowercase().contains(&needle)
                || o.plan
                    .as_deref()
                    .is_some_and(|p| p.to_lowercase().contains(&needle)))
    });
    let (descending, field) = match sort.strip_prefix('-') {
        Some(field) => (true, field),
        None if sort.is_empty() => (true, "usage"),
        None => (false, sort),
    };
    if !ADMIN_SORTS.contains(&field) {
        return Err(AppError::BadRequest(format!(
            "cannot sort on {field:?}; sortable fields are {}",
            ADMIN_SORTS.join(", ")
        )));
    }
    organizations.sort_by(|a, b| {
        let ordering = match field {
            "name" => a.name.to_lowercase().cmp(&b.name.to_lowercase()),
            "overage" => a.overage.cmp(&b.overage),
            "cost" => a.estimated_cost.cmp(&b.estimated_cost),
            // Over a zero allowance (no percentage, red) ranks above any percentage.
            _ => (
                a.band == Band::Red && a.highest_percent.is_none(),
                a.highest_percent,
            )
                .cmp(&(
                    b.band == Band::Red && b.highest_percent.is_none(),
                    b.highest_percent,
                )),
        };
        let ordering = if descending {
            ordering.reverse()
        } else {
            ordering
        };
        ordering.then_with(|| a.name.cmp(&b.name))
    });
    Ok(())
}

/// Every organization with its plan, highest usage, overage and estimated cost.
///
/// Errors: `Unauthorized` (401) when not signed in; `Forbidden` (403) for anyone but a
/// platform admin; `BadRequest` for an unknown sort.
#[server(output = crate::codec::JsonText)]
pub async fn list_organizations(
    search: String,
    at_risk: bool,
    sort: String,
) -> Result<Vec<OrganizationOverview>, AppError> {
    use crate::server::{db::organizations, http::server_fn, metering::ledger::Ledger};

    server_fn::respond(
        async {
            let state = server_fn::state()?;
            server_fn::platform_admin(&state).await?;
            let now = chrono::Utc::now();
            let mut listed = Vec::new();
            for id in organizations::all_ids(state.db.pool()).await? {
                let ledger = Ledger::load(&state, id).await?;
                let summary = ledger.summary(&state, now).await?;
                let critical = Decimal::from(AT_RISK_PERCENT);
                let highest_percent = summary
                    .metrics
                    .iter()
                    .filter_map(|m| m.level.percentage)
                    .max();
                let band = summary
                    .metrics
                    .iter()
                    .map(|m| m.level.band)
                    .max_by_key(|band| match band {
                        Band::Green => 0,
                        Band::Yellow => 1,
                        Band::Red => 2,
                    })
                    .unwrap_or(Band::Green);
                let at_risk = summary.metrics.iter().any(|m| {
                    m.level.is_over() || m.level.percentage.is_some_and(|p| p >= critical)
                });
                listed.push(OrganizationOverview {
                    id,
                    slug: ledger.organization.slug.clone(),
                    name: summary.organization,
                    plan: summary.plan.as_ref().map(|p| p.name.clone()),
                    status: summary.plan.and_then(|p| p.status),
                    highest_percent,
                    band,
                    at_risk,
                    overage: summary.estimated_cost.totals.overage,
                    estimated_cost: summary.estimated_cost.totals.total,
                    currency: summary.estimated_cost.currency,
                });
            }
            select(&mut listed, &search, at_risk, &sort)?;
            Ok(listed)
        }
        .await,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn organization(
        name: &str,
        percent: Option<i64>,
        band: Band,
        cost: i64,
    ) -> OrganizationOverview {
        OrganizationOverview {
            id: 0,
            slug: name.to_lowercase(),
            name: name.into(),
            plan: Some("Pro".into()),
            status: None,
            highest_percent: percent.map(Decimal::from),
            band,
            at_risk: percent.is_none_or(|p| p >= 90),
            overage: Decimal::ZERO,
            estimated_cost: Decimal::from(cost),
            currency: "USD".into(),
        }
    }

    #[test]
    fn the_list_filters_by_text_and_risk_and_sorts_by_usage_first() {
        let all = vec![
            organization("Acme", Some(130), Band::Red, 32),
            organization("Globex", Some(40), Band::Green, 10),
            organization("Initech", Some(95), Band::Red, 50),
            organization("Zero", None, Band::Red, 5),
        ];
        let names = |list: &[OrganizationOverview]| -> Vec<String> {
            list.iter().map(|o| o.name.clone()).collect()
        };
        let mut listed = all.clone();
        select(&mut listed, "", false, "").expect("valid");
        assert_eq!(names(&listed), ["Zero", "Acme", "Initech", "Globex"]);
        let mut risky = all.clone();
        select(&mut risky, "", true, "cost").expect("valid");
        assert_eq!(names(&risky), ["Zero", "Acme", "Initech"]);
        let mut found = all.clone();
        select(&mut found, "GLO", false, "-name").expect("valid");
        assert_eq!(names(&found), ["Globex"]);
        assert!(select(&mut all.clone(), "", false, "colour").is_err());
    }
}
