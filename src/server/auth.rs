//! Who is asking: the principal every query is scoped by.
//!
//! Sign-in does not exist yet, so an instance serves exactly one organization's dashboard:
//! with one organization stored, every visitor views it; with none there is nothing to show
//! (404); with several a visitor must say which, which needs sign-in (401).

use crate::error::AppError;

use super::{db::organizations, state::AppState};

/// The organization a request acts for, taken from the request's credentials, never from a
/// request parameter alone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Principal {
    pub organization_id: i64,
}

impl Principal {
    /// Resolves the principal of the current request.
    ///
    /// Errors: `NotFound` when no organization exists, `Unauthorized` when there are several.
    pub async fn current(state: &AppState) -> Result<Principal, AppError> {
        let ids = organizations::first_ids(state.db.pool(), 2).await?;
        match ids.as_slice() {
            [] => Err(AppError::NotFound("Organization".into())),
            [organization_id] => Ok(Principal {
                organization_id: *organization_id,
            }),
            _ => Err(AppError::Unauthorized),
        }
    }
}
