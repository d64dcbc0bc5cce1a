//! Licenses as the operator's editor and overview show them and as they are saved.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// A license as the operator's list shows it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LicenseOverview {
    pub id: i64,
    pub name: String,
    pub price: Decimal,
    pub currency: String,
    pub is_default: bool,
    /// Resources it grants.
    pub resources: usize,
    /// Organizations on it (by subscription, or by default).
    pub organizations: usize,
    pub version: i64,
    /// Unix seconds.
    pub updated_at: i64,
}

/// A license as its edit form holds it: every field as typed. Input names follow the field
/// names (`form[name]`, `form[resources][0][amount]` …).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LicenseForm {
    /// `None` for a new license.
    #[serde(default)]
    pub id: Option<i64>,
    /// The version the form was opened at (0 for a new license).
    #[serde(default)]
    pub version: i64,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// The price per period, e.g. `29.00`.
    #[serde(default)]
    pub price: String,
    /// ISO 4217, e.g. `USD`.
    #[serde(default)]
    pub currency: String,
    #[serde(default)]
    pub is_default: bool,
    /// One row per metric of the catalogue.
    #[serde(default)]
    pub resources: Vec<ResourceForm>,
    /// Save even where a new limit is below what an organization on the license has
    /// already used this period.
    #[serde(default)]
    pub confirm_below_usage: bool,
    /// Save even where a hard limit is below its included amount (usage is refused before
    /// the customer reaches what the plan includes).
    #[serde(default)]
    pub confirm_limit_below_included: bool,
}

/// One metric's row of the license form.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResourceForm {
    /// The metric's code.
    #[serde(default)]
    pub metric: String,
    /// Part of the license; rows left out are not granted.
    #[serde(default)]
    pub in_plan: bool,
    /// Included per period; blank for unlimited.
    #[serde(default)]
    pub amount: String,
    /// A hard limit: usage reaching the limit is refused, rather than billed as overage.
    #[serde(default)]
    pub hard_limit: bool,
    /// Where a hard limit refuses usage; blank for at the included amount.
    #[serde(default)]
    pub limit: String,
    /// Ingestion refuses events past the hard limit too (metering otherwise records what
    /// happened, and only the check and consume endpoints refuse).
    #[serde(default)]
    pub refuse_events: bool,
    /// Blank for none, `0.002` per unit, `10 per 1000` per package, or tiers
    /// `0.01 up to 1000; 0.005`.
    #[serde(default)]
    pub overage: String,
}

/// A metric of the catalogue, for the form's rows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MetricChoice {
    pub code: String,
    pub name: String,
    pub unit: String,
}

/// What the edit page needs: the form filled from storage, and the catalogue.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LicenseEditor {
    pub form: LicenseForm,
    pub metrics: Vec<MetricChoice>,
    /// Names of the organizations on the license.
    pub organizations: Vec<String>,
}

/// A license after a save.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LicenseSaved {
    pub id: i64,
    pub version: i64,
}
