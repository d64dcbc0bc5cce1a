-- A hard limit apart from the included amount: usage between the two is overage, usage at
-- the limit is refused. Null on a hard-limited resource: the limit is the included amount.
-- Only a hard-limited resource has one.
alter table license_resources add column limit_micros bigint
    check (limit_micros is null or (typeof(limit_micros) = 'integer' and limit_micros >= 0 and limited));
