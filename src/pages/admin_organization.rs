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
    let slug = params.with_untracked(|p| p.get("slug").unwrap_or_default());
    let usage = Resource::new(move || slug.clone(), get_organization_usage);
    view! {
        <Title text=format!("{} · quotaboard", t.admin_title)/>
        <p class="breadcrumb"><A href="/admin">{t.all_organizations}</A></p>
        <Loading resource=usage skeleton=Skeleton::Card loaded=move |organization| view! {
            <OrganizationView organization/>
        }/>
    }
}

#[component]
fn OrganizationView(organization: OrganizationUsage) -> impl IntoView {
    let locale = use_locale();
    let summary = organization.summary;
    let bars = summary
        .metrics
        .iter()
        .cloned()
        .map(|metric| view! { <li><UsageBar metric/></li> })
        .collect_view();
    view! {
        <h1 class="page-title">{organization.name}</h1>
        <p class="page-subtitle">{format::period(locale, &summary.period)}</p>
        <AssignForm
            organization=organization.slug
            licenses=organization.licenses
            current=organization.license_id
        />
        // Rendered again by the server once a license change was saved.
        <div id="organization-figures" data-live="">
            <CostCard plan=summary.plan cost=summary.estimated_cost/>
            <ul class="usage-bars">{bars}</ul>
            <LimitTable metrics=summary.metrics/>
        </div>
        <HistoryChart history=organization.history live=false/>
    }
}

/// The island: the license the organization is on, changed in place; the page's figures
/// follow once the change is saved.
#[island]
fn AssignForm(
    organization: String,
    licenses: Vec<(i64, String)>,
    current: Option<i64>,
) -> impl IntoView {
    let t = use_locale().strings();
    let assign = ServerAction::<AssignLicense>::new();
    #[cfg(feature = "hydrate")]
    Effect::new(move |handled: Option<usize>| {
        let version = assign.version().get();
        if handled.is_some_and(|handled| handled != version)
            && matches!(assign.value().get_untracked(), Some(Ok(())))
        {
            crate::components::live::announce(crate::components::live::REFRESH_EVENT);
        }
        version
    });
    let options = licenses
        .into_iter()
        .map(|(id, name)| {
            view! { <option value=id.to_string() selected=current == Some(id)>{name}</option> }
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
    view! {
        <ActionForm action=assign attr:class="form form--inline" attr:aria-label=t.assign_license>
            <input type="hidden" name="organization" value=organization/>
            <label for="assign-license">{t.license_title}</label>
            <select id="assign-license" name="license">{options}</select>
            <button type="submit" class="button">{t.assign_license}</button>
        </ActionForm>
        {assigned}
    }
}
