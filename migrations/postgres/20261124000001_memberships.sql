-- A user may belong to several organizations, with a role in each; the dashboard's
-- organization switcher moves a session between them. users.organization_id stays the
-- organization a sign-in starts in.
create table memberships (
    user_id bigint not null references users (id) on delete cascade,
    organization_id bigint not null references organizations (id) on delete cascade,
    role text not null check (role in ('member', 'admin')),
    created_at bigint not null,
    primary key (user_id, organization_id)
);

create index memberships_by_organization on memberships (organization_id);

insert into memberships (user_id, organization_id, role, created_at)
select id, organization_id, role, created_at from users where organization_id is not null;
