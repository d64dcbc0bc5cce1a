-- A user the operator disabled signs in no more; their sessions end when it happens.
alter table users add column disabled_at bigint;

-- Purging ended sessions looks them up by when they end at the latest.
create index sessions_by_expiry on sessions (expires_at);

-- The audit log also records users disabled and enabled again by the operator.
alter table audit_events drop constraint audit_events_entity_check;
alter table audit_events add constraint audit_events_entity_check
    check (entity in ('license', 'subscription', 'api_key', 'webhook', 'membership', 'user'));
