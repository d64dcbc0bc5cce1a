//! SQL for licenses (plans), their resources and organizations' subscriptions to them.

use sqlx::{Any, Executor, FromRow};

use super::queries;

/// A license to store. `price` is a decimal string checked by `domain::pricing`.
#[derive(Clone, Debug)]
pub struct NewLicense<'a> {
    pub name: &'a str,
    pub external_id: Option<&'a str>,
    pub description: &'a str,
    pub price: &'a str,
    pub currency: &'a str,
    pub is_default: bool,
}

queries! {
    /// The id of the license with this name, if any.
    pub fn find_by_name(name: &str) -> scalar_optional<i64>
        "select id from licenses where name = $1";

    /// Stores a license; returns its id. A duplicate name or external id, or a second default
    /// license, is a unique violation.
    pub fn insert(license: &NewLicense<'_>, now: i64) -> scalar<i64>
        "insert into licenses
             (name, external_id, description, price, currency, is_default, created_at, updated_at)
         values ($1, $2, $3, $4, $5, $6, $7, $7) returning id"
        with [
            license.name,
            license.external_id,
            license.description,
            license.price,
            license.currency,
            license.is_default,
            now,
        ];
}

/// One resource of a license to store. `overage_price` is JSON of
/// `domain::pricing::OveragePrice`.
#[derive(Clone, Debug)]
pub struct NewResource<'a> {
    pub license_id: i64,
    pub metric_id: i64,
    /// `None`: unlimited.
    pub included_micros: Option<i64>,
    pub limited: bool,
    /// Where a hard limit refuses usage, when not at the included amount.
    pub limit_micros: Option<i64>,
    /// Ingestion refuses events past the hard limit too (only with `limited`).
    pub refuse_events: bool,
    pub overage_price: Option<&'a str>,
    pub position: i64,
}

/// Stores a new resource of a license; `on_conflict` says what a second one of the same
/// metric does (nothing: a unique violation).
const INSERT_RESOURCE: &str = "insert into license_resources
     (license_id, metric_id, included_micros, limited, limit_micros, refuse_events,
      overage_price, position, created_at, updated_at)
 values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)";

async fn store_resource<'e, E: Executor<'e, Database = Any>>(
    executor: E,
    resource: &NewResource<'_>,
    now: i64,
    on_conflict: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query_with(
        &format!("{INSERT_RESOURCE} {on_conflict}"),
        super::params![
            resource.license_id,
            resource.metric_id,
            resource.included_micros,
            resource.limited,
            resource.limit_micros,
            resource.refuse_events,
            resource.overage_price,
            resource.position,
            now
        ],
    )
    .execute(executor)
    .await?;
    Ok(())
}

/// Adds a resource to a license. The same metric twice is a unique violation.
pub async fn insert_resource<'e, E: Executor<'e, Database = Any>>(
    executor: E,
    resource: &NewResource<'_>,
    now: i64,
) -> Result<(), sqlx::Error> {
    store_resource(executor, resource, now, "").await
}

queries! {
    /// Subscribes the organization to a license from `now`, with periods starting on
    /// `anchor_day`; returns the subscription's id. An organization with a live (not
    /// canceled) subscription already is a unique violation.
    pub fn subscribe(organization_id: i64, license_id: i64, anchor_day: u8, now: i64) -> scalar<i64>
        "insert into subscriptions
             (organization_id, license_id, status, anchor_day, started_at, created_at, updated_at)
         values ($1, $2, 'active', $3, $4, $4, $4) returning id"
        with [organization_id, license_id, i32::from(anchor_day), now];
}

/// The license an organization is on, with its subscription when it has one.
#[derive(Clone, Debug, PartialEq, Eq, FromRow)]
pub struct PlanRow {
    #[sqlx(flatten)]
    pub license: LicenseRow,
    pub subscription_id: Option<i64>,
    pub status: Option<String>,
    pub anchor_day: Option<i64>,
    pub started_at: Option<i64>,
    pub subscription_created_at: Option<i64>,
    pub subscription_updated_at: Option<i64>,
}

/// [`LICENSE_COLUMNS`] of the license `l` in a join.
const PLAN_COLUMNS: &str = "l.id, l.name, l.external_id, l.description, l.price, l.currency,
    cast(case when l.is_default then 1 else 0 end as bigint) as is_default, l.created_at,
    l.updated_at, l.version";

/// The license in force for the organization: its live subscription's, or else the default
/// license (with no subscription); `None` when there is neither.
pub async fn plan_of<'e, E: Executor<'e, Database = Any> + Copy>(
    executor: E,
    organization_id: i64,
) -> Result<Option<PlanRow>, sqlx::Error> {
    let subscribed = sqlx::query_as_with(
        &format!(
            "select {PLAN_COLUMNS}, s.id as subscription_id, s.status,
                cast(s.anchor_day as bigint) as anchor_day, s.started_at,
                s.created_at as subscription_created_at,
                s.updated_at as subscription_updated_at
         from subscriptions s join licenses l on l.id = s.license_id
         where s.organization_id = $1 and s.status <> 'canceled'"
        ),
        super::params![organization_id],
    )
    .fetch_optional(executor)
    .await?;
    if subscribed.is_some() {
        return Ok(subscribed);
    }
    sqlx::query_as(&format!(
        "select {PLAN_COLUMNS}, cast(null as bigint) as subscription_id,
                cast(null as text) as status, cast(null as bigint) as anchor_day,
                cast(null as bigint) as started_at,
                cast(null as bigint) as subscription_created_at,
                cast(null as bigint) as subscription_updated_at
         from licenses l where l.is_default"
    ))
    .fetch_optional(executor)
    .await
}

/// One resource of a license, as stored.
#[derive(Clone, Debug, PartialEq, Eq, FromRow)]
pub struct ResourceRow {
    pub id: i64,
    pub metric_id: i64,
    pub included_micros: Option<i64>,
    /// 1 for a hard limit, else 0 (sqlx's `Any` driver reads no SQLite booleans).
    pub limited: i64,
    /// A hard limit's own amount; `None`: at the included amount.
    pub limit_micros: Option<i64>,
    /// 1 when ingestion refuses events past the hard limit, else 0.
    pub refuse_events: i64,
    pub overage_price: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

const RESOURCE_COLUMNS: &str = "r.id, r.metric_id, r.included_micros,
    cast(case when r.limited then 1 else 0 end as bigint) as limited, r.limit_micros,
    cast(case when r.refuse_events then 1 else 0 end as bigint) as refuse_events,
    r.overage_price, r.created_at, r.updated_at";

/// The license's resources in display order.
pub async fn resources_of<'e, E: Executor<'e, Database = Any>>(
    executor: E,
    license_id: i64,
) -> Result<Vec<ResourceRow>, sqlx::Error> {
    sqlx::query_as_with(
        &format!(
            "select {RESOURCE_COLUMNS}
         from license_resources r join metrics m on m.id = r.metric_id
         where r.license_id = $1
         order by r.position, m.position, m.id"
        ),
        super::params![license_id],
    )
    .fetch_all(executor)
    .await
}

/// A license as stored.
#[derive(Clone, Debug, PartialEq, Eq, FromRow)]
pub struct LicenseRow {
    pub id: i64,
    pub name: String,
    pub external_id: Option<String>,
    pub description: String,
    pub price: String,
    pub currency: String,
    /// 1 for the default license, else 0 (sqlx's `Any` driver reads no SQLite booleans).
    pub is_default: i64,
    pub created_at: i64,
    pub updated_at: i64,
    /// Raised by every edit; an edit names the version it started from.
    pub version: i64,
}

const LICENSE_COLUMNS: &str = "id, name, external_id, description, price, currency,
    cast(case when is_default then 1 else 0 end as bigint) as is_default, created_at,
    updated_at, version";

impl super::Table for LicenseRow {
    const TABLE: &'static str = "licenses";
    const COLUMNS: &'static str = LICENSE_COLUMNS;
}

/// Every license, by name.
pub async fn list<'e, E: Executor<'e, Database = Any>>(
    executor: E,
) -> Result<Vec<LicenseRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "select {LICENSE_COLUMNS} from licenses order by name"
    ))
    .fetch_all(executor)
    .await
}

/// The license with this id.
pub async fn find<'e, E: Executor<'e, Database = Any>>(
    executor: E,
    id: i64,
) -> Result<Option<LicenseRow>, sqlx::Error> {
    super::row_by(executor, "id", id).await
}

/// The resources of every license, by license and display order.
pub async fn all_resources<'e, E: Executor<'e, Database = Any>>(
    executor: E,
) -> Result<Vec<(i64, ResourceRow)>, sqlx::Error> {
    let rows: Vec<LicensedResourceRow> = sqlx::query_as(&format!(
        "select r.license_id, {RESOURCE_COLUMNS}
         from license_resources r join metrics m on m.id = r.metric_id
         order by r.license_id, r.position, m.position, m.id"
    ))
    .fetch_all(executor)
    .await?;
    Ok(rows
        .into_iter()
        .map(|row| (row.license_id, row.resource))
        .collect())
}

#[derive(FromRow)]
struct LicensedResourceRow {
    license_id: i64,
    #[sqlx(flatten)]
    resource: ResourceRow,
}

queries! {
    /// Replaces the license's fields if it is still at `version`, raising its version; false
    /// when it is not (changed meanwhile, or gone). A taken name is a unique violation.
    pub fn update(id: i64, version: i64, license: &NewLicense<'_>, now: i64) -> changed_one
        "update licenses
         set name = $1, description = $2, price = $3, currency = $4, is_default = $5,
             updated_at = $6, version = version + 1
         where id = $7 and version = $8"
        with [
            license.name,
            license.description,
            license.price,
            license.currency,
            license.is_default,
            now,
            id,
            version,
        ];
}

/// Makes every license but `except` not the default; returns the ids changed.
pub async fn clear_default<'e, E: Executor<'e, Database = Any>>(
    executor: E,
    except: i64,
    now: i64,
) -> Result<Vec<i64>, sqlx::Error> {
    sqlx::query_scalar_with(
        "update licenses set is_default = false, updated_at = $1, version = version + 1
         where is_default and id <> $2 returning id",
        super::params![now, except],
    )
    .fetch_all(executor)
    .await
}

/// Stores a resource of a license, or replaces the license's resource for the same metric
/// (keeping its id).
pub async fn upsert_resource<'e, E: Executor<'e, Database = Any>>(
    executor: E,
    resource: &NewResource<'_>,
    now: i64,
) -> Result<(), sqlx::Error> {
    store_resource(
        executor,
        resource,
        now,
        "on conflict (license_id, metric_id) do update
         set included_micros = excluded.included_micros, limited = excluded.limited,
             limit_micros = excluded.limit_micros, refuse_events = excluded.refuse_events,
             overage_price = excluded.overage_price, position = excluded.position,
             updated_at = excluded.updated_at",
    )
    .await
}

queries! {
    /// Removes the license's resource for `metric_id`.
    pub fn delete_resource(license_id: i64, metric_id: i64) -> execute
        "delete from license_resources where license_id = $1 and metric_id = $2";
}

/// `(organization id, license id)` of every live (not canceled) subscription.
pub async fn live_subscriptions<'e, E: Executor<'e, Database = Any>>(
    executor: E,
) -> Result<Vec<(i64, i64)>, sqlx::Error> {
    sqlx::query_as(
        "select organization_id, license_id from subscriptions
         where status <> 'canceled' order by organization_id",
    )
    .fetch_all(executor)
    .await
}

/// Puts the organization on `license_id`: its live subscription moves to it (keeping its
/// period anchor and status), or a new active subscription anchored on the 1st starts now.
/// Returns the license it was subscribed to before, if any.
pub async fn assign<'e, E: Executor<'e, Database = Any> + Copy>(
    executor: E,
    organization_id: i64,
    license_id: i64,
    now: i64,
) -> Result<Option<i64>, sqlx::Error> {
    let before: Option<i64> = sqlx::query_scalar_with(
        "select license_id from subscriptions
         where organization_id = $1 and status <> 'canceled'",
        super::params![organization_id],
    )
    .fetch_optional(executor)
    .await?;
    if before.is_some() {
        sqlx::query_with(
            "update subscriptions set license_id = $1, updated_at = $2
             where organization_id = $3 and status <> 'canceled'",
            super::params![license_id, now, organization_id],
        )
        .execute(executor)
        .await?;
    } else {
        subscribe(executor, organization_id, license_id, 1, now).await?;
    }
    Ok(before)
}
