//! One module per route.

pub mod billing;
pub mod keys;
pub mod license;
pub mod login;
pub mod not_found;
pub mod usage;
pub mod webhooks;

use leptos::prelude::*;

use crate::{api::account::SessionInfo, error::AppError};

/// The signed-in user, loaded once by `<App/>` and shared with every page.
pub type SessionResource = Resource<Result<Option<SessionInfo>, AppError>>;

/// True once the session has loaded and its user administers the current organization.
pub async fn is_admin(session: Option<SessionResource>) -> bool {
    match session {
        Some(session) => matches!(session.await, Ok(Some(info)) if info.is_admin()),
        None => false,
    }
}

/// `view` for admins of the organization, nothing for members. Only what is shown: the
/// server functions behind it check the role themselves.
pub fn admin_only<V>(view: impl Fn() -> V + Clone + Send + Sync + 'static) -> impl IntoView
where
    V: IntoView + 'static,
{
    let session = use_context::<SessionResource>();
    view! {
        <Transition fallback=|| ()>
            {
                let view = view.clone();
                move || {
                    let view = view.clone();
                    Suspend::new(async move { is_admin(session).await.then(view) })
                }
            }
        </Transition>
    }
}
