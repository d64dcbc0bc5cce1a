//! `/admin/audit`: who changed what and when, from what to what; filters kept in the URL.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::{
    api::audit::{list_audit, AuditEntry, AUDIT_ENTITIES},
    components::{data_table::DataTable, format, loading::Loading},
    i18n::{use_locale, Strings},
};

/// The log, newest first, filtered by kind, text and dates.
#[component]
pub fn AdminAuditPage() -> impl IntoView {
    let t = use_locale().strings();
    let query = use_query_map();
    let get = move |name: &'static str| move || query.with(|q| q.get(name).unwrap_or_default());
    let (entity, search, from, to) = (get("entity"), get("q"), get("from"), get("to"));
    let entries = Resource::new(
        move || (entity(), search(), from(), to()),
        |(entity, search, from, to)| list_audit(entity, search, from, to),
    );
    let options = move || {
        std::iter::once(("", t.audit_everything))
            .chain(AUDIT_ENTITIES.iter().map(|e| (*e, entity_name(t, e))))
            .map(|(value, label)| {
                view! { <option value=value selected=entity() == value>{label}</option> }
            })
            .collect_view()
    };
    view! {
        <Title text=format!("{} · quotaboard", t.audit_title)/>
        <h1 class="page-title">{t.audit_title}</h1>
        <div class="toolbar">
            <form method="get" action="/admin/audit">
                <label for="audit-entity">{t.audit_what}</label>
                <select id="audit-entity" name="entity">{options}</select>
                <label for="audit-search">{t.search}</label>
                <input id="audit-search" type="search" name="q" value=search/>
                <label for="audit-from">{t.from}</label>
                <input id="audit-from" type="date" name="from" value=from/>
                <label for="audit-to">{t.to}</label>
                <input id="audit-to" type="date" name="to" value=to/>
                <button type="submit" class="button">{t.apply}</button>
            </form>
        </div>
        <Loading resource=entries loaded=move |entries| view! { <AuditTable entries/> }/>
    }
}

#[component]
fn AuditTable(entries: Vec<AuditEntry>) -> impl IntoView {
    let locale = use_locale();
    let t = locale.strings();
    if entries.is_empty() {
        return view! { <p class="empty">{t.no_audit}</p> }.into_any();
    }
    let rows = entries
        .into_iter()
        .map(|entry| {
            let changes = entry
                .changes
                .into_iter()
                .map(|(field, before, after)| {
                    view! {
                        <li>
                            <code>{field}</code>": "
                            {before.map(|b| view! { <del>{b}</del>" → " })}
                            {after.map(|a| view! { <ins>{a}</ins> })}
                        </li>
                    }
                })
                .collect_view();
            view! {
                <tr data-entity=entry.entity.clone() data-action=entry.action.clone()>
                    <td>{format::date_time(locale, entry.occurred_at)}</td>
                    <td>{entry.actor}</td>
                    <td>{entry.organization.unwrap_or_else(|| "—".into())}</td>
                    <th scope="row">{entity_name(t, &entry.entity)}": "{entry.label}</th>
                    <td>{action_name(t, &entry.action)}</td>
                    <td><ul class="audit-changes">{changes}</ul></td>
                </tr>
            }
        })
        .collect_view();
    view! {
        // Focusable, so a keyboard can scroll it when it is wider than the screen.
        <DataTable
            columns=vec![t.audit_when, t.audit_who, t.organization, t.audit_what, t.audit_action, t.audit_change]
            attr:class="statements audit"
            attr:tabindex="0"
            attr:aria-label=t.audit_title
        >
            {rows}
        </DataTable>
    }
    .into_any()
}

fn entity_name(t: &'static Strings, entity: &str) -> &'static str {
    match entity {
        "license" => t.entity_license,
        "subscription" => t.entity_subscription,
        "api_key" => t.entity_api_key,
        "webhook" => t.entity_webhook,
        "membership" => t.entity_membership,
        "user" => t.entity_user,
        "portal_session" => t.entity_portal_session,
        "embed_origin" => t.entity_embed_origin,
        _ => t.audit_everything,
    }
}

fn action_name(t: &'static Strings, action: &str) -> &'static str {
    match action {
        "created" => t.action_created,
        "assigned" => t.action_assigned,
        "revoked" => t.action_revoked,
        _ => t.action_updated,
    }
}
