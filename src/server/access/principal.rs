//! The principal every query is scoped by: the organization and role a request acts with,
//! and the credential that proved it. Imports nothing of the server.

use std::str::FromStr;

use crate::error::AppError;

/// What a key (and later a user) may do inside its organization.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, clap::ValueEnum)]
pub enum Role {
    /// Reads usage.
    Member,
    /// Also sends usage events and manages the organization.
    Admin,
}

impl Role {
    /// As stored and typed on the command line: `member`, `admin`.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Member => "member",
            Role::Admin => "admin",
        }
    }
}

impl FromStr for Role {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "member" => Ok(Role::Member),
            "admin" => Ok(Role::Admin),
            other => Err(format!("unknown role {other:?}: use member or admin")),
        }
    }
}

/// How a REST request proved who it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Credential {
    /// An API key, by id.
    ApiKey(i64),
    /// A signed-in user's session cookie, by user id.
    Session(i64),
}

/// The organization and role a REST request acts with: an API key's (`x-api-key` or
/// `Authorization: Bearer`), else a signed-in user's (the session cookie).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ApiPrincipal {
    pub organization_id: i64,
    pub role: Role,
    pub credential: Credential,
}

impl Role {
    /// `Forbidden` unless this role is at least `needed`.
    pub fn require(self, needed: Role) -> Result<(), AppError> {
        if self >= needed {
            Ok(())
        } else {
            Err(AppError::Forbidden)
        }
    }
}

impl ApiPrincipal {
    /// `Forbidden` unless the key's (or session's) role is at least `role`.
    pub fn require(&self, role: Role) -> Result<(), AppError> {
        self.role.require(role)
    }
}

/// A signed-in dashboard user and the organization their session acts for: whom server
/// functions and pages answer, taken from the session cookie, never from a parameter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Principal {
    pub organization_id: i64,
    pub user_id: i64,
    pub role: Role,
}

impl Principal {
    /// `Forbidden` unless the user's role in the organization is at least `role`.
    pub fn require(&self, role: Role) -> Result<(), AppError> {
        self.role.require(role)
    }
}
