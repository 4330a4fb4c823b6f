-- The audit trail's filters answer from indexes, and prune checkpoints sign
-- their cut-off.
--
-- * Each filter of /audit has an index that ends in the page order, so a
--   page is read from its cursor onward and stops after 50 records
--   whatever the company's size: by track (tenant_id, track, occurred_at,
--   seq), by action (tenant_id, action, occurred_at, track, seq) and by
--   actor (tenant_id, actor_id, occurred_at, track, seq). A time range is a
--   range of any of them. They cost appending (decision 0002 has the
--   figures); a company's filters must not read its whole trail.
-- * audit_refs is keyed by the object and then the page order, (tenant_id,
--   object_kind, object_id, occurred_at, track, seq): an object's records
--   are read newest first from the key, not gathered and sorted.
-- * audit_checkpoints says which version of the signed statement a
--   checkpoint carries, and a prune checkpoint the cut-off time it pruned
--   before (version 2 signs both).

CREATE INDEX audit_records_track ON audit_records (tenant_id, track, occurred_at, seq);
CREATE INDEX audit_records_action ON audit_records (tenant_id, action, occurred_at, track, seq);
CREATE INDEX audit_records_actor ON audit_records (tenant_id, actor_id, occurred_at, track, seq);

ALTER TABLE audit_refs ADD COLUMN occurred_at TIMESTAMPTZ;
UPDATE audit_refs r SET occurred_at = a.occurred_at FROM audit_records a
WHERE a.tenant_id = r.tenant_id AND a.track = r.track AND a.seq = r.seq;
-- A reference to no record (none should exist) has nothing to be found by.
DELETE FROM audit_refs WHERE occurred_at IS NULL;
ALTER TABLE audit_refs ALTER COLUMN occurred_at SET NOT NULL;
ALTER TABLE audit_refs DROP CONSTRAINT audit_refs_pkey;
ALTER TABLE audit_refs ADD PRIMARY KEY (tenant_id, object_kind, object_id, occurred_at, track, seq);

ALTER TABLE audit_checkpoints ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
ALTER TABLE audit_checkpoints ADD COLUMN pruned_before TIMESTAMPTZ;
