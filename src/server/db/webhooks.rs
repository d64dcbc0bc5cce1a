//! SQL for an organization's webhooks.

use sqlx::FromRow;

use super::queries;

use super::{scoped::Scoped, Table};

/// A webhook as stored. `thresholds` is a JSON array of percentages.
#[derive(Clone, Debug, PartialEq, Eq, FromRow)]
pub struct WebhookRow {
    pub id: i64,
    pub url: String,
    pub description: String,
    pub thresholds: String,
    /// 1 while deliveries are made, else 0 (sqlx's `Any` driver reads no SQLite booleans).
    pub active: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

const COLUMNS: &str = "id, url, description, thresholds,
    cast(case when active then 1 else 0 end as bigint) as active, created_at, updated_at";

/// Found and listed with [`super::scoped`]: oldest first.
impl Table for WebhookRow {
    const TABLE: &'static str = "webhooks";
    const COLUMNS: &'static str = COLUMNS;
}

impl Scoped for WebhookRow {
    const ORDER: &'static str = "id";
}

/// A webhook's editable fields.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WebhookFields<'a> {
    pub url: &'a str,
    pub description: &'a str,
    pub thresholds: &'a str,
    pub active: bool,
}

queries! {
    /// Stores a webhook with its signing secret unless the organization has `cap` already
    /// (0: no cap); returns its id, `None` at the cap.
    pub fn insert(
        organization_id: i64,
        fields: &WebhookFields<'_>,
        secret: &str,
        (now, cap): (i64, i64),
    ) -> scalar_optional<i64>
        "insert into webhooks
             (organization_id, url, description, thresholds, secret, active, created_at,
              updated_at)
         select $1, $2, $3, $4, $5, $6, $7, $7
         where $8 = 0 or (select count(*) from webhooks where organization_id = $1) < $8
         returning id"
        with [
            organization_id,
            fields.url,
            fields.description,
            fields.thresholds,
            secret,
            fields.active,
            now,
            cap,
        ];

    /// Replaces a webhook's fields; false when the organization has no such webhook.
    pub fn update(
        organization_id: i64,
        id: i64,
        fields: &WebhookFields<'_>,
        now: i64,
    ) -> changed_one
        "update webhooks set url = $1, description = $2, thresholds = $3, active = $4,
                updated_at = $5
         where organization_id = $6 and id = $7"
        with [
            fields.url,
            fields.description,
            fields.thresholds,
            fields.active,
            now,
            organization_id,
            id,
        ];
}

/// A webhook's stored signing secret: sealed, or as stored before secrets were sealed.
#[derive(Clone, Debug, FromRow)]
pub struct StoredSecret {
    pub id: i64,
    pub organization_id: i64,
    pub secret: String,
}

queries! {
    /// Every webhook whose secret does not start with `sealed_prefix`: stored before sealing.
    pub fn unsealed_secrets(sealed_prefix: &str) -> all<StoredSecret>
        "select id, organization_id, secret from webhooks where secret not like $1 order by id"
        with [format!("{sealed_prefix}%")];

    /// Replaces the secret `before` of webhook `id` with `after`; false when it is no longer
    /// `before` (another server sealed it first).
    pub fn replace_secret(
        (organization_id, id): (i64, i64),
        before: &str,
        after: &str,
    ) -> changed_one
        "update webhooks set secret = $1 where organization_id = $2 and id = $3 and secret = $4"
        with [after, organization_id, id, before];
}

/// A webhook's stored thresholds, ascending.
pub fn thresholds_of(hook: &WebhookRow) -> Vec<rust_decimal::Decimal> {
    serde_json::from_str(&hook.thresholds).unwrap_or_else(|e| {
        tracing::error!(webhook = hook.id, %e, "unreadable thresholds");
        Vec::new()
    })
}
