//! CSV downloads for spreadsheets: `GET /api/v1/exports/usage.csv` (each metric's total
//! and cost per billing period) and `GET /api/v1/exports/line-items.csv` (every statement's
//! line items). RFC 4180: one header row, fields quoted where they must be, CRLF.

use axum::{
    extract::State,
    http::header,
    response::{IntoResponse, Response},
    routing::get,
    Router,
};
use chrono::Utc;

use crate::{
    error::AppError,
    server::{
        access::principal::ApiPrincipal, metering::ledger::Ledger, metering::statements,
        state::AppState,
    },
};

/// The export routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/exports/usage.csv", get(usage_csv))
        .route("/api/v1/exports/line-items.csv", get(line_items_csv))
}

/// Billing periods the usage export covers, up to the current one.
pub const EXPORT_PERIODS: usize = statements::PERIODS_LISTED;

/// Header of the usage export.
pub const USAGE_HEADER: [&str; 8] = [
    "period_start",
    "period_end",
    "metric",
    "name",
    "unit",
    "quantity",
    "cost",
    "currency",
];

/// Header of the line-item export.
pub const LINE_ITEM_HEADER: [&str; 16] = [
    "statement_id",
    "period_start",
    "period_end",
    "status",
    "item",
    "description",
    "quantity",
    "unit",
    "unit_price",
    "price",
    "discount_rate",
    "discount",
    "tax_rate",
    "tax",
    "amount",
    "currency",
];

/// 200 `text/csv`: one row per billing period (the last 13, oldest first) and metric of the
/// plan or used: `period_start,period_end,metric,name,unit,quantity,cost,currency`, days
/// inclusive as `YYYY-MM-DD` in the organization's time zone. 401 without a key or session.
#[utoipa::path(
    get, path = "/api/v1/exports/usage.csv", tag = "usage",
    responses(
        (status = 200, description = "Usage per billing period and metric", body = String, content_type = "text/csv"),
    )
)]
pub(crate) async fn usage_csv(
    State(state): State<AppState>,
    principal: ApiPrincipal,
) -> Result<Response, AppError> {
    let ledger = Ledger::load(&state, principal.organization_id).await?;
    let history = ledger.history(&state, Utc::now(), EXPORT_PERIODS).await?;
    let currency = ledger.currency().to_string();
    let mut rows = Vec::new();
    for month in &history {
        for metric in &month.metrics {
            let resource = ledger
                .resources
                .iter()
                .find(|r| r.metric.code == metric.code);
            rows.push(vec![
                month.period.first_day.to_string(),
                month.period.last_day.to_string(),
                metric.code.clone(),
                resource.map(|r| r.metric.name.clone()).unwrap_or_default(),
                resource.map(|r| r.metric.unit.clone()).unwrap_or_default(),
                metric.total.to_decimal().normalize().to_string(),
                metric.cost.normalize().to_string(),
                currency.clone(),
            ]);
        }
    }
    csv_response("usage.csv", &USAGE_HEADER, rows)
}

/// 200 `text/csv`: every line item of the organization's statements, newest period first:
/// `statement_id,period_start,period_end,status,item,description,quantity,unit,unit_price,
/// price,discount_rate,discount,tax_rate,tax,amount,currency`; `status` is `open` while the
/// period can still change, else `final`. 401 without a key or session.
#[utoipa::path(
    get, path = "/api/v1/exports/line-items.csv", tag = "usage",
    responses(
        (status = 200, description = "Every statement's line items", body = String, content_type = "text/csv"),
    )
)]
pub(crate) async fn line_items_csv(
    State(state): State<AppState>,
    principal: ApiPrincipal,
) -> Result<Response, AppError> {
    let ledger = Ledger::load(&state, principal.organization_id).await?;
    let mut listed = statements::list(&state, &ledger, Utc::now()).await?;
    statements::select(&mut listed, None, &[]);
    let number = |value: rust_decimal::Decimal| value.normalize().to_string();
    let mut rows = Vec::new();
    for statement in &listed {
        for line in &statement.lines {
            rows.push(vec![
                statement.id.to_string(),
                statement.period.first_day.to_string(),
                statement.period.last_day.to_string(),
                if statement.issued { "final" } else { "open" }.to_string(),
                line.name.clone(),
                line.description.clone(),
                number(line.quantity),
                number(line.unit),
                number(line.unit_price),
                number(line.price),
                number(line.discount_rate),
                number(line.discount),
                number(line.tax_rate),
                number(line.tax),
                number(line.amount),
                statement.currency.clone(),
            ]);
        }
    }
    csv_response("line-items.csv", &LINE_ITEM_HEADER, rows)
}

/// A cell a spreadsheet will not run: text starting with `=`, `+`, `-`, `@`, a tab or a
/// carriage return (a formula, to Excel, LibreOffice and Google Sheets) gets a leading `'`,
/// as OWASP advises. Numbers, negative ones too, stay as they are.
fn neutralised(cell: &str) -> std::borrow::Cow<'_, str> {
    let formula = cell.starts_with(['=', '+', '-', '@', '\t', '\r']);
    if formula && cell.parse::<rust_decimal::Decimal>().is_err() {
        std::borrow::Cow::Owned(format!("'{cell}"))
    } else {
        std::borrow::Cow::Borrowed(cell)
    }
}

/// The rows as an RFC 4180 attachment named `file_name`.
fn csv_response(
    file_name: &str,
    header: &[&str],
    rows: Vec<Vec<String>>,
) -> Result<Response, AppError> {
    let mut writer = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::new());
    let written = std::iter::once(header.iter().map(|h| h.to_string()).collect::<Vec<_>>())
        .chain(rows)
        .try_for_each(|row| {
            writer.write_record(row.iter().map(|cell| neutralised(cell).into_owned()))
        });
    let body = written
        .map_err(|error| error.to_string())
        .and_then(|()| writer.into_inner().map_err(|error| error.to_string()))
        .map_err(|error| {
            tracing::error!(%error, "cannot write CSV");
            AppError::Internal
        })?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{file_name}\""),
            ),
        ],
        body,
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_neutralised_and_numbers_kept() {
        for formula in [
            "=HYPERLINK(\"http://x\")",
            "+1+cmd",
            "-2+3",
            "@SUM(A1)",
            "\tx",
            "\rx",
        ] {
            assert_eq!(neutralised(formula), format!("'{formula}"), "{formula:?}");
        }
        for kept in ["API Calls", "-12.5", "+3", "0.0005", "", "a=b"] {
            assert_eq!(neutralised(kept), kept, "{kept:?}");
        }
    }
}
