-- Threshold alerts: one row per webhook, metric, billing period and threshold crossed. The
-- unique key makes each threshold fire once per period however many servers and batches
-- see it crossed; the row is also the durable delivery queue entry and its log.
create table webhook_deliveries (
    id integer primary key,
    webhook_id bigint not null references webhooks (id) on delete cascade,
    organization_id bigint not null references organizations (id) on delete cascade,
    -- The payload's "id": receivers use it to drop a delivery they already processed.
    event_id text not null unique,
    metric_id bigint not null references metrics (id),
    period_start bigint not null,
    -- The crossed percentage as typed on the webhook, e.g. '90'.
    threshold text not null,
    -- The exact JSON body; every attempt sends the same bytes.
    payload text not null,
    status text not null default 'pending' check (status in ('pending', 'delivered', 'failed')),
    attempts bigint not null default 0 check (attempts >= 0),
    -- Unix milliseconds of the next try (a claimed attempt pushes it past its timeout).
    next_attempt_ms bigint not null,
    last_attempt_at bigint,
    -- The receiver's HTTP status at the last attempt; null when it could not be reached.
    last_status bigint,
    last_error text check (last_error is null or length(last_error) <= 500),
    delivered_at bigint,
    created_at bigint not null,
    unique (webhook_id, metric_id, period_start, threshold)
);

create index webhook_deliveries_due on webhook_deliveries (status, next_attempt_ms);
create index webhook_deliveries_by_webhook on webhook_deliveries (webhook_id, id);

-- Each license edit bumps its version; a save names the version it started from, so an
-- edit made over a newer one is refused instead of overwriting it.
alter table licenses add column version bigint not null default 1;

-- Who changed what, when: licenses, their resources, assignments, keys, webhooks and roles.
create table audit_events (
    id integer primary key,
    occurred_at bigint not null,
    -- The signed-in user's email, 'key <prefix>' for an API key, or 'cli'.
    actor text not null,
    -- The organization the change concerns; null for the catalogue of licenses.
    organization_id bigint references organizations (id) on delete set null,
    entity text not null
        check (entity in ('license', 'subscription', 'api_key', 'webhook', 'membership')),
    entity_id text not null,
    -- A human summary, e.g. the license's name.
    label text not null default '',
    action text not null check (action in ('created', 'updated', 'assigned', 'revoked')),
    -- JSON of the fields before and after the change; null for none (created, revoked).
    before text,
    after text
);

create index audit_events_by_time on audit_events (occurred_at, id);
create index audit_events_by_organization on audit_events (organization_id, occurred_at);
