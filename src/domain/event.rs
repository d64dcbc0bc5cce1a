//! One incoming usage event: what makes it acceptable before storage sees it.

use chrono::{DateTime, Duration, Utc};
use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::value::RawValue;

use super::quantity::Quantity;

/// Most events one ingestion request may carry.
pub const MAX_EVENTS_PER_BATCH: usize = 1000;
/// How far in the future an event's timestamp may lie (clock skew allowance).
pub const MAX_FUTURE_MINUTES: i64 = 5;
/// Longest idempotency id, metric code, account, domain id or channel, in characters.
pub const MAX_TEXT_CHARS: usize = 256;
/// Largest `properties` object, serialized, in bytes.
pub const MAX_PROPERTIES_BYTES: usize = 8 * 1024;

/// An event as a client sends it; every field optional so each can be checked with a reason.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct IncomingEvent {
    id: Option<String>,
    metric: Option<String>,
    quantity: Option<Box<RawValue>>,
    timestamp: Option<String>,
    account: Option<String>,
    domain_id: Option<String>,
    channel: Option<String>,
    properties: Option<serde_json::Map<String, serde_json::Value>>,
}

/// An event that passed every rule that needs no storage (the metric's existence does).
#[derive(Clone, Debug, PartialEq)]
pub struct EventDraft {
    /// The client's idempotency key, unique per organization.
    pub id: String,
    /// Metric code as sent.
    pub metric: String,
    pub quantity: Quantity,
    pub occurred_at: DateTime<Utc>,
    pub account: Option<String>,
    pub domain_id: Option<String>,
    pub channel: Option<String>,
    /// `properties` re-serialized as compact JSON.
    pub properties: Option<String>,
}

/// The time span an event's timestamp must fall in: `[now − backdating, now + 5 min]`.
#[derive(Clone, Copy, Debug)]
pub struct EventWindow {
    pub now: DateTime<Utc>,
    pub backdating_days: u32,
}

/// Why one event was refused; the text is shown to the client as the event's `reason`.
pub type RejectReason = String;

/// An event refused before storage: its id when one could be read, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    pub id: Option<String>,
    pub reason: RejectReason,
    /// Refused only for a timestamp past the backdating window: a resend of an event
    /// accepted before, which is a duplicate if its id is still remembered.
    pub too_old: bool,
}

impl EventDraft {
    /// The value of a field a unique-count metric may count: `account`, `channel`,
    /// `domainId` or `properties.<name>` (a string, or a number or boolean as its JSON
    /// text). `None` when the event has no such value.
    pub fn field(&self, name: &str) -> Option<String> {
        match name {
            "account" => self.account.clone(),
            "channel" => self.channel.clone(),
            "domainId" => self.domain_id.clone(),
            _ => {
                let property = name.strip_prefix("properties.")?;
                let properties: serde_json::Map<String, serde_json::Value> =
                    serde_json::from_str(self.properties.as_deref()?).ok()?;
                match properties.get(property)? {
                    serde_json::Value::String(text) => Some(text.clone()),
                    value @ (serde_json::Value::Number(_) | serde_json::Value::Bool(_)) => {
                        Some(value.to_string())
                    }
                    _ => None,
                }
            }
        }
    }

    /// Checks one raw event against every storage-free rule. `quantity` defaults to 1 and
    /// `timestamp` to `window.now`. On refusal, returns the id if one could be read.
    pub fn parse(raw: &RawValue, window: &EventWindow) -> Result<Self, Refusal> {
        let event: IncomingEvent = serde_json::from_str(raw.get()).map_err(|e| {
            let id = serde_json::from_str::<serde_json::Value>(raw.get())
                .ok()
                .and_then(|v| v.get("id").and_then(|id| id.as_str()).map(str::to_string));
            Refusal {
                id,
                reason: format!("not a valid event: {}", strip_position(&e.to_string())),
                too_old: false,
            }
        })?;
        let id = event.id.clone();
        let reject = |reason: String| Refusal {
            id: id.clone(),
            reason,
            too_old: false,
        };
        let event_id = required_text("id", event.id).map_err(reject)?;
        let metric = required_text("metric", event.metric).map_err(reject)?;
        let quantity = match event.quantity {
            None => Quantity::parse(Decimal::ONE).map_err(|e| reject(e.to_string()))?,
            Some(raw) => parse_quantity(raw.get()).map_err(reject)?,
        };
        let occurred_at = match event.timestamp {
            None => window.now,
            Some(text) => window.check(&text).map_err(|(reason, too_old)| Refusal {
                too_old,
                ..reject(reason)
            })?,
        };
        let properties = event
            .properties
            .map(|map| serde_json::Value::Object(map).to_string())
            .filter(|json| json != "{}");
        if properties
            .as_ref()
            .is_some_and(|json| json.len() > MAX_PROPERTIES_BYTES)
        {
            return Err(reject(format!(
                "properties must be at most {MAX_PROPERTIES_BYTES} bytes of JSON"
            )));
        }
        Ok(EventDraft {
            id: event_id,
            metric,
            quantity,
            occurred_at,
            account: optional_text("account", event.account).map_err(reject)?,
            domain_id: optional_text("domainId", event.domain_id).map_err(reject)?,
            channel: optional_text("channel", event.channel).map_err(reject)?,
            properties,
        })
    }
}

impl EventWindow {
    /// Parses an RFC 3339 timestamp and checks it lies in the window; refused, whether only
    /// for being too old.
    fn check(&self, text: &str) -> Result<DateTime<Utc>, (RejectReason, bool)> {
        let instant = DateTime::parse_from_rfc3339(text.trim())
            .map_err(|_| {
                (format!("timestamp must be an RFC 3339 date-time such as 2026-11-22T10:00:00Z (got {text:?})"), false)
            })?
            .with_timezone(&Utc);
        if instant < self.now - Duration::days(i64::from(self.backdating_days)) {
            return Err((
                format!(
                    "timestamp is more than {} days in the past",
                    self.backdating_days
                ),
                true,
            ));
        }
        if instant > self.now + Duration::minutes(MAX_FUTURE_MINUTES) {
            return Err((
                format!("timestamp is more than {MAX_FUTURE_MINUTES} minutes in the future"),
                false,
            ));
        }
        Ok(instant)
    }
}

/// A quantity from its exact JSON text: a number (`3`, `0.25`, `1e3`) or a numeric string.
fn parse_quantity(json: &str) -> Result<Quantity, RejectReason> {
    let text = match serde_json::from_str::<serde_json::Value>(json) {
        Ok(serde_json::Value::Number(_)) => json.trim().to_string(),
        Ok(serde_json::Value::String(text)) => text.trim().to_string(),
        _ => return Err(format!("quantity must be a number (got {json})")),
    };
    let value = Decimal::from_str_exact(&text)
        .or_else(|_| Decimal::from_scientific(&text))
        .map_err(|_| format!("quantity must be a number (got {json})"))?;
    Quantity::parse(value).map_err(|e| e.to_string())
}

fn required_text(field: &str, value: Option<String>) -> Result<String, RejectReason> {
    match optional_text(field, value)? {
        Some(text) => Ok(text),
        None => Err(format!("{field} is required")),
    }
}

fn optional_text(field: &str, value: Option<String>) -> Result<Option<String>, RejectReason> {
    match value.map(|text| text.trim().to_string()) {
        None => Ok(None),
        Some(text) if text.is_empty() => Err(format!("{field} must not be empty")),
        Some(text) if text.chars().count() > MAX_TEXT_CHARS => Err(format!(
            "{field} must be at most {MAX_TEXT_CHARS} characters"
        )),
        Some(text) => Ok(Some(text)),
    }
}

/// serde_json appends " at line 1 column 17"; inside one event that position says nothing.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(index) => message[..index].to_string(),
        None => message.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn window() -> EventWindow {
        EventWindow {
            now: "2026-11-22T12:00:00Z".parse().expect("instant"),
            backdating_days: 35,
        }
    }

    fn parse(json: &str) -> Result<EventDraft, Refusal> {
        let raw: Box<RawValue> = serde_json::from_str(json).expect("json");
        EventDraft::parse(&raw, &window())
    }

    fn reason(json: &str) -> String {
        parse(json).expect_err(json).reason
    }

    #[test]
    fn quantity_defaults_to_one_and_timestamp_to_now() {
        let event = parse(r#"{"id":"e1","metric":"apiCalls"}"#).expect("valid");
        assert_eq!(event.quantity.to_decimal(), Decimal::ONE);
        assert_eq!(event.occurred_at, window().now);
        assert_eq!(event.properties, None);
    }

    #[test]
    fn quantities_are_read_exactly_from_the_json_text() {
        for (json, expected) in [
            ("3", "3"),
            ("0.25", "0.25"),
            ("\"67.5\"", "67.5"),
            ("1e3", "1000"),
            ("12345678901.123456", "12345678901.123456"),
        ] {
            let event =
                parse(&format!(r#"{{"id":"e","metric":"m","quantity":{json}}}"#)).expect(json);
            assert_eq!(event.quantity.to_decimal().to_string(), expected, "{json}");
        }
    }

    #[test]
    fn each_bad_field_is_refused_with_a_reason_naming_it() {
        let cases = [
            (r#"{"metric":"m"}"#, "id is required"),
            (r#"{"id":"  ","metric":"m"}"#, "id must not be empty"),
            (r#"{"id":"e"}"#, "metric is required"),
            (
                r#"{"id":"e","metric":"m","quantity":-1}"#,
                "must not be negative",
            ),
            (
                r#"{"id":"e","metric":"m","quantity":0.0000001}"#,
                "decimal places",
            ),
            (
                r#"{"id":"e","metric":"m","quantity":"lots"}"#,
                "quantity must be a number",
            ),
            (
                r#"{"id":"e","metric":"m","quantity":true}"#,
                "quantity must be a number",
            ),
            (
                r#"{"id":"e","metric":"m","timestamp":"yesterday"}"#,
                "RFC 3339",
            ),
            (
                r#"{"id":"e","metric":"m","timestamp":"2026-10-01T00:00:00Z"}"#,
                "35 days in the past",
            ),
            (
                r#"{"id":"e","metric":"m","timestamp":"2026-11-22T12:06:00Z"}"#,
                "5 minutes in the future",
            ),
            (
                r#"{"id":"e","metric":"m","colour":"red"}"#,
                "unknown field `colour`",
            ),
            (r#"{"id":5,"metric":"m"}"#, "invalid type"),
        ];
        for (json, expected) in cases {
            let reason = reason(json);
            assert!(reason.contains(expected), "{json}: {reason}");
        }
    }

    #[test]
    fn the_window_includes_its_edges() {
        assert!(parse(r#"{"id":"e","metric":"m","timestamp":"2026-10-18T12:00:00Z"}"#).is_ok());
        assert!(parse(r#"{"id":"e","metric":"m","timestamp":"2026-11-22T12:05:00Z"}"#).is_ok());
        assert!(
            parse(r#"{"id":"e","metric":"m","timestamp":"2026-11-22T14:00:00+02:00"}"#).is_ok()
        );
    }

    #[test]
    fn a_refused_event_still_reports_its_id_when_readable() {
        let refusal = parse(r#"{"id":"evt-9","metric":"m","quantity":-2}"#).expect_err("negative");
        assert_eq!(refusal.id.as_deref(), Some("evt-9"));
        let refusal = parse(r#"{"id":"evt-10","metric":"m","extra":1}"#).expect_err("unknown");
        assert_eq!(refusal.id.as_deref(), Some("evt-10"));
    }

    #[test]
    fn only_a_timestamp_past_the_window_marks_a_refusal_too_old() {
        let late = parse(r#"{"id":"e","metric":"m","timestamp":"2026-10-18T11:59:59Z"}"#)
            .expect_err("too old");
        assert!(late.too_old, "{late:?}");
        for json in [
            r#"{"id":"e","metric":"m","timestamp":"2026-11-22T12:05:01Z"}"#,
            r#"{"id":"e","metric":"m","timestamp":"yesterday"}"#,
            r#"{"id":"e","metric":"m","quantity":-1}"#,
        ] {
            assert!(!parse(json).expect_err(json).too_old, "{json}");
        }
    }

    #[test]
    fn properties_are_kept_as_compact_json_in_their_order_and_bounded() {
        let event = parse(r#"{"id":"e","metric":"m","properties":{"region": "eu", "n": 1}}"#)
            .expect("valid");
        assert_eq!(
            event.properties.as_deref(),
            Some(r#"{"region":"eu","n":1}"#)
        );
        let big = "x".repeat(MAX_PROPERTIES_BYTES);
        assert!(reason(&format!(
            r#"{{"id":"e","metric":"m","properties":{{"k":"{big}"}}}}"#
        ))
        .contains("properties must be at most"));
    }

    #[test]
    fn a_unique_count_reads_the_field_it_names() {
        let raw = RawValue::from_string(
            r#"{"id":"e","metric":"seats","account":"a@x","properties":{"user":"u1","n":7,"o":{}}}"#
                .to_string(),
        )
        .expect("raw");
        let event = EventDraft::parse(&raw, &window()).expect("valid");
        assert_eq!(event.field("account").as_deref(), Some("a@x"));
        assert_eq!(event.field("properties.user").as_deref(), Some("u1"));
        assert_eq!(event.field("properties.n").as_deref(), Some("7"));
        assert_eq!(event.field("properties.o"), None);
        assert_eq!(event.field("properties.missing"), None);
        assert_eq!(event.field("channel"), None);
        assert_eq!(event.field("user"), None);
    }
}
