-- Licenses with per-resource limits and overage prices, subscriptions with a billing anchor,
-- statements, domains, accounts and users; usage rolled up per local day (and per account,
-- channel and domain) instead of per calendar month. Money and rates are exact decimal
-- strings checked by the application (rust_decimal); quantities stay integer micro-units,
-- with typeof() checks so an overflowing total fails as it does on Postgres.

alter table organizations add column tax_rate text not null default '0';
alter table organizations add column discount_rate text not null default '0';

-- For unique_count metrics: the event field whose distinct values are counted: `account`,
-- `channel`, `domainId` or `properties.<name>`.
alter table metrics add column distinct_by text;

create table domains (
    id integer primary key,
    organization_id bigint not null references organizations (id) on delete cascade,
    name text not null check (length(name) between 1 and 253),
    created_at bigint not null,
    updated_at bigint not null,
    unique (organization_id, name)
);

create table accounts (
    id integer primary key,
    organization_id bigint not null references organizations (id) on delete cascade,
    domain_id bigint not null references domains (id) on delete cascade,
    address text not null check (length(address) between 3 and 320),
    relay boolean not null default 0 check (relay in (0, 1)),
    created_at bigint not null,
    updated_at bigint not null,
    unique (organization_id, address)
);

create table users (
    id integer primary key,
    -- Null only for platform admins, who belong to no organization.
    organization_id bigint references organizations (id) on delete cascade,
    email text not null unique check (length(email) between 3 and 320),
    -- PHC string of an argon2id hash; never the password.
    password_hash text not null,
    role text not null check (role in ('member', 'admin', 'platform-admin')),
    created_at bigint not null,
    check ((role = 'platform-admin') = (organization_id is null))
);

create table licenses (
    id integer primary key,
    name text not null unique check (length(name) between 1 and 200),
    external_id text unique,
    description text not null default '',
    -- Price per billing period.
    price text not null default '0',
    currency text not null check (length(currency) = 3),
    is_default boolean not null default 0 check (is_default in (0, 1)),
    created_at bigint not null,
    updated_at bigint not null
);

create unique index licenses_one_default on licenses (is_default) where is_default;

create table license_resources (
    id integer primary key,
    license_id bigint not null references licenses (id) on delete cascade,
    metric_id bigint not null references metrics (id),
    -- Included per period; null: unlimited.
    included_micros bigint
        check (included_micros is null or (typeof(included_micros) = 'integer' and included_micros >= 0)),
    -- A hard limit: nothing past the included amount is allowed.
    limited boolean not null default 0 check (limited in (0, 1)),
    -- JSON of domain::pricing::OveragePrice; null: overage is free.
    overage_price text,
    position integer not null default 0,
    created_at bigint not null,
    updated_at bigint not null,
    unique (license_id, metric_id)
);

create table subscriptions (
    id integer primary key,
    organization_id bigint not null references organizations (id) on delete cascade,
    license_id bigint not null references licenses (id),
    status text not null check (status in ('active', 'trialing', 'past_due', 'canceled')),
    anchor_day smallint not null check (anchor_day between 1 and 31),
    started_at bigint not null,
    canceled_at bigint,
    created_at bigint not null,
    updated_at bigint not null
);

create unique index subscriptions_one_live on subscriptions (organization_id)
    where status <> 'canceled';

-- One organization's billing period as billed. The row exists from the first time the
-- period is listed, so its id never changes; its amounts and items are frozen (issued_at
-- set) once no event can land in the period any more, and are computed live until then.
create table statements (
    id integer primary key,
    organization_id bigint not null references organizations (id) on delete cascade,
    license_id bigint references licenses (id),
    period_start bigint not null,
    period_end bigint not null check (period_end > period_start),
    issued_at bigint,
    currency text check (currency is null or length(currency) = 3),
    price text,
    discount text,
    amount text,
    -- '0' within every allowance, '1' warning, '2' critical, '3' over a hard limit.
    limit_status text check (limit_status in ('0', '1', '2', '3')),
    -- The highest percentage of any included amount used.
    usage_percent text,
    created_at bigint not null,
    updated_at bigint not null,
    unique (organization_id, period_start),
    check ((issued_at is null) = (amount is null))
);

create table statement_items (
    statement_id bigint not null references statements (id) on delete cascade,
    position integer not null,
    kind text not null check (kind in ('base', 'included', 'overage')),
    name text not null,
    description text not null,
    quantity text not null,
    unit text not null,
    unit_price text not null,
    price text not null,
    discount_rate text not null,
    discount text not null,
    tax_rate text not null,
    tax text not null,
    amount text not null,
    primary key (statement_id, position)
);

create table usage_daily (
    organization_id bigint not null references organizations (id) on delete cascade,
    metric_id bigint not null references metrics (id),
    -- Unix seconds of the local midnight that starts the day, in the organization's zone.
    day_start bigint not null,
    used_micros bigint not null default 0
        check (typeof(used_micros) = 'integer' and used_micros >= 0),
    latest_at bigint,
    updated_at bigint not null,
    primary key (organization_id, metric_id, day_start)
);

create table usage_daily_breakdown (
    organization_id bigint not null references organizations (id) on delete cascade,
    dimension text not null check (dimension in ('account', 'channel', 'domain')),
    day_start bigint not null,
    metric_id bigint not null references metrics (id),
    value text not null,
    used_micros bigint not null default 0
        check (typeof(used_micros) = 'integer' and used_micros >= 0),
    latest_at bigint,
    updated_at bigint not null,
    primary key (organization_id, dimension, day_start, metric_id, value)
);

-- The distinct values a unique_count metric has seen per day.
create table usage_distinct_values (
    organization_id bigint not null references organizations (id) on delete cascade,
    metric_id bigint not null references metrics (id),
    day_start bigint not null,
    value text not null,
    primary key (organization_id, metric_id, day_start, value)
);

-- Monthly totals so far become the total of their period's first day.
insert into usage_daily (organization_id, metric_id, day_start, used_micros, latest_at, updated_at)
select organization_id, metric_id, period_start, used_micros, latest_at, updated_at
from period_usage;

drop table period_usage;

-- Allowances so far become one license per organization that had any, subscribed monthly.
insert into licenses (name, description, price, currency, is_default, created_at, updated_at)
select 'Custom plan: ' || o.slug, 'Allowances set before licenses existed', '0', o.currency,
       0, o.created_at, o.created_at
from organizations o
where exists (select 1 from metric_allowances a where a.organization_id = o.id);

insert into license_resources
    (license_id, metric_id, included_micros, limited, position, created_at, updated_at)
select l.id, a.metric_id, a.included_micros, 0, m.position, o.created_at, o.created_at
from metric_allowances a
join organizations o on o.id = a.organization_id
join licenses l on l.name = 'Custom plan: ' || o.slug
join metrics m on m.id = a.metric_id;

insert into subscriptions
    (organization_id, license_id, status, anchor_day, started_at, created_at, updated_at)
select o.id, l.id, 'active', 1, o.created_at, o.created_at, o.created_at
from organizations o
join licenses l on l.name = 'Custom plan: ' || o.slug;

drop table metric_allowances;
