//! `/settings/embedding`: the origins whose pages may frame the organization's usage view
//! (admins add and remove them), and its portal sessions (admins revoke them). Plain forms
//! answered with a redirect back here (`server::http::embedding`): no WASM on this page.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::{
    api::embedding::{get_embedding_settings, EmbeddingSettings, OriginView, PortalSessionView},
    components::{data_table::DataTable, error_template::ErrorTemplate, format},
    i18n::use_locale,
    model::embed::{ADD_ORIGIN, REMOVE_ORIGIN, REVOKE_SESSION},
    pages::{is_admin, SessionResource},
};

/// Admins see the forms; members see the lists. `?error=` says why the last change failed.
#[component]
pub fn EmbeddingPage() -> impl IntoView {
    let t = use_locale().strings();
    let session = use_context::<SessionResource>();
    let settings = Resource::new(|| (), |()| get_embedding_settings());
    let query = use_query_map();
    let error = move || {
        query.with(|q| match q.get("error").as_deref() {
            Some("invalid") => Some(t.origin_invalid),
            Some("conflict") => Some(t.origin_conflict),
            Some(_) => Some(t.change_failed),
            None => None,
        })
    };
    view! {
        <Title text=format!("{} · quotaboard", t.embedding_title)/>
        <h1 class="page-title">{t.embedding_title}</h1>
        <p class="page-subtitle">{t.embedding_intro}</p>
        {move || error().map(|message| view! { <p class="form-error" role="alert">{message}</p> })}
        <Transition fallback=|| view! { <div class="skeleton skeleton--table" aria-busy="true"></div> }>
            <ErrorBoundary fallback=move |errors| view! { <ErrorTemplate errors/> }>
                {move || Suspend::new(async move {
                    let admin = is_admin(session).await;
                    settings.await.map(|settings| view! { <EmbeddingLists settings admin/> })
                })}
            </ErrorBoundary>
        </Transition>
    }
}

#[component]
fn EmbeddingLists(settings: EmbeddingSettings, admin: bool) -> impl IntoView {
    let t = use_locale().strings();
    let add = admin.then(|| {
        view! {
            <form method="post" action=ADD_ORIGIN class="form form--inline" aria-label=t.add_origin>
                <label for="origin">{t.origin}</label>
                <input
                    id="origin"
                    name="origin"
                    type="url"
                    required
                    maxlength="300"
                    placeholder="https://app.example.com"
                />
                <button type="submit" class="button">{t.add_origin}</button>
            </form>
        }
    });
    view! {
        <section class="card" aria-labelledby="origins-title">
            <h2 id="origins-title">{t.origins_title}</h2>
            {add}
            <OriginTable origins=settings.origins admin/>
        </section>
        <section class="card" aria-labelledby="portal-sessions-title">
            <h2 id="portal-sessions-title">{t.portal_sessions_title}</h2>
            <SessionTable sessions=settings.sessions now=settings.now admin/>
        </section>
    }
}

#[component]
fn OriginTable(origins: Vec<OriginView>, admin: bool) -> impl IntoView {
    let locale = use_locale();
    let t = locale.strings();
    if origins.is_empty() {
        return view! { <p class="empty">{t.no_origins}</p> }.into_any();
    }
    let rows = origins
        .into_iter()
        .map(|origin| {
            let remove = admin.then(|| {
                view! {
                    <form method="post" action=REMOVE_ORIGIN>
                        <input type="hidden" name="id" value=origin.id/>
                        <button
                            type="submit"
                            class="button button--danger"
                            aria-label=format!("{} {}", t.remove, origin.origin)
                        >
                            {t.remove}
                        </button>
                    </form>
                }
            });
            let shown = origin.origin.clone();
            view! {
                <tr data-origin=origin.origin>
                    <th scope="row"><code>{shown}</code></th>
                    <td>{format::date_time(locale, origin.created_at)}</td>
                    <td>{remove}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <DataTable columns=vec![t.origin, t.created] action=t.remove>{rows}</DataTable>
    }
    .into_any()
}

#[component]
fn SessionTable(sessions: Vec<PortalSessionView>, now: i64, admin: bool) -> impl IntoView {
    let locale = use_locale();
    let t = locale.strings();
    if sessions.is_empty() {
        return view! { <p class="empty">{t.no_portal_sessions}</p> }.into_any();
    }
    let rows = sessions
        .into_iter()
        .map(|session| {
            let live = session.revoked_at.is_none() && session.expires_at > now;
            let status = match (session.revoked_at, live) {
                (Some(_), _) => t.revoked,
                (None, false) => t.expired,
                (None, true) => t.active,
            };
            let metrics = session
                .metrics
                .map_or_else(|| t.all_metrics.to_string(), |codes| codes.join(", "));
            let revoke = (admin && live).then(|| {
                view! {
                    <form method="post" action=REVOKE_SESSION>
                        <input type="hidden" name="id" value=session.id/>
                        <button
                            type="submit"
                            class="button button--danger"
                            aria-label=format!("{} {}", t.revoke, session.prefix)
                        >
                            {t.revoke}
                        </button>
                    </form>
                }
            });
            let prefix = session.prefix.clone();
            view! {
                <tr data-session=session.prefix>
                    <th scope="row"><code>{prefix}</code></th>
                    <td>{metrics}</td>
                    <td>{format::date_time(locale, session.created_at)}</td>
                    <td>{format::date_time(locale, session.expires_at)}</td>
                    <td>{session.launched_at.map(|at| format::date_time(locale, at))}</td>
                    <td><span class="badge" class:badge--muted=!live>{status}</span></td>
                    <td>{revoke}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <DataTable
            columns=vec![t.prefix, t.metrics, t.created, t.session_expires, t.session_opened, t.status]
            action=t.revoke
        >
            {rows}
        </DataTable>
    }
    .into_any()
}
