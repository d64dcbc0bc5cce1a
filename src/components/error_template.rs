//! `<ErrorTemplate/>`: what a page shows when loading it failed; sets the HTTP status on SSR.

use leptos::prelude::*;

use crate::error::AppError;

/// Lists the errors in plain words. During server rendering the response takes the status of
/// the first error (500 for errors that are not an [`AppError`]).
#[component]
pub fn ErrorTemplate(errors: ArcRwSignal<Errors>) -> impl IntoView {
    let errors: Vec<AppError> = errors
        .get_untracked()
        .into_iter()
        .map(|(_, error)| {
            (**error)
                .downcast_ref::<AppError>()
                .cloned()
                .unwrap_or(AppError::Internal)
        })
        .collect();
    #[cfg(feature = "ssr")]
    if let Some(first) = errors.first() {
        crate::server::server_fn::set_status(first);
    }
    let title = match errors.first() {
        Some(AppError::NotFound(_)) => "Nothing to show yet",
        Some(AppError::Unauthorized | AppError::Forbidden) => "You cannot see this page",
        _ => "This page could not be loaded",
    };
    view! {
        <section class="notice notice--error" role="alert">
            <h1>{title}</h1>
            <ul>
                {errors
                    .into_iter()
                    .map(|error| view! { <li>{error.to_string()}</li> })
                    .collect_view()}
            </ul>
        </section>
    }
}
