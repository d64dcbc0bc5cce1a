//! The HTML shell, the root `<App/>` and its routes.

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Title};
use leptos_router::{
    components::{Redirect, Route, Router, Routes, A},
    path, SsrMode,
};

use crate::pages::{not_found::NotFound, usage::UsagePage};

/// The document around the app, rendered only on the server.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    // Built from the options, so LEPTOS_SITE_PKG_DIR / LEPTOS_OUTPUT_NAME move it too.
    let stylesheet = format!("/{}/{}.css", options.site_pkg_dir, options.output_name);
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <meta name="color-scheme" content="light"/>
                <link rel="icon" href="/favicon.svg" type="image/svg+xml"/>
                <link rel="stylesheet" id="leptos" href=stylesheet/>
                <AutoReload options=options.clone()/>
                <HydrationScripts options/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

/// The application: navigation and one page per route.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        <Title text="quotaboard"/>
        <Router>
            <header class="topbar">
                <a class="brand" href="/usage">"quotaboard"</a>
                <nav aria-label="Main">
                    <A href="/usage">"Usage"</A>
                </nav>
            </header>
            <main id="main">
                <Routes fallback=NotFound>
                    <Route path=path!("/") view=|| view! { <Redirect path="/usage"/> } ssr=SsrMode::Async/>
                    <Route path=path!("/usage") view=UsagePage ssr=SsrMode::Async/>
                </Routes>
            </main>
        </Router>
    }
}
