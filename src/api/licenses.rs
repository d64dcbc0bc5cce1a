//! The operator's licenses: list, create and edit them, and put organizations on them.
//! Only a platform admin may call these; the check is here, on the server.

use leptos::prelude::*;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

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

/// Every license, by name.
///
/// Errors: `Unauthorized` (401) when not signed in; `Forbidden` (403) for anyone but a
/// platform admin.
#[server(output = crate::api::codec::JsonText)]
pub async fn list_licenses() -> Result<Vec<LicenseOverview>, AppError> {
    use crate::server::{licenses, server_fn};

    server_fn::respond(
        async {
            let state = server_fn::state()?;
            server_fn::platform_admin(&state).await?;
            licenses::overview(&state).await
        }
        .await,
    )
}

/// The edit form of license `id`, or an empty one for a new license when `id` is `None`.
///
/// Errors: as [`list_licenses`]; `NotFound` (404) for no such license.
#[server(output = crate::api::codec::JsonText)]
pub async fn get_license_editor(id: Option<i64>) -> Result<LicenseEditor, AppError> {
    use crate::server::{licenses, server_fn};

    server_fn::respond(
        async {
            let state = server_fn::state()?;
            server_fn::platform_admin(&state).await?;
            licenses::editor(&state, id).await
        }
        .await,
    )
}

/// Creates a license (`form.id` empty) or saves an edit of one, recorded in the audit log.
/// The organizations on it see the change on their next page load or live update.
///
/// Errors: as [`list_licenses`]; `BadRequest` (400) naming the field at fault, or a limit
/// below what an organization already used without `confirm_below_usage`; `Conflict` (409)
/// when the license was changed since `form.version` (nothing is saved) or the name is
/// taken; `NotFound` (404) for no such license.
#[server(output = crate::api::codec::JsonText)]
pub async fn save_license(form: LicenseForm) -> Result<LicenseSaved, AppError> {
    use crate::server::{audit::Actor, licenses, server_fn};

    server_fn::respond(
        async {
            let state = server_fn::state()?;
            let operator = server_fn::platform_admin(&state).await?;
            licenses::save(&state, Actor::User(operator.user_id), form).await
        }
        .await,
    )
}

/// Puts organization `organization` (its slug) on license `license`, recorded in the audit
/// log; its usage is rated by the new license at once.
///
/// Errors: as [`list_licenses`]; `NotFound` (404) for no such organization or license.
#[server(output = crate::api::codec::JsonText)]
pub async fn assign_license(organization: String, license: i64) -> Result<(), AppError> {
    use crate::server::{audit::Actor, licenses, server_fn};

    server_fn::respond(
        async {
            let state = server_fn::state()?;
            let operator = server_fn::platform_admin(&state).await?;
            licenses::assign(
                &state,
                Actor::User(operator.user_id),
                &organization,
                license,
            )
            .await
        }
        .await,
    )
}
