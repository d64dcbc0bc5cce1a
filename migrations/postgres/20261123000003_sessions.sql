-- Signed-in browser sessions. Only a SHA-256 hash of the cookie's secret is stored.
create table sessions (
    token_hash text primary key,
    user_id bigint not null references users (id) on delete cascade,
    -- The organization the session acts for; null for a platform admin.
    organization_id bigint references organizations (id) on delete cascade,
    created_at bigint not null,
    last_seen_at bigint not null,
    -- The absolute end, whatever the activity.
    expires_at bigint not null,
    revoked_at bigint
);

create index sessions_by_user on sessions (user_id);
