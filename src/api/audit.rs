//! The operator's audit log: every change to licenses, assignments, keys, webhooks and
//! roles. Only a platform admin may read it; the check is here, on the server.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// One recorded change.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub id: i64,
    /// Unix seconds.
    pub occurred_at: i64,
    /// The user's email, `key qb_…` for an API key, or `cli`.
    pub actor: String,
    pub organization: Option<String>,
    /// `license`, `subscription`, `api_key`, `webhook` or `membership`.
    pub entity: String,
    pub label: String,
    /// `created`, `updated`, `assigned` or `revoked`.
    pub action: String,
    /// Each field that changed: `(field, before, after)`; every field of something created.
    pub changes: Vec<(String, Option<String>, Option<String>)>,
}

/// The kinds of things the log can be filtered on.
pub const AUDIT_ENTITIES: [&str; 8] = [
    "license",
    "subscription",
    "api_key",
    "webhook",
    "membership",
    "user",
    "portal_session",
    "embed_origin",
];

/// Entries shown at most.
pub const AUDIT_LIMIT: i64 = 200;

/// The newest changes, newest first: only of `entity` when it is one of
/// [`AUDIT_ENTITIES`], only those whose actor, organization or label holds `search`, and
/// only from `from` to `to` (`YYYY-MM-DD`, UTC days, inclusive) when given.
///
/// Errors: `Unauthorized` (401) when not signed in; `Forbidden` (403) for anyone but a
/// platform admin; `BadRequest` (400) for an unknown entity or a malformed date.
#[server(output = crate::codec::JsonText)]
pub async fn list_audit(
    entity: String,
    search: String,
    from: String,
    to: String,
) -> Result<Vec<AuditEntry>, AppError> {
    use crate::{
        model::usage::parse_day,
        server::{db::audit, http::server_fn},
    };

    server_fn::respond(
        async {
            let state = server_fn::state()?;
            server_fn::platform_admin(&state).await?;
            let entity = entity.trim();
            if !entity.is_empty() && !AUDIT_ENTITIES.contains(&entity) {
                return Err(AppError::BadRequest(format!(
                    "entity must be one of {}",
                    AUDIT_ENTITIES.join(", ")
                )));
            }
            let day_start =
                |day: chrono::NaiveDate| day.and_time(chrono::NaiveTime::MIN).and_utc().timestamp();
            let since = parse_day("from", &from)?.map(day_start);
            let until = parse_day("to", &to)?
                .and_then(|day| day.succ_opt())
                .map(day_start);
            let search = search.trim();
            let filter = audit::AuditFilter {
                entity: (!entity.is_empty()).then_some(entity),
                search: (!search.is_empty()).then_some(search),
                since,
                until,
            };
            let rows = audit::list(state.db.pool(), &filter, AUDIT_LIMIT).await?;
            Ok(rows.into_iter().map(entry_of).collect())
        }
        .await,
    )
}

/// A stored change with its before and after compared field by field.
#[cfg(feature = "ssr")]
fn entry_of(row: crate::server::db::audit::AuditRow) -> AuditEntry {
    use serde_json::{Map, Value};

    let parse = |text: &Option<String>| -> Map<String, Value> {
        text.as_deref()
            .and_then(|text| serde_json::from_str::<Value>(text).ok())
            .and_then(|value| match value {
                Value::Object(map) => Some(map),
                _ => None,
            })
            .unwrap_or_default()
    };
    let before = parse(&row.before);
    let after = parse(&row.after);
    let mut changes = Vec::new();
    flatten_changes("", &before, &after, &mut changes);
    AuditEntry {
        id: row.id,
        occurred_at: row.occurred_at,
        actor: row.actor,
        organization: row.organization,
        entity: row.entity,
        label: row.label,
        action: row.action,
        changes,
    }
}

/// The fields that differ between `before` and `after`, nested objects as `a.b`.
#[cfg(feature = "ssr")]
fn flatten_changes(
    prefix: &str,
    before: &serde_json::Map<String, serde_json::Value>,
    after: &serde_json::Map<String, serde_json::Value>,
    changes: &mut Vec<(String, Option<String>, Option<String>)>,
) {
    use serde_json::Value;

    let text = |value: Option<&Value>| match value {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(other) => Some(other.to_string()),
    };
    let mut keys: Vec<&String> = before.keys().chain(after.keys()).collect();
    keys.sort();
    keys.dedup();
    for key in keys {
        let name = if prefix.is_empty() {
            key.clone()
        } else {
            format!("{prefix}.{key}")
        };
        match (before.get(key), after.get(key)) {
            (Some(Value::Object(b)), Some(Value::Object(a))) => {
                flatten_changes(&name, b, a, changes)
            }
            (Some(Value::Object(b)), None) => {
                flatten_changes(&name, b, &serde_json::Map::new(), changes)
            }
            (None, Some(Value::Object(a))) => {
                flatten_changes(&name, &serde_json::Map::new(), a, changes)
            }
            (b, a) if b != a => changes.push((name, text(b), text(a))),
            _ => {}
        }
    }
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::*;

    #[test]
    fn only_changed_fields_are_listed_nested_ones_by_path() {
        let before = serde_json::json!({"name": "Pro", "price": "29", "resources": {"apiCalls": {"included": "1000", "hardLimit": false}}});
        let after = serde_json::json!({"name": "Pro", "price": "39", "resources": {"apiCalls": {"included": "500", "hardLimit": false}, "seats": {"included": "5", "hardLimit": true}}});
        let as_map = |v: serde_json::Value| match v {
            serde_json::Value::Object(map) => map,
            _ => unreachable!(),
        };
        let mut changes = Vec::new();
        flatten_changes("", &as_map(before), &as_map(after), &mut changes);
        let s = |t: &str| Some(t.to_string());
        assert_eq!(
            changes,
            vec![
                ("price".into(), s("29"), s("39")),
                ("resources.apiCalls.included".into(), s("1000"), s("500")),
                ("resources.seats.hardLimit".into(), None, s("true")),
                ("resources.seats.included".into(), None, s("5")),
            ]
        );
    }
}
