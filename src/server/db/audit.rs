//! SQL for the audit log: who changed what, when, from what to what.

use sqlx::{Any, Executor, FromRow};

use super::queries;

/// A change to record.
#[derive(Clone, Debug)]
pub struct NewAuditEvent<'a> {
    pub actor: &'a str,
    pub organization_id: Option<i64>,
    pub entity: &'a str,
    pub entity_id: &'a str,
    pub label: &'a str,
    pub action: &'a str,
    /// JSON of the fields before the change.
    pub before: Option<&'a str>,
    /// JSON of the fields after the change.
    pub after: Option<&'a str>,
}

queries! {
    /// Records a change made at `now` (unix seconds).
    pub fn record(event: &NewAuditEvent<'_>, now: i64) -> execute
        "insert into audit_events
             (occurred_at, actor, organization_id, entity, entity_id, label, action, before, after)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
        with [
            now,
            event.actor,
            event.organization_id,
            event.entity,
            event.entity_id,
            event.label,
            event.action,
            event.before,
            event.after,
        ];
}

/// A recorded change, with the organization's name when it concerns one.
#[derive(Clone, Debug, PartialEq, Eq, FromRow)]
pub struct AuditRow {
    pub id: i64,
    pub occurred_at: i64,
    pub actor: String,
    pub organization: Option<String>,
    pub entity: String,
    pub entity_id: String,
    pub label: String,
    pub action: String,
    pub before: Option<String>,
    pub after: Option<String>,
}

/// Which changes to list; `None` fields match everything.
#[derive(Clone, Debug, Default)]
pub struct AuditFilter<'a> {
    pub entity: Option<&'a str>,
    /// Matched ignoring case against the actor, the organization's slug and name, and the
    /// label.
    pub search: Option<&'a str>,
    /// Unix seconds, inclusive.
    pub since: Option<i64>,
    /// Unix seconds, exclusive.
    pub until: Option<i64>,
}

/// The newest `limit` changes matching `filter`, newest first.
pub async fn list<'e, E: Executor<'e, Database = Any>>(
    executor: E,
    filter: &AuditFilter<'_>,
    limit: i64,
) -> Result<Vec<AuditRow>, sqlx::Error> {
    let pattern = filter.search.map(super::contains_pattern);
    sqlx::query_as_with(
        "select a.id, a.occurred_at, a.actor, o.name as organization, a.entity, a.entity_id,
                a.label, a.action, a.before, a.after
         from audit_events a left join organizations o on o.id = a.organization_id
         where ($1 is null or a.entity = $1)
           and ($2 is null or lower(a.actor) like $2 escape '\\'
                or lower(a.label) like $2 escape '\\'
                or lower(coalesce(o.name, '')) like $2 escape '\\'
                or lower(coalesce(o.slug, '')) like $2 escape '\\')
           and ($3 is null or a.occurred_at >= $3)
           and ($4 is null or a.occurred_at < $4)
         order by a.occurred_at desc, a.id desc
         limit $5",
        super::params![filter.entity, pattern, filter.since, filter.until, limit],
    )
    .fetch_all(executor)
    .await
}
