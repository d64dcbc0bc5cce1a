-- Portal sessions: a customer's read-only view of one organization's usage, for the
-- operator's own product. Three secrets share the row's public prefix, each stored only as a
-- hex SHA-256: the portal token (qbp_, `Authorization: Bearer` on the usage reads), the
-- launch token in the embed URL (qbl_, exchanged once) and the credential the embedded page
-- keeps in memory after that exchange (qba_).
create table portal_sessions (
    id integer primary key,
    organization_id bigint not null references organizations (id) on delete cascade,
    prefix text not null unique,
    token_hash text not null,
    launch_hash text not null,
    access_hash text,
    -- JSON array of the metric codes the session may read; null for every metric.
    metrics text,
    locale text not null,
    theme text not null check (theme in ('light', 'dark', 'auto')),
    created_at bigint not null,
    expires_at bigint not null,
    launched_at bigint,
    revoked_at bigint
);
create index portal_sessions_by_organization on portal_sessions (organization_id, id);

-- The origins (scheme://host[:port]) whose pages may frame an organization's embed view.
create table embed_origins (
    id integer primary key,
    organization_id bigint not null references organizations (id) on delete cascade,
    origin text not null,
    created_at bigint not null,
    unique (organization_id, origin)
);

-- The audit log also records portal sessions and embedding origins (SQLite changes a check
-- only by rebuilding the table).
create table audit_events_next (
    id integer primary key,
    occurred_at bigint not null,
    -- The signed-in user's email, 'key <prefix>' for an API key, or 'cli'.
    actor text not null,
    -- The organization the change concerns; null for the catalogue of licenses and users.
    organization_id bigint references organizations (id) on delete set null,
    entity text not null
        check (entity in ('license', 'subscription', 'api_key', 'webhook', 'membership', 'user',
                          'portal_session', 'embed_origin')),
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
