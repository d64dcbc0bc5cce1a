//! `<SortHeader/>`: a table column header that sorts its list through the URL query.

use leptos::prelude::*;

use crate::i18n::{fill, use_strings};

/// The sort after clicking `field`: ascending, or descending when it is already ascending.
pub fn next_sort(current: &str, field: &str) -> String {
    if current == field {
        format!("-{field}")
    } else {
        field.to_string()
    }
}

/// A `<th>` whose link is `?sort=<next>` followed by `rest` (the list's other query
/// parameters, such as `&q=…`), with `aria-sort` saying how the list is sorted now. A
/// blank `sort` counts as `default` (`-usage`, say).
#[component]
pub fn SortHeader(
    field: &'static str,
    label: &'static str,
    sort: String,
    #[prop(optional)] default: &'static str,
    #[prop(optional)] rest: String,
) -> impl IntoView {
    let t = use_strings();
    let current = if sort.is_empty() {
        default
    } else {
        sort.as_str()
    };
    let aria_sort = if current == field {
        "ascending"
    } else if current.strip_prefix('-') == Some(field) {
        "descending"
    } else {
        "none"
    };
    let href = format!("?sort={}{rest}", next_sort(current, field));
    view! {
        <th scope="col" aria-sort=aria_sort>
            <a href=href title=fill(t.sort_by, &[("column", label)])>{label}</a>
        </th>
    }
}

#[cfg(test)]
mod tests {
    use super::next_sort;

    #[test]
    fn clicking_a_sorted_column_reverses_it() {
        assert_eq!(next_sort("", "amount"), "amount");
        assert_eq!(next_sort("amount", "amount"), "-amount");
        assert_eq!(next_sort("-amount", "amount"), "amount");
        assert_eq!(next_sort("amount", "start_date"), "start_date");
    }
}
