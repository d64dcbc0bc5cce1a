-- The raw event log and its idempotency keys stop checking their organization and metric
-- against the catalogue on every row. Each check took a KEY SHARE lock on the
-- organization's row: batches of one organization arriving at once made PostgreSQL share
-- those locks through MultiXacts, and the two inserts took 94 % of its statement time
-- during ingest (`make scale`'s profile). The server writes only ids it has just read
-- (the key's organization, the catalogue's metric), and neither organizations nor metrics
-- are ever deleted; the daily totals keep their foreign keys.
alter table usage_events drop constraint usage_events_organization_id_fkey;
alter table usage_events drop constraint usage_events_metric_id_fkey;
alter table usage_event_keys drop constraint usage_event_keys_organization_id_fkey;
