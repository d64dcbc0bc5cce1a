//! The rules a license form must meet before it is saved: names, prices, included amounts,
//! hard limits and overage, each field checked against the metric catalogue.

use std::collections::BTreeSet;

use rust_decimal::Decimal;

use crate::{
    domain::{
        pricing::{check_plan_price, OveragePrice},
        quantity::Quantity,
        usage_level::{hard_cap, Allowance},
    },
    error::AppError,
    model::licenses::{LicenseForm, ResourceForm},
};

use crate::server::db::usage::MetricRow;

/// Longest license name and description.
pub const MAX_NAME_CHARS: usize = 200;

pub const MAX_DESCRIPTION_CHARS: usize = 2000;

/// A license form that passed every rule.
#[derive(Clone, Debug, PartialEq)]
pub struct ValidLicense {
    pub name: String,
    pub description: String,
    pub price: Decimal,
    pub currency: String,
    pub is_default: bool,
    pub resources: Vec<ValidResource>,
}

/// One granted resource of a valid license.
#[derive(Clone, Debug, PartialEq)]
pub struct ValidResource {
    pub metric_id: i64,
    pub code: String,
    pub name: String,
    /// `None`: unlimited.
    pub included: Option<Quantity>,
    pub limited: bool,
    /// A hard limit's own cap; `None`: at the included amount.
    pub limit: Option<Quantity>,
    /// Ingestion refuses events past the hard limit too.
    pub refuse_events: bool,
    pub overage: Option<OveragePrice>,
}

impl ValidResource {
    /// Where usage is refused, if anywhere.
    pub fn cap(&self) -> Option<Quantity> {
        let allowance = self
            .included
            .map_or(Allowance::Unlimited, Allowance::Included);
        hard_cap(allowance, self.limited, self.limit)
    }
}

/// Checks a license form against the catalogue. `BadRequest` names the field at fault.
pub fn validate(form: &LicenseForm, catalogue: &[MetricRow]) -> Result<ValidLicense, AppError> {
    let bad = |message: String| AppError::BadRequest(message);
    let name = form.name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME_CHARS {
        return Err(bad(format!(
            "Name must be 1 to {MAX_NAME_CHARS} characters."
        )));
    }
    let description = form.description.trim();
    if description.chars().count() > MAX_DESCRIPTION_CHARS {
        return Err(bad(format!(
            "Description must be at most {MAX_DESCRIPTION_CHARS} characters."
        )));
    }
    let price: Decimal = form.price.trim().parse().map_err(|_| {
        bad(format!(
            "Price must be a number such as 29.00 (got {:?}).",
            form.price.trim()
        ))
    })?;
    let (currency, price) =
        check_plan_price(price, &form.currency).map_err(|e| bad(format!("Price: {e}.")))?;
    let mut seen = BTreeSet::new();
    let mut resources = Vec::new();
    for row in form.resources.iter().filter(|row| row.in_plan) {
        let metric = catalogue
            .iter()
            .find(|m| m.code == row.metric)
            .ok_or_else(|| bad(format!("There is no metric {:?}.", row.metric)))?;
        if !seen.insert(metric.id) {
            return Err(bad(format!("{} is listed twice.", metric.name)));
        }
        let resource = validate_resource(row, metric)?;
        if let (Some(limit), Some(included)) = (resource.limit, resource.included) {
            if limit < included && !form.confirm_limit_below_included {
                return Err(bad(format!(
                    "{}: the hard limit ({}) is below the included amount ({}), so usage is \
                     refused before the customer reaches what the plan includes. Tick \
                     \"Save even where a hard limit is below the included amount\" if that \
                     is intended.",
                    metric.name,
                    limit.to_decimal().normalize(),
                    included.to_decimal().normalize(),
                )));
            }
        }
        resources.push(resource);
    }
    Ok(ValidLicense {
        name: name.to_string(),
        description: description.to_string(),
        price,
        currency,
        is_default: form.is_default,
        resources,
    })
}

fn validate_resource(row: &ResourceForm, metric: &MetricRow) -> Result<ValidResource, AppError> {
    let bad = |message: String| AppError::BadRequest(format!("{}: {message}", metric.name));
    let included = amount(&row.amount).map_err(|e| bad(format!("the amount {e}")))?;
    let limit = amount(&row.limit).map_err(|e| bad(format!("the limit {e}")))?;
    if row.hard_limit && included.is_none() {
        return Err(bad(
            "an unlimited resource cannot have a hard limit; give an included amount (0 for \
             none) or untick \"hard limit\"."
                .into(),
        ));
    }
    if row.refuse_events && !row.hard_limit {
        return Err(bad(
            "only a hard limit can refuse events; tick \"hard limit\" or untick \"refuse \
             events past the limit\"."
                .into(),
        ));
    }
    if limit.is_some() && !row.hard_limit {
        return Err(bad(
            "a limit is where usage is refused, so it needs \"hard limit\" ticked; tick it \
             or leave the limit blank."
                .into(),
        ));
    }
    let overage =
        OveragePrice::parse_text(&row.overage).map_err(|e| bad(format!("overage price: {e}.")))?;
    if overage.is_some() && included.is_none() {
        return Err(bad(
            "an unlimited resource is never over its amount, so it takes no overage price.".into(),
        ));
    }
    Ok(ValidResource {
        metric_id: metric.id,
        code: metric.code.clone(),
        name: metric.name.clone(),
        included,
        limited: row.hard_limit,
        limit,
        refuse_events: row.refuse_events,
        overage,
    })
}

/// An amount as typed: blank is `None`; spaces between digits are allowed. The error
/// completes "the amount …" or "the limit …".
fn amount(typed: &str) -> Result<Option<Quantity>, String> {
    let amount = typed.trim().replace([' ', '\u{a0}'], "");
    if amount.is_empty() {
        return Ok(None);
    }
    let value: Decimal = amount
        .parse()
        .map_err(|_| format!("must be a number (got {amount:?})."))?;
    if value.is_sign_negative() && !value.is_zero() {
        return Err(format!("must not be negative (got {value})."));
    }
    Quantity::parse(value)
        .map(Some)
        .map_err(|e| format!("cannot be stored: {e}."))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn metric(id: i64, code: &str) -> MetricRow {
        MetricRow {
            id,
            code: code.into(),
            name: code.into(),
            unit: "units".into(),
            aggregation: "sum".into(),
            distinct_by: None,
            position: 0,
            created_at: 0,
        }
    }

    fn row(metric: &str, amount: &str, hard_limit: bool, overage: &str) -> ResourceForm {
        ResourceForm {
            metric: metric.into(),
            in_plan: true,
            amount: amount.into(),
            hard_limit,
            limit: String::new(),
            refuse_events: false,
            overage: overage.into(),
        }
    }

    fn limited(metric: &str, amount: &str, limit: &str) -> ResourceForm {
        ResourceForm {
            limit: limit.into(),
            ..row(metric, amount, true, "")
        }
    }

    fn form(resources: Vec<ResourceForm>) -> LicenseForm {
        LicenseForm {
            name: " Pro ".into(),
            price: "29.00".into(),
            currency: "usd".into(),
            resources,
            ..LicenseForm::default()
        }
    }

    #[test]
    fn a_valid_form_is_trimmed_and_typed() {
        let catalogue = [metric(1, "apiCalls"), metric(2, "seats")];
        let mut skipped = row("seats", "5", false, "");
        skipped.in_plan = false;
        let valid = validate(
            &form(vec![row("apiCalls", "10 000", true, ""), skipped]),
            &catalogue,
        )
        .expect("valid");
        assert_eq!(valid.name, "Pro");
        assert_eq!(valid.currency, "USD");
        assert_eq!(valid.price, Decimal::from(29));
        assert_eq!(
            valid.resources.len(),
            1,
            "rows left out of the plan are dropped"
        );
        assert_eq!(
            valid.resources[0].included,
            Some(Quantity::parse(Decimal::from(10_000)).expect("quantity"))
        );
        assert!(valid.resources[0].limited);
    }

    #[test]
    fn each_bad_field_is_refused_with_a_message_naming_it() {
        let catalogue = [metric(1, "apiCalls")];
        let cases: Vec<(LicenseForm, &str)> = vec![
            (
                LicenseForm {
                    name: " ".into(),
                    ..form(vec![])
                },
                "Name",
            ),
            (
                LicenseForm {
                    price: "-5".into(),
                    ..form(vec![])
                },
                "negative",
            ),
            (
                LicenseForm {
                    price: "abc".into(),
                    ..form(vec![])
                },
                "Price",
            ),
            (
                LicenseForm {
                    price: "10.555".into(),
                    ..form(vec![])
                },
                "decimal places",
            ),
            (
                LicenseForm {
                    currency: "dollars".into(),
                    ..form(vec![])
                },
                "ISO 4217",
            ),
            (form(vec![row("apiCalls", "-1", false, "")]), "negative"),
            (form(vec![row("apiCalls", "", true, "")]), "hard limit"),
            (form(vec![row("apiCalls", "", false, "0.01")]), "unlimited"),
            (
                form(vec![row("apiCalls", "100", false, "cheap")]),
                "overage price",
            ),
            (form(vec![row("nope", "1", false, "")]), "no metric"),
            (
                form(vec![limited("apiCalls", "100", "-5")]),
                "limit must not be negative",
            ),
            (
                form(vec![limited("apiCalls", "100", "lots")]),
                "limit must be a number",
            ),
            (form(vec![limited("apiCalls", "", "50")]), "unlimited"),
            (
                form(vec![ResourceForm {
                    hard_limit: false,
                    ..limited("apiCalls", "100", "150")
                }]),
                "needs \"hard limit\" ticked",
            ),
            (
                form(vec![limited("apiCalls", "100", "80")]),
                "below the included amount",
            ),
            (
                form(vec![ResourceForm {
                    refuse_events: true,
                    ..row("apiCalls", "100", false, "")
                }]),
                "only a hard limit can refuse events",
            ),
            (
                form(vec![
                    row("apiCalls", "1", false, ""),
                    row("apiCalls", "2", false, ""),
                ]),
                "twice",
            ),
        ];
        for (bad, needle) in cases {
            match validate(&bad, &catalogue) {
                Err(AppError::BadRequest(message)) => {
                    assert!(
                        message.contains(needle),
                        "{message:?} should mention {needle:?}"
                    )
                }
                other => panic!("{bad:?} gave {other:?}"),
            }
        }
    }

    #[test]
    fn a_limit_below_included_is_saved_only_when_intended() {
        let catalogue = [metric(1, "apiCalls")];
        let q = |n: i64| Some(Quantity::parse(Decimal::from(n)).expect("quantity"));
        let above = validate(&form(vec![limited("apiCalls", "100", "150")]), &catalogue)
            .expect("a limit above included needs no confirmation");
        assert_eq!(
            (above.resources[0].included, above.resources[0].limit),
            (q(100), q(150))
        );
        let at_included =
            validate(&form(vec![limited("apiCalls", "100", "")]), &catalogue).expect("blank limit");
        assert_eq!(at_included.resources[0].limit, None);
        let below = LicenseForm {
            confirm_limit_below_included: true,
            ..form(vec![limited("apiCalls", "100", "80")])
        };
        let below = validate(&below, &catalogue).expect("confirmed");
        assert_eq!(below.resources[0].limit, q(80));
    }
}
