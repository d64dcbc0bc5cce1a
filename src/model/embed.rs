//! What the embeddable usage view (`/embed/usage`) shows: a portal session's usage in its
//! language and theme, or why the session can show nothing any more.

use serde::{Deserialize, Serialize};

use crate::{
    i18n::Locale,
    model::usage::{UsageHistory, UsageSummary},
};

/// The embedding settings page, and where its forms post (plain posts answered with a
/// redirect back to it).
pub const SETTINGS_PAGE: &str = "/settings/embedding";
pub const ADD_ORIGIN: &str = "/settings/embedding/origins";
pub const REMOVE_ORIGIN: &str = "/settings/embedding/origins/remove";
pub const REVOKE_SESSION: &str = "/settings/embedding/sessions/revoke";

/// The colours a portal session asks for.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Theme {
    Light,
    Dark,
    /// The viewer's system setting.
    #[default]
    Auto,
}

impl Theme {
    /// As stored and in the API: `light`, `dark`, `auto`.
    pub fn as_str(self) -> &'static str {
        match self {
            Theme::Light => "light",
            Theme::Dark => "dark",
            Theme::Auto => "auto",
        }
    }

    /// The theme named `text`, if it is one.
    pub fn parse(text: &str) -> Option<Theme> {
        match text {
            "light" => Some(Theme::Light),
            "dark" => Some(Theme::Dark),
            "auto" => Some(Theme::Auto),
            _ => None,
        }
    }

    /// `<meta name="color-scheme">`: the schemes the page may be drawn in.
    pub fn color_scheme(self) -> &'static str {
        match self {
            Theme::Light => "light",
            Theme::Dark => "dark",
            Theme::Auto => "light dark",
        }
    }
}

/// Why a portal session's view shows no usage.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Ended {
    /// Past its expiry.
    Expired,
    /// Revoked by the operator.
    Revoked,
    /// Its address was opened already: a launch token works once.
    Used,
    /// No session, or a token that is not one.
    Unknown,
}

impl Ended {
    /// As the page marks it (`data-ended`) and tells its parent window.
    pub fn as_str(self) -> &'static str {
        match self {
            Ended::Expired => "expired",
            Ended::Revoked => "revoked",
            Ended::Used => "used",
            Ended::Unknown => "unknown",
        }
    }
}

/// The page a portal session's address opens.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EmbedView {
    pub locale: Locale,
    pub theme: Theme,
    pub content: EmbedContent,
}

/// The usage the session may read, or why there is none.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum EmbedContent {
    Usage {
        /// This period's usage, only the session's metrics.
        summary: Box<UsageSummary>,
        /// The last 12 periods, only the session's metrics.
        history: Box<UsageHistory>,
        /// The credential the launch token was just exchanged for, which the page's script
        /// keeps in memory for its own requests; `None` when the page was asked for with it.
        access: Option<String>,
    },
    Ended(Ended),
}
