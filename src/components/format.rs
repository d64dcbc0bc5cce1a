//! How numbers read on screen: thousands grouped, exact decimals, no trailing zeros.

use rust_decimal::Decimal;

use crate::domain::quantity::Quantity;

/// "45,230", "82.5", "1,000,000.25".
pub fn amount(quantity: Quantity) -> String {
    decimal(quantity.to_decimal())
}

/// A decimal with its integer part grouped by thousands and trailing zeros dropped.
pub fn decimal(value: Decimal) -> String {
    let text = value.normalize().to_string();
    let (sign, unsigned) = text
        .strip_prefix('-')
        .map_or(("", text.as_str()), |rest| ("-", rest));
    let (integer, fraction) = unsigned
        .split_once('.')
        .map_or((unsigned, None), |(i, f)| (i, Some(f)));
    let mut grouped = String::with_capacity(integer.len() + integer.len() / 3);
    for (index, digit) in integer.chars().enumerate() {
        if index > 0 && (integer.len() - index) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    match fraction {
        Some(fraction) => format!("{sign}{grouped}.{fraction}"),
        None => format!("{sign}{grouped}"),
    }
}

/// Money as people read it: rounded to cents, grouped, with its currency: "1,234.50 USD".
pub fn money(value: Decimal, currency: &str) -> String {
    let cents = value.round_dp(2);
    let text = decimal(cents);
    let padded = match text.split_once('.') {
        Some((_, fraction)) if fraction.len() == 1 => format!("{text}0"),
        Some(_) => text,
        None => format!("{text}.00"),
    };
    format!("{padded} {currency}")
}

/// A projection as people read it: whole units from 10 up, else two decimals.
pub fn estimate(quantity: Quantity) -> String {
    let value = quantity.to_decimal();
    let places = if value.abs() >= Decimal::TEN { 0 } else { 2 };
    decimal(value.round_dp(places))
}

/// "45.23 %" style percentage text without the space: "45.23%".
pub fn percent(value: Decimal) -> String {
    format!("{}%", decimal(value))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    #[test]
    fn groups_thousands_and_keeps_exact_decimals() {
        for (input, expected) in [
            ("0", "0"),
            ("999", "999"),
            ("1000", "1,000"),
            ("45230", "45,230"),
            ("100000", "100,000"),
            ("1000000.25", "1,000,000.25"),
            ("82.50", "82.5"),
            ("-1234.5", "-1,234.5"),
        ] {
            let value = Decimal::from_str(input).expect("decimal");
            assert_eq!(decimal(value), expected, "{input}");
        }
    }

    #[test]
    fn money_is_shown_in_cents_with_its_currency() {
        for (input, expected) in [
            ("29", "29.00 USD"),
            ("3.5", "3.50 USD"),
            ("538.92", "538.92 USD"),
            ("1234.005", "1,234.00 USD"),
            ("0.0005", "0.00 USD"),
        ] {
            let value = Decimal::from_str(input).expect("decimal");
            assert_eq!(money(value, "USD"), expected, "{input}");
        }
    }

    #[test]
    fn estimates_drop_false_precision() {
        let q = |s: &str| Quantity::parse(Decimal::from_str(s).expect("decimal")).expect("qty");
        assert_eq!(estimate(q("61671.2486")), "61,671");
        assert_eq!(estimate(q("7.256")), "7.26");
    }

    #[test]
    fn percentages_carry_a_percent_sign() {
        assert_eq!(
            percent(Decimal::from_str("45.23").expect("decimal")),
            "45.23%"
        );
        assert_eq!(percent(Decimal::from(130)), "130%");
    }
}
