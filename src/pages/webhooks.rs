//! `/settings/webhooks`: where threshold alerts go: add, edit (URL, description,
//! thresholds, enabled) and list.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::{
    api::settings::{list_webhooks, CreateWebhook, DeliveryView, UpdateWebhook, WebhookView},
    components::{
        copy_button::SecretOnce,
        data_table::DataTable,
        error_template::{ErrorTemplate, FormError},
        format,
    },
    i18n::{fill, use_locale},
    pages::{is_admin, reload_after, SessionResource},
};

/// Admins see the forms; members see the list. The server checks the role either way.
#[component]
pub fn WebhooksPage() -> impl IntoView {
    let t = use_locale().strings();
    let session = use_context::<SessionResource>();
    let hooks = Resource::new(|| (), |()| list_webhooks());
    view! {
        <Title text=format!("{} · quotaboard", t.webhooks_title)/>
        <h1 class="page-title">{t.webhooks_title}</h1>
        <p class="page-subtitle">{t.webhooks_intro}</p>
        <Transition fallback=|| view! { <div class="skeleton skeleton--table" aria-busy="true"></div> }>
            <ErrorBoundary fallback=move |errors| view! { <ErrorTemplate errors/> }>
                {move || Suspend::new(async move {
                    let admin = is_admin(session).await;
                    hooks.await.map(|hooks| view! { <WebhooksPanel hooks admin/> })
                })}
            </ErrorBoundary>
        </Transition>
    }
}

/// The island: the form that adds a webhook and shows its signing secret once, and the
/// list with an edit form per webhook, loaded again after each change.
#[island]
fn WebhooksPanel(hooks: Vec<WebhookView>, admin: bool) -> impl IntoView {
    let t = use_locale().strings();
    let create = ServerAction::<CreateWebhook>::new();
    let update = ServerAction::<UpdateWebhook>::new();
    let hooks = RwSignal::new(hooks);
    reload_after(
        hooks,
        move || (create.version().get(), update.version().get()),
        list_webhooks,
    );
    let created = move || {
        create.value().get().map(|result| match result {
            Ok(created) => view! {
                <SecretOnce label=t.secret_once id="new-webhook-secret" secret=created.secret/>
            }
            .into_any(),
            Err(error) => view! { <FormError error/> }.into_any(),
        })
    };
    let update_result = move || {
        update.value().get().map(|result| match result {
            Ok(_) => view! { <p class="form-ok" role="status">{t.saved}</p> }.into_any(),
            Err(error) => view! { <FormError error/> }.into_any(),
        })
    };
    view! {
        {admin.then(move || view! {
            <ActionForm action=create attr:class="form form--inline" attr:aria-label=t.create_webhook>
                <label for="hook-url">{t.url}</label>
                <input id="hook-url" name="url" type="url" required placeholder="https://"/>
                <label for="hook-description">{t.description}</label>
                <input id="hook-description" name="description" maxlength="500"/>
                <label for="hook-thresholds">{t.thresholds}</label>
                <input id="hook-thresholds" name="thresholds" inputmode="decimal" placeholder="75, 90, 100"/>
                <button type="submit" class="button">{t.create_webhook}</button>
            </ActionForm>
        })}
        {created}
        {update_result}
        {move || view! { <WebhookList hooks=hooks.get() update admin/> }}
    }
}

#[component]
fn WebhookList(
    hooks: Vec<WebhookView>,
    update: ServerAction<UpdateWebhook>,
    admin: bool,
) -> impl IntoView {
    let locale = use_locale();
    let t = locale.strings();
    if hooks.is_empty() {
        return view! { <p class="empty">{t.no_webhooks}</p> }.into_any();
    }
    let thresholds_text = move |hook: &WebhookView| {
        hook.thresholds
            .iter()
            .map(|p| format::decimal(locale, *p))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let rows = hooks
        .into_iter()
        .map(|hook| {
            let shown = thresholds_text(&hook);
            let editable = hook
                .thresholds
                .iter()
                .map(|p| p.normalize().to_string())
                .collect::<Vec<_>>()
                .join(", ");
            let editing = RwSignal::new(false);
            let id = hook.id;
            let edit_form = {
                let hook = hook.clone();
                let editable = editable.clone();
                move || {
                    let hook = hook.clone();
                    let editable = editable.clone();
                    let prefix = format!("hook-{id}");
                    view! {
                        <ActionForm action=update attr:class="form form--inline">
                            <input type="hidden" name="id" value=id/>
                            <label for=format!("{prefix}-url")>{t.url}</label>
                            <input id=format!("{prefix}-url") name="url" type="url" required value=hook.url/>
                            <label for=format!("{prefix}-description")>{t.description}</label>
                            <input id=format!("{prefix}-description") name="description" value=hook.description/>
                            <label for=format!("{prefix}-thresholds")>{t.thresholds}</label>
                            <input id=format!("{prefix}-thresholds") name="thresholds" value=editable/>
                            <label class="checkbox">
                                <input type="checkbox" name="active" checked=hook.active/>
                                {t.enabled}
                            </label>
                            <button type="submit" class="button">{t.save}</button>
                            <button type="button" class="button button--quiet" on:click=move |_| editing.set(false)>
                                {t.cancel}
                            </button>
                        </ActionForm>
                    }
                }
            };
            let url = hook.url.clone();
            view! {
                <li class="card webhook" data-webhook=id>
                    <div class="webhook__head">
                        <code class="webhook__url">{hook.url.clone()}</code>
                        <span class="badge" class:badge--muted=!hook.active>
                            {if hook.active { t.enabled } else { t.disabled }}
                        </span>
                    </div>
                    {(!hook.description.is_empty()).then(|| view! { <p>{hook.description.clone()}</p> })}
                    <dl class="webhook__facts">
                        <div><dt>{t.thresholds}</dt><dd>{shown}</dd></div>
                    </dl>
                    <DeliveryLog deliveries=hook.deliveries.clone()/>
                    {admin.then(|| view! {
                        <Show
                            when=move || editing.get()
                            fallback=move || view! {
                                <button
                                    type="button"
                                    class="button button--quiet"
                                    aria-label=format!("{} {url}", t.edit)
                                    on:click=move |_| editing.set(true)
                                >
                                    {t.edit}
                                </button>
                            }
                        >
                            {edit_form.clone()}
                        </Show>
                    })}
                </li>
            }
        })
        .collect_view();
    view! { <ul class="webhooks">{rows}</ul> }.into_any()
}

/// The latest alerts sent to one webhook: what, when, how it went, and the next try.
#[component]
fn DeliveryLog(deliveries: Vec<DeliveryView>) -> impl IntoView {
    let locale = use_locale();
    let t = locale.strings();
    if deliveries.is_empty() {
        return view! { <p class="hint">{t.no_deliveries}</p> }.into_any();
    }
    let count = deliveries.len();
    let rows = deliveries
        .into_iter()
        .map(|delivery| {
            let status = match delivery.status.as_str() {
                "delivered" => t.delivery_delivered,
                "failed" => t.delivery_failed,
                _ => t.delivery_pending,
            };
            let answer = match (delivery.last_status, &delivery.last_error) {
                (_, Some(error)) => error.clone(),
                (Some(code), None) => format!("HTTP {code}"),
                (None, None) => "—".into(),
            };
            let next = delivery
                .next_attempt_at
                .map(|at| fill(t.next_try, &[("time", &format::date_time(locale, at))]));
            view! {
                <tr data-status=delivery.status.clone() data-threshold=delivery.threshold.clone()>
                    <td>{format::date_time(locale, delivery.created_at)}</td>
                    <td>{delivery.metric}</td>
                    <td class="num">{format!("{} %", delivery.threshold)}</td>
                    <td>{status}{next.map(|next| view! { <br/><small>{next}</small> })}</td>
                    <td class="num">{delivery.attempts}</td>
                    <td>{answer}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <details class="delivery-log">
            <summary>{fill(t.deliveries_count, &[("count", &count.to_string())])}</summary>
            <DataTable
                columns=vec![t.audit_when, t.history_metric, t.threshold, t.status, t.attempts, t.answer]
                attr:class="statements"
                attr:tabindex="0"
                attr:aria-label=t.deliveries
            >
                {rows}
            </DataTable>
        </details>
    }
    .into_any()
}
