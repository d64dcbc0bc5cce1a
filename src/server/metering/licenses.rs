//! Editing licenses (plans) and putting organizations on them: the rules for each field,
//! optimistic concurrency, the audit trail, and telling affected organizations.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use crate::{
    domain::{pricing::OveragePrice, quantity::Quantity},
    error::AppError,
    model::licenses::{
        LicenseEditor, LicenseForm, LicenseOverview, LicenseSaved, MetricChoice, ResourceForm,
    },
};

use crate::server::{
    access::audit::{self, Action, Actor, Change, Entity},
    db::{
        self,
        licenses::{self, LicenseRow, NewLicense, NewResource, ResourceRow},
        organizations,
        usage::{self, MetricRow},
    },
    metering::ledger::{stored_price, Ledger},
    metering::{
        alerts,
        license_form::{validate, ValidLicense, ValidResource},
    },
    platform::Platform,
};

/// Every license with how many resources it grants and organizations it has.
pub async fn overview(state: &Platform) -> Result<Vec<LicenseOverview>, AppError> {
    let pool = state.db.pool();
    let resources = licenses::all_resources(pool).await?;
    let subscriptions = licenses::live_subscriptions(pool).await?;
    let organizations = organizations::all_ids(pool).await?.len();
    Ok(licenses::list(pool)
        .await?
        .into_iter()
        .map(|license| {
            let subscribed = subscriptions
                .iter()
                .filter(|(_, l)| *l == license.id)
                .count();
            let by_default = if license.is_default != 0 {
                organizations.saturating_sub(subscriptions.len())
            } else {
                0
            };
            LicenseOverview {
                id: license.id,
                price: stored_price(&license.price, license.id),
                currency: license.currency,
                name: license.name,
                is_default: license.is_default != 0,
                resources: resources.iter().filter(|(l, _)| *l == license.id).count(),
                organizations: subscribed + by_default,
                version: license.version,
                updated_at: license.updated_at,
            }
        })
        .collect())
}

/// The form for license `id` as stored, or a blank one for a new license.
pub async fn editor(state: &Platform, id: Option<i64>) -> Result<LicenseEditor, AppError> {
    let pool = state.db.pool();
    let catalogue = usage::catalogue(pool).await?;
    let metrics = catalogue
        .iter()
        .map(|m| MetricChoice {
            code: m.code.clone(),
            name: m.name.clone(),
            unit: m.unit.clone(),
        })
        .collect();
    let Some(id) = id else {
        let form = LicenseForm {
            price: "0".into(),
            currency: state.settings.default_currency.clone(),
            resources: catalogue
                .iter()
                .map(|m| ResourceForm {
                    metric: m.code.clone(),
                    ..ResourceForm::default()
                })
                .collect(),
            ..LicenseForm::default()
        };
        return Ok(LicenseEditor {
            form,
            metrics,
            organizations: Vec::new(),
        });
    };
    let license = licenses::find(pool, id)
        .await?
        .ok_or_else(|| AppError::NotFound("License".into()))?;
    let stored = licenses::resources_of(pool, id).await?;
    let mut names = Vec::new();
    for organization_id in organizations_on(state, &license).await? {
        if let Some(organization) = organizations::find(pool, organization_id).await? {
            names.push(organization.name);
        }
    }
    names.sort();
    // The license's resources in its order, then the rest of the catalogue.
    let granted = stored.iter().filter_map(|resource| {
        let metric = catalogue.iter().find(|m| m.id == resource.metric_id)?;
        Some(ResourceForm {
            metric: metric.code.clone(),
            in_plan: true,
            amount: typed(resource.included_micros),
            hard_limit: resource.limited != 0,
            limit: typed(resource.limit_micros),
            refuse_events: resource.refuse_events != 0,
            // A stored price that cannot be read is shown as stored, so saving asks for
            // a readable one instead of dropping it.
            overage: match stored_overage(resource) {
                Some(price) => price.to_string(),
                None => resource.overage_price.clone().unwrap_or_default(),
            },
        })
    });
    let others = catalogue
        .iter()
        .filter(|metric| !stored.iter().any(|r| r.metric_id == metric.id))
        .map(|metric| ResourceForm {
            metric: metric.code.clone(),
            ..ResourceForm::default()
        });
    let resources = granted.chain(others).collect();
    Ok(LicenseEditor {
        form: LicenseForm {
            id: Some(license.id),
            version: license.version,
            price: stored_price(&license.price, license.id).to_string(),
            name: license.name,
            description: license.description,
            currency: license.currency,
            is_default: license.is_default != 0,
            resources,
            confirm_below_usage: false,
            confirm_limit_below_included: false,
        },
        metrics,
        organizations: names,
    })
}

/// Creates the license of `form` (no id) or saves it over the stored one, if that is
/// still at `form.version`. Recorded in the audit log; organizations on the license are
/// told (live pages refetch, threshold alerts are checked against the new amounts).
pub async fn save(
    state: &Platform,
    actor: Actor,
    form: LicenseForm,
) -> Result<LicenseSaved, AppError> {
    let pool = state.db.pool();
    let catalogue = usage::catalogue(pool).await?;
    let valid = validate(&form, &catalogue)?;
    let now = db::unix_seconds(Utc::now());
    let price = valid.price.to_string();
    let fields = NewLicense {
        name: &valid.name,
        external_id: None,
        description: &valid.description,
        price: &price,
        currency: &valid.currency,
        is_default: valid.is_default,
    };
    let actor = audit::actor_label(&state.db, actor).await?;
    let Some(id) = form.id else {
        // Organizations on the default license before a new one takes its place.
        let moved = if valid.is_default {
            unsubscribed(state).await?
        } else {
            Vec::new()
        };
        let mut tx = state.db.begin_write().await?;
        if valid.is_default {
            licenses::clear_default(&mut *tx, 0, now).await?;
        }
        let id = licenses::insert(&mut *tx, &fields, now)
            .await
            .map_err(|e| unique_clash(e, &valid.name))?;
        store_resources(&mut tx, id, &valid, &[], now).await?;
        let change = Change {
            organization_id: None,
            entity: Entity::License,
            entity_id: id,
            label: valid.name.clone(),
            action: Action::Created,
            before: None,
            after: Some(audited(&valid)),
        };
        audit::insert(&mut *tx, &actor, &change).await?;
        tx.commit().await?;
        tracing::info!(license = id, "license created");
        tell(state, &moved).await;
        return Ok(LicenseSaved { id, version: 1 });
    };

    let current = licenses::find(pool, id)
        .await?
        .ok_or_else(|| AppError::NotFound("License".into()))?;
    if current.version != form.version {
        return Err(changed_meanwhile(&current));
    }
    let stored = licenses::resources_of(pool, id).await?;
    let mut affected = organizations_on(state, &current).await?;
    // Becoming the default moves every organization without a subscription onto it.
    if valid.is_default && current.is_default == 0 {
        affected.extend(unsubscribed(state).await?);
    }
    let before = stored_as_valid(&current, &stored, &catalogue);
    if !form.confirm_below_usage {
        refuse_limits_below_usage(state, &affected, &before, &valid).await?;
    }

    let mut tx = state.db.begin_write().await?;
    if valid.is_default {
        licenses::clear_default(&mut *tx, id, now).await?;
    }
    let updated = licenses::update(&mut *tx, id, form.version, &fields, now)
        .await
        .map_err(|e| unique_clash(e, &valid.name))?;
    if !updated {
        tx.rollback().await?;
        let current = licenses::find(pool, id)
            .await?
            .ok_or_else(|| AppError::NotFound("License".into()))?;
        return Err(changed_meanwhile(&current));
    }
    store_resources(&mut tx, id, &valid, &stored, now).await?;
    let change = Change {
        organization_id: None,
        entity: Entity::License,
        entity_id: id,
        label: valid.name.clone(),
        action: Action::Updated,
        before: Some(audited(&before)),
        after: Some(audited(&valid)),
    };
    audit::insert(&mut *tx, &actor, &change).await?;
    tx.commit().await?;
    tracing::info!(license = id, version = form.version + 1, "license saved");
    tell(state, &affected).await;
    Ok(LicenseSaved {
        id,
        version: form.version + 1,
    })
}

/// Puts the organization with `slug` on license `license_id`, recorded in the audit log.
pub async fn assign(
    state: &Platform,
    actor: Actor,
    slug: &str,
    license_id: i64,
) -> Result<(), AppError> {
    let pool = state.db.pool();
    let organization = organizations::find_by_slug(pool, slug.trim())
        .await?
        .ok_or_else(|| AppError::NotFound("Organization".into()))?;
    let license = licenses::find(pool, license_id)
        .await?
        .ok_or_else(|| AppError::NotFound("License".into()))?;
    let before = licenses::plan_of(pool, organization.id).await?;
    let now = db::unix_seconds(Utc::now());
    licenses::assign(pool, organization.id, license.id, now).await?;
    tracing::info!(
        organization = organization.id,
        license = license.id,
        "license assigned"
    );
    let change = Change {
        organization_id: Some(organization.id),
        entity: Entity::Subscription,
        entity_id: organization.id,
        label: organization.name.clone(),
        action: Action::Assigned,
        before: before.map(|plan| json!({ "license": plan.license.name })),
        after: Some(json!({ "license": license.name })),
    };
    audit::record_logged(&state.db, actor, change).await;
    tell(state, &[organization.id]).await;
    Ok(())
}

/// Tells organizations their plan changed: open pages refetch, and threshold alerts are
/// checked against the new amounts.
async fn tell(state: &Platform, organizations: &[i64]) {
    for organization_id in organizations {
        state.live.usage_changed(*organization_id).await;
        alerts::check_logged(state, *organization_id, &None).await;
    }
}

/// The organizations with no live subscription: those on the default license.
async fn unsubscribed(state: &Platform) -> Result<Vec<i64>, AppError> {
    let pool = state.db.pool();
    let subscribed: BTreeSet<i64> = licenses::live_subscriptions(pool)
        .await?
        .into_iter()
        .map(|(organization, _)| organization)
        .collect();
    Ok(organizations::all_ids(pool)
        .await?
        .into_iter()
        .filter(|id| !subscribed.contains(id))
        .collect())
}

/// The organizations the license is in force for: subscribed to it, or, for the default
/// license, subscribed to nothing.
async fn organizations_on(state: &Platform, license: &LicenseRow) -> Result<Vec<i64>, AppError> {
    let pool = state.db.pool();
    let subscriptions = licenses::live_subscriptions(pool).await?;
    let mut on: Vec<i64> = subscriptions
        .iter()
        .filter(|(_, l)| *l == license.id)
        .map(|(organization, _)| *organization)
        .collect();
    if license.is_default != 0 {
        on.extend(unsubscribed(state).await?);
    }
    Ok(on)
}

/// `BadRequest` when an included amount or hard limit is lowered (or set) to below what an
/// organization on the license has already used this period, so an operator does not
/// start billing overage or refusing a customer's usage by accident.
async fn refuse_limits_below_usage(
    state: &Platform,
    organizations: &[i64],
    before: &ValidLicense,
    valid: &ValidLicense,
) -> Result<(), AppError> {
    let lowered = |new: Option<Quantity>, old: Option<Quantity>| match (new, old) {
        (Some(new), Some(old)) => new < old,
        (Some(_), None) => true,
        (None, _) => false,
    };
    let checks: Vec<(&ValidResource, bool, bool)> = valid
        .resources
        .iter()
        .filter_map(|resource| {
            let old = before
                .resources
                .iter()
                .find(|r| r.metric_id == resource.metric_id);
            let included = lowered(resource.included, old.and_then(|r| r.included));
            let cap = lowered(resource.cap(), old.and_then(ValidResource::cap));
            (included || cap).then_some((resource, included, cap))
        })
        .collect();
    if checks.is_empty() {
        return Ok(());
    }
    let now = Utc::now();
    for organization_id in organizations {
        let ledger = Ledger::load(state, *organization_id).await?;
        let totals = ledger.totals(state, &ledger.period_at(now)).await?;
        for &(resource, included, cap) in &checks {
            let used = totals
                .get(&resource.metric_id)
                .copied()
                .unwrap_or(Quantity::ZERO);
            let used_text = used.to_decimal().normalize();
            let refused_from_now = resource.cap().filter(|new| cap && used >= *new);
            let overage_from_now = resource.included.filter(|new| included && used > *new);
            let refusal = match (refused_from_now, overage_from_now) {
                (Some(new), _) => format!(
                    "The new hard limit of {} ({}) is not above what {} has already used \
                     this period ({used_text}), so its usage would be refused from now on.",
                    resource.name,
                    new.to_decimal().normalize(),
                    ledger.organization.name,
                ),
                (None, Some(new)) => format!(
                    "The new amount of {} ({}) is below what {} has already used this \
                     period ({used_text}).",
                    resource.name,
                    new.to_decimal().normalize(),
                    ledger.organization.name,
                ),
                (None, None) => continue,
            };
            return Err(AppError::BadRequest(format!(
                "{refusal} Tick \"Save even where usage is above a new amount\" to save \
                 anyway."
            )));
        }
    }
    Ok(())
}

/// Writes the license's resources as `valid` lists them, in its order, and removes those
/// it no longer lists. Kept resources keep their ids.
async fn store_resources(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    license_id: i64,
    valid: &ValidLicense,
    stored: &[ResourceRow],
    now: i64,
) -> Result<(), AppError> {
    for (position, resource) in (0_i64..).zip(&valid.resources) {
        let overage = resource
            .overage
            .as_ref()
            .map(serde_json::to_string)
            .transpose()
            .map_err(|error| {
                tracing::error!(%error, "overage price not serializable");
                AppError::Internal
            })?;
        let row = NewResource {
            license_id,
            metric_id: resource.metric_id,
            included_micros: resource.included.map(Quantity::micros),
            limited: resource.limited,
            limit_micros: resource
                .limit
                .filter(|_| resource.limited)
                .map(Quantity::micros),
            refuse_events: resource.refuse_events && resource.limited,
            overage_price: overage.as_deref(),
            position,
        };
        licenses::upsert_resource(&mut **tx, &row, now).await?;
    }
    for old in stored {
        if !valid.resources.iter().any(|r| r.metric_id == old.metric_id) {
            licenses::delete_resource(&mut **tx, license_id, old.metric_id).await?;
        }
    }
    Ok(())
}

/// The stored license in the shape of a valid form, for the audit log's "before".
fn stored_as_valid(
    license: &LicenseRow,
    stored: &[ResourceRow],
    catalogue: &[MetricRow],
) -> ValidLicense {
    ValidLicense {
        name: license.name.clone(),
        description: license.description.clone(),
        price: stored_price(&license.price, license.id),
        currency: license.currency.clone(),
        is_default: license.is_default != 0,
        resources: stored
            .iter()
            .filter_map(|resource| {
                let metric = catalogue.iter().find(|m| m.id == resource.metric_id)?;
                Some(ValidResource {
                    metric_id: metric.id,
                    code: metric.code.clone(),
                    name: metric.name.clone(),
                    included: resource
                        .included_micros
                        .and_then(|micros| Quantity::from_micros(micros).ok()),
                    limited: resource.limited != 0,
                    limit: resource
                        .limit_micros
                        .and_then(|micros| Quantity::from_micros(micros).ok()),
                    refuse_events: resource.refuse_events != 0,
                    overage: stored_overage(resource),
                })
            })
            .collect(),
    }
}

/// A license as the audit log records it.
fn audited(license: &ValidLicense) -> Value {
    let resources: BTreeMap<&str, Value> = license
        .resources
        .iter()
        .map(|r| {
            (
                r.code.as_str(),
                json!({
                    "included": r.included.map(|q| q.to_decimal().normalize().to_string()),
                    "hardLimit": r.limited,
                    "limit": r.limit.map(|q| q.to_decimal().normalize().to_string()),
                    "refuseEvents": r.refuse_events,
                    "overage": r.overage.as_ref().map(ToString::to_string),
                }),
            )
        })
        .collect();
    json!({
        "name": license.name,
        "description": license.description,
        "price": license.price.normalize().to_string(),
        "currency": license.currency,
        "default": license.is_default,
        "resources": resources,
    })
}

/// A stored amount as the form shows it: blank for none.
fn typed(micros: Option<i64>) -> String {
    micros
        .and_then(|micros| Quantity::from_micros(micros).ok())
        .map(|q| q.to_decimal().normalize().to_string())
        .unwrap_or_default()
}

fn stored_overage(resource: &ResourceRow) -> Option<OveragePrice> {
    resource
        .overage_price
        .as_deref()
        .and_then(|json| serde_json::from_str(json).ok())
}

fn changed_meanwhile(current: &LicenseRow) -> AppError {
    let when = DateTime::<Utc>::from_timestamp(current.updated_at, 0)
        .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_default();
    AppError::Conflict(format!(
        "Someone else saved this license at {when} (version {}) after you opened it. \
         Nothing was saved and your edits are still in the form: open the license in a new \
         tab to see their change, then reload this one and make your edits again.",
        current.version
    ))
}

/// A unique violation in words: the name is taken, or another save made a different
/// license the default at the same moment.
fn unique_clash(error: sqlx::Error, name: &str) -> AppError {
    match &error {
        sqlx::Error::Database(e) if e.is_unique_violation() => {
            let about_default = e.constraint().is_some_and(|c| c.contains("default"))
                || e.message().contains("is_default");
            if about_default {
                AppError::Conflict(
                    "Another license was made the default at the same moment; nothing was \
                     saved. Reload and try again."
                        .into(),
                )
            } else {
                AppError::Conflict(format!("A license named {name:?} already exists."))
            }
        }
        _ => error.into(),
    }
}
