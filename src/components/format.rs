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
    fn percentages_carry_a_percent_sign() {
        assert_eq!(
            percent(Decimal::from_str("45.23").expect("decimal")),
            "45.23%"
        );
        assert_eq!(percent(Decimal::from(130)), "130%");
    }
}
