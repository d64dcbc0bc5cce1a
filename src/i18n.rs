//! The dashboard's languages: English and Brazilian Portuguese, chosen per request from the
//! `qb_lang` cookie (the user's choice) or else `Accept-Language`.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// Name of the cookie that keeps a user's language choice.
pub const LANGUAGE_COOKIE: &str = "qb_lang";

/// A language the dashboard speaks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Locale {
    #[default]
    En,
    PtBr,
}

impl Locale {
    /// Every locale, in the order a language menu lists them.
    pub const ALL: [Locale; 2] = [Locale::En, Locale::PtBr];

    /// The BCP 47 tag, as in `<html lang>`: `en`, `pt-BR`.
    pub fn tag(self) -> &'static str {
        match self {
            Locale::En => "en",
            Locale::PtBr => "pt-BR",
        }
    }

    /// The language's own name, as a language menu shows it.
    pub fn name(self) -> &'static str {
        match self {
            Locale::En => "English",
            Locale::PtBr => "Português (Brasil)",
        }
    }

    /// The locale a language tag asks for: any `pt` is Brazilian Portuguese, any `en` English.
    pub fn from_tag(tag: &str) -> Option<Locale> {
        let language = tag.trim().split(['-', '_']).next()?.to_ascii_lowercase();
        match language.as_str() {
            "pt" => Some(Locale::PtBr),
            "en" => Some(Locale::En),
            _ => None,
        }
    }

    /// The best locale for an `Accept-Language` header: the supported language with the
    /// highest weight (the earliest among equals); English when none is supported.
    pub fn negotiate(accept_language: &str) -> Locale {
        let mut best: Option<(u16, Locale)> = None;
        for entry in accept_language.split(',') {
            let mut parts = entry.split(';');
            let Some(locale) = parts.next().and_then(Locale::from_tag) else {
                continue;
            };
            let weight = parts
                .find_map(|p| p.trim().strip_prefix("q="))
                .map_or(1000, |q| {
                    q.trim()
                        .parse::<f32>()
                        .map_or(0, |q| (q.clamp(0.0, 1.0) * 1000.0) as u16)
                });
            if weight > 0 && best.is_none_or(|(top, _)| weight > top) {
                best = Some((weight, locale));
            }
        }
        best.map_or(Locale::En, |(_, locale)| locale)
    }

    /// The words of this locale.
    pub fn strings(self) -> &'static Strings {
        match self {
            Locale::En => &EN,
            Locale::PtBr => &PT_BR,
        }
    }

    /// Separator of thousands and of decimals.
    pub fn separators(self) -> (char, char) {
        match self {
            Locale::En => (',', '.'),
            Locale::PtBr => ('.', ','),
        }
    }

    /// Abbreviated month names, January first.
    pub fn months(self) -> [&'static str; 12] {
        match self {
            Locale::En => [
                "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
            ],
            Locale::PtBr => [
                "jan", "fev", "mar", "abr", "mai", "jun", "jul", "ago", "set", "out", "nov", "dez",
            ],
        }
    }

    /// "Nov 2026": the month of `day` and its year.
    pub fn month_and_year(self, day: chrono::NaiveDate) -> String {
        use chrono::Datelike;
        format!("{} {}", self.months()[day.month0() as usize], day.year())
    }
}

/// The locale of the page being rendered: provided by `<App/>` on the server; in an island
/// in the browser, the page's own (`<html lang>`, see [`request_locale`]).
pub fn use_locale() -> Locale {
    use_context::<Locale>().unwrap_or_else(request_locale)
}

/// The words of the page being rendered.
pub fn use_strings() -> &'static Strings {
    use_locale().strings()
}

/// The locale of the current request (on the server) or of the loaded page (in the browser,
/// read back from `<html lang>`, which the server wrote).
pub fn request_locale() -> Locale {
    #[cfg(feature = "ssr")]
    {
        use_context::<axum::http::request::Parts>()
            .map(|parts| locale_of_headers(&parts.headers))
            .unwrap_or_default()
    }
    #[cfg(not(feature = "ssr"))]
    {
        #[cfg(feature = "hydrate")]
        {
            document()
                .document_element()
                .and_then(|html| html.get_attribute("lang"))
                .and_then(|tag| Locale::from_tag(&tag))
                .unwrap_or_default()
        }
        #[cfg(not(feature = "hydrate"))]
        {
            Locale::En
        }
    }
}

/// The `qb_lang` cookie's locale, else the `Accept-Language` one.
#[cfg(feature = "ssr")]
pub fn locale_of_headers(headers: &axum::http::HeaderMap) -> Locale {
    let chosen = headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == LANGUAGE_COOKIE)
        .and_then(|(_, value)| Locale::from_tag(value));
    chosen.unwrap_or_else(|| {
        headers
            .get(axum::http::header::ACCEPT_LANGUAGE)
            .and_then(|value| value.to_str().ok())
            .map_or(Locale::En, Locale::negotiate)
    })
}

/// What `error` means, in the words of `locale`. Validation messages (400, 409, 413) are
/// the server's own explanation and stay as it wrote them.
pub fn error_text(locale: Locale, error: &AppError) -> String {
    let t = locale.strings();
    match error {
        AppError::BadRequest(message)
        | AppError::Conflict(message)
        | AppError::PayloadTooLarge(message) => message.clone(),
        AppError::Unauthorized => t.error_unauthorized.to_string(),
        AppError::Forbidden => t.error_forbidden.to_string(),
        AppError::NotFound(_) => t.error_not_found.to_string(),
        AppError::MethodNotAllowed(_) | AppError::Internal => t.error_internal.to_string(),
        AppError::Unavailable => t.error_unavailable.to_string(),
        AppError::TooManyRequests(seconds) => t
            .error_too_many_requests
            .replace("{seconds}", &seconds.to_string()),
        AppError::Transport(_) => t.error_transport.to_string(),
    }
}

/// A member's role (`member`, `admin`) as the page shows it.
pub fn role_name(locale: Locale, role: &str) -> &'static str {
    let t = locale.strings();
    match role {
        "admin" => t.role_admin_name,
        "platform-admin" => t.role_operator_name,
        _ => t.role_member_name,
    }
}

/// A subscription's status (`active`, `trialing`, `past_due`, `canceled`) in words.
pub fn subscription_status(locale: Locale, status: Option<&str>) -> &'static str {
    let t = locale.strings();
    match status {
        Some("trialing") => t.status_trialing,
        Some("past_due") => t.status_past_due,
        Some("canceled") => t.status_canceled,
        _ => t.status_active,
    }
}

/// `template` with each `{name}` replaced by its value.
pub fn fill(template: &str, values: &[(&str, &str)]) -> String {
    values
        .iter()
        .fold(template.to_string(), |text, (name, value)| {
            text.replace(&format!("{{{name}}}"), value)
        })
}

macro_rules! strings {
    ($($key:ident: $en:expr, $pt:expr;)*) => {
        /// Every word the dashboard shows, in one language. `{name}` marks a value that
        /// [`fill`] puts in.
        #[derive(Debug)]
        pub struct Strings {
            $(pub $key: &'static str,)*
        }

        static EN: Strings = Strings { $($key: $en,)* };
        static PT_BR: Strings = Strings { $($key: $pt,)* };
    };
}

strings! {
    // Navigation and account
    nav_label: "Main", "Principal";
    nav_usage: "Usage", "Uso";
    nav_license: "License", "Licença";
    nav_billing: "Billing", "Faturamento";
    nav_keys: "API keys", "Chaves de API";
    nav_webhooks: "Webhooks", "Webhooks";
    nav_admin: "Organizations", "Organizações";
    skip_to_content: "Skip to content", "Pular para o conteúdo";
    organization: "Organization", "Organização";
    switch: "Switch", "Trocar";
    sign_out: "Sign out", "Sair";
    language: "Language", "Idioma";
    apply: "Apply", "Aplicar";
    // Sign-in
    sign_in_title: "Sign in to quotaboard", "Entrar no quotaboard";
    sign_in: "Sign in", "Entrar";
    email: "Email", "E-mail";
    password: "Password", "Senha";
    bad_credentials: "Email or password is incorrect.", "E-mail ou senha incorretos.";
    sign_in_throttled: "Too many failed attempts; wait a few minutes, then try again.", "Tentativas demais sem sucesso; aguarde alguns minutos e tente novamente.";
    sign_in_unavailable: "Signing in is not possible right now; try again shortly.", "Não é possível entrar agora; tente novamente em instantes.";
    session_ended: "Your session has ended.", "Sua sessão terminou.";
    sign_in_again: "Sign in again", "Entrar novamente";
    // Errors and states
    error_title: "This page could not be loaded", "Não foi possível carregar esta página";
    forbidden_title: "You cannot see this page", "Você não pode ver esta página";
    nothing_title: "Nothing to show yet", "Nada para mostrar ainda";
    retry: "Try again", "Tentar novamente";
    error_unauthorized: "Sign in to see this.", "Entre para ver isto.";
    error_forbidden: "Your role does not allow this.", "Seu papel não permite isto.";
    error_not_found: "It does not exist, or not in this organization.", "Não existe, ou não nesta organização.";
    error_internal: "Something went wrong on our side; it has been logged.", "Algo deu errado do nosso lado; foi registrado.";
    error_unavailable: "The service is unavailable for a moment; try again shortly.", "O serviço está indisponível no momento; tente novamente em instantes.";
    error_too_many_requests: "Too many requests; try again in {seconds} seconds.", "Muitas solicitações; tente novamente em {seconds} segundos.";
    error_transport: "Could not reach the server; check the connection.", "Não foi possível contatar o servidor; verifique a conexão.";
    not_found_title: "Page not found", "Página não encontrada";
    not_found_text: "There is nothing at this address.", "Não há nada neste endereço.";
    go_to_usage: "Go to your usage", "Ir para o seu uso";
    loading: "Loading…", "Carregando…";
    // Usage
    usage_title: "Usage", "Uso";
    usage_for: "Usage for {period}", "Uso de {period}";
    no_usage: "No usage yet this period.", "Nenhum uso neste período ainda.";
    from: "From", "De";
    to: "To", "Até";
    metrics: "Metrics", "Métricas";
    filters: "Filters", "Filtros";
    all_metrics: "All metrics", "Todas as métricas";
    reset: "Reset", "Limpar";
    showing_metrics: "Showing {shown} of {total} metrics", "Mostrando {shown} de {total} métricas";
    unlimited: "Unlimited", "Ilimitado";
    warning: "Warning", "Atenção";
    critical: "Critical", "Crítico";
    over_limit: "Over limit", "Acima do limite";
    over_limit_by: "Over limit by {amount}", "Acima do limite em {amount}";
    used_of: "{percent} used: {used} of {included}", "{percent} usado: {used} de {included}";
    used_unlimited: "{used} used; unlimited", "{used} usados; ilimitado";
    used_of_none: "{used} used of none included", "{used} usados de nenhum incluído";
    projected_percent: "Projected {amount} ({percent}) by period end", "Projeção de {amount} ({percent}) até o fim do período";
    projected: "Projected {amount} by period end", "Projeção de {amount} até o fim do período";
    limit_reached: "Limit reached: requests for more are refused; usage reported anyway is still recorded.", "Limite atingido: pedidos de mais são recusados; o uso informado mesmo assim ainda é registrado.";
    limit_reached_events: "Limit reached: new usage is refused and not recorded.", "Limite atingido: novo uso é recusado e não é registrado.";
    banner_title: "Close to or over a limit", "Perto ou acima de um limite";
    live: "Live", "Ao vivo";
    live_connecting: "Connecting…", "Conectando…";
    live_reconnecting: "Reconnecting…", "Reconectando…";
    live_polling: "Refreshing every {seconds} s", "Atualizando a cada {seconds} s";
    updated_at: "Updated {time}", "Atualizado às {time}";
    // Cost
    estimated_cost: "Estimated cost", "Custo estimado";
    plan: "Plan", "Plano";
    plan_named: "{name} plan", "Plano {name}";
    overage: "Overage", "Excedente";
    discount: "Discount", "Desconto";
    tax: "Tax", "Imposto";
    total: "Total", "Total";
    // Tables
    by_channel: "Messages by channel", "Mensagens por canal";
    channel: "Channel", "Canal";
    messages: "Messages", "Mensagens";
    by_account: "Mails by account", "E-mails por conta";
    account: "Account", "Conta";
    domain: "Domain", "Domínio";
    relay: "Relay", "Relay";
    mails: "Mails", "E-mails";
    no_accounts: "No mailbox accounts yet.", "Nenhuma conta de e-mail ainda.";
    yes: "Yes", "Sim";
    no: "No", "Não";
    // History
    history_title: "Last 12 months", "Últimos 12 meses";
    history_metric: "Metric", "Métrica";
    month: "Month", "Mês";
    cost: "Cost", "Custo";
    // License
    license_title: "License", "Licença";
    no_plan: "No plan: this organization has no license yet.", "Sem plano: esta organização ainda não tem licença.";
    price: "Price", "Preço";
    per_period: "per period", "por período";
    status: "Status", "Situação";
    status_active: "Active", "Ativa";
    status_trialing: "Trial", "Em avaliação";
    status_past_due: "Past due", "Em atraso";
    status_canceled: "Canceled", "Cancelada";
    description: "Description", "Descrição";
    resource_limits: "Resource limits", "Limites de recursos";
    resource: "Resource", "Recurso";
    limit: "Limit", "Limite";
    used: "Used", "Usado";
    hard_limit: "hard limit", "limite rígido";
    hard_limit_at: "hard limit at {amount}", "limite rígido em {amount}";
    events_refused: "events past it refused", "eventos além dele recusados";
    refused_at: "Hard limit: requests for more are refused at {amount}.", "Limite rígido: pedidos de mais são recusados em {amount}.";
    refused_at_events: "Hard limit: new usage is refused, and not recorded, at {amount}.", "Limite rígido: novo uso é recusado, e não registrado, em {amount}.";
    // Billing
    billing_title: "Billing", "Faturamento";
    statements: "Statements", "Faturas";
    search: "Search", "Buscar";
    search_statements: "Search statements", "Buscar faturas";
    no_statements: "No statements match.", "Nenhuma fatura encontrada.";
    period: "Period", "Período";
    issued: "Issued", "Emitida";
    amount: "Amount", "Valor";
    sort_by: "Sort by {column}", "Ordenar por {column}";
    line_items: "Line items", "Itens";
    quantity: "Quantity", "Quantidade";
    unit_price: "Unit price", "Preço unitário";
    item: "Item", "Item";
    download_usage_csv: "Download usage (CSV)", "Baixar uso (CSV)";
    download_lines_csv: "Download line items (CSV)", "Baixar itens (CSV)";
    statement_open: "Open", "Aberta";
    statement_final: "Final", "Fechada";
    // Operator
    admin_title: "Organizations", "Organizações";
    at_risk: "At risk", "Em risco";
    at_risk_filter: "Only at risk (≥ {percent} % of a limit)", "Só em risco (≥ {percent} % de um limite)";
    no_organizations: "No organization matches.", "Nenhuma organização encontrada.";
    all_organizations: "← All organizations", "← Todas as organizações";
    assign_license: "Change license", "Trocar licença";
    license_assigned: "License changed: the organization is rated by it from now on.", "Licença trocada: a organização passa a ser cobrada por ela.";
    nav_licenses: "Licenses", "Licenças";
    nav_audit: "Audit log", "Auditoria";
    licenses_title: "Licenses", "Licenças";
    all_licenses: "← All licenses", "← Todas as licenças";
    new_license: "New license", "Nova licença";
    edit_license: "Edit {name}", "Editar {name}";
    no_licenses: "No license yet.", "Nenhuma licença ainda.";
    default_badge: "Default", "Padrão";
    default_license: "Default license: organizations without a subscription are on it", "Licença padrão: organizações sem assinatura ficam nela";
    currency: "Currency", "Moeda";
    resources: "Resources", "Recursos";
    version: "Version", "Versão";
    updated: "Updated", "Atualizada";
    in_plan: "In plan", "No plano";
    included_amount: "Included per period", "Incluído por período";
    hard_limit_label: "Hard limit", "Limite rígido";
    refuse_events_label: "Refuse events past it", "Recusar eventos além dele";
    refuse_events_hint: "Refuse events: ingestion also refuses events past the hard limit (otherwise it records what happened, and only the check and consume endpoints refuse).", "Recusar eventos: a ingestão também recusa eventos além do limite rígido (senão ela registra o que aconteceu, e só os endpoints de verificação e consumo recusam).";
    overage_price: "Overage price", "Preço do excedente";
    unlimited_hint: "Included: blank for unlimited.", "Incluído: vazio para ilimitado.";
    limit_hint: "Limit: where a hard limit refuses usage, blank for at the included amount; above it, usage in between is overage.", "Limite: onde um limite rígido recusa o uso, vazio para no valor incluído; acima dele, o uso entre os dois é excedente.";
    overage_hint: "Overage: 0.002 per unit, 10 per 1000 per package, or tiers 0.01 up to 1000; 0.005.", "Excedente: 0.002 por unidade, 10 per 1000 por pacote, ou faixas 0.01 up to 1000; 0.005.";
    confirm_below_usage: "Save even where usage is above a new amount", "Salvar mesmo onde o uso está acima de um novo valor";
    confirm_limit_below_included: "Save even where a hard limit is below the included amount", "Salvar mesmo onde um limite rígido está abaixo do valor incluído";
    license_saved: "Saved: version {version}.", "Salvo: versão {version}.";
    license_used_by: "In force for: {names}", "Em vigor para: {names}";
    audit_title: "Audit log", "Registro de auditoria";
    audit_everything: "Everything", "Tudo";
    audit_when: "When", "Quando";
    audit_who: "Who", "Quem";
    audit_what: "What", "O quê";
    audit_action: "Action", "Ação";
    audit_change: "Before → after", "Antes → depois";
    no_audit: "No change matches.", "Nenhuma alteração encontrada.";
    entity_license: "License", "Licença";
    entity_subscription: "License of", "Licença de";
    entity_api_key: "API key", "Chave de API";
    entity_webhook: "Webhook", "Webhook";
    entity_membership: "Role of", "Papel de";
    entity_user: "User", "Usuário";
    entity_portal_session: "Portal session", "Sessão do portal";
    entity_embed_origin: "Embedding origin", "Origem de incorporação";
    action_created: "Created", "Criado";
    action_updated: "Changed", "Alterado";
    action_assigned: "Assigned", "Atribuída";
    action_revoked: "Revoked", "Revogada";
    // Account
    nav_account: "Your account", "Sua conta";
    account_title: "Your account", "Sua conta";
    account_intro: "Signed in as", "Conectado como";
    change_password: "Change password", "Alterar senha";
    current_password: "Current password", "Senha atual";
    new_password: "New password (at least 8 characters)", "Nova senha (pelo menos 8 caracteres)";
    repeat_password: "New password again", "Nova senha de novo";
    password_changed: "Password changed. Every other session of yours was signed out.", "Senha alterada. Todas as suas outras sessões foram encerradas.";
    sessions_title: "Sessions", "Sessões";
    sessions_intro: "Signed in on a computer you no longer have, or think someone else is? End every session, this one included.", "Conectado em um computador que não tem mais, ou acha que outra pessoa está? Encerre todas as sessões, inclusive esta.";
    sign_out_everywhere: "Sign out everywhere", "Sair de todos os lugares";
    // Users (operator)
    nav_users: "Users", "Usuários";
    users_title: "Users", "Usuários";
    users_intro: "Disabling a user signs them out everywhere at once and refuses their sign-ins until enabled again. Their organizations' API keys keep working.", "Desativar um usuário encerra todas as sessões dele na hora e recusa seus acessos até ser reativado. As chaves de API das organizações continuam funcionando.";
    users_search: "Email contains", "E-mail contém";
    users_more: "Only the first users are shown: narrow the search to see others.", "Só os primeiros usuários são mostrados: refine a busca para ver outros.";
    no_users: "No user matches.", "Nenhum usuário encontrado.";
    organizations: "Organizations", "Organizações";
    last_seen: "Last active", "Última atividade";
    never: "Never", "Nunca";
    disable: "Disable", "Desativar";
    enable: "Enable", "Reativar";
    // API keys
    keys_title: "API keys", "Chaves de API";
    keys_intro: "Keys let scripts read usage and send events. A key is shown once, when it is created.", "Chaves permitem que scripts leiam o uso e enviem eventos. Uma chave é mostrada uma vez, ao ser criada.";
    name: "Name", "Nome";
    role: "Role", "Papel";
    role_member: "Member: reads usage", "Membro: lê o uso";
    role_admin: "Admin: also sends events", "Admin: também envia eventos";
    role_member_name: "Member", "Membro";
    role_admin_name: "Admin", "Administrador";
    role_operator_name: "Operator", "Operador";
    create_key: "Create key", "Criar chave";
    new_key_once: "Copy this key now: it will not be shown again.", "Copie esta chave agora: ela não será mostrada novamente.";
    copy: "Copy", "Copiar";
    copied: "Copied", "Copiada";
    prefix: "Prefix", "Prefixo";
    created: "Created", "Criada";
    revoke: "Revoke", "Revogar";
    revoked: "Revoked", "Revogada";
    active: "Active", "Ativa";
    no_keys: "No API keys yet.", "Nenhuma chave de API ainda.";
    admins_only: "Only admins of this organization can change this.", "Apenas administradores desta organização podem alterar isto.";
    // Webhooks
    webhooks_title: "Webhooks", "Webhooks";
    webhooks_intro: "quotaboard posts to these URLs when a metric crosses a threshold.", "O quotaboard envia para estas URLs quando uma métrica ultrapassa um limiar.";
    url: "URL", "URL";
    thresholds: "Thresholds (%)", "Limiares (%)";
    enabled: "Enabled", "Ativo";
    disabled: "Disabled", "Desativado";
    create_webhook: "Add webhook", "Adicionar webhook";
    save: "Save", "Salvar";
    edit: "Edit", "Editar";
    cancel: "Cancel", "Cancelar";
    delete: "Delete", "Excluir";
    secret_once: "Signing secret (shown once):", "Segredo de assinatura (mostrado uma vez):";
    no_webhooks: "No webhooks yet.", "Nenhum webhook ainda.";
    saved: "Saved.", "Salvo.";
    deliveries_count: "Alerts sent: {count} latest", "Alertas enviados: {count} mais recentes";
    deliveries: "Threshold alerts sent", "Alertas de limiar enviados";
    no_deliveries: "No alert sent yet.", "Nenhum alerta enviado ainda.";
    delivery_pending: "Pending", "Pendente";
    delivery_delivered: "Delivered", "Entregue";
    delivery_failed: "Failed", "Falhou";
    next_try: "next try {time}", "próxima tentativa {time}";
    threshold: "Threshold", "Limiar";
    // Embedding: the settings page and the embed view
    nav_embedding: "Embedding", "Incorporação";
    embedding_title: "Embedding", "Incorporação";
    embedding_intro: "Your product can show customers their usage: create a portal session from your server (POST /api/v1/portal/sessions) and frame its address. Only pages on these origins may frame it; with none listed, nothing may.", "Seu produto pode mostrar o uso aos clientes: crie uma sessão do portal no seu servidor (POST /api/v1/portal/sessions) e exiba o endereço dela num frame. Só páginas nestas origens podem exibi-la; sem nenhuma, nenhuma pode.";
    origins_title: "Origins allowed to frame the usage view", "Origens que podem exibir a visualização de uso";
    origin: "Origin", "Origem";
    add_origin: "Add origin", "Adicionar origem";
    remove: "Remove", "Remover";
    origin_invalid: "Enter an origin such as https://app.example.com: a scheme, a host and an optional port, nothing after them.", "Informe uma origem como https://app.example.com: esquema, host e porta opcional, nada depois.";
    origin_conflict: "That origin is listed already, or 20 origins are listed.", "Essa origem já está na lista, ou a lista já tem 20 origens.";
    change_failed: "The change could not be made; try again.", "Não foi possível fazer a alteração; tente novamente.";
    no_origins: "No origin listed: the usage view cannot be framed.", "Nenhuma origem: a visualização de uso não pode ser exibida em frames.";
    portal_sessions_title: "Portal sessions", "Sessões do portal";
    no_portal_sessions: "No portal session yet.", "Nenhuma sessão do portal ainda.";
    session_expires: "Expires", "Expira";
    session_opened: "View opened", "Visualização aberta";
    expired: "Expired", "Expirada";
    embed_limits: "Limits", "Limites";
    embed_expired: "This usage view has expired.", "Esta visualização de uso expirou.";
    embed_revoked: "This usage view was closed.", "Esta visualização de uso foi encerrada.";
    embed_used: "This usage view was opened already.", "Esta visualização de uso já foi aberta.";
    embed_unknown: "This usage view is not available.", "Esta visualização de uso não está disponível.";
    embed_again: "Reload the page to see your usage again.", "Recarregue a página para ver seu uso novamente.";
    attempts: "Tries", "Tentativas";
    answer: "Answer", "Resposta";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_language_picks_the_heaviest_supported_language() {
        for (header, expected) in [
            ("pt-BR,pt;q=0.9,en;q=0.8", Locale::PtBr),
            ("en-US,en;q=0.9,pt-BR;q=0.8", Locale::En),
            ("fr-FR, pt;q=0.5, en;q=0.4", Locale::PtBr),
            ("de, fr", Locale::En),
            ("en;q=0.2, pt-PT;q=0.3", Locale::PtBr),
            ("pt;q=0, en;q=0.1", Locale::En),
            ("", Locale::En),
            ("*", Locale::En),
        ] {
            assert_eq!(Locale::negotiate(header), expected, "{header}");
        }
    }

    #[test]
    fn errors_roles_and_statuses_read_in_the_locale() {
        assert_eq!(
            error_text(Locale::PtBr, &AppError::Forbidden),
            "Seu papel não permite isto."
        );
        assert_eq!(
            error_text(
                Locale::PtBr,
                &AppError::BadRequest("name must be 1 to 100".into())
            ),
            "name must be 1 to 100"
        );
        assert_eq!(role_name(Locale::PtBr, "admin"), "Administrador");
        assert_eq!(
            subscription_status(Locale::En, Some("past_due")),
            "Past due"
        );
        assert_eq!(subscription_status(Locale::PtBr, None), "Ativa");
    }

    #[test]
    fn tags_round_trip_and_values_fill_their_places() {
        for locale in Locale::ALL {
            assert_eq!(Locale::from_tag(locale.tag()), Some(locale));
        }
        assert_eq!(
            fill(PT_BR.usage_for, &[("period", "1 nov 2026")]),
            "Uso de 1 nov 2026"
        );
    }
}
