//! `<DataTable/>`: a table with one row of column headings over the rows its caller renders.

use leptos::prelude::*;

/// `columns` as the headings (`scope="col"`) and, when given, `action` as the heading of a
/// last column of buttons (revoke, disable), read by screen readers only; the rows are the
/// children. Attributes given with `attr:` (a class, a label) go on the `<table>`.
#[component]
pub fn DataTable(
    columns: Vec<&'static str>,
    #[prop(optional)] action: Option<&'static str>,
    children: Children,
) -> impl IntoView {
    let headings = columns
        .into_iter()
        .map(|column| view! { <th scope="col">{column}</th> })
        .collect_view();
    let action = action.map(|action| {
        view! { <th scope="col"><span class="visually-hidden">{action}</span></th> }
    });
    view! {
        <table>
            <thead>
                <tr>{headings}{action}</tr>
            </thead>
            <tbody>{children()}</tbody>
        </table>
    }
}
