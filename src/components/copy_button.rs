//! `<CopyButton/>` copies a text to the clipboard; `<SecretOnce/>` shows a new secret (an
//! API key, a webhook's signing secret) the one time it is shown, with that button.

use leptos::prelude::*;

use crate::i18n::use_strings;

/// "Copy", then "Copied" once the browser took the text. Disabled until hydrated, since it
/// needs the clipboard API.
#[component]
pub fn CopyButton(text: String) -> impl IntoView {
    let t = use_strings();
    let copied = RwSignal::new(false);
    let hydrated = RwSignal::new(false);
    Effect::new(move |_| hydrated.set(true));
    let copy = move |_| {
        #[cfg(feature = "hydrate")]
        {
            let clipboard = window().navigator().clipboard();
            let promise = clipboard.write_text(&text);
            leptos::task::spawn_local(async move {
                if wasm_bindgen_futures::JsFuture::from(promise).await.is_ok() {
                    copied.set(true);
                }
            });
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = &text;
    };
    view! {
        <button type="button" class="button button--quiet" on:click=copy disabled=move || !hydrated.get()>
            {move || if copied.get() { t.copied } else { t.copy }}
        </button>
    }
}

/// `label` (such as "Copy this key now: it will not be shown again."), the secret in a
/// `<code id=id>`, and a copy button.
#[component]
pub fn SecretOnce(label: &'static str, id: &'static str, secret: String) -> impl IntoView {
    view! {
        <div class="secret" role="status">
            <p>{label}</p>
            <code id=id>{secret.clone()}</code>
            <CopyButton text=secret/>
        </div>
    }
}
