//! Who is signed in, to which organisation, and where a sign-in may lead.

use serde::{Deserialize, Serialize};

/// An organization a user belongs to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrganizationChoice {
    pub id: i64,
    pub slug: String,
    pub name: String,
    /// The user's role in it: `member` or `admin`.
    pub role: String,
}

/// The signed-in user as the navigation bar shows them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionInfo {
    pub email: String,
    /// `member` or `admin` in the current organization; `platform-admin` for the operator.
    pub role: String,
    /// The organization the session acts for; `None` for a platform admin.
    pub organization: Option<OrganizationChoice>,
    /// Every organization the user belongs to, by name.
    pub organizations: Vec<OrganizationChoice>,
}

impl SessionInfo {
    /// True when the user administers the current organization.
    pub fn is_admin(&self) -> bool {
        self.role == "admin"
    }
}

/// Where the dashboard starts.
pub const HOME: &str = "/usage";

/// Where a platform admin starts.
pub const ADMIN_HOME: &str = "/admin";

/// Where to go after signing in: `next` when it is a path on this site, else [`HOME`].
/// Anything that could leave the site (`//host`, `/\host`, a scheme) is refused.
pub fn safe_next(next: &str) -> &str {
    let on_this_site = next.starts_with('/')
        && !next.starts_with("//")
        && !next.starts_with("/\\")
        && !next.chars().any(char::is_control)
        && next != "/login"
        && !next.starts_with("/login?");
    if on_this_site {
        next
    } else {
        HOME
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_paths_on_this_site_are_followed_after_sign_in() {
        for (next, expected) in [
            ("/billing?sort=amount", "/billing?sort=amount"),
            ("/settings/keys", "/settings/keys"),
            ("", HOME),
            ("https://evil.example/", HOME),
            ("//evil.example/", HOME),
            ("/\\evil.example", HOME),
            ("/usage\r\nSet-Cookie: x", HOME),
            ("/login", HOME),
            ("/login?next=/login", HOME),
            ("usage", HOME),
        ] {
            assert_eq!(safe_next(next), expected, "{next:?}");
        }
    }
}
