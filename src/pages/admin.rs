//! `/admin`: the operator's list of every organization, its plan and how close it is to its
//! limits; filter, "at risk" and sort kept in the URL. Anyone but a platform admin gets 403.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::{components::A, hooks::use_query_map};

use crate::{
    api::admin::{list_organizations, OrganizationOverview, ADMIN_SORTS, AT_RISK_PERCENT},
    components::{format, loading::Loading, sort_header::SortHeader},
    i18n::{fill, subscription_status, use_locale},
};

/// The list, loaded on the server.
#[component]
pub fn AdminPage() -> impl IntoView {
    let t = use_locale().strings();
    let query = use_query_map();
    let search = move || query.with(|q| q.get("q").unwrap_or_default());
    let at_risk = move || query.with(|q| q.get("risk").is_some_and(|v| v == "1"));
    let sort = move || query.with(|q| q.get("sort").unwrap_or_default());
    let organizations = Resource::new(
        move || (search(), at_risk(), sort()),
        |(search, at_risk, sort)| list_organizations(search, at_risk, sort),
    );
    view! {
        <Title text=format!("{} · quotaboard", t.admin_title)/>
        <h1 class="page-title">{t.admin_title}</h1>
        <div class="toolbar">
            <form method="get" action="/admin">
                <label for="organization-search">{t.search}</label>
                <input id="organization-search" type="search" name="q" value=search/>
                <label class="checkbox">
                    <input type="checkbox" name="risk" value="1" checked=at_risk/>
                    {fill(t.at_risk_filter, &[("percent", &AT_RISK_PERCENT.to_string())])}
                </label>
                <input type="hidden" name="sort" value=sort/>
                <button type="submit" class="button">{t.apply}</button>
            </form>
        </div>
        <Loading resource=organizations loaded=move |organizations| view! {
            <OrganizationTable organizations search=search() at_risk=at_risk() sort=sort()/>
        }/>
    }
}

#[component]
fn OrganizationTable(
    organizations: Vec<OrganizationOverview>,
    search: String,
    at_risk: bool,
    sort: String,
) -> impl IntoView {
    let locale = use_locale();
    let t = locale.strings();
    if organizations.is_empty() {
        return view! { <p class="empty">{t.no_organizations}</p> }.into_any();
    }
    let labels = [t.organization, t.usage_title, t.overage, t.estimated_cost];
    let mut rest = String::new();
    if !search.is_empty() {
        rest.push_str("&q=");
        rest.push_str(&crate::pages::query_encode(&search));
    }
    if at_risk {
        rest.push_str("&risk=1");
    }
    let headers = ADMIN_SORTS
        .iter()
        .zip(labels)
        .map(|(field, label)| {
            view! { <SortHeader field label sort=sort.clone() default="-usage" rest=rest.clone()/> }
        })
        .collect_view();
    let rows = organizations
        .into_iter()
        .map(|o| {
            let band = o.band.as_str();
            let usage = o
                .highest_percent
                .map_or_else(|| t.over_limit.to_string(), |p| format::percent(locale, p));
            view! {
                <tr data-organization=o.slug.clone() data-band=band>
                    <th scope="row">
                        <A href=format!("/admin/organizations/{}", o.slug)>{o.name}</A>
                        {o.at_risk.then(|| view! { <span class="badge badge--risk">{t.at_risk}</span> })}
                    </th>
                    <td class=format!("num band-{band}")>
                        <span class="usage-bar__percent">{usage}</span>
                    </td>
                    <td class="num">{format::money(locale, o.overage, &o.currency)}</td>
                    <td class="num">{format::money(locale, o.estimated_cost, &o.currency)}</td>
                    <td>{o.plan.unwrap_or_else(|| "—".into())}</td>
                    <td>{subscription_status(locale, o.status.as_deref())}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <table class="statements">
            <thead>
                <tr>
                    {headers}
                    <th scope="col">{t.plan}</th>
                    <th scope="col">{t.status}</th>
                </tr>
            </thead>
            <tbody>{rows}</tbody>
        </table>
    }
    .into_any()
}
