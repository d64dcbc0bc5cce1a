//! The HTML shell, the root `<App/>` with its navigation bar, and the routes.
//!
//! Pages are rendered on the server only; what changes in the browser is an `#[island]`
//! (the live status, the history chart, the forms that answer in place), hydrated by the
//! page's script (`app/page.js`), which also keeps navigation inside the page.

use leptos::prelude::*;
#[cfg(feature = "ssr")]
use leptos_meta::MetaTags;
use leptos_meta::{provide_meta_context, Title};
use leptos_router::{
    components::{Redirect, Route, Router, Routes, A},
    hooks::use_location,
    path, SsrMode,
};

use crate::{
    api::account::get_session,
    error::AppError,
    i18n::{self, Locale},
    model::account::SessionInfo,
    pages::{
        account::AccountPage,
        admin::AdminPage,
        admin_audit::AdminAuditPage,
        admin_licenses::{AdminLicensesPage, LicenseEditPage},
        admin_organization::AdminOrganizationPage,
        admin_users::AdminUsersPage,
        billing::BillingPage,
        embedding::EmbeddingPage,
        keys::KeysPage,
        license::LicensePage,
        login::LoginPage,
        not_found::NotFound,
        usage::UsagePage,
        webhooks::WebhooksPage,
    },
};

/// The document around the app, rendered only on the server.
#[cfg(feature = "ssr")]
pub fn shell(options: &LeptosOptions) -> impl IntoView {
    let files = crate::server::platform::assets::site_files(options);
    // `cargo leptos watch` sets LEPTOS_WATCH: only then do pages reload themselves.
    let reload = files
        .watched
        .then(|| view! { <AutoReload options=options.clone()/> });
    let locale = i18n::request_locale();
    crate::server::http::headers::set_page_policy();
    // Islands: the page is not hydrated as a whole, so the server writes no hydration
    // markers outside the islands.
    if let Some(context) = Owner::current_shared_context() {
        context.set_is_hydrating(false);
    }
    view! {
        <!DOCTYPE html>
        <html lang=locale.tag()>
            <head>
                <SiteHead files=files.clone() color_scheme="light dark"/>
                {reload}
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

/// The document around the embed view of a portal session (`server::http::embed` puts
/// its [`EmbedView`](crate::model::embed::EmbedView) and the origins that may frame it in
/// context): the view's language and theme, no navigation.
#[cfg(feature = "ssr")]
pub fn embed_shell(options: &LeptosOptions) -> impl IntoView {
    use crate::{model::embed::EmbedView, pages::embed_usage::EmbedUsagePage};

    let files = crate::server::platform::assets::site_files(options);
    let view = use_context::<EmbedView>();
    let locale = view
        .as_ref()
        .map_or_else(i18n::request_locale, |view| view.locale);
    let theme = view.map(|view| view.theme).unwrap_or_default();
    crate::server::http::headers::set_embed_policy();
    if let Some(context) = Owner::current_shared_context() {
        context.set_is_hydrating(false);
    }
    view! {
        <!DOCTYPE html>
        <html lang=locale.tag() data-theme=theme.as_str()>
            <head>
                <SiteHead files=files.clone() color_scheme=theme.color_scheme()/>
                <title>"quotaboard"</title>
            </head>
            <body class="embed-body">
                <EmbedUsagePage/>
            </body>
        </html>
    }
}

/// What every page's `<head>` holds: the stylesheet, the app's files, preloaded, and the
/// page's script with this response's nonce.
#[cfg(feature = "ssr")]
#[component]
fn SiteHead(
    files: crate::server::platform::assets::SiteFiles,
    color_scheme: &'static str,
) -> impl IntoView {
    let nonce = leptos::nonce::use_nonce();
    view! {
        <meta charset="utf-8"/>
        <meta name="viewport" content="width=device-width, initial-scale=1"/>
        <meta name="color-scheme" content=color_scheme/>
        <link rel="icon" href="/favicon.svg" type="image/svg+xml"/>
        <link rel="stylesheet" id="leptos" href=files.stylesheet.clone()/>
        // The charts bundle, loaded by the history chart when one is drawn.
        <meta name="charts-script" content=files.charts.clone()/>
        <link rel="modulepreload" href=files.app_js.clone() crossorigin=""/>
        <link
            rel="preload"
            href=files.app_wasm.clone()
            r#as="fetch"
            r#type="application/wasm"
            crossorigin=""
        />
        <script type="module" nonce=nonce>{files.hydration_script.clone()}</script>
    }
}

/// The application: navigation and one page per route. Every page but `/login` needs a
/// signed-in user; the server sends others to `/login` before rendering.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    let locale = i18n::request_locale();
    provide_context(locale);
    let t = locale.strings();
    let session = Resource::new(|| (), |()| get_session());
    provide_context(session);
    view! {
        <Title text="quotaboard"/>
        <Router>
            <a class="skip-link" href="#main">{t.skip_to_content}</a>
            <TopBar session/>
            // `data-hydrated` is set by the page's script once the islands have taken over.
            <main id="main" tabindex="-1">
                <Routes fallback=NotFound>
                    <Route path=path!("/") view=|| view! { <Redirect path="/usage"/> } ssr=SsrMode::Async/>
                    <Route path=path!("/login") view=LoginPage ssr=SsrMode::Async/>
                    <Route path=path!("/usage") view=UsagePage ssr=SsrMode::Async/>
                    <Route path=path!("/license") view=LicensePage ssr=SsrMode::Async/>
                    <Route path=path!("/billing") view=BillingPage ssr=SsrMode::Async/>
                    <Route path=path!("/settings/keys") view=KeysPage ssr=SsrMode::Async/>
                    <Route path=path!("/settings/webhooks") view=WebhooksPage ssr=SsrMode::Async/>
                    <Route path=path!("/settings/embedding") view=EmbeddingPage ssr=SsrMode::Async/>
                    <Route path=path!("/admin") view=AdminPage ssr=SsrMode::Async/>
                    <Route path=path!("/admin/organizations/:slug") view=AdminOrganizationPage ssr=SsrMode::Async/>
                    <Route path=path!("/admin/licenses") view=AdminLicensesPage ssr=SsrMode::Async/>
                    <Route path=path!("/admin/licenses/:id") view=LicenseEditPage ssr=SsrMode::Async/>
                    <Route path=path!("/admin/audit") view=AdminAuditPage ssr=SsrMode::Async/>
                    <Route path=path!("/admin/users") view=AdminUsersPage ssr=SsrMode::Async/>
                    <Route path=path!("/account") view=AccountPage ssr=SsrMode::Async/>
                </Routes>
            </main>
            <footer class="footer">
                <LanguageMenu locale/>
            </footer>
        </Router>
    }
}

/// Where the navigation's and the footer's forms bring the user back to. Read once, before
/// any suspense resolves: the router's memos read from suspended views resolving at once on
/// several threads panicked under load (`make soak`).
fn next_path() -> Signal<String> {
    Signal::stored(untrack(here()))
}

/// The current path and query: where a form brings the user back to.
fn here() -> impl Fn() -> String + Copy {
    let location = use_location();
    move || {
        let search = location.search.get();
        let path = location.pathname.get();
        if search.is_empty() {
            path
        } else {
            format!("{path}?{}", search.trim_start_matches('?'))
        }
    }
}

/// The brand, and the navigation once the session is known.
#[component]
fn TopBar(session: Resource<Result<Option<SessionInfo>, AppError>>) -> impl IntoView {
    let next = next_path();
    view! {
        <header class="topbar">
            <a class="brand" href="/usage">"quotaboard"</a>
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    session.await.ok().flatten().map(|session| view! { <NavBar session next/> })
                })}
            </Transition>
        </header>
    }
}

/// Links to every page, the organization switcher when the user belongs to several, the
/// user's email and a sign-out button.
#[component]
fn NavBar(session: SessionInfo, next: Signal<String>) -> impl IntoView {
    let t = i18n::use_strings();
    let current = session.organization.as_ref().map(|o| o.id);
    let switcher = (session.organizations.len() > 1).then(|| {
        let options = session
            .organizations
            .iter()
            .map(|o| {
                view! {
                    <option value=o.id.to_string() selected=Some(o.id) == current>
                        {o.name.clone()}
                    </option>
                }
            })
            .collect_view();
        view! {
            <form class="org-switcher" method="post" action="/switch-organization">
                <label for="organization">{t.organization}</label>
                <select id="organization" name="organization">{options}</select>
                <input type="hidden" name="next" value=next/>
                <button type="submit" class="button button--quiet">{t.switch}</button>
            </form>
        }
    });
    let organization = (session.organizations.len() <= 1)
        .then(|| session.organization.as_ref().map(|o| o.name.clone()))
        .flatten()
        .map(|name| view! { <span class="topbar__org">{name}</span> });
    let links = if session.role == "platform-admin" {
        view! {
            <A href="/admin" exact=true>{t.nav_admin}</A>
            <A href="/admin/licenses">{t.nav_licenses}</A>
            <A href="/admin/audit">{t.nav_audit}</A>
            <A href="/admin/users">{t.nav_users}</A>
        }
        .into_any()
    } else {
        view! {
            <A href="/usage">{t.nav_usage}</A>
            <A href="/license">{t.nav_license}</A>
            <A href="/billing">{t.nav_billing}</A>
            <A href="/settings/keys">{t.nav_keys}</A>
            <A href="/settings/webhooks">{t.nav_webhooks}</A>
            <A href="/settings/embedding">{t.nav_embedding}</A>
        }
        .into_any()
    };
    view! {
        <nav class="nav" aria-label=t.nav_label>{links}</nav>
        <div class="topbar__account">
            {organization}
            {switcher}
            <A href="/account" attr:class="topbar__user" attr:title=t.nav_account>{session.email}</A>
            <form method="post" action="/logout">
                <button type="submit" class="button button--quiet">{t.sign_out}</button>
            </form>
        </div>
    }
}

/// The language choice, kept in a cookie by the server.
#[component]
fn LanguageMenu(locale: Locale) -> impl IntoView {
    let t = locale.strings();
    let next = next_path();
    let options = Locale::ALL
        .into_iter()
        .map(|option| {
            view! {
                <option value=option.tag() selected=option == locale lang=option.tag()>
                    {option.name()}
                </option>
            }
        })
        .collect_view();
    view! {
        <form class="language" method="post" action="/language">
            <label for="language">{t.language}</label>
            <select id="language" name="language">{options}</select>
            <input type="hidden" name="next" value=next/>
            <button type="submit" class="button button--quiet">{t.apply}</button>
        </form>
    }
}
