//! Prices: what a license charges per period and for overage (per unit, graduated tiers or
//! packages), and the statement line items, discount, tax and estimated cost that follow.
//!
//! It stays whole: the pricing rules are one piece (a line item feeds the discount, the
//! discount the tax), and half of the file is their tables of cases.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::{quantity::Quantity, usage_level::Allowance};

/// Most decimal places a price may have.
pub const PRICE_SCALE: u32 = 10;
/// Largest price of one unit, package or plan: keeps every product exact in a `Decimal`.
pub const MAX_PRICE: i64 = 1_000_000_000;

/// Checks a price: not negative, at most [`PRICE_SCALE`] decimals, at most [`MAX_PRICE`].
pub fn check_price(what: &str, price: Decimal) -> Result<Decimal, String> {
    if price.is_sign_negative() && !price.is_zero() {
        return Err(format!("{what} must not be negative (got {price})"));
    }
    if price.normalize().scale() > PRICE_SCALE {
        return Err(format!(
            "{what} has more than {PRICE_SCALE} decimal places (got {price})"
        ));
    }
    if price > Decimal::from(MAX_PRICE) {
        return Err(format!("{what} must be at most {MAX_PRICE} (got {price})"));
    }
    Ok(price.normalize())
}

/// Currencies whose smallest unit is the whole unit (ISO 4217 minor units 0).
const WHOLE_UNIT_CURRENCIES: [&str; 16] = [
    "BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "VND", "VUV",
    "XAF", "XOF", "XPF",
];
/// Currencies with thousandths (ISO 4217 minor units 3).
const THOUSANDTHS_CURRENCIES: [&str; 7] = ["BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"];

/// Decimal places of `currency`'s smallest unit (ISO 4217 minor units): 2 unless listed.
pub fn minor_units(currency: &str) -> u32 {
    if WHOLE_UNIT_CURRENCIES.contains(&currency) {
        0
    } else if THOUSANDTHS_CURRENCIES.contains(&currency) {
        3
    } else {
        2
    }
}

/// A plan price in `currency` (a three-letter code, any case): checked by [`check_price`]
/// and with no more decimals than the currency's smallest unit (`19.99 JPY` is refused).
/// Returns the code in upper case and the price.
pub fn check_plan_price(price: Decimal, currency: &str) -> Result<(String, Decimal), String> {
    let code = currency.trim().to_ascii_uppercase();
    if code.len() != 3 || !code.bytes().all(|b| b.is_ascii_uppercase()) {
        return Err(format!(
            "currency must be a three-letter ISO 4217 code such as USD (got {currency:?})"
        ));
    }
    let price = check_price("price", price)?;
    let places = minor_units(&code);
    if price.scale() > places {
        return Err(format!(
            "a price in {code} has at most {places} decimal places (got {price})"
        ));
    }
    Ok((code, price))
}

impl OveragePrice {
    /// Reads an overage price as people type it: blank for none, `0.002` per unit,
    /// `10 per 1000` for each started package of 1000 units, or graduated tiers separated
    /// by `;` with every tier but the last bounded, `0.01 up to 1000; 0.008 up to 5000; 0.005`.
    pub fn parse_text(text: &str) -> Result<Option<OveragePrice>, String> {
        let text = text.trim();
        if text.is_empty() {
            return Ok(None);
        }
        let number = |part: &str, what: &str| -> Result<Decimal, String> {
            part.trim().parse::<Decimal>().map_err(|_| {
                format!(
                    "{what} must be a number (got {:?}); write an overage price as 0.002, \
                     10 per 1000, or 0.01 up to 1000; 0.005",
                    part.trim()
                )
            })
        };
        let amount = |part: &str, what: &str| -> Result<Quantity, String> {
            Quantity::parse(number(part, what)?).map_err(|e| format!("{what}: {e}"))
        };
        let price = if text.contains(';') || text.contains("up to") {
            let tiers = text
                .split(';')
                .map(|tier| match tier.split_once("up to") {
                    Some((price, up_to)) => Ok(Tier {
                        up_to: Some(amount(up_to, "a tier's bound")?),
                        unit_price: number(price, "a tier's unit price")?,
                    }),
                    None => Ok(Tier {
                        up_to: None,
                        unit_price: number(tier, "a tier's unit price")?,
                    }),
                })
                .collect::<Result<Vec<Tier>, String>>()?;
            OveragePrice::Graduated { tiers }
        } else if let Some((price, size)) = text.split_once("per") {
            OveragePrice::Package {
                package_size: amount(size, "the package size")?,
                package_price: number(price, "the package price")?,
            }
        } else {
            OveragePrice::PerUnit {
                unit_price: number(text, "the unit price")?,
            }
        };
        price.check().map(Some)
    }
}

impl std::fmt::Display for OveragePrice {
    /// As [`OveragePrice::parse_text`] reads it.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            OveragePrice::PerUnit { unit_price } => write!(f, "{}", unit_price.normalize()),
            OveragePrice::Package {
                package_size,
                package_price,
            } => write!(
                f,
                "{} per {}",
                package_price.normalize(),
                package_size.to_decimal().normalize()
            ),
            OveragePrice::Graduated { tiers } => {
                let parts: Vec<String> = tiers
                    .iter()
                    .map(|tier| match tier.up_to {
                        Some(up_to) => format!(
                            "{} up to {}",
                            tier.unit_price.normalize(),
                            up_to.to_decimal().normalize()
                        ),
                        None => tier.unit_price.normalize().to_string(),
                    })
                    .collect();
                write!(f, "{}", parts.join("; "))
            }
        }
    }
}

/// A percentage from 0 to 100 with at most 4 decimals: a tax or discount rate.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "Decimal", into = "Decimal")]
pub struct Rate(Decimal);

impl Rate {
    pub const ZERO: Rate = Rate(Decimal::ZERO);

    /// Accepts 0–100 with at most 4 decimals.
    pub fn new(percent: Decimal) -> Result<Self, String> {
        if percent < Decimal::ZERO || percent > Decimal::ONE_HUNDRED {
            return Err(format!(
                "a rate must be between 0 and 100 % (got {percent})"
            ));
        }
        if percent.normalize().scale() > 4 {
            return Err(format!(
                "a rate has at most 4 decimal places (got {percent})"
            ));
        }
        Ok(Rate(percent.normalize()))
    }

    /// The rate in percent.
    pub fn percent(self) -> Decimal {
        self.0
    }

    /// `rate` % of `amount`, exact (checked prices keep amounts far from overflow; past
    /// it, the largest amount rather than a panic).
    fn of(self, amount: Decimal) -> Decimal {
        amount
            .checked_mul(self.0)
            .and_then(|product| product.checked_div(Decimal::ONE_HUNDRED))
            .unwrap_or(Decimal::MAX)
            .normalize()
    }
}

impl TryFrom<Decimal> for Rate {
    type Error = String;

    fn try_from(percent: Decimal) -> Result<Self, Self::Error> {
        Rate::new(percent)
    }
}

impl From<Rate> for Decimal {
    fn from(rate: Rate) -> Decimal {
        rate.0
    }
}

/// An organization's discount and tax rates, applied to every line: discount first, then
/// tax on what remains.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rates {
    pub discount: Rate,
    pub tax: Rate,
}

/// One band of a graduated price: the overage units above the previous tier's `up_to`, up to
/// and including this one's, cost `unit_price` each. The last tier has no `up_to`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tier {
    pub up_to: Option<Quantity>,
    pub unit_price: Decimal,
}

/// How usage above a resource's included amount is charged.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "UncheckedOveragePrice")]
#[serde(tag = "model", rename_all = "snake_case")]
pub enum OveragePrice {
    /// Every unit over costs `unit_price`.
    PerUnit { unit_price: Decimal },
    /// Every started package of `package_size` units over costs `package_price`.
    Package {
        package_size: Quantity,
        package_price: Decimal,
    },
    /// Each unit over costs the price of the tier it falls in.
    Graduated { tiers: Vec<Tier> },
}

/// An overage price as it arrives, checked by [`OveragePrice::check`] on the way in.
#[derive(Deserialize)]
#[serde(tag = "model", rename_all = "snake_case", deny_unknown_fields)]
enum UncheckedOveragePrice {
    PerUnit {
        unit_price: Decimal,
    },
    Package {
        package_size: Quantity,
        package_price: Decimal,
    },
    Graduated {
        tiers: Vec<Tier>,
    },
}

impl TryFrom<UncheckedOveragePrice> for OveragePrice {
    type Error = String;

    fn try_from(raw: UncheckedOveragePrice) -> Result<Self, Self::Error> {
        let price = match raw {
            UncheckedOveragePrice::PerUnit { unit_price } => OveragePrice::PerUnit { unit_price },
            UncheckedOveragePrice::Package {
                package_size,
                package_price,
            } => OveragePrice::Package {
                package_size,
                package_price,
            },
            UncheckedOveragePrice::Graduated { tiers } => OveragePrice::Graduated { tiers },
        };
        price.check()
    }
}

impl OveragePrice {
    /// Validates prices, a package size above zero, and tiers whose `up_to` rise strictly
    /// with only the last one open-ended.
    pub fn check(self) -> Result<Self, String> {
        match &self {
            OveragePrice::PerUnit { unit_price } => {
                check_price("unit_price", *unit_price)?;
            }
            OveragePrice::Package {
                package_size,
                package_price,
            } => {
                check_price("package_price", *package_price)?;
                if *package_size == Quantity::ZERO {
                    return Err("package_size must be above 0".into());
                }
                // Per unit, a package may cost no more than a unit may: so no usage can
                // be priced past what an amount holds (tiny packages of a huge price).
                let per_unit = package_price.checked_div(package_size.to_decimal());
                if per_unit.is_none_or(|per_unit| per_unit > Decimal::from(MAX_PRICE)) {
                    return Err(format!(
                        "package_price per unit of package_size must be at most {MAX_PRICE} \
                         (got {package_price} per {})",
                        package_size.to_decimal().normalize()
                    ));
                }
            }
            OveragePrice::Graduated { tiers } => {
                let Some((last, bounded)) = tiers.split_last() else {
                    return Err("a graduated price needs at least one tier".into());
                };
                if last.up_to.is_some() {
                    return Err("the last tier must have no up_to".into());
                }
                let mut floor = Quantity::ZERO;
                for (index, tier) in bounded.iter().enumerate() {
                    let Some(up_to) = tier.up_to else {
                        return Err(format!(
                            "tier {index} needs an up_to: only the last is open"
                        ));
                    };
                    if up_to <= floor {
                        return Err(format!(
                            "tier {index}'s up_to must be above {}",
                            floor.to_decimal()
                        ));
                    }
                    floor = up_to;
                }
                for tier in tiers {
                    check_price("unit_price", tier.unit_price)?;
                }
            }
        }
        Ok(self)
    }

    /// The charges for `overage` units: one per tier touched, one for packages or units.
    /// Nothing when there is no overage.
    pub fn charges(&self, overage: Quantity) -> Vec<Charge> {
        if overage == Quantity::ZERO {
            return Vec::new();
        }
        match self {
            OveragePrice::PerUnit { unit_price } => vec![Charge {
                quantity: overage.to_decimal(),
                unit: Decimal::ONE,
                unit_price: *unit_price,
                tier: None,
            }],
            OveragePrice::Package {
                package_size,
                package_price,
            } => {
                let size = package_size.micros();
                let packages = overage.micros() / size + i64::from(overage.micros() % size != 0);
                vec![Charge {
                    quantity: Decimal::from(packages),
                    unit: package_size.to_decimal(),
                    unit_price: *package_price,
                    tier: None,
                }]
            }
            OveragePrice::Graduated { tiers } => {
                let mut charges = Vec::new();
                let mut floor = Quantity::ZERO;
                for (index, tier) in tiers.iter().enumerate() {
                    let ceiling = tier.up_to.unwrap_or(Quantity::MAX).min(overage);
                    let units = ceiling.saturating_sub(floor);
                    if units > Quantity::ZERO {
                        charges.push(Charge {
                            quantity: units.to_decimal(),
                            unit: Decimal::ONE,
                            unit_price: tier.unit_price,
                            tier: Some(index + 1),
                        });
                    }
                    match tier.up_to {
                        Some(up_to) if up_to < overage => floor = up_to,
                        _ => break,
                    }
                }
                charges
            }
        }
    }
}

/// Part of an overage price applied to usage: `quantity` lots of `unit` units at
/// `unit_price` each.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Charge {
    pub quantity: Decimal,
    /// Units per lot: 1, or the package size.
    pub unit: Decimal,
    pub unit_price: Decimal,
    /// The graduated tier, counted from 1.
    pub tier: Option<usize>,
}

impl Charge {
    /// `quantity` units at no cost.
    fn free(quantity: Quantity) -> Self {
        Charge {
            quantity: quantity.to_decimal(),
            unit: Decimal::ONE,
            unit_price: Decimal::ZERO,
            tier: None,
        }
    }
}

/// One line of a statement (seed 004's item): `price = quantity × unit_price`,
/// `discount = price × discount_rate %`, `tax = (price − discount) × tax_rate %`,
/// `amount = price − discount + tax`. Amounts are exact: nothing is rounded.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineItem {
    /// What is charged: the plan's name or the metric's code.
    pub name: String,
    pub description: String,
    pub quantity: Decimal,
    /// Units per quantity: 1, or the package size.
    pub unit: Decimal,
    pub unit_price: Decimal,
    pub price: Decimal,
    pub discount_rate: Decimal,
    pub discount: Decimal,
    pub tax_rate: Decimal,
    pub tax: Decimal,
    pub amount: Decimal,
    pub kind: LineKind,
}

/// What a line is for, so totals can tell the plan from overage.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LineKind {
    /// The license's price for the period.
    Base,
    /// Usage inside the included amount (or of an unlimited resource): priced at 0.
    Included,
    /// Usage above the included amount.
    Overage,
}

impl LineItem {
    /// Prices `quantity` lots at `unit_price` and applies the rates.
    pub fn new(
        kind: LineKind,
        name: &str,
        description: String,
        (quantity, unit, unit_price): (Decimal, Decimal, Decimal),
        rates: Rates,
    ) -> Self {
        let price = quantity
            .checked_mul(unit_price)
            .unwrap_or(Decimal::MAX)
            .normalize();
        let discount = rates.discount.of(price);
        let tax = rates.tax.of(price.saturating_sub(discount));
        LineItem {
            name: name.to_string(),
            description,
            quantity: quantity.normalize(),
            unit: unit.normalize(),
            unit_price: unit_price.normalize(),
            price,
            discount_rate: rates.discount.percent(),
            discount,
            tax_rate: rates.tax.percent(),
            tax,
            amount: price
                .saturating_sub(discount)
                .saturating_add(tax)
                .normalize(),
            kind,
        }
    }
}

/// How a license treats one resource, and what was used of it in a period.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResourceUse<'a> {
    pub code: &'a str,
    pub name: &'a str,
    pub unit: &'a str,
    pub used: Quantity,
    pub allowance: Allowance,
    /// A hard limit's cap (`usage_level::hard_cap`): usage past it is refused, so it is
    /// never charged. `None` for a soft limit.
    pub cap: Option<Quantity>,
    /// `None`: overage is free.
    pub overage_price: Option<&'a OveragePrice>,
}

impl ResourceUse<'_> {
    /// Usage above the included amount; zero when unlimited.
    pub fn overage(&self) -> Quantity {
        match self.allowance {
            Allowance::Unlimited => Quantity::ZERO,
            Allowance::Included(included) => self.used.saturating_sub(included),
        }
    }

    /// The part of the overage that is billed: all of it under a soft limit, else what lies
    /// between the included amount and the hard cap.
    pub fn billable_overage(&self) -> Quantity {
        match (self.cap, self.allowance) {
            (Some(cap), Allowance::Included(included)) => {
                self.used.min(cap).saturating_sub(included)
            }
            _ => self.overage(),
        }
    }

    /// The resource's statement lines: what was used inside the plan (at 0), then one line
    /// per overage charge, then what went past a hard cap (shown, at 0).
    pub fn line_items(&self, rates: Rates) -> Vec<LineItem> {
        let (inside, description) = match self.allowance {
            Allowance::Unlimited => (self.used, format!("{}, unlimited in plan", self.name)),
            Allowance::Included(included) => (
                self.used.min(included),
                format!(
                    "{} included in plan ({} {})",
                    self.name,
                    included.to_decimal(),
                    self.unit
                ),
            ),
        };
        let mut lines = vec![LineItem::new(
            LineKind::Included,
            self.code,
            description,
            (inside.to_decimal(), Decimal::ONE, Decimal::ZERO),
            rates,
        )];
        let billable = self.billable_overage();
        let charges = match self.overage_price {
            Some(price) => price.charges(billable),
            None if billable == Quantity::ZERO => Vec::new(),
            None => vec![Charge::free(billable)],
        };
        for charge in charges {
            let description = match (charge.tier, self.overage_price) {
                (Some(tier), _) => format!("{} over the plan, tier {tier}", self.name),
                (None, None) => format!("{} over the plan, free of charge", self.name),
                (None, Some(OveragePrice::Package { .. })) => format!(
                    "{} over the plan, in packages of {} {}",
                    self.name, charge.unit, self.unit
                ),
                (None, Some(_)) => format!("{} over the plan", self.name),
            };
            lines.push(LineItem::new(
                LineKind::Overage,
                self.code,
                description,
                (charge.quantity, charge.unit, charge.unit_price),
                rates,
            ));
        }
        let refused = self.overage().saturating_sub(billable);
        if refused != Quantity::ZERO {
            lines.push(LineItem::new(
                LineKind::Overage,
                self.code,
                format!("{} over the hard limit, not charged", self.name),
                (refused.to_decimal(), Decimal::ONE, Decimal::ZERO),
                rates,
            ));
        }
        lines
    }
}

/// Sums of a set of line items.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Totals {
    /// Price of the plan lines, before discount and tax.
    pub base: Decimal,
    /// Price of the overage lines, before discount and tax.
    pub overage: Decimal,
    pub discount: Decimal,
    pub tax: Decimal,
    /// What is owed: the sum of the lines' amounts.
    pub total: Decimal,
}

impl Totals {
    /// Adds up `lines`.
    pub fn of(lines: &[LineItem]) -> Self {
        let mut totals = Totals::default();
        for line in lines {
            // Saturating: checked prices keep sums far from overflow, never a panic past it.
            match line.kind {
                LineKind::Base => totals.base = totals.base.saturating_add(line.price),
                LineKind::Overage => totals.overage = totals.overage.saturating_add(line.price),
                LineKind::Included => {}
            }
            totals.discount = totals.discount.saturating_add(line.discount);
            totals.tax = totals.tax.saturating_add(line.tax);
            totals.total = totals.total.saturating_add(line.amount);
        }
        Totals {
            base: totals.base.normalize(),
            overage: totals.overage.normalize(),
            discount: totals.discount.normalize(),
            tax: totals.tax.normalize(),
            total: totals.total.normalize(),
        }
    }
}

/// A license as pricing sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Plan<'a> {
    pub name: &'a str,
    pub description: &'a str,
    /// Price per period.
    pub price: Decimal,
}

/// Every line of a period's statement: the plan, then each resource in order.
pub fn statement_lines(
    plan: Plan<'_>,
    resources: &[ResourceUse<'_>],
    rates: Rates,
) -> Vec<LineItem> {
    let description = if plan.description.is_empty() {
        format!("{} plan", plan.name)
    } else {
        plan.description.to_string()
    };
    let mut lines = vec![LineItem::new(
        LineKind::Base,
        plan.name,
        description,
        (Decimal::ONE, Decimal::ONE, plan.price),
        rates,
    )];
    for resource in resources {
        lines.extend(resource.line_items(rates));
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn dec(s: &str) -> Decimal {
        Decimal::from_str(s).expect("decimal")
    }

    fn qty(s: &str) -> Quantity {
        Quantity::parse(dec(s)).expect("quantity")
    }

    fn rates(discount: &str, tax: &str) -> Rates {
        Rates {
            discount: Rate::new(dec(discount)).expect("rate"),
            tax: Rate::new(dec(tax)).expect("rate"),
        }
    }

    fn price(json: &str) -> OveragePrice {
        serde_json::from_str(json).expect("price")
    }

    fn total_price(price: &OveragePrice, overage: &str) -> Decimal {
        price
            .charges(qty(overage))
            .iter()
            .map(|c| c.quantity * c.unit_price)
            .sum::<Decimal>()
            .normalize()
    }

    #[test]
    fn per_unit_overage_costs_each_unit_its_price() {
        let per_unit = price(r#"{"model":"per_unit","unit_price":"0.0005"}"#);
        assert_eq!(total_price(&per_unit, "1"), dec("0.0005"));
        assert_eq!(total_price(&per_unit, "2500.5"), dec("1.25025"));
        assert_eq!(total_price(&per_unit, "0"), Decimal::ZERO);
    }

    #[test]
    fn packages_are_charged_for_every_started_package() {
        let packages = price(r#"{"model":"package","package_size":"1000","package_price":"5"}"#);
        // (overage, packages)
        for (overage, count) in [("1", 1), ("1000", 1), ("1000.000001", 2), ("2999", 3)] {
            let charges = packages.charges(qty(overage));
            assert_eq!(charges.len(), 1, "{overage}");
            assert_eq!(charges[0].quantity, Decimal::from(count), "{overage}");
            assert_eq!(charges[0].unit, dec("1000"));
        }
        assert!(packages.charges(Quantity::ZERO).is_empty());
    }

    #[test]
    fn graduated_tiers_price_each_unit_at_its_own_tier() {
        let graduated = price(
            r#"{"model":"graduated","tiers":[
                {"up_to":"1000","unit_price":"0.01"},
                {"up_to":"5000","unit_price":"0.008"},
                {"up_to":null,"unit_price":"0.005"}]}"#,
        );
        // (overage, total): 1000 × 0.01 = 10; 4000 × 0.008 = 32; the rest at 0.005.
        for (overage, expected) in [
            ("500", "5"),
            ("1000", "10"),
            ("1001", "10.008"),
            ("5000", "42"),
            ("7000", "52"),
        ] {
            assert_eq!(total_price(&graduated, overage), dec(expected), "{overage}");
        }
        let tiers: Vec<Option<usize>> = graduated
            .charges(qty("7000"))
            .iter()
            .map(|c| c.tier)
            .collect();
        assert_eq!(tiers, vec![Some(1), Some(2), Some(3)]);
    }

    #[test]
    fn malformed_prices_are_refused_with_a_reason() {
        for (json, reason) in [
            (r#"{"model":"per_unit","unit_price":"-1"}"#, "negative"),
            (
                r#"{"model":"per_unit","unit_price":"0.00000000001"}"#,
                "decimal places",
            ),
            (
                r#"{"model":"package","package_size":"0","package_price":"5"}"#,
                "package_size",
            ),
            (r#"{"model":"graduated","tiers":[]}"#, "at least one tier"),
            (
                r#"{"model":"graduated","tiers":[{"up_to":"10","unit_price":"1"}]}"#,
                "last tier",
            ),
            (
                r#"{"model":"graduated","tiers":[{"up_to":"10","unit_price":"1"},{"up_to":"10","unit_price":"1"},{"up_to":null,"unit_price":"1"}]}"#,
                "above 10",
            ),
            (r#"{"model":"flat","unit_price":"1"}"#, "unknown variant"),
        ] {
            let error = serde_json::from_str::<OveragePrice>(json)
                .expect_err(json)
                .to_string();
            assert!(error.contains(reason), "{json}: {error}");
        }
    }

    #[test]
    fn a_line_takes_the_discount_first_and_taxes_the_rest() {
        // Seed 004's enterprise line: 1 × 1 at 20 % tax is 1.2.
        let plain = LineItem::new(
            LineKind::Base,
            "enterprise",
            "Enterprise Plan".into(),
            (Decimal::ONE, Decimal::ONE, Decimal::ONE),
            rates("0", "20"),
        );
        assert_eq!(
            (plain.price, plain.tax, plain.amount),
            (dec("1"), dec("0.2"), dec("1.2"))
        );
        // 10 % off 50 is 45; 20 % tax on 45 is 9; 54 in all.
        let discounted = LineItem::new(
            LineKind::Overage,
            "apiCalls",
            String::new(),
            (dec("100000"), Decimal::ONE, dec("0.0005")),
            rates("10", "20"),
        );
        assert_eq!(
            (
                discounted.price,
                discounted.discount,
                discounted.tax,
                discounted.amount
            ),
            (dec("50"), dec("5"), dec("9"), dec("54"))
        );
    }

    #[test]
    fn rates_outside_0_to_100_are_refused() {
        assert!(Rate::new(dec("-1")).is_err());
        assert!(Rate::new(dec("100.01")).is_err());
        assert!(Rate::new(dec("12.34567")).is_err());
        assert_eq!(Rate::new(dec("19.6")).map(Rate::percent), Ok(dec("19.6")));
    }

    fn resource<'a>(
        used: &str,
        included: Option<&str>,
        cap: Option<&str>,
        price: Option<&'a OveragePrice>,
    ) -> ResourceUse<'a> {
        ResourceUse {
            code: "apiCalls",
            name: "API Calls",
            unit: "requests",
            used: qty(used),
            allowance: included.map_or(Allowance::Unlimited, |i| Allowance::Included(qty(i))),
            cap: cap.map(qty),
            overage_price: price,
        }
    }

    #[test]
    fn a_statement_charges_the_plan_and_only_priced_overage() {
        let per_unit = price(r#"{"model":"per_unit","unit_price":"0.001"}"#);
        let plan = Plan {
            name: "pro",
            description: "",
            price: dec("29"),
        };
        let resources = [
            // 20 000 over at 0.001: 20.
            resource("120000", Some("100000"), None, Some(&per_unit)),
            // Inside the plan: nothing to pay.
            resource("50", Some("100"), None, Some(&per_unit)),
            // Over a hard limit: shown, not charged.
            resource("12", Some("10"), Some("10"), Some(&per_unit)),
            // Unlimited: shown, not charged.
            resource("99999", None, None, None),
        ];
        let lines = statement_lines(plan, &resources, rates("10", "20"));
        let totals = Totals::of(&lines);
        assert_eq!(totals.base, dec("29"));
        assert_eq!(totals.overage, dec("20"));
        // 49 − 4.9 discount = 44.1; 20 % tax = 8.82; 52.92 in all.
        assert_eq!(totals.discount, dec("4.9"));
        assert_eq!(totals.tax, dec("8.82"));
        assert_eq!(totals.total, dec("52.92"));
        assert_eq!(lines[0].description, "pro plan");
        let hard = lines
            .iter()
            .find(|l| l.description.contains("hard limit"))
            .expect("hard line");
        assert_eq!((hard.quantity, hard.amount), (dec("2"), Decimal::ZERO));
    }

    #[test]
    fn usage_between_included_and_a_hard_limit_is_billed_and_past_it_is_not() {
        let per_unit = price(r#"{"model":"per_unit","unit_price":"0.5"}"#);
        let lines =
            resource("200", Some("100"), Some("150"), Some(&per_unit)).line_items(rates("0", "0"));
        let amounts: Vec<(&str, Decimal, Decimal)> = lines
            .iter()
            .map(|l| (l.description.as_str(), l.quantity, l.amount))
            .collect();
        assert_eq!(
            amounts,
            [
                (
                    "API Calls included in plan (100 requests)",
                    dec("100"),
                    dec("0")
                ),
                ("API Calls over the plan", dec("50"), dec("25")),
                (
                    "API Calls over the hard limit, not charged",
                    dec("50"),
                    dec("0")
                ),
            ]
        );
        // A limit below the included amount bills nothing past the included amount.
        let below = resource("120", Some("100"), Some("80"), Some(&per_unit));
        assert_eq!(below.billable_overage(), Quantity::ZERO);
        assert_eq!(
            Totals::of(&below.line_items(rates("0", "0"))).overage,
            dec("0")
        );
        // Without a price, the overage up to the limit is shown as free.
        let free = resource("120", Some("100"), Some("150"), None).line_items(rates("0", "0"));
        assert_eq!(free.len(), 2);
        assert_eq!(
            free[1].description,
            "API Calls over the plan, free of charge"
        );
    }

    proptest::proptest! {
        // Graduated pricing is additive: the price of a + b units is the price of a plus
        // what the next b units cost from where a left off, and never falls as usage grows.
        #[test]
        fn graduated_prices_never_fall_and_match_a_unit_by_unit_count(
            bounds in proptest::collection::btree_set(1_i64..5_000, 0..4),
            prices in proptest::collection::vec(0_i64..10_000, 5),
            overage in 0_i64..10_000,
        ) {
            let mut tiers: Vec<Tier> = bounds
                .iter()
                .zip(&prices)
                .map(|(&up_to, &price)| Tier {
                    up_to: Some(Quantity::parse(Decimal::from(up_to)).expect("up_to")),
                    unit_price: Decimal::new(price, 4),
                })
                .collect();
            tiers.push(Tier { up_to: None, unit_price: Decimal::new(prices[4], 4) });
            let graduated = OveragePrice::Graduated { tiers: tiers.clone() }.check().expect("valid");
            let units = Decimal::from(overage);
            // Brute force: each whole unit priced at the tier holding it.
            let brute: Decimal = (1..=overage)
                .map(|unit| {
                    tiers
                        .iter()
                        .find(|t| t.up_to.is_none_or(|u| Decimal::from(unit) <= u.to_decimal()))
                        .map_or(Decimal::ZERO, |t| t.unit_price)
                })
                .sum();
            let charged = total_price(&graduated, &units.to_string());
            proptest::prop_assert_eq!(charged, brute.normalize());
            let more = total_price(&graduated, &(units + Decimal::ONE).to_string());
            proptest::prop_assert!(more >= charged);
        }

        // However the rates are set, a line's amount is price − discount + tax, the discount
        // never exceeds the price and the tax never exceeds the discounted price.
        #[test]
        fn a_line_always_adds_up(
            quantity in 0_i64..1_000_000_000,
            unit_price in 0_i64..100_000_000,
            discount in 0_i64..=10_000,
            tax in 0_i64..=10_000,
        ) {
            let rates = Rates {
                discount: Rate::new(Decimal::new(discount, 2)).expect("rate"),
                tax: Rate::new(Decimal::new(tax, 2)).expect("rate"),
            };
            let line = LineItem::new(
                LineKind::Overage,
                "m",
                String::new(),
                (Decimal::new(quantity, 6), Decimal::ONE, Decimal::new(unit_price, 6)),
                rates,
            );
            proptest::prop_assert_eq!(line.amount, line.price - line.discount + line.tax);
            proptest::prop_assert!(line.discount <= line.price);
            proptest::prop_assert!(line.tax <= line.price - line.discount);
            proptest::prop_assert!(line.amount >= Decimal::ZERO);
        }
    }

    proptest::proptest! {
        // No price an operator can save, however large, and no usage, however large,
        // reaches a panic: a package price is checked per unit, and the statement's sums
        // stay within what an amount holds.
        #[test]
        fn extreme_prices_and_quantities_price_without_a_panic(
            price_digits in 0_i64..=i64::MAX,
            price_scale in 0_u32..=10,
            size_micros in 1_i64..=1_000_000,
            used_micros in 0_i64..=i64::MAX,
            rate in 0_i64..=10_000,
            model in 0_u8..3,
        ) {
            let price = Decimal::new(price_digits, price_scale);
            let size = Quantity::from_micros(size_micros).expect("size");
            let overage_price = match model {
                0 => OveragePrice::PerUnit { unit_price: price },
                1 => OveragePrice::Package { package_size: size, package_price: price },
                _ => OveragePrice::Graduated {
                    tiers: vec![
                        Tier { up_to: Some(size), unit_price: price },
                        Tier { up_to: None, unit_price: price },
                    ],
                },
            };
            let Ok(overage_price) = overage_price.check() else {
                return Ok(());
            };
            let rates = Rates {
                discount: Rate::new(Decimal::new(rate, 2)).expect("rate"),
                tax: Rate::new(Decimal::new(10_000 - rate, 2)).expect("rate"),
            };
            let plan = Plan { name: "p", description: "", price: Decimal::from(MAX_PRICE) };
            let resources: Vec<ResourceUse<'_>> = (0..50)
                .map(|_| ResourceUse {
                    code: "m",
                    name: "m",
                    unit: "u",
                    used: Quantity::from_micros(used_micros).expect("used"),
                    allowance: Allowance::Included(Quantity::ZERO),
                    cap: None,
                    overage_price: Some(&overage_price),
                })
                .collect();
            let lines = statement_lines(plan, &resources, rates);
            let totals = Totals::of(&lines);
            proptest::prop_assert!(totals.total >= Decimal::ZERO);
        }
    }

    #[test]
    fn overage_prices_typed_by_people_read_back_as_written() {
        for text in [
            "0.002",
            "10 per 1000",
            "0.01 up to 1000; 0.008 up to 5000; 0.005",
        ] {
            let price = OveragePrice::parse_text(text)
                .expect("valid")
                .expect("a price");
            assert_eq!(price.to_string(), text);
        }
        assert_eq!(OveragePrice::parse_text("  "), Ok(None));
        assert_eq!(
            OveragePrice::parse_text("0.5 per 100"),
            Ok(Some(OveragePrice::Package {
                package_size: Quantity::parse(Decimal::from(100)).expect("quantity"),
                package_price: Decimal::new(5, 1),
            }))
        );
        for bad in [
            "-1",
            "cheap",
            "1 per 0",
            "0.01 up to 10; 0.02 up to 5; 0.01",
            "1 up to 5",
        ] {
            assert!(OveragePrice::parse_text(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_plan_price_has_no_more_decimals_than_its_currency() {
        let price = |text: &str| text.parse::<Decimal>().expect("decimal");
        assert_eq!(
            check_plan_price(price("19.90"), "usd"),
            Ok(("USD".to_string(), price("19.9")))
        );
        assert!(check_plan_price(price("19.999"), "USD").is_err());
        assert!(check_plan_price(price("1500"), "JPY").is_ok());
        assert!(check_plan_price(price("1500.5"), "JPY").is_err());
        assert!(check_plan_price(price("1.125"), "KWD").is_ok());
        assert!(check_plan_price(price("-1"), "USD").is_err());
        assert!(check_plan_price(price("10"), "dollars").is_err());
    }
}
