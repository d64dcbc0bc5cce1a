//! SQL for statements (an organization's billed periods) and their frozen line items.

use sqlx::{Any, FromRow};

use super::queries;

/// A statement as stored; the amounts are `None` until it is issued.
#[derive(Clone, Debug, PartialEq, Eq, FromRow)]
pub struct StatementRow {
    pub id: i64,
    pub license_id: Option<i64>,
    pub period_start: i64,
    pub period_end: i64,
    pub issued_at: Option<i64>,
    pub currency: Option<String>,
    pub price: Option<String>,
    pub discount: Option<String>,
    pub amount: Option<String>,
    pub limit_status: Option<String>,
    pub usage_percent: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

queries! {
    /// Every statement of the organization, oldest period first.
    pub fn list(organization_id: i64) -> all<StatementRow>
        "select id, license_id, period_start, period_end, issued_at, currency, price, discount,
                amount, limit_status, usage_percent, created_at, updated_at
         from statements where organization_id = $1 order by period_start";

    /// Opens a statement for the period starting at `period_start` unless the organization has
    /// one already (a concurrent reader may have opened it first).
    pub fn open(
        organization_id: i64,
        license_id: Option<i64>,
        (period_start, period_end): (i64, i64),
        now: i64,
    ) -> execute
        "insert into statements
             (organization_id, license_id, period_start, period_end, created_at, updated_at)
         values ($1, $2, $3, $4, $5, $5)
         on conflict (organization_id, period_start) do nothing"
        with [organization_id, license_id, period_start, period_end, now];
}

/// A statement's amounts, as decimal strings, when it is issued.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Issue<'a> {
    pub license_id: Option<i64>,
    pub currency: &'a str,
    pub price: String,
    pub discount: String,
    pub amount: String,
    pub limit_status: &'a str,
    pub usage_percent: String,
}

/// One frozen line of a statement.
#[derive(Clone, Debug, PartialEq, Eq, FromRow)]
pub struct ItemRow {
    pub statement_id: i64,
    pub kind: String,
    pub name: String,
    pub description: String,
    pub quantity: String,
    pub unit: String,
    pub unit_price: String,
    pub price: String,
    pub discount_rate: String,
    pub discount: String,
    pub tax_rate: String,
    pub tax: String,
    pub amount: String,
}

/// Freezes a statement with its amounts and lines; returns false, changing nothing, when it
/// was issued already. Run it in a transaction so the lines and the header land together.
pub async fn issue(
    tx: &mut sqlx::Transaction<'_, Any>,
    (organization_id, statement_id): (i64, i64),
    issue: &Issue<'_>,
    items: &[ItemRow],
    now: i64,
) -> Result<bool, sqlx::Error> {
    let updated = sqlx::query_with(
        "update statements
         set issued_at = $1, updated_at = $1, license_id = $2, currency = $3, price = $4,
             discount = $5, amount = $6, limit_status = $7, usage_percent = $8
         where organization_id = $9 and id = $10 and issued_at is null",
        super::params![
            now,
            issue.license_id,
            issue.currency,
            &issue.price,
            &issue.discount,
            &issue.amount,
            issue.limit_status,
            &issue.usage_percent,
            organization_id,
            statement_id
        ],
    )
    .execute(&mut **tx)
    .await?;
    if updated.rows_affected() == 0 {
        return Ok(false);
    }
    for (position, item) in (0_i32..).zip(items) {
        sqlx::query_with(
            "insert into statement_items
                 (organization_id, statement_id, position, kind, name, description, quantity,
                  unit, unit_price, price, discount_rate, discount, tax_rate, tax, amount)
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
            super::params![
                organization_id,
                statement_id,
                position,
                &item.kind,
                &item.name,
                &item.description,
                &item.quantity,
                &item.unit,
                &item.unit_price,
                &item.price,
                &item.discount_rate,
                &item.discount,
                &item.tax_rate,
                &item.tax,
                &item.amount
            ],
        )
        .execute(&mut **tx)
        .await?;
    }
    Ok(true)
}

queries! {
    /// The frozen lines of the organization's issued statements, by statement and position.
    pub fn items(organization_id: i64) -> all<ItemRow>
        "select i.statement_id, i.kind, i.name, i.description, i.quantity, i.unit, i.unit_price,
                i.price, i.discount_rate, i.discount, i.tax_rate, i.tax, i.amount
         from statement_items i
         where i.organization_id = $1
         order by i.statement_id, i.position";

    /// The first day (Unix seconds of its local start) the organization used anything, if ever.
    pub fn first_usage_day(organization_id: i64) -> scalar<Option<i64>>
        "select min(day_start) from usage_daily where organization_id = $1";
}
