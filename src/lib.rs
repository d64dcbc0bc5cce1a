//! quotaboard: usage metering and license-limit dashboard. Shared by the server (`ssr`) and
//! the browser build (`hydrate`).

// Leptos views are nested types; the billing table's goes deeper than the default 128.
#![recursion_limit = "256"]

pub mod api;
pub mod app;
pub mod codec;
pub mod components;
pub mod domain;
pub mod error;
pub mod i18n;
pub mod model;
pub mod pages;
#[cfg(feature = "ssr")]
pub mod server;

/// Entry point of the browser build: readies the reactive system for the page's islands,
/// which the page's script (`src/app/page.js`) then hydrates one by one.
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_islands();
}
