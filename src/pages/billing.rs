//! `/billing`: the organization's statements (seed 004) with their line items; search and
//! sort kept in the URL; CSV downloads of usage and of line items.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::{
    api::billing::{list_statements, StatementView, SORTABLE},
    components::{format, loading::Loading, sort_header::SortHeader},
    i18n::use_locale,
};

/// Statements newest first (or as sorted), each with its line items.
#[component]
pub fn BillingPage() -> impl IntoView {
    let t = use_locale().strings();
    let query = use_query_map();
    let search = move || query.with(|q| q.get("q").unwrap_or_default());
    let sort = move || query.with(|q| q.get("sort").unwrap_or_default());
    let statements = Resource::new(
        move || (search(), sort()),
        |(search, sort)| list_statements(search, sort),
    );
    view! {
        <Title text=format!("{} · quotaboard", t.billing_title)/>
        <h1 class="page-title">{t.billing_title}</h1>
        <div class="toolbar">
            <form method="get" action="/billing">
                <label for="statement-search">{t.search_statements}</label>
                <input id="statement-search" type="search" name="q" value=search/>
                <input type="hidden" name="sort" value=sort/>
                <button type="submit" class="button">{t.search}</button>
            </form>
            <div class="downloads">
                <a class="button button--quiet" href="/api/v1/exports/usage.csv" download>
                    {t.download_usage_csv}
                </a>
                <a class="button button--quiet" href="/api/v1/exports/line-items.csv" download>
                    {t.download_lines_csv}
                </a>
            </div>
        </div>
        <Loading resource=statements loaded=move |statements| view! {
            <StatementTable statements search=search() sort=sort()/>
        }/>
    }
}

#[component]
fn StatementTable(statements: Vec<StatementView>, search: String, sort: String) -> impl IntoView {
    let locale = use_locale();
    let t = locale.strings();
    if statements.is_empty() {
        return view! { <p class="empty">{t.no_statements}</p> }.into_any();
    }
    let labels = [t.period, t.amount, t.usage_title, t.limit];
    let rest = if search.is_empty() {
        String::new()
    } else {
        format!("&q={}", crate::pages::query_encode(&search))
    };
    let headers = SORTABLE
        .iter()
        .zip(labels)
        .map(|(field, label)| {
            view! { <SortHeader field label sort=sort.clone() default="-start_date" rest=rest.clone()/> }
        })
        .collect_view();
    let rows = statements
        .into_iter()
        .map(|statement| view! { <StatementRows statement/> })
        .collect_view();
    view! {
        <table class="statements">
            <thead>
                <tr>
                    {headers}
                    <th scope="col">{t.line_items}</th>
                </tr>
            </thead>
            <tbody>{rows}</tbody>
        </table>
    }
    .into_any()
}

#[component]
fn StatementRows(statement: StatementView) -> impl IntoView {
    let locale = use_locale();
    let t = locale.strings();
    let currency = statement.currency.clone();
    let money = move |value| format::money(locale, value, &currency);
    let limit = match statement.limit_status {
        0 => "—",
        1 => t.warning,
        2 => t.critical,
        _ => t.over_limit,
    };
    let state = if statement.issued {
        t.statement_final
    } else {
        t.statement_open
    };
    let lines = statement
        .lines
        .iter()
        .map(|line| {
            view! {
                <tr>
                    <th scope="row">{line.description.clone()}</th>
                    <td class="num">{format::decimal(locale, line.quantity)}</td>
                    <td class="num">{money(line.unit_price)}</td>
                    <td class="num">{money(line.discount)}</td>
                    <td class="num">{money(line.tax)}</td>
                    <td class="num">{money(line.amount)}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <tr data-statement=statement.id>
            <th scope="row">
                {format::period(locale, &statement.period)}
                <span class="badge">{state}</span>
            </th>
            <td class="num">{money(statement.amount)}</td>
            <td class="num">{format::percent(locale, statement.usage_percent)}</td>
            <td>{limit}</td>
            <td>
                <details>
                    <summary>{t.line_items} " (" {statement.lines.len()} ")"</summary>
                    <table class="line-items">
                        <thead>
                            <tr>
                                <th scope="col">{t.item}</th>
                                <th scope="col" class="num">{t.quantity}</th>
                                <th scope="col" class="num">{t.unit_price}</th>
                                <th scope="col" class="num">{t.discount}</th>
                                <th scope="col" class="num">{t.tax}</th>
                                <th scope="col" class="num">{t.amount}</th>
                            </tr>
                        </thead>
                        <tbody>{lines}</tbody>
                    </table>
                </details>
            </td>
        </tr>
    }
    // Erased: the statement row's type is otherwise deeper than the compiler will follow.
    .into_any()
}
