//! Statements: each billing period of an organization as billed. A period's statement is
//! rated live while usage can still land in it, and frozen (issued) once it cannot: when
//! the period ended longer ago than the backdating window.

use std::{cmp::Ordering, collections::HashMap, str::FromStr};

use chrono::{DateTime, Duration, Utc};
use rust_decimal::Decimal;

use crate::{
    domain::{
        period::{start_of_day, BillingPeriod},
        pricing::{LineItem, LineKind, Totals},
        quantity::Quantity,
        usage_level::{Allowance, Band, UsageLevel},
    },
    error::AppError,
};

use crate::server::{
    db::{
        self,
        statements::{self, Issue, ItemRow, StatementRow},
    },
    metering::ledger::Ledger,
    platform::Platform,
};

/// Periods listed back from the current one: as long as raw events are kept at least.
pub const PERIODS_LISTED: usize = 13;

/// How a period went against the plan's limits, worst first: `3` over a hard limit, `2` a
/// resource in the critical band, `1` in the warning band, `0` within every allowance.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct LimitStatus(u8);

impl LimitStatus {
    /// 0 to 3.
    pub fn level(self) -> u8 {
        self.0.min(3)
    }

    pub fn as_str(self) -> &'static str {
        ["0", "1", "2", "3"][usize::from(self.0.min(3))]
    }
}

impl FromStr for LimitStatus {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        match text {
            "0" => Ok(LimitStatus(0)),
            "1" => Ok(LimitStatus(1)),
            "2" => Ok(LimitStatus(2)),
            "3" => Ok(LimitStatus(3)),
            other => Err(format!("unknown limit status {other:?}")),
        }
    }
}

/// One billing period as billed.
#[derive(Clone, Debug, PartialEq)]
pub struct Statement {
    pub id: i64,
    pub organization_id: i64,
    /// The license billed.
    pub license_id: Option<i64>,
    pub period: BillingPeriod,
    /// Frozen: no event can change it any more.
    pub issued: bool,
    pub currency: String,
    pub lines: Vec<LineItem>,
    /// Sum of the lines' prices, before discount and tax.
    pub price: Decimal,
    pub discount: Decimal,
    /// What is owed: the sum of the lines' amounts.
    pub amount: Decimal,
    pub limit_status: LimitStatus,
    /// The highest percentage of any included amount used, 0 when nothing is included.
    pub usage_percent: Decimal,
    pub created_at: i64,
    pub updated_at: i64,
}

impl Statement {
    /// The instant of the period's last day, as seed 004's `end_time` shows it.
    pub fn last_day_start(&self, ledger: &Ledger) -> DateTime<Utc> {
        start_of_day(self.period.last_day, ledger.time_zone)
    }
}

/// The organization's statements, oldest first: one per billing period from the first with
/// usage (or the subscription's start), at most [`PERIODS_LISTED`] back, up to the current
/// one, and any issued earlier. Opens missing ones and issues those that have become final.
pub async fn list(
    state: &Platform,
    ledger: &Ledger,
    now: DateTime<Utc>,
) -> Result<Vec<Statement>, AppError> {
    let pool = state.db.pool();
    let organization_id = ledger.organization.id;
    let first_use = statements::first_usage_day(pool, organization_id).await?;
    let started = ledger.plan.as_ref().and_then(|plan| plan.started_at);
    let since = [first_use, started].into_iter().flatten().min();
    let now_seconds = db::unix_seconds(now);
    let periods: Vec<BillingPeriod> = ledger
        .period_at(now)
        .last(PERIODS_LISTED, ledger.time_zone)
        .into_iter()
        .filter(|period| {
            db::unix_seconds(period.end) > since.unwrap_or(now_seconds) || period.contains(now)
        })
        .collect();
    let mut rows = statements::list(pool, organization_id).await?;
    let missing: Vec<&BillingPeriod> = periods
        .iter()
        .filter(|p| {
            !rows
                .iter()
                .any(|r| r.period_start == db::unix_seconds(p.start))
        })
        .collect();
    if !missing.is_empty() {
        let license_id = ledger.plan.as_ref().map(|plan| plan.license.id);
        for period in missing {
            let span = (db::unix_seconds(period.start), db::unix_seconds(period.end));
            statements::open(pool, organization_id, license_id, span, now_seconds).await?;
        }
        rows = statements::list(pool, organization_id).await?;
    }
    let mut frozen_items: HashMap<i64, Vec<ItemRow>> = HashMap::new();
    if rows.iter().any(|row| row.issued_at.is_some()) {
        for item in statements::items(pool, organization_id).await? {
            frozen_items
                .entry(item.statement_id)
                .or_default()
                .push(item);
        }
    }
    let final_before = now - Duration::days(i64::from(state.settings.backdating_days));
    let mut listed = Vec::with_capacity(rows.len());
    for row in rows {
        let items = frozen_items.remove(&row.id).unwrap_or_default();
        let statement = match row.issued_at {
            Some(_) => frozen(ledger, &row, &items)?,
            None => {
                let mut statement = rated(state, ledger, &row).await?;
                if statement.period.end <= final_before {
                    issue(state, &mut statement, now_seconds).await?;
                }
                statement
            }
        };
        listed.push(statement);
    }
    Ok(listed)
}

/// The period a stored statement covers, in the organization's zone.
fn period_of(ledger: &Ledger, row: &StatementRow) -> BillingPeriod {
    let day = |seconds: i64| {
        DateTime::from_timestamp(seconds, 0)
            .unwrap_or_default()
            .with_timezone(&ledger.time_zone)
            .date_naive()
    };
    BillingPeriod::of_days(
        day(row.period_start),
        day(row.period_end - 1),
        ledger.anchor,
        ledger.time_zone,
    )
}

/// A statement not yet issued, rated from the rollups now.
async fn rated(
    state: &Platform,
    ledger: &Ledger,
    row: &StatementRow,
) -> Result<Statement, AppError> {
    let period = period_of(ledger, row);
    let totals = ledger.totals(state, &period).await?;
    let lines = ledger.statement_lines(&totals);
    let thresholds = state.settings.thresholds;
    let mut limit_status = LimitStatus::default();
    let mut usage_percent = Decimal::ZERO;
    for resource in ledger.resources.iter().filter(|r| r.in_plan()) {
        if resource.allowance == Allowance::Unlimited {
            continue;
        }
        let used = totals
            .get(&resource.metric.id)
            .copied()
            .unwrap_or(Quantity::ZERO);
        let level = UsageLevel::assess(used, resource.allowance, &thresholds);
        usage_percent = usage_percent.max(level.percentage.unwrap_or(Decimal::ZERO));
        let status = match level.band {
            _ if resource.cap.is_some_and(|cap| used > cap) => LimitStatus(3),
            Band::Red => LimitStatus(2),
            Band::Yellow => LimitStatus(1),
            Band::Green => LimitStatus(0),
        };
        limit_status = limit_status.max(status);
    }
    let sums = Totals::of(&lines);
    Ok(Statement {
        id: row.id,
        organization_id: ledger.organization.id,
        license_id: ledger.plan.as_ref().map(|plan| plan.license.id),
        period,
        issued: false,
        currency: ledger.currency().to_string(),
        price: lines.iter().map(|l| l.price).sum::<Decimal>().normalize(),
        discount: sums.discount,
        amount: sums.total,
        lines,
        limit_status,
        usage_percent,
        created_at: row.created_at,
        updated_at: row.updated_at,
    })
}

/// Freezes a rated statement. A concurrent reader may have issued it first: then its
/// frozen lines are the same numbers, and this one leaves them be.
async fn issue(state: &Platform, statement: &mut Statement, now: i64) -> Result<(), AppError> {
    let items: Vec<ItemRow> = statement
        .lines
        .iter()
        .map(|line| ItemRow {
            statement_id: statement.id,
            kind: kind_name(line.kind).to_string(),
            name: line.name.clone(),
            description: line.description.clone(),
            quantity: line.quantity.to_string(),
            unit: line.unit.to_string(),
            unit_price: line.unit_price.to_string(),
            price: line.price.to_string(),
            discount_rate: line.discount_rate.to_string(),
            discount: line.discount.to_string(),
            tax_rate: line.tax_rate.to_string(),
            tax: line.tax.to_string(),
            amount: line.amount.to_string(),
        })
        .collect();
    let header = Issue {
        license_id: statement.license_id,
        currency: &statement.currency,
        price: statement.price.to_string(),
        discount: statement.discount.to_string(),
        amount: statement.amount.to_string(),
        limit_status: statement.limit_status.as_str(),
        usage_percent: statement.usage_percent.to_string(),
    };
    let mut tx = state.db.begin_write().await?;
    let issued = statements::issue(
        &mut tx,
        (statement.organization_id, statement.id),
        &header,
        &items,
        now,
    )
    .await?;
    tx.commit().await?;
    if issued {
        tracing::info!(
            statement = statement.id,
            organization = statement.organization_id,
            amount = %statement.amount,
            "statement issued"
        );
        statement.issued = true;
        statement.updated_at = now;
    }
    Ok(())
}

/// An issued statement, read back exactly as frozen.
fn frozen(ledger: &Ledger, row: &StatementRow, items: &[ItemRow]) -> Result<Statement, AppError> {
    let lines = items
        .iter()
        .map(|item| {
            Ok(LineItem {
                name: item.name.clone(),
                description: item.description.clone(),
                quantity: stored(&item.quantity)?,
                unit: stored(&item.unit)?,
                unit_price: stored(&item.unit_price)?,
                price: stored(&item.price)?,
                discount_rate: stored(&item.discount_rate)?,
                discount: stored(&item.discount)?,
                tax_rate: stored(&item.tax_rate)?,
                tax: stored(&item.tax)?,
                amount: stored(&item.amount)?,
                kind: match item.kind.as_str() {
                    "base" => LineKind::Base,
                    "overage" => LineKind::Overage,
                    _ => LineKind::Included,
                },
            })
        })
        .collect::<Result<Vec<_>, AppError>>()?;
    let text = |value: &Option<String>| value.clone().unwrap_or_default();
    Ok(Statement {
        id: row.id,
        organization_id: ledger.organization.id,
        license_id: row.license_id,
        period: period_of(ledger, row),
        issued: true,
        currency: text(&row.currency),
        lines,
        price: stored(&text(&row.price))?,
        discount: stored(&text(&row.discount))?,
        amount: stored(&text(&row.amount))?,
        limit_status: LimitStatus::from_str(&text(&row.limit_status)).map_err(|error| {
            tracing::error!(statement = row.id, error, "unreadable limit status");
            AppError::Internal
        })?,
        usage_percent: stored(&text(&row.usage_percent))?,
        created_at: row.created_at,
        updated_at: row.updated_at,
    })
}

fn kind_name(kind: LineKind) -> &'static str {
    match kind {
        LineKind::Base => "base",
        LineKind::Included => "included",
        LineKind::Overage => "overage",
    }
}

/// A decimal we stored ourselves; unreadable means corrupted storage.
fn stored(text: &str) -> Result<Decimal, AppError> {
    Decimal::from_str(text).map_err(|error| {
        tracing::error!(value = text, %error, "unreadable decimal in a statement");
        AppError::Internal
    })
}

/// Keeps the statements with a line item whose name or description holds `search` (any
/// case; blank keeps all), ordered by `order`, then newest first.
pub fn select(listed: &mut Vec<Statement>, search: Option<&str>, order: &[SortKey]) {
    if let Some(search) = search.map(str::trim).filter(|s| !s.is_empty()) {
        let needle = search.to_lowercase();
        listed.retain(|statement| {
            statement.lines.iter().any(|line| {
                line.name.to_lowercase().contains(&needle)
                    || line.description.to_lowercase().contains(&needle)
            })
        });
    }
    listed.sort_by(|a, b| {
        order
            .iter()
            .map(|key| key.compare(a, b))
            .find(|o| o.is_ne())
            .unwrap_or_else(|| b.period.start.cmp(&a.period.start))
    });
}

/// A field statements can be sorted on, and the direction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SortKey {
    field: SortField,
    descending: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SortField {
    Price,
    Discount,
    Amount,
    CurrencyCode,
    LimitStatus,
    UsagePercent,
    StartDate,
    EndDate,
    CreateTime,
    UpdateTime,
}

const SORT_FIELDS: [(&str, SortField); 10] = [
    ("price", SortField::Price),
    ("discount", SortField::Discount),
    ("amount", SortField::Amount),
    ("currency_code", SortField::CurrencyCode),
    ("limit_status", SortField::LimitStatus),
    ("usage_percent", SortField::UsagePercent),
    ("start_date", SortField::StartDate),
    ("end_date", SortField::EndDate),
    ("create_time", SortField::CreateTime),
    ("update_time", SortField::UpdateTime),
];

impl SortKey {
    /// `price,-amount`: each a sortable field, `-` first for descending.
    pub fn parse_list(text: &str) -> Result<Vec<SortKey>, AppError> {
        text.split(',')
            .map(str::trim)
            .filter(|part| !part.is_empty())
            .map(|part| {
                let (descending, name) = match part.strip_prefix('-') {
                    Some(name) => (true, name),
                    None => (false, part.strip_prefix('+').unwrap_or(part)),
                };
                let field = SORT_FIELDS
                    .iter()
                    .find(|(known, _)| *known == name)
                    .map(|(_, field)| *field)
                    .ok_or_else(|| {
                        let known: Vec<&str> = SORT_FIELDS.iter().map(|(name, _)| *name).collect();
                        AppError::BadRequest(format!(
                            "cannot sort on {name:?}; sortable fields are {}",
                            known.join(", ")
                        ))
                    })?;
                Ok(SortKey { field, descending })
            })
            .collect()
    }

    fn compare(self, a: &Statement, b: &Statement) -> Ordering {
        let ordering = match self.field {
            SortField::Price => a.price.cmp(&b.price),
            SortField::Discount => a.discount.cmp(&b.discount),
            SortField::Amount => a.amount.cmp(&b.amount),
            SortField::CurrencyCode => a.currency.cmp(&b.currency),
            SortField::LimitStatus => a.limit_status.cmp(&b.limit_status),
            SortField::UsagePercent => a.usage_percent.cmp(&b.usage_percent),
            SortField::StartDate => a.period.start.cmp(&b.period.start),
            SortField::EndDate => a.period.end.cmp(&b.period.end),
            SortField::CreateTime => a.created_at.cmp(&b.created_at),
            SortField::UpdateTime => a.updated_at.cmp(&b.updated_at),
        };
        if self.descending {
            ordering.reverse()
        } else {
            ordering
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sort_takes_the_documents_fields_with_a_minus_for_descending() {
        assert_eq!(
            SortKey::parse_list("price,-usage_percent").expect("valid"),
            vec![
                SortKey {
                    field: SortField::Price,
                    descending: false
                },
                SortKey {
                    field: SortField::UsagePercent,
                    descending: true
                },
            ]
        );
        let error = SortKey::parse_list("-colour").expect_err("unknown");
        assert!(
            matches!(&error, AppError::BadRequest(m) if m.contains("sortable fields are price")),
            "{error:?}"
        );
    }
}
