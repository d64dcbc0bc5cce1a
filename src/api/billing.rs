//! Statements (seed 004) for the billing page: each billing period as billed, with its line
//! items, searchable and sortable as the REST endpoint is.

use leptos::prelude::*;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::{
    domain::{period::BillingPeriod, pricing::LineItem},
    error::AppError,
};

/// One billing period as billed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StatementView {
    pub id: i64,
    pub period: BillingPeriod,
    /// Final: no event can change it any more.
    pub issued: bool,
    /// ISO 4217, upper case.
    pub currency: String,
    pub lines: Vec<LineItem>,
    /// Sum of the lines' prices, before discount and tax.
    pub price: Decimal,
    pub discount: Decimal,
    /// What is owed.
    pub amount: Decimal,
    /// 0 within every allowance, 1 warning, 2 critical, 3 over a hard limit.
    pub limit_status: u8,
    /// The highest percentage of an included amount used.
    pub usage_percent: Decimal,
}

/// The columns the billing page sorts on, by their seed 004 field names.
pub const SORTABLE: [&str; 4] = ["start_date", "amount", "usage_percent", "limit_status"];

/// The signed-in organization's statements whose line items hold `search` (any case; blank
/// for all), in `sort` order (`field` or `-field`, seed 004's fields; blank: newest first).
///
/// Errors: `BadRequest` for an unknown sort field; `Unauthorized` when not signed in.
#[server(output = crate::codec::JsonText)]
pub async fn list_statements(search: String, sort: String) -> Result<Vec<StatementView>, AppError> {
    use crate::server::{http::server_fn, metering::ledger::Ledger, metering::statements};

    server_fn::respond(
        async {
            let state = server_fn::state()?;
            let principal = server_fn::principal(&state).await?;
            let order = statements::SortKey::parse_list(&sort)?;
            let ledger = Ledger::cached(&state, principal.organization_id).await?;
            let mut listed = statements::list(&state, &ledger, chrono::Utc::now()).await?;
            statements::select(&mut listed, Some(&search), &order);
            Ok(listed
                .into_iter()
                .map(|statement| StatementView {
                    id: statement.id,
                    period: statement.period,
                    issued: statement.issued,
                    currency: statement.currency,
                    lines: statement.lines,
                    price: statement.price,
                    discount: statement.discount,
                    amount: statement.amount,
                    limit_status: statement.limit_status.level(),
                    usage_percent: statement.usage_percent,
                })
                .collect())
        }
        .await,
    )
}
