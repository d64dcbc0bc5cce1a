//! `<ErrorTemplate/>`: what a page shows when loading it failed; sets the HTTP status on SSR.

use leptos::prelude::*;

use crate::{
    error::AppError,
    i18n::{error_text, use_locale},
};

/// Lists the errors in plain words, with "Try again" (the same address, loaded again) and a
/// way back to sign-in when the session ended. During server rendering the response takes
/// the status of the first error (500 for errors that are not an [`AppError`]).
#[component]
pub fn ErrorTemplate(errors: ArcRwSignal<Errors>) -> impl IntoView {
    let locale = use_locale();
    let t = locale.strings();
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
        first.set_response_status();
    }
    let signed_out = errors.contains(&AppError::Unauthorized);
    let title = match errors.first() {
        Some(AppError::NotFound(_)) => t.nothing_title,
        Some(AppError::Unauthorized) => t.session_ended,
        Some(AppError::Forbidden) => t.forbidden_title,
        _ => t.error_title,
    };
    view! {
        <section class="notice notice--error" role="alert">
            <h2>{title}</h2>
            <ul>
                {errors
                    .into_iter()
                    .map(|error| view! { <li>{error_text(locale, &error)}</li> })
                    .collect_view()}
            </ul>
            {signed_out.then(|| view! { <p><a href="/login">{t.sign_in_again}</a></p> })}
            // An empty `href` is the page's own address, query included.
            <p><a class="button" href="">{t.retry}</a></p>
        </section>
    }
}

/// Why a form's action failed, announced to screen readers.
#[component]
pub fn FormError(error: AppError) -> impl IntoView {
    let text = error_text(use_locale(), &error);
    view! { <p class="form-error" role="alert">{text}</p> }
}
