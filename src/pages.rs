//! One module per route.

pub mod account;
pub mod admin;
pub mod admin_audit;
pub mod admin_licenses;
pub mod admin_organization;
pub mod admin_users;
pub mod billing;
pub mod keys;
pub mod license;
pub mod login;
pub mod not_found;
pub mod usage;
pub mod webhooks;

use leptos::prelude::*;

use crate::{error::AppError, model::account::SessionInfo};

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

/// `text` as a URL query value: unreserved characters kept, the rest percent-encoded.
pub fn query_encode(text: &str) -> String {
    text.bytes()
        .map(|byte| match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                char::from(byte).to_string()
            }
            _ => format!("%{byte:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::query_encode;

    #[test]
    fn search_text_is_encoded_for_the_sort_links() {
        assert_eq!(query_encode("api calls&x=1"), "api%20calls%26x%3D1");
        assert_eq!(query_encode("São"), "S%C3%A3o");
    }
}
