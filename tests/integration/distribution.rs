//! The schema can be distributed by organization (Citus): every table that grows with usage
//! keys its rows by organization, in its primary key, its unique keys and its foreign keys
//! to other such tables; the rest is a small catalogue every node may hold, or tables that
//! grow with people and stay on the coordinator. A new table with an `organization_id`
//! fails here until it is placed in one of the three.

use std::collections::HashMap;

use crate::helpers::{on_backend, Backend};

/// Distributed by `organization_id` (`create_distributed_table`): they grow with usage.
pub const DISTRIBUTED: [&str; 11] = [
    "usage_events",
    "usage_event_keys",
    "usage_daily",
    "usage_daily_breakdown",
    "usage_distinct_values",
    "pending_alert_checks",
    "consumptions",
    "statements",
    "statement_items",
    "webhooks",
    "webhook_deliveries",
];

/// Copied to every node (`create_reference_table`): the catalogue, small and read by all.
pub const REFERENCE: [&str; 4] = ["organizations", "metrics", "licenses", "license_resources"];

/// Left on the coordinator: they grow with people and settings, not with usage.
pub const COORDINATOR: [&str; 10] = [
    "users",
    "memberships",
    "sessions",
    "api_keys",
    "domains",
    "accounts",
    "subscriptions",
    "audit_events",
    "portal_sessions",
    "embed_origins",
];

/// A primary key, unique key or foreign key: its kind (`p`, `u`, `f`), its columns, and for
/// a foreign key the table and columns it references.
#[derive(Debug, sqlx::FromRow)]
struct Constraint {
    name: String,
    kind: String,
    columns: String,
    referenced: String,
    referenced_columns: String,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_table_that_grows_with_usage_is_keyed_by_organization() {
    on_backend(Backend::Postgres, |app| async move {
        // The whole app, not only the fields used: its schema lives as long as it does.
        let app = app;
        let pool = app.db.pool();
        let with_organization: Vec<String> = sqlx::query_scalar(
            "select cast(c.relname as text)
             from pg_class c join pg_attribute a on a.attrelid = c.oid
             where c.relnamespace = cast(current_schema() as regnamespace)
               and c.relkind in ('r', 'p') and not c.relispartition
               and a.attname = 'organization_id' and not a.attisdropped
             order by 1",
        )
        .fetch_all(pool)
        .await
        .expect("tables");
        for table in &with_organization {
            assert!(
                DISTRIBUTED.contains(&table.as_str()) || COORDINATOR.contains(&table.as_str()),
                "{table} has an organization_id but is neither distributed nor left on the \
                 coordinator: place it in tests/integration/distribution.rs and README"
            );
        }
        for table in DISTRIBUTED.iter().chain(&REFERENCE).chain(&COORDINATOR) {
            assert!(
                with_organization.contains(&table.to_string()) || REFERENCE.contains(table),
                "{table} is listed but has no organization_id (or no longer exists)"
            );
        }

        let mut problems = Vec::new();
        for table in DISTRIBUTED {
            let constraints: Vec<Constraint> = sqlx::query_as(
                "select cast(c.conname as text) as name, cast(c.contype as text) as kind,
                        (select string_agg(cast(a.attname as text), ',' order by k.n)
                         from unnest(c.conkey) with ordinality k(attnum, n)
                         join pg_attribute a on a.attrelid = c.conrelid and a.attnum = k.attnum)
                            as columns,
                        case when c.contype = 'f' then cast(c.confrelid::regclass as text)
                             else '' end as referenced,
                        coalesce((select string_agg(cast(a.attname as text), ',' order by k.n)
                                  from unnest(c.confkey) with ordinality k(attnum, n)
                                  join pg_attribute a
                                    on a.attrelid = c.confrelid and a.attnum = k.attnum), '')
                            as referenced_columns
                 from pg_constraint c
                 where c.conrelid = cast($1 as regclass) and c.contype in ('p', 'u', 'f')",
            )
            .bind(table)
            .fetch_all(pool)
            .await
            .expect("constraints");
            assert!(
                constraints.iter().any(|c| c.kind == "p"),
                "{table} has no primary key"
            );
            for constraint in &constraints {
                let columns: Vec<&str> = constraint.columns.split(',').collect();
                match constraint.kind.as_str() {
                    "p" | "u" if columns.first() != Some(&"organization_id") => {
                        problems.push(format!(
                            "{table}.{}: ({}) does not lead with organization_id",
                            constraint.name, constraint.columns
                        ))
                    }
                    "f" if REFERENCE.contains(&constraint.referenced.as_str()) => {}
                    "f" => {
                        let referenced: Vec<&str> =
                            constraint.referenced_columns.split(',').collect();
                        let pairs: HashMap<&str, &str> = columns
                            .iter()
                            .copied()
                            .zip(referenced.iter().copied())
                            .collect();
                        let colocated = DISTRIBUTED.contains(&constraint.referenced.as_str())
                            && pairs.get("organization_id") == Some(&"organization_id");
                        if !colocated {
                            problems.push(format!(
                                "{table}.{}: references {}({}) without its organization",
                                constraint.name,
                                constraint.referenced,
                                constraint.referenced_columns
                            ));
                        }
                    }
                    _ => {}
                }
            }
            let unique_indexes: Vec<String> = sqlx::query_scalar(
                "select pg_get_indexdef(i.indexrelid) from pg_index i
                 where i.indrelid = cast($1 as regclass) and i.indisunique
                   and not exists (select 1 from pg_constraint c where c.conindid = i.indexrelid)",
            )
            .bind(table)
            .fetch_all(pool)
            .await
            .expect("indexes");
            for index in unique_indexes {
                if !index.contains("(organization_id") {
                    problems.push(format!(
                        "{table}: {index} does not lead with organization_id"
                    ));
                }
            }
        }
        assert!(
            problems.is_empty(),
            "not distributable by organization:\n{}",
            problems.join("\n")
        );
    })
    .await;
}
