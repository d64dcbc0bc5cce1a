//! `/admin/organizations/:slug`: one organization as the operator sees it: its usage with the
//! customer's own bars, cost card, limit table and history, and the license it is on.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::{components::A, hooks::use_params_map};

use crate::{
    api::{
        admin::{get_organization_usage, OrganizationUsage},
        licenses::AssignLicense,
    },
    components::{
        cost_card::CostCard,
        error_template::FormError,
        format,
        history_chart::HistoryChart,
        limit_table::LimitTable,
        loading::{Loading, Skeleton},
        progress_bar::UsageBar,
    },
    i18n::use_locale,
};

/// The organization named in the path; 404 when there is none, 403 for anyone but a
/// platform admin (checked by the server function).
#[component]
pub fn AdminOrganizationPage() -> impl IntoView {
    let t = use_locale().strings();
    let params = use_params_map();
    let slug = move || params.with(|p| p.get("slug").unwrap_or_default());
    let assign = ServerAction::<AssignLicense>::new();
    let usage = Resource::new(
        move || (slug(), assign.version().get()),
        |(slug, _)| get_organization_usage(slug),
    );
    view! {
        <Title text=format!("{} · quotaboard", t.admin_title)/>
        <p class="breadcrumb"><A href="/admin">{t.all_organizations}</A></p>
        <Loading resource=usage skeleton=Skeleton::Card loaded=move |organization| view! {
            <OrganizationView organization assign/>
        }/>
    }
}

#[component]
fn OrganizationView(
    organization: OrganizationUsage,
    assign: ServerAction<AssignLicense>,
) -> impl IntoView {
    let locale = use_locale();
    let t = locale.strings();
    let summary = organization.summary;
    let options = organization
        .licenses
        .iter()
        .map(|(id, name)| {
            view! {
                <option value=id.to_string() selected=organization.license_id == Some(*id)>
                    {name.clone()}
                </option>
            }
        })
        .collect_view();
    let assigned = move || {
        assign.value().get().map(|result| match result {
            Ok(()) => {
                view! { <p class="form-ok" role="status">{t.license_assigned}</p> }.into_any()
            }
            Err(error) => view! { <FormError error/> }.into_any(),
        })
    };
    let bars = summary
        .metrics
        .iter()
        .cloned()
        .map(|metric| view! { <li><UsageBar metric/></li> })
        .collect_view();
    view! {
        <h1 class="page-title">{organization.name}</h1>
        <p class="page-subtitle">{format::period(locale, &summary.period)}</p>
        <ActionForm action=assign attr:class="form form--inline" attr:aria-label=t.assign_license>
            <input type="hidden" name="organization" value=organization.slug/>
            <label for="assign-license">{t.license_title}</label>
            <select id="assign-license" name="license">{options}</select>
            <button type="submit" class="button">{t.assign_license}</button>
        </ActionForm>
        {assigned}
        <CostCard plan=summary.plan cost=summary.estimated_cost/>
        <ul class="usage-bars">{bars}</ul>
        <LimitTable metrics=summary.metrics/>
        <HistoryChart history=organization.history/>
    }
    .into_any()
}
