//! `/login`: email and password; a plain form post, so it works before the WASM arrives.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::i18n::use_strings;

/// The sign-in form. `?next=` is where the server sends the user after signing in;
/// `?error=` says why the last attempt failed.
#[component]
pub fn LoginPage() -> impl IntoView {
    let t = use_strings();
    let query = use_query_map();
    let next = move || query.with(|q| q.get("next").unwrap_or_default());
    let error = move || {
        query.with(|q| match q.get("error").as_deref() {
            Some("credentials") => Some(t.bad_credentials),
            Some("throttled") => Some(t.sign_in_throttled),
            Some(_) => Some(t.sign_in_unavailable),
            None => None,
        })
    };
    view! {
        <Title text=format!("{} · quotaboard", t.sign_in)/>
        <section class="login" aria-labelledby="login-title">
            <h1 id="login-title">{t.sign_in_title}</h1>
            {move || error().map(|message| view! {
                <p class="form-error" role="alert">{message}</p>
            })}
            <form class="form" method="post" action="/login">
                <input type="hidden" name="next" value=next/>
                <label for="email">{t.email}</label>
                <input id="email" name="email" type="email" autocomplete="username" required/>
                <label for="password">{t.password}</label>
                <input
                    id="password"
                    name="password"
                    type="password"
                    autocomplete="current-password"
                    required
                />
                <button type="submit" class="button">{t.sign_in}</button>
            </form>
        </section>
    }
}
