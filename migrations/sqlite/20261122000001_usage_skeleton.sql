-- Organizations, the metric catalogue, each organization's allowance per metric and its
-- usage per billing period. Quantities are integer micro-units (millionths of the metric's
-- unit); timestamps are unix seconds (UTC). The typeof() checks stop SQLite from turning an
-- overflowing integer sum into a float: like Postgres's bigint, it must fail instead.

create table organizations (
    id integer primary key,
    slug text not null unique check (length(slug) between 1 and 64),
    name text not null check (length(name) between 1 and 200),
    time_zone text not null,
    currency text not null check (length(currency) = 3),
    created_at bigint not null
);

create table metrics (
    id integer primary key,
    code text not null unique check (length(code) between 1 and 64),
    name text not null,
    unit text not null,
    aggregation text not null default 'sum'
        check (aggregation in ('sum', 'count', 'max', 'latest', 'unique_count')),
    position integer not null default 0,
    created_at bigint not null
);

-- What an organization's plan includes per metric; included_micros null means unlimited.
create table metric_allowances (
    organization_id bigint not null references organizations (id) on delete cascade,
    metric_id bigint not null references metrics (id),
    included_micros bigint
        check (included_micros is null or (typeof(included_micros) = 'integer' and included_micros >= 0)),
    primary key (organization_id, metric_id)
);

-- Running total per organization, metric and billing period [period_start, period_end).
create table period_usage (
    organization_id bigint not null references organizations (id) on delete cascade,
    metric_id bigint not null references metrics (id),
    period_start bigint not null,
    period_end bigint not null check (period_end > period_start),
    used_micros bigint not null default 0
        check (typeof(used_micros) = 'integer' and used_micros >= 0),
    updated_at bigint not null,
    primary key (organization_id, metric_id, period_start)
);
