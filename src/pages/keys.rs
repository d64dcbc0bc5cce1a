//! `/settings/keys`: the organization's API keys: create (the secret shown once, with a
//! copy button), list, revoke.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::{
    api::settings::{list_api_keys, ApiKeyView, CreateApiKey, RevokeApiKey},
    components::{
        copy_button::SecretOnce,
        data_table::DataTable,
        error_template::{ErrorTemplate, FormError},
        format,
    },
    i18n::{role_name, use_locale},
    pages::{is_admin, reload_after, SessionResource},
};

/// Admins see the forms; members see the list. The server checks the role either way.
#[component]
pub fn KeysPage() -> impl IntoView {
    let t = use_locale().strings();
    let session = use_context::<SessionResource>();
    let keys = Resource::new(|| (), |()| list_api_keys());
    view! {
        <Title text=format!("{} · quotaboard", t.keys_title)/>
        <h1 class="page-title">{t.keys_title}</h1>
        <p class="page-subtitle">{t.keys_intro}</p>
        <Transition fallback=|| view! { <div class="skeleton skeleton--table" aria-busy="true"></div> }>
            <ErrorBoundary fallback=move |errors| view! { <ErrorTemplate errors/> }>
                {move || Suspend::new(async move {
                    let admin = is_admin(session).await;
                    keys.await.map(|keys| view! { <KeysPanel keys admin/> })
                })}
            </ErrorBoundary>
        </Transition>
    }
}

/// The island: the form that creates a key and shows its secret once, and the list, loaded
/// again after each change.
#[island]
fn KeysPanel(keys: Vec<ApiKeyView>, admin: bool) -> impl IntoView {
    let t = use_locale().strings();
    let create = ServerAction::<CreateApiKey>::new();
    let revoke = ServerAction::<RevokeApiKey>::new();
    let keys = RwSignal::new(keys);
    reload_after(
        keys,
        move || (create.version().get(), revoke.version().get()),
        list_api_keys,
    );
    let created = move || {
        create.value().get().map(|result| match result {
            Ok(created) => view! {
                <SecretOnce label=t.new_key_once id="new-key-secret" secret=created.secret/>
            }
            .into_any(),
            Err(error) => view! { <FormError error/> }.into_any(),
        })
    };
    let revoke_error = move || {
        revoke.value().get().and_then(Result::err).map(|error| {
            view! { <FormError error/> }
        })
    };
    view! {
        {admin.then(move || view! {
            <ActionForm action=create attr:class="form form--inline" attr:aria-label=t.create_key>
                <label for="key-name">{t.name}</label>
                <input id="key-name" name="name" required maxlength="100"/>
                <label for="key-role">{t.role}</label>
                <select id="key-role" name="role">
                    <option value="member">{t.role_member}</option>
                    <option value="admin">{t.role_admin}</option>
                </select>
                <button type="submit" class="button">{t.create_key}</button>
            </ActionForm>
        })}
        {created}
        {revoke_error}
        {move || view! { <KeyTable keys=keys.get() revoke admin/> }}
    }
}

#[component]
fn KeyTable(
    keys: Vec<ApiKeyView>,
    revoke: ServerAction<RevokeApiKey>,
    admin: bool,
) -> impl IntoView {
    let locale = use_locale();
    let t = locale.strings();
    if keys.is_empty() {
        return view! { <p class="empty">{t.no_keys}</p> }.into_any();
    }
    let rows = keys
        .into_iter()
        .map(|key| {
            let created = chrono::DateTime::from_timestamp(key.created_at, 0)
                .map(|at| format::date(locale, at.date_naive()))
                .unwrap_or_default();
            let live = key.revoked_at.is_none();
            let name = key.name.clone();
            let prefix = key.prefix.clone();
            view! {
                <tr data-key=prefix>
                    <th scope="row">{key.name}</th>
                    <td><code>{key.prefix}</code></td>
                    <td>{role_name(locale, &key.role)}</td>
                    <td>{created}</td>
                    <td>
                        <span class="badge" class:badge--muted=!live>
                            {if live { t.active } else { t.revoked }}
                        </span>
                    </td>
                    <td>
                        {(live && admin).then(|| view! {
                            <ActionForm action=revoke>
                                <input type="hidden" name="id" value=key.id/>
                                <button
                                    type="submit"
                                    class="button button--danger"
                                    aria-label=format!("{} {name}", t.revoke)
                                >
                                    {t.revoke}
                                </button>
                            </ActionForm>
                        })}
                    </td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <DataTable columns=vec![t.name, t.prefix, t.role, t.created, t.status] action=t.revoke>
            {rows}
        </DataTable>
    }
    .into_any()
}
