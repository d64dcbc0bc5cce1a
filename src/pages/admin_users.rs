//! `/admin/users`: the operator's list of dashboard users, searchable by email, with a
//! button to disable a user (signing them out everywhere at once) or enable them again.
//! Anyone but a platform admin gets 403 from the server function.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::{
    api::users::{list_users, SetUserDisabled, UserList},
    components::{data_table::DataTable, error_template::FormError, format, loading::Loading},
    i18n::{role_name, use_locale},
};

/// The list, loaded on the server; the search is kept in the URL (`?q=`).
#[component]
pub fn AdminUsersPage() -> impl IntoView {
    let t = use_locale().strings();
    let query = use_query_map();
    let search = move || query.with(|q| q.get("q").unwrap_or_default());
    let toggle = ServerAction::<SetUserDisabled>::new();
    let users = Resource::new(
        move || (search(), toggle.version().get()),
        |(search, _)| list_users(search),
    );
    let toggle_error = move || {
        toggle
            .value()
            .get()
            .and_then(Result::err)
            .map(|error| view! { <FormError error/> })
    };
    view! {
        <Title text=format!("{} · quotaboard", t.users_title)/>
        <h1 class="page-title">{t.users_title}</h1>
        <p class="page-subtitle">{t.users_intro}</p>
        <div class="toolbar">
            <form method="get" action="/admin/users">
                <label for="user-search">{t.users_search}</label>
                <input id="user-search" type="search" name="q" value=search/>
                <button type="submit" class="button">{t.search}</button>
            </form>
        </div>
        {toggle_error}
        <Loading resource=users loaded=move |list| view! { <UserTable list toggle/> }/>
    }
}

#[component]
fn UserTable(list: UserList, toggle: ServerAction<SetUserDisabled>) -> impl IntoView {
    let locale = use_locale();
    let t = locale.strings();
    if list.users.is_empty() {
        return view! { <p class="empty">{t.no_users}</p> }.into_any();
    }
    let when = move |at: i64| {
        chrono::DateTime::from_timestamp(at, 0)
            .map(|at| format::date(locale, at.date_naive()))
            .unwrap_or_default()
    };
    let rows = list
        .users
        .into_iter()
        .map(|user| {
            let organizations = user
                .organizations
                .iter()
                .map(|(name, role)| format!("{name} ({})", role_name(locale, role)))
                .collect::<Vec<_>>()
                .join(", ");
            let action = if user.disabled { t.enable } else { t.disable };
            let label = format!("{action} {}", user.email);
            let disabled = user.disabled;
            view! {
                <tr data-user=user.email.clone() data-disabled=disabled.to_string()>
                    <th scope="row">{user.email.clone()}</th>
                    <td>{role_name(locale, &user.role)}</td>
                    <td>{if organizations.is_empty() { "—".to_string() } else { organizations }}</td>
                    <td>{user.last_seen_at.map_or_else(|| t.never.to_string(), when)}</td>
                    <td>
                        <span class="badge" class:badge--muted=user.disabled>
                            {if user.disabled { t.disabled } else { t.active }}
                        </span>
                    </td>
                    <td>
                        <ActionForm action=toggle>
                            <input type="hidden" name="id" value=user.id/>
                            <input type="hidden" name="disabled" value=(!user.disabled).to_string()/>
                            <button
                                type="submit"
                                class="button"
                                class:button--danger=!user.disabled
                                aria-label=label
                            >
                                {action}
                            </button>
                        </ActionForm>
                    </td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <DataTable
            columns=vec![t.email, t.role, t.organizations, t.last_seen, t.status]
            action=t.disable
        >
            {rows}
        </DataTable>
        {list.more.then(|| view! { <p class="empty">{t.users_more}</p> })}
    }
    .into_any()
}
