-- Every table that grows with usage keys its rows by organization: the organization id
-- leads its primary key, its unique keys and its foreign keys to other such tables. So the
-- schema can be distributed by organization (Citus: create_distributed_table(…,
-- 'organization_id') on these, reference tables for the catalogue) and a request's
-- statements never cross shards. tests/integration/distribution.rs checks it.

-- Statements and their lines.
alter table statement_items add column organization_id bigint;
update statement_items i set organization_id = s.organization_id
    from statements s where s.id = i.statement_id;
alter table statement_items alter column organization_id set not null;
alter table statement_items drop constraint statement_items_statement_id_fkey;
alter table statement_items drop constraint statement_items_pkey;
alter table statements drop constraint statements_pkey;
alter table statements add primary key (organization_id, id);
alter table statement_items add primary key (organization_id, statement_id, position);
alter table statement_items add constraint statement_items_statement_id_fkey
    foreign key (organization_id, statement_id)
    references statements (organization_id, id) on delete cascade;

-- Webhooks and their deliveries.
alter table webhook_deliveries drop constraint webhook_deliveries_webhook_id_fkey;
alter table webhooks drop constraint webhooks_pkey;
alter table webhooks add primary key (organization_id, id);
drop index webhooks_by_organization;
alter table webhook_deliveries drop constraint webhook_deliveries_pkey;
alter table webhook_deliveries add primary key (organization_id, id);
alter table webhook_deliveries add constraint webhook_deliveries_webhook_id_fkey
    foreign key (organization_id, webhook_id)
    references webhooks (organization_id, id) on delete cascade;
alter table webhook_deliveries drop constraint webhook_deliveries_event_id_key;
alter table webhook_deliveries add constraint webhook_deliveries_event_id_key
    unique (organization_id, event_id);
alter table webhook_deliveries
    drop constraint webhook_deliveries_webhook_id_metric_id_period_start_thresh_key;
alter table webhook_deliveries add constraint webhook_deliveries_once_per_threshold
    unique (organization_id, webhook_id, metric_id, period_start, threshold);
drop index webhook_deliveries_by_webhook;
create index webhook_deliveries_by_webhook on webhook_deliveries (organization_id, webhook_id, id);
