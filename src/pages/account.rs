//! `/account`: the signed-in user's own account: change the password (which signs out every
//! other session) and sign out everywhere. For every role, the operator's included.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::{
    api::account::ChangePassword, components::error_template::FormError, i18n::use_locale,
    pages::SessionResource,
};

/// The two forms; who is signed in comes from the session the app loaded.
#[component]
pub fn AccountPage() -> impl IntoView {
    let t = use_locale().strings();
    let session = use_context::<SessionResource>();
    view! {
        <Title text=format!("{} · quotaboard", t.account_title)/>
        <h1 class="page-title">{t.account_title}</h1>
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                let email = match session {
                    Some(session) => session.await.ok().flatten().map(|info| info.email),
                    None => None,
                };
                view! { <p class="page-subtitle">{t.account_intro}" "<strong>{email}</strong></p> }
            })}
        </Transition>
        <section aria-labelledby="password-title">
            <h2 id="password-title">{t.change_password}</h2>
            <PasswordForm/>
        </section>
        <section aria-labelledby="sessions-title">
            <h2 id="sessions-title">{t.sessions_title}</h2>
            <p>{t.sessions_intro}</p>
            <form method="post" action="/logout-everywhere">
                <button type="submit" class="button button--danger">{t.sign_out_everywhere}</button>
            </form>
        </section>
    }
}

/// The island: the password change, which says in place whether it worked.
#[island]
fn PasswordForm() -> impl IntoView {
    let t = use_locale().strings();
    let change = ServerAction::<ChangePassword>::new();
    let outcome = move || {
        change.value().get().map(|result| match result {
            Ok(()) => {
                view! { <p class="form-ok" role="status">{t.password_changed}</p> }.into_any()
            }
            Err(error) => view! { <FormError error/> }.into_any(),
        })
    };
    view! {
            <ActionForm action=change attr:class="form" attr:aria-label=t.change_password>
                <label for="current-password">{t.current_password}</label>
                <input
                    id="current-password"
                    name="current_password"
                    type="password"
                    autocomplete="current-password"
                    required
                />
                <label for="new-password">{t.new_password}</label>
                <input
                    id="new-password"
                    name="new_password"
                    type="password"
                    autocomplete="new-password"
                    minlength="8"
                    maxlength="1024"
                    required
                />
                <label for="repeat-password">{t.repeat_password}</label>
                <input
                    id="repeat-password"
                    name="repeat_password"
                    type="password"
                    autocomplete="new-password"
                    minlength="8"
                    maxlength="1024"
                    required
                />
                <button type="submit" class="button">{t.change_password}</button>
            </ActionForm>
            {outcome}
    }
}
