//! `AppError`: the one error type server functions return and the UI renders.

use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

use crate::codec::JsonTextEncoding;

/// Everything that can go wrong answering a request, as the caller may see it.
///
/// Serializable so it crosses the server-function boundary intact; it never holds driver
/// errors or internal details (those are logged on the server once, then become `Internal`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    /// 400: the request itself is wrong; the message says how.
    #[error("{0}")]
    BadRequest(String),
    /// 401: no valid credentials were presented.
    #[error("Authentication required")]
    Unauthorized,
    /// 403: the caller may not see or change this.
    #[error("Access to the requested resource is forbidden")]
    Forbidden,
    /// 404: the named thing does not exist (for this caller).
    #[error("{0} not found")]
    NotFound(String),
    /// 405: the path exists but does not take this method.
    #[error("This path does not take the {0} method")]
    MethodNotAllowed(String),
    /// 409: the request clashes with what is stored (a name already taken); the message
    /// says what.
    #[error("{0}")]
    Conflict(String),
    /// 413: the request body is larger than the endpoint accepts; the message says the limit.
    #[error("{0}")]
    PayloadTooLarge(String),
    /// 429: the caller sent too many requests (or failed to sign in too often); it may
    /// try again after this many seconds, which `Retry-After` repeats.
    #[error("Too many requests; try again in {0} s")]
    TooManyRequests(u64),
    /// 503: a dependency, such as the database, is not answering.
    #[error("The service is temporarily unavailable; try again shortly")]
    Unavailable,
    /// 500: a fault on our side, already logged with its details.
    #[error("Something went wrong on our side; it has been logged")]
    Internal,
    /// The browser could not reach the server or read its answer.
    #[error("Could not reach the server: {0}")]
    Transport(String),
}

impl AppError {
    /// The HTTP status this error is answered with.
    pub fn status_code(&self) -> u16 {
        match self {
            AppError::BadRequest(_) => 400,
            AppError::Unauthorized => 401,
            AppError::Forbidden => 403,
            AppError::NotFound(_) => 404,
            AppError::MethodNotAllowed(_) => 405,
            AppError::Conflict(_) => 409,
            AppError::PayloadTooLarge(_) => 413,
            AppError::TooManyRequests(_) => 429,
            AppError::Unavailable => 503,
            AppError::Internal => 500,
            AppError::Transport(_) => 502,
        }
    }

    /// Sets the status of the response being built (a server function's answer or a
    /// rendered page) to this error's, so HTTP clients see 401, 404 … rather than 200 or a
    /// generic 500. Does nothing outside a request.
    #[cfg(feature = "ssr")]
    pub fn set_response_status(&self) {
        if let Some(response) = leptos::prelude::use_context::<leptos_axum::ResponseOptions>() {
            if let Ok(status) = axum::http::StatusCode::from_u16(self.status_code()) {
                response.set_status(status);
            }
        }
    }
}

impl AppError {
    /// Stable machine-readable code for JSON error bodies, e.g. `BAD_REQUEST`.
    pub fn code(&self) -> &'static str {
        match self {
            AppError::BadRequest(_) => "BAD_REQUEST",
            AppError::Unauthorized => "UNAUTHORIZED",
            AppError::Forbidden => "FORBIDDEN",
            AppError::NotFound(_) => "NOT_FOUND",
            AppError::MethodNotAllowed(_) => "METHOD_NOT_ALLOWED",
            AppError::Conflict(_) => "CONFLICT",
            AppError::PayloadTooLarge(_) => "PAYLOAD_TOO_LARGE",
            AppError::TooManyRequests(_) => "TOO_MANY_REQUESTS",
            AppError::Unavailable => "UNAVAILABLE",
            AppError::Internal => "INTERNAL",
            AppError::Transport(_) => "TRANSPORT",
        }
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonTextEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            ServerFnErrorErr::Args(message) | ServerFnErrorErr::MissingArg(message) => {
                AppError::BadRequest(message)
            }
            ServerFnErrorErr::Request(message)
            | ServerFnErrorErr::Deserialization(message)
            | ServerFnErrorErr::Response(message) => AppError::Transport(message),
            _ => AppError::Internal,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_error_maps_to_its_documented_status() {
        let cases = [
            (AppError::BadRequest("x".into()), 400),
            (AppError::Unauthorized, 401),
            (AppError::Forbidden, 403),
            (AppError::NotFound("Organization".into()), 404),
            (AppError::MethodNotAllowed("PATCH".into()), 405),
            (AppError::Conflict("x".into()), 409),
            (AppError::PayloadTooLarge("x".into()), 413),
            (AppError::TooManyRequests(3), 429),
            (AppError::Internal, 500),
            (AppError::Unavailable, 503),
        ];
        for (error, status) in cases {
            assert_eq!(error.status_code(), status, "{error:?}");
        }
    }

    #[test]
    fn bad_arguments_to_a_server_function_are_the_callers_fault() {
        let error = AppError::from_server_fn_error(ServerFnErrorErr::MissingArg("metric".into()));
        assert_eq!(error, AppError::BadRequest("metric".into()));
    }
}
