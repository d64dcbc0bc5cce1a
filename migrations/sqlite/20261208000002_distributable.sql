-- Statement lines name their organization, as on PostgreSQL, where every table that grows
-- with usage is keyed by organization so it can be distributed by it.
alter table statement_items add column organization_id bigint not null default 0;
update statement_items
    set organization_id = (select s.organization_id from statements s
                           where s.id = statement_items.statement_id);
