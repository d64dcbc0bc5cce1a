-- API keys and the raw usage-event log. Events roll up into period_usage in the same
-- transaction that stores them; latest_at records which event a `latest` total came from.

create table api_keys (
    id integer primary key,
    organization_id bigint not null references organizations (id) on delete cascade,
    -- Public part of the key (qb_<prefix>_<secret>), used to find it; never the secret.
    prefix text not null unique,
    -- Hex SHA-256 of the whole key; the key itself is shown once and never stored.
    secret_hash text not null,
    role text not null check (role in ('member', 'admin')),
    name text not null default '',
    created_at bigint not null,
    revoked_at bigint
);

create table usage_events (
    id integer primary key,
    organization_id bigint not null references organizations (id) on delete cascade,
    -- The client's idempotency key: a repeat is acknowledged and not counted again.
    event_id text not null,
    metric_id bigint not null references metrics (id),
    quantity_micros bigint not null
        check (typeof(quantity_micros) = 'integer' and quantity_micros >= 0),
    occurred_at bigint not null,
    received_at bigint not null,
    account text,
    domain_id text,
    channel text,
    properties text,
    unique (organization_id, event_id)
);

create index usage_events_by_time on usage_events (organization_id, occurred_at);

alter table period_usage add column latest_at bigint;
