//! Error bodies in the shape each family of endpoints documents, and the JSON conventions
//! (ids, timestamps, amounts) the seed documents use.
//!
//! A handler returns `Result<_, ShapedError<S>>`; every `AppError` (bad credentials,
//! malformed input, a missing row, a dead database) converts into it with `?`, so no path
//! can answer in another endpoint's shape.

use std::{collections::BTreeMap, marker::PhantomData};

use axum::{
    http::{header, HeaderValue, StatusCode},
    response::IntoResponse,
    Json,
};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use utoipa::{
    openapi::{response::ResponseBuilder, Content, Ref, RefOr, Response},
    IntoParams, IntoResponses, PartialSchema, ToSchema,
};

use crate::error::AppError;
use crate::server::{
    access::principal::ApiPrincipal,
    db::scoped::{self, Scoped},
    state::AppState,
};

/// How values are written in answers (ids, instants, amounts): the same in every payload.
pub use crate::model::wire::{decimal, id, quantity, timestamp_millis, timestamp_seconds};

/// How one family of endpoints writes an error.
pub trait ErrorShape {
    /// The status and body for `error`.
    fn render(error: &AppError) -> (StatusCode, Value);
}

/// An error answered in shape `S`; built from any `AppError` with `?`.
#[derive(Debug)]
pub struct ShapedError<S> {
    pub error: AppError,
    shape: PhantomData<S>,
}

impl<S> From<AppError> for ShapedError<S> {
    fn from(error: AppError) -> Self {
        ShapedError {
            error,
            shape: PhantomData,
        }
    }
}

impl<S: ErrorShape> IntoResponse for ShapedError<S> {
    fn into_response(self) -> axum::response::Response {
        let (status, body) = S::render(&self.error);
        let mut response = (status, Json(body)).into_response();
        if status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        if let AppError::TooManyRequests(seconds) = self.error {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

fn status_of(error: &AppError) -> StatusCode {
    StatusCode::from_u16(error.status_code()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

/// `error` in the shape of the endpoint at `path`, for answers given before routing (rate
/// limits): seed 002's envelope, seed 003's named errors, else our own.
pub fn for_path(path: &str, error: AppError) -> axum::response::Response {
    if path == "/api/billing/usage" {
        ShapedError::<Envelope>::from(error).into_response()
    } else if path.starts_with("/organizations/") {
        ShapedError::<Named>::from(error).into_response()
    } else {
        ShapedError::<Standard>::from(error).into_response()
    }
}

/// quotaboard's own endpoints: `{"error": {"code": "BAD_REQUEST", "message": "…"}}`.
pub struct Standard;

impl ErrorShape for Standard {
    fn render(error: &AppError) -> (StatusCode, Value) {
        (
            status_of(error),
            json!({ "error": { "code": error.code(), "message": error.to_string() } }),
        )
    }
}

/// Seed 002 (`/api/billing/usage`): `{"success": false, "error": {"code", "message"}}`.
pub struct Envelope;

impl ErrorShape for Envelope {
    fn render(error: &AppError) -> (StatusCode, Value) {
        let (status, inner) = Standard::render(error);
        let mut body = json!({ "success": false });
        body["error"] = inner["error"].clone();
        (status, body)
    }
}

/// Seed 003 (`/organizations/{id}/usage`): `{"error": "ValidationError", "message": "…"}`,
/// with 422 rather than 400 for input that fails validation.
pub struct Named;

impl ErrorShape for Named {
    fn render(error: &AppError) -> (StatusCode, Value) {
        let (status, name, message) = match error {
            AppError::Unauthorized => (
                StatusCode::UNAUTHORIZED,
                "Unauthenticated",
                "Authentication is required and has failed or has not yet been provided."
                    .to_string(),
            ),
            AppError::Forbidden => (
                StatusCode::FORBIDDEN,
                "Forbidden",
                "Access to the requested resource is forbidden.".to_string(),
            ),
            AppError::NotFound(_) => (
                StatusCode::NOT_FOUND,
                "ResourceNotFound",
                "The requested resource could not be found.".to_string(),
            ),
            AppError::BadRequest(detail)
            | AppError::Conflict(detail)
            | AppError::PayloadTooLarge(detail) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "ValidationError",
                format!("Input data validation failed: {detail}"),
            ),
            AppError::TooManyRequests(_) => (
                StatusCode::TOO_MANY_REQUESTS,
                "TooManyRequests",
                error.to_string(),
            ),
            AppError::Unavailable => (
                StatusCode::SERVICE_UNAVAILABLE,
                "ServiceUnavailable",
                error.to_string(),
            ),
            AppError::MethodNotAllowed(_) => (
                StatusCode::METHOD_NOT_ALLOWED,
                "MethodNotAllowed",
                error.to_string(),
            ),
            AppError::Internal | AppError::Transport(_) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "InternalError",
                error.to_string(),
            ),
        };
        (status, json!({ "error": name, "message": message }))
    }
}

/// A path id: a string of digits, else 400 naming the parameter. Digits that name no
/// possible row (0, or too many for an id) are 404, as an id that was never used is.
pub fn parse_id(name: &str, text: &str) -> Result<i64, AppError> {
    let text = text.trim();
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(AppError::BadRequest(format!(
            "{name} must be an id, a string of digits (got {text:?})"
        )));
    }
    text.parse::<i64>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or_else(|| AppError::NotFound(format!("{name} {text}")))
}

/// What an id in a path looks like, for the OpenAPI document.
pub const ID_PATTERN: &str = "^[0-9]+$";

/// `?search=&limit=&offset=` of a list endpoint.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Part of a name to look for, ignoring case.
    pub search: Option<String>,
    /// Items per page, 1–100 (default 100).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 100)]
    pub limit: Option<String>,
    /// Items to skip (default 0).
    #[param(value_type = Option<u32>, maximum = 4294967295_u64)]
    pub offset: Option<String>,
}

/// Most items a list answers at once, and its default.
pub const MAX_PAGE: usize = 100;

/// The largest offset a list takes (the document's `uint32`).
pub const MAX_OFFSET: usize = u32::MAX as usize;

impl ListQuery {
    /// True when `texts` hold the search term (ignoring case), or there is none.
    pub fn matches<'a>(&self, texts: impl IntoIterator<Item = &'a str>) -> bool {
        let Some(term) = self
            .search
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
        else {
            return true;
        };
        let term = term.to_lowercase();
        texts
            .into_iter()
            .any(|text| text.to_lowercase().contains(&term))
    }

    /// `{total, items}`: `total` counts every item given, `items` holds the page `offset`
    /// (default 0) to `offset + limit` (1–100, default 100). 400 for a bad limit or offset.
    pub fn page<T>(&self, items: Vec<T>) -> Result<Page<T>, AppError> {
        let limit = bounded("limit", self.limit.as_deref(), MAX_PAGE, 1..=MAX_PAGE)?;
        let offset = bounded("offset", self.offset.as_deref(), 0, 0..=MAX_OFFSET)?;
        let total = items.len();
        let items = items.into_iter().skip(offset).take(limit).collect();
        Ok(Page { total, items })
    }
}

/// The organization's row of `T` with this id; 404 naming `what` when it has none (another
/// organization's row included).
pub async fn own<T: Scoped>(
    state: &AppState,
    principal: &ApiPrincipal,
    id: i64,
    what: &str,
) -> Result<T, AppError> {
    scoped::find(state.db.pool(), principal.organization_id, id)
        .await?
        .ok_or_else(|| AppError::NotFound(what.into()))
}

/// One page of a list: `total` counts every match, `items` holds the page. Documented as
/// an operation's answer with `responses(Page::<T>)`.
#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct Page<T> {
    pub total: usize,
    pub items: Vec<T>,
}

impl<T: ToSchema> IntoResponses for Page<T> {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        let page = ResponseBuilder::new()
            .description("One page of the list: how many match in all, and the page's items")
            .content("application/json", Content::new(Some(Page::<T>::schema())));
        BTreeMap::from([("200".to_string(), RefOr::T(page.build()))])
    }
}

/// A new resource, answered 201 with `T` as JSON. Documented with `responses(Created::<T>)`:
/// 201 with `T`, 400 for a body the operation refuses and 409 for one that clashes with
/// what the organization has (a name it has, or as many as it may have); the operation's
/// description says which.
pub struct Created<T>(pub T);

impl<T: Serialize> IntoResponse for Created<T> {
    fn into_response(self) -> axum::response::Response {
        (StatusCode::CREATED, Json(self.0)).into_response()
    }
}

impl<T: ToSchema> IntoResponses for Created<T> {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        let error = |description: &str| {
            let body = Ref::from_schema_name(ErrorBody::name());
            ResponseBuilder::new()
                .description(description)
                .content("application/json", Content::new(Some(body)))
        };
        let created = ResponseBuilder::new().description("Created").content(
            "application/json",
            Content::new(Some(Ref::from_schema_name(T::name()))),
        );
        BTreeMap::from([
            ("201", created),
            (
                "400",
                error("Refused (the operation's description says why)"),
            ),
            ("409", error("Clashes with what the organization has")),
        ])
        .into_iter()
        .map(|(status, response)| (status.to_string(), RefOr::T(response.build())))
        .collect()
    }
}

/// quotaboard's own error body.
#[derive(Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

/// What went wrong: a stable code such as `BAD_REQUEST`, and a sentence saying why.
#[derive(Serialize, ToSchema)]
pub struct ErrorDetail {
    #[schema(example = "BAD_REQUEST")]
    pub code: String,
    pub message: String,
}

/// Seed 002's error body: `success` is always false.
#[derive(Serialize, ToSchema)]
pub struct EnvelopeErrorBody {
    pub success: bool,
    pub error: ErrorDetail,
}

/// Seed 003's error body: `error` names the kind (`Unauthenticated`, `Forbidden`,
/// `ResourceNotFound`, `ValidationError`).
#[derive(Serialize, ToSchema)]
pub struct NamedErrorBody {
    #[schema(example = "ValidationError")]
    pub error: String,
    pub message: String,
}

/// An optional whole number within `range`; `default` when absent or empty.
pub fn bounded(
    name: &str,
    text: Option<&str>,
    default: usize,
    range: std::ops::RangeInclusive<usize>,
) -> Result<usize, AppError> {
    let Some(text) = text.map(str::trim).filter(|t| !t.is_empty()) else {
        return Ok(default);
    };
    text.parse::<usize>()
        .ok()
        .filter(|value| range.contains(value))
        .ok_or_else(|| {
            AppError::BadRequest(match range.end() {
                &usize::MAX => format!("{name} must be a whole number, 0 or more (got {text:?})"),
                end => format!(
                    "{name} must be a whole number from {} to {end} (got {text:?})",
                    range.start()
                ),
            })
        })
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, Utc};

    use super::*;

    #[test]
    fn amounts_are_plain_json_numbers() {
        let cases = [
            ("9", "9"),
            ("9.000", "9"),
            ("0.0005", "0.0005"),
            ("45.23", "45.23"),
            ("-1.5", "-1.5"),
        ];
        for (amount, json) in cases {
            let value = decimal(amount.parse().expect("decimal"));
            assert_eq!(value.to_string(), json, "{amount}");
        }
    }

    #[test]
    fn timestamps_follow_each_documents_format() {
        assert_eq!(timestamp_millis(1_735_732_800), "2025-01-01T12:00:00.000Z");
        let instant = DateTime::<Utc>::from_timestamp(1_704_067_200, 0).expect("instant");
        assert_eq!(timestamp_seconds(instant), "2024-01-01T00:00:00Z");
    }

    #[test]
    fn each_shape_writes_the_documented_error_body() {
        let error = AppError::BadRequest("startDate is missing".into());
        assert_eq!(
            Standard::render(&error),
            (
                StatusCode::BAD_REQUEST,
                json!({"error": {"code": "BAD_REQUEST", "message": "startDate is missing"}})
            )
        );
        assert_eq!(
            Envelope::render(&AppError::Unauthorized),
            (
                StatusCode::UNAUTHORIZED,
                json!({"success": false, "error": {"code": "UNAUTHORIZED", "message": "Authentication required"}})
            )
        );
        let (status, body) = Named::render(&error);
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(body["error"], "ValidationError");
        assert_eq!(
            Named::render(&AppError::NotFound("Organization".into())).1["error"],
            "ResourceNotFound"
        );
    }

    #[test]
    fn limit_and_offset_are_bounded_whole_numbers() {
        assert_eq!(bounded("limit", None, 20, 1..=100), Ok(20));
        assert_eq!(bounded("limit", Some("100"), 20, 1..=100), Ok(100));
        assert_eq!(bounded("offset", Some("7"), 0, 0..=usize::MAX), Ok(7));
        for bad in ["0", "101", "-1", "ten", "2.5"] {
            assert!(bounded("limit", Some(bad), 20, 1..=100).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_list_pages_after_counting() {
        let items: Vec<Value> = (0..5).map(Value::from).collect();
        let query = ListQuery {
            limit: Some("2".into()),
            offset: Some("3".into()),
            ..ListQuery::default()
        };
        assert_eq!(
            query.page(items.clone()),
            Ok(Page {
                total: 5,
                items: vec![json!(3), json!(4)]
            })
        );
        let all = ListQuery::default().page(items).expect("page");
        assert_eq!(all.items.len(), 5);
        let bad = ListQuery {
            limit: Some("101".into()),
            ..ListQuery::default()
        };
        assert!(bad.page(Vec::<Value>::new()).is_err());
    }
}
