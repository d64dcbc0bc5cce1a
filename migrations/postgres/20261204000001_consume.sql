-- The first answer of each `POST /api/v1/entitlements/{metric}/consume`, by its idempotency
-- key: written in the transaction that records the usage (or refuses it), so a retry after
-- a crash finds it. `entitlement` is the JSON of the entitlement answered.
create table consumptions (
    organization_id bigint not null references organizations (id) on delete cascade,
    consume_id text not null,
    metric_id bigint not null references metrics (id),
    allowed boolean not null,
    entitlement text not null,
    created_at bigint not null,
    primary key (organization_id, consume_id)
);
create index consumptions_created on consumptions (created_at);

-- Per license resource: refuse ingested events past its hard limit (off: ingestion records
-- what happened, and only the check and consume endpoints refuse).
alter table license_resources add column refuse_events boolean not null default false;
alter table license_resources add constraint license_resources_refuse_events_check
    check (not refuse_events or limited);
