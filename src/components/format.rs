//! How numbers, money and dates read on screen in each locale: thousands grouped, exact
//! decimals, no trailing zeros.

use chrono::{Datelike, NaiveDate};
use rust_decimal::Decimal;

use crate::{
    domain::{period::BillingPeriod, quantity::Quantity},
    i18n::Locale,
};

/// "45,230", "82.5", "1,000,000.25" (English); "45.230", "82,5" (Portuguese).
pub fn amount(locale: Locale, quantity: Quantity) -> String {
    decimal(locale, quantity.to_decimal())
}

/// A decimal with its integer part grouped by thousands and trailing zeros dropped.
pub fn decimal(locale: Locale, value: Decimal) -> String {
    let (group, point) = locale.separators();
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
            grouped.push(group);
        }
        grouped.push(digit);
    }
    match fraction {
        Some(fraction) => format!("{sign}{grouped}{point}{fraction}"),
        None => format!("{sign}{grouped}"),
    }
}

/// Money as people read it: rounded to cents, grouped, with its currency: "1,234.50 USD",
/// "1.234,50 BRL".
pub fn money(locale: Locale, value: Decimal, currency: &str) -> String {
    let cents = value.round_dp(2);
    let (_, point) = locale.separators();
    let text = decimal(locale, cents);
    let padded = match text.split_once(point) {
        Some((_, fraction)) if fraction.len() == 1 => format!("{text}0"),
        Some(_) => text,
        None => format!("{text}{point}00"),
    };
    format!("{padded} {currency}")
}

/// A projection as people read it: whole units from 10 up, else two decimals.
pub fn estimate(locale: Locale, quantity: Quantity) -> String {
    let value = quantity.to_decimal();
    let places = if value.abs() >= Decimal::TEN { 0 } else { 2 };
    decimal(locale, value.round_dp(places))
}

/// A percentage without a space before the sign: "45.23%", "45,23%".
pub fn percent(locale: Locale, value: Decimal) -> String {
    format!("{}%", decimal(locale, value))
}

/// "1 Nov 2026"; "1 nov 2026".
pub fn date(locale: Locale, day: NaiveDate) -> String {
    let month = locale.months()[day.month0() as usize];
    format!("{} {month} {}", day.day(), day.year())
}

/// "23 Nov 2026 14:05 UTC": an instant (unix seconds) to the minute, in UTC so operators in
/// different zones read the same time.
pub fn date_time(locale: Locale, unix_seconds: i64) -> String {
    match chrono::DateTime::from_timestamp(unix_seconds, 0) {
        Some(instant) => format!(
            "{} {} UTC",
            date(locale, instant.date_naive()),
            instant.format("%H:%M")
        ),
        None => "—".into(),
    }
}

/// "Nov 2026"; "nov 2026": the month a period starts in.
pub fn month(locale: Locale, day: NaiveDate) -> String {
    locale.month_and_year(day)
}

/// "1 Nov 2026 – 30 Nov 2026": a period's first and last day.
pub fn period(locale: Locale, period: &BillingPeriod) -> String {
    format!(
        "{} – {}",
        date(locale, period.first_day),
        date(locale, period.last_day)
    )
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
            assert_eq!(decimal(Locale::En, value), expected, "{input}");
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
            assert_eq!(money(Locale::En, value, "USD"), expected, "{input}");
        }
    }

    #[test]
    fn estimates_drop_false_precision() {
        let q = |s: &str| Quantity::parse(Decimal::from_str(s).expect("decimal")).expect("qty");
        assert_eq!(estimate(Locale::En, q("61671.2486")), "61,671");
        assert_eq!(estimate(Locale::En, q("7.256")), "7.26");
        assert_eq!(estimate(Locale::PtBr, q("7.256")), "7,26");
    }

    #[test]
    fn percentages_carry_a_percent_sign() {
        assert_eq!(
            percent(Locale::En, Decimal::from_str("45.23").expect("decimal")),
            "45.23%"
        );
        assert_eq!(percent(Locale::En, Decimal::from(130)), "130%");
    }

    #[test]
    fn portuguese_groups_with_dots_and_writes_decimal_commas() {
        let value = Decimal::from_str("1234567.5").expect("decimal");
        assert_eq!(decimal(Locale::PtBr, value), "1.234.567,5");
        assert_eq!(money(Locale::PtBr, value, "BRL"), "1.234.567,50 BRL");
        assert_eq!(money(Locale::PtBr, Decimal::from(29), "BRL"), "29,00 BRL");
        assert_eq!(
            percent(Locale::PtBr, Decimal::from_str("45.23").expect("d")),
            "45,23%"
        );
    }

    #[test]
    fn dates_name_their_month_in_the_locale() {
        let day = NaiveDate::from_ymd_opt(2026, 11, 1).expect("date");
        assert_eq!(date(Locale::En, day), "1 Nov 2026");
        assert_eq!(date(Locale::PtBr, day), "1 nov 2026");
        assert_eq!(month(Locale::PtBr, day), "nov 2026");
        // 2026-11-23 14:05:09 UTC
        assert_eq!(
            date_time(Locale::En, 1_795_442_709),
            "23 Nov 2026 14:05 UTC"
        );
    }
}
