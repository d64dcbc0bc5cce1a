//! Usage as tables: messages per channel (seed 003) and mails per account (seed 000).

use leptos::prelude::*;

use crate::{
    components::format,
    i18n::use_locale,
    model::usage::{AccountUsage, MetricUsage, CHANNEL_METRICS},
};

/// The channel metrics among `metrics`, in channel order: name and total with unit. Nothing
/// when the plan has none of them.
#[component]
pub fn ChannelTable(metrics: Vec<MetricUsage>) -> impl IntoView {
    let locale = use_locale();
    let t = locale.strings();
    let rows: Vec<MetricUsage> = CHANNEL_METRICS
        .iter()
        .filter_map(|code| metrics.iter().find(|m| m.code == *code).cloned())
        .collect();
    (!rows.is_empty()).then(|| {
        view! {
            <section class="usage-table" aria-labelledby="channels-title">
                <h2 id="channels-title">{t.by_channel}</h2>
                <table>
                    <thead>
                        <tr><th scope="col">{t.channel}</th><th scope="col" class="num">{t.messages}</th></tr>
                    </thead>
                    <tbody>
                        {rows
                            .into_iter()
                            .map(|metric| view! {
                                <tr>
                                    <th scope="row">{metric.name}</th>
                                    <td class="num">{format::amount(locale, metric.used)}</td>
                                </tr>
                            })
                            .collect_view()}
                    </tbody>
                </table>
            </section>
        }
    })
}

/// Each mailbox account with its domain, whether it relays, and its mails this period.
#[component]
pub fn AccountTable(accounts: Vec<AccountUsage>) -> impl IntoView {
    let locale = use_locale();
    let t = locale.strings();
    view! {
        <section class="usage-table" aria-labelledby="accounts-title">
            <h2 id="accounts-title">{t.by_account}</h2>
            {if accounts.is_empty() {
                view! { <p class="empty">{t.no_accounts}</p> }.into_any()
            } else {
                view! {
                    <table>
                        <thead>
                            <tr>
                                <th scope="col">{t.account}</th>
                                <th scope="col">{t.domain}</th>
                                <th scope="col">{t.relay}</th>
                                <th scope="col" class="num">{t.mails}</th>
                            </tr>
                        </thead>
                        <tbody>
                            {accounts
                                .into_iter()
                                .map(|account| view! {
                                    <tr>
                                        <th scope="row">{account.account}</th>
                                        <td>{account.domain}</td>
                                        <td>{if account.relay { t.yes } else { t.no }}</td>
                                        <td class="num">{format::amount(locale, account.mails)}</td>
                                    </tr>
                                })
                                .collect_view()}
                        </tbody>
                    </table>
                }
                .into_any()
            }}
        </section>
    }
}
