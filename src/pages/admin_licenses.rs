//! `/admin/licenses` and `/admin/licenses/:id` (`new` for a new one): the operator's
//! catalogue of licenses and the form that creates or edits one. Saving over a newer
//! version is refused and keeps what was typed.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::{components::A, hooks::use_params_map};

use crate::{
    api::licenses::{get_license_editor, list_licenses, SaveLicense},
    components::{
        data_table::DataTable,
        error_template::FormError,
        format,
        loading::{Loading, Skeleton},
    },
    error::AppError,
    i18n::{fill, use_locale},
    model::licenses::{LicenseEditor, LicenseOverview},
};

/// Every license, by name, with a link to edit each and one to make a new one.
#[component]
pub fn AdminLicensesPage() -> impl IntoView {
    let t = use_locale().strings();
    let licenses = Resource::new(|| (), |()| list_licenses());
    view! {
        <Title text=format!("{} · quotaboard", t.licenses_title)/>
        <h1 class="page-title">{t.licenses_title}</h1>
        <div class="toolbar">
            <A href="/admin/licenses/new" attr:class="button">{t.new_license}</A>
        </div>
        <Loading resource=licenses loaded=move |licenses| view! { <LicenseTable licenses/> }/>
    }
}

#[component]
fn LicenseTable(licenses: Vec<LicenseOverview>) -> impl IntoView {
    let locale = use_locale();
    let t = locale.strings();
    if licenses.is_empty() {
        return view! { <p class="empty">{t.no_licenses}</p> }.into_any();
    }
    let rows = licenses
        .into_iter()
        .map(|license| {
            let name = license.name.clone();
            view! {
                <tr data-license=name>
                    <th scope="row">
                        <A href=format!("/admin/licenses/{}", license.id)>{license.name}</A>
                        {license.is_default.then(|| view! { <span class="badge">{t.default_badge}</span> })}
                    </th>
                    <td class="num">{format::money(locale, license.price, &license.currency)}</td>
                    <td class="num">{license.resources}</td>
                    <td class="num">{license.organizations}</td>
                    <td class="num">{license.version}</td>
                    <td>{format::date_time(locale, license.updated_at)}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <DataTable
            columns=vec![t.name, t.price, t.resources, t.admin_title, t.version, t.updated]
            attr:class="statements"
        >
            {rows}
        </DataTable>
    }
    .into_any()
}

/// The license form (`new`: an empty one), loaded on the server; 404 for an id that is no
/// license.
#[component]
pub fn LicenseEditPage() -> impl IntoView {
    let t = use_locale().strings();
    let params = use_params_map();
    let id = params.with_untracked(|p| p.get("id").unwrap_or_default());
    let editor = Resource::new(move || id.clone(), load_editor);
    view! {
        <Title text=format!("{} · quotaboard", t.licenses_title)/>
        <p class="breadcrumb"><A href="/admin/licenses">{t.all_licenses}</A></p>
        <Loading resource=editor skeleton=Skeleton::Card loaded=move |editor| view! {
            <LicenseEditor editor/>
        }/>
    }
}

/// The editor of the license at `/admin/licenses/:id`.
async fn load_editor(id: String) -> Result<LicenseEditor, AppError> {
    match id.as_str() {
        "new" => get_license_editor(None).await,
        digits => match digits.parse::<i64>() {
            Ok(id) => get_license_editor(Some(id)).await,
            Err(_) => Err(AppError::NotFound("License".into())),
        },
    }
}

/// The island: the form, which says in place whether the save worked. Only a successful
/// save reloads the form (with its new version), so a refused one (bad field, conflict)
/// leaves every typed value in place; a new license then moves to its own address,
/// replacing `/new` in the history so that Back does not return to a form already saved.
#[island]
fn LicenseEditor(editor: LicenseEditor) -> impl IntoView {
    let t = use_locale().strings();
    let save = ServerAction::<SaveLicense>::new();
    let editor = RwSignal::new(editor);
    Effect::new(move |handled: Option<usize>| {
        let version = save.version().get();
        if handled.is_some_and(|handled| handled != version) {
            if let Some(Ok(license)) = save.value().get_untracked() {
                if editor.with_untracked(|e| e.form.id.is_none()) {
                    let _ = window()
                        .location()
                        .replace(&format!("/admin/licenses/{}", license.id));
                } else {
                    leptos::task::spawn_local(async move {
                        if let Ok(fresh) = get_license_editor(Some(license.id)).await {
                            editor.set(fresh);
                        }
                    });
                }
            }
        }
        version
    });
    let result = move || {
        save.value().get().map(|result| match result {
            Ok(license) => view! {
                <p class="form-ok" role="status">
                    {fill(t.license_saved, &[("version", &license.version.to_string())])}
                </p>
            }
            .into_any(),
            Err(error) => view! { <FormError error/> }.into_any(),
        })
    };
    view! {
        {move || view! { <LicenseFormView editor=editor.get() save/> }}
        {result}
    }
}

#[component]
fn LicenseFormView(editor: LicenseEditor, save: ServerAction<SaveLicense>) -> impl IntoView {
    let t = use_locale().strings();
    let form = editor.form;
    let title = match form.id {
        Some(_) => fill(t.edit_license, &[("name", &form.name)]),
        None => t.new_license.to_string(),
    };
    let rows = form
        .resources
        .iter()
        .enumerate()
        .map(|(index, row)| {
            let metric = editor
                .metrics
                .iter()
                .find(|m| m.code == row.metric)
                .map_or_else(|| row.metric.clone(), |m| format!("{} ({})", m.name, m.unit));
            let field = move |name: &str| format!("form[resources][{index}][{name}]");
            let label = |column: &str| format!("{metric} – {column}");
            view! {
                <tr data-metric=row.metric.clone()>
                    <th scope="row">
                        {metric.clone()}
                        <input type="hidden" name=field("metric") value=row.metric.clone()/>
                    </th>
                    <td>
                        <input type="checkbox" name=field("in_plan") value="true" checked=row.in_plan
                            aria-label=label(t.in_plan)/>
                    </td>
                    <td>
                        <input name=field("amount") inputmode="decimal" value=row.amount.clone()
                            aria-label=label(t.included_amount) title=t.unlimited_hint/>
                    </td>
                    <td>
                        <input type="checkbox" name=field("hard_limit") value="true" checked=row.hard_limit
                            aria-label=label(t.hard_limit_label)/>
                    </td>
                    <td>
                        <input name=field("limit") inputmode="decimal" value=row.limit.clone()
                            aria-label=label(t.limit) title=t.limit_hint/>
                    </td>
                    <td>
                        <input type="checkbox" name=field("refuse_events") value="true"
                            checked=row.refuse_events aria-label=label(t.refuse_events_label)
                            title=t.refuse_events_hint/>
                    </td>
                    <td>
                        <input name=field("overage") value=row.overage.clone()
                            aria-label=label(t.overage_price) title=t.overage_hint/>
                    </td>
                </tr>
            }
        })
        .collect_view();
    let used_by = (!editor.organizations.is_empty()).then(|| {
        view! {
            <p class="page-subtitle">
                {fill(t.license_used_by, &[("names", &editor.organizations.join(", "))])}
            </p>
        }
    });
    view! {
        <h1 class="page-title">{title}</h1>
        {used_by}
        <ActionForm action=save attr:class="form license-form" attr:aria-label=t.licenses_title>
            {form.id.map(|id| view! { <input type="hidden" name="form[id]" value=id/> })}
            <input type="hidden" name="form[version]" value=form.version/>
            <div class="license-form__fields">
                <label for="license-name">{t.name}</label>
                <input id="license-name" name="form[name]" required maxlength="200" value=form.name/>
                <label for="license-price">{t.price}</label>
                <input id="license-price" name="form[price]" inputmode="decimal" required value=form.price/>
                <label for="license-currency">{t.currency}</label>
                <input id="license-currency" name="form[currency]" required minlength="3" maxlength="3" value=form.currency/>
                <label for="license-description">{t.description}</label>
                <textarea id="license-description" name="form[description]" rows="2" maxlength="2000">{form.description}</textarea>
            </div>
            <label class="checkbox">
                <input type="checkbox" name="form[is_default]" value="true" checked=form.is_default/>
                {t.default_license}
            </label>
            <h2>{t.resources}</h2>
            <p class="hint">
                {t.unlimited_hint}" · "{t.limit_hint}" · "{t.refuse_events_hint}" · "{t.overage_hint}
            </p>
            <DataTable
                columns=vec![t.history_metric, t.in_plan, t.included_amount, t.hard_limit_label, t.limit, t.refuse_events_label, t.overage_price]
                attr:class="statements resource-editor"
            >
                {rows}
            </DataTable>
            <label class="checkbox">
                <input type="checkbox" name="form[confirm_below_usage]" value="true"/>
                {t.confirm_below_usage}
            </label>
            <label class="checkbox">
                <input type="checkbox" name="form[confirm_limit_below_included]" value="true"/>
                {t.confirm_limit_below_included}
            </label>
            <button type="submit" class="button">{t.save}</button>
        </ActionForm>
    }
    .into_any()
}
