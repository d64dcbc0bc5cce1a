//! The built site's files, the not-found page, the embed view and server functions, mounted
//! so that each request keeps to a reactive owner of its own.
//!
//! Rendering a page leaves the page's root owner current on its worker thread
//! (`Owner::new_root`), and Leptos's own file and server-function handlers make their owner a
//! child of the thread's current one (`Owner::new`). A file served next on that thread took
//! the page's response headers, its Content-Security-Policy among them, so the page arrived
//! allowing no script and never hydrated; a server function saw the page's contexts and was
//! disposed with it.

use std::{collections::HashSet, future::Future, sync::Arc};

use axum::{
    body::Body,
    extract::{Request, State},
    http::{Method, StatusCode},
    middleware::Next,
    response::{IntoResponse, Response},
};
use leptos::{prelude::provide_context, reactive::owner::Owner};
use tower::ServiceExt;
use tower_http::services::ServeDir;

use crate::app::{embed_shell, shell};

use crate::server::{
    http::{embed, headers::FrameAncestors},
    state::AppState,
};

/// A file of the built site for a read (a precompressed copy to a browser that accepts it),
/// else the app's not-found page with status 404. Nothing here borrows another request's
/// reactive owner: files are served without one, and the page renders under a root of its own.
pub async fn file_or_not_found(State(state): State<AppState>, request: Request) -> Response {
    if matches!(*request.method(), Method::GET | Method::HEAD) {
        let mut probe = Request::new(Body::empty());
        *probe.method_mut() = request.method().clone();
        *probe.uri_mut() = request.uri().clone();
        *probe.headers_mut() = request.headers().clone();
        let files = ServeDir::new(&*state.leptos_options.site_root)
            .precompressed_br()
            .precompressed_gzip()
            .append_index_html_on_directories(false);
        let Ok(response) = files.oneshot(probe).await;
        if response.status() != StatusCode::NOT_FOUND {
            return response.into_response();
        }
    }
    let options = state.leptos_options.clone();
    let render = leptos_axum::render_app_async_with_context(
        move || provide_context(state.clone()),
        move || shell(&options),
    );
    let mut response = render(request).await;
    if response.status() == StatusCode::OK {
        *response.status_mut() = StatusCode::NOT_FOUND;
    }
    response
}

/// `GET /embed/usage`: a portal session's usage view ([`embed::view_of`]), rendered under
/// a root owner of its own with the origins that may frame it.
pub async fn embed_usage(State(state): State<AppState>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let (view, ancestors) = match embed::view_of(&state, &parts).await {
        Ok(opened) => opened,
        Err(error) => return error.into_response(),
    };
    let request = Request::from_parts(parts, body);
    let options = state.leptos_options.clone();
    let render = leptos_axum::render_app_async_with_context(
        move || {
            provide_context(state.clone());
            provide_context(view.clone());
            provide_context(FrameAncestors(ancestors.clone()));
        },
        move || embed_shell(&options),
    );
    render(request).await
}

/// The paths of the app's server functions.
pub fn server_function_paths() -> Arc<HashSet<&'static str>> {
    Arc::new(
        leptos::server_fn::axum::server_fn_paths()
            .map(|(path, _)| path)
            .collect(),
    )
}

/// Runs a server function's handler with no current owner at each poll, so the owner it
/// makes is a root of its own rather than a child of a page rendered on the same thread.
pub async fn server_function_owns_its_root(
    State(paths): State<Arc<HashSet<&'static str>>>,
    request: Request,
    next: Next,
) -> Response {
    if !paths.contains(request.uri().path()) {
        return next.run(request).await;
    }
    let mut response = std::pin::pin!(next.run(request));
    std::future::poll_fn(|cx| {
        if let Some(owner) = Owner::current() {
            owner.unset();
        }
        response.as_mut().poll(cx)
    })
    .await
}
