-- A user the operator disabled signs in no more; their sessions end when it happens.
alter table users add column disabled_at bigint;

-- Purging ended sessions looks them up by when they end at the latest.
create index sessions_by_expiry on sessions (expires_at);

-- The audit log also records users disabled and enabled again by the operator (SQLite
-- changes a check only by rebuilding the table).
create table audit_events_next (
    id integer primary key,
    occurred_at bigint not null,
    -- The signed-in user's email, 'key <prefix>' for an API key, or 'cli'.
    actor text not null,
    -- The organization the change concerns; null for the catalogue of licenses and users.
    organization_id bigint references organizations (id) on delete set null,
    entity text not null
        check (entity in ('license', 'subscription', 'api_key', 'webhook', 'membership', 'user')),
    entity_id text not null,
    -- A human summary, e.g. the license's name.
    label text not null default '',
    action text not null check (action in ('created', 'updated', 'assigned', 'revoked')),
    -- JSON of the fields before and after the change; null for none (created, revoked).
    before text,
    after text
);
insert into audit_events_next
    (id, occurred_at, actor, organization_id, entity, entity_id, label, action, before, after)
select id, occurred_at, actor, organization_id, entity, entity_id, label, action, before, after
from audit_events;
drop table audit_events;
alter table audit_events_next rename to audit_events;
create index audit_events_by_time on audit_events (occurred_at, id);
create index audit_events_by_organization on audit_events (organization_id, occurred_at);
