//! `<Loading/>`: what a page shows of one resource: a skeleton while it loads, the view of
//! what it loaded, or the error with a way to load it again.

use leptos::prelude::*;
use serde::{de::DeserializeOwned, Serialize};

use crate::{components::error_template::ErrorTemplate, error::AppError};

/// The grey block shown while a resource loads, in the shape of what it will become.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Skeleton {
    #[default]
    Table,
    Card,
    Chart,
}

impl Skeleton {
    fn class(self) -> &'static str {
        match self {
            Skeleton::Table => "skeleton skeleton--table",
            Skeleton::Card => "skeleton skeleton--card",
            Skeleton::Chart => "skeleton skeleton--chart",
        }
    }
}

/// `loaded`'s view of what `resource` loads; until then a [`Skeleton`] (a table's unless
/// `skeleton` says otherwise), and if it fails the error with "Try again", which loads the
/// page again.
#[component]
pub fn Loading<T, F, V>(
    resource: Resource<Result<T, AppError>>,
    loaded: F,
    #[prop(optional)] skeleton: Skeleton,
) -> impl IntoView
where
    T: Clone + Send + Sync + Serialize + DeserializeOwned + 'static,
    F: Fn(T) -> V + Clone + Send + Sync + 'static,
    V: IntoView + 'static,
{
    let class = skeleton.class();
    view! {
        <Transition fallback=move || view! { <div class=class aria-busy="true"></div> }>
            <ErrorBoundary fallback=move |errors| view! {
                <ErrorTemplate errors/>
            }>
                {move || {
                    let loaded = loaded.clone();
                    Suspend::new(async move { resource.await.map(loaded) })
                }}
            </ErrorBoundary>
        </Transition>
    }
}
