//! The operator's licenses: list, create and edit them, and put organizations on them.
//! Only a platform admin may call these; the check is here, on the server.

use leptos::prelude::*;

use crate::error::AppError;

use crate::model::licenses::{LicenseEditor, LicenseForm, LicenseOverview, LicenseSaved};

/// Every license, by name.
///
/// Errors: `Unauthorized` (401) when not signed in; `Forbidden` (403) for anyone but a
/// platform admin.
#[server(output = crate::codec::JsonText)]
pub async fn list_licenses() -> Result<Vec<LicenseOverview>, AppError> {
    use crate::server::{http::server_fn, metering::licenses};

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
#[server(output = crate::codec::JsonText)]
pub async fn get_license_editor(id: Option<i64>) -> Result<LicenseEditor, AppError> {
    use crate::server::{http::server_fn, metering::licenses};

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
#[server(output = crate::codec::JsonText)]
pub async fn save_license(form: LicenseForm) -> Result<LicenseSaved, AppError> {
    use crate::server::{access::audit::Actor, http::server_fn, metering::licenses};

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
#[server(output = crate::codec::JsonText)]
pub async fn assign_license(organization: String, license: i64) -> Result<(), AppError> {
    use crate::server::{access::audit::Actor, http::server_fn, metering::licenses};

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
