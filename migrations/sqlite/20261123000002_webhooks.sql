-- Endpoints an organization wants told when usage crosses a threshold.
create table webhooks (
    id integer primary key,
    organization_id bigint not null references organizations (id) on delete cascade,
    url text not null check (length(url) between 8 and 2048),
    description text not null default '',
    -- JSON array of percentages of an allowance, ascending, e.g. [75,90,100].
    thresholds text not null,
    -- Signs each delivery (HMAC); shown to the organization once, when the webhook is made.
    secret text not null,
    active boolean not null default true,
    created_at bigint not null,
    updated_at bigint not null
);

create index webhooks_by_organization on webhooks (organization_id);
