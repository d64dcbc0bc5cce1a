//! The page for unknown paths, answered with status 404.

use leptos::prelude::*;
use leptos_meta::Title;

/// "Page not found", with a way back.
#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    crate::server::server_fn::set_status(&crate::error::AppError::NotFound("Page".into()));
    view! {
        <Title text="Page not found · quotaboard"/>
        <section class="notice" role="alert">
            <h1>"Page not found"</h1>
            <p>"There is nothing at this address. " <a href="/usage">"Go to your usage"</a> "."</p>
        </section>
    }
}
