//! One module per route.

pub mod account;
pub mod admin;
pub mod admin_audit;
pub mod admin_licenses;
pub mod admin_organization;
pub mod admin_users;
pub mod billing;
pub mod embed_usage;
pub mod embedding;
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

/// In an island: loads `list` again with `load` each time `changes` (the versions of the
/// island's actions) moves on, showing the last list until the new one arrives. The first
/// list comes with the island, rendered by the server.
pub fn reload_after<T, K, Fut>(
    list: RwSignal<T>,
    changes: impl Fn() -> K + 'static,
    load: impl Fn() -> Fut + Copy + 'static,
) where
    T: Send + Sync + 'static,
    K: PartialEq + 'static,
    Fut: std::future::Future<Output = Result<T, AppError>> + 'static,
{
    Effect::new(move |previous: Option<K>| {
        let now = changes();
        if previous.is_some_and(|previous| previous != now) {
            leptos::task::spawn_local(async move {
                if let Ok(fresh) = load().await {
                    list.set(fresh);
                }
            });
        }
        now
    });
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
