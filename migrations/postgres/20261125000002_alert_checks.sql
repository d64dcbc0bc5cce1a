-- Usage changes whose threshold alerts are still to be checked. Ingestion writes them in
-- the transaction that stores the usage and removes them once checked, and the delivery
-- task checks whatever is left (a server died in between), so no crossing goes unalerted.
create table pending_alert_checks (
    organization_id bigint not null references organizations (id) on delete cascade,
    metric_id bigint not null references metrics (id),
    day_start bigint not null,
    -- Unix milliseconds of the latest change: a check clears only what it has seen.
    touched_at bigint not null,
    primary key (organization_id, metric_id, day_start)
);
