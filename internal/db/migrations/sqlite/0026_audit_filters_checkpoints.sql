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

CREATE TABLE audit_refs_new (
	tenant_id   TEXT NOT NULL,
	object_kind TEXT NOT NULL,
	object_id   TEXT NOT NULL,
	occurred_at TIMESTAMP NOT NULL,
	track       TEXT NOT NULL,
	seq         BIGINT NOT NULL,
	PRIMARY KEY (tenant_id, object_kind, object_id, occurred_at, track, seq)
) WITHOUT ROWID;
INSERT INTO audit_refs_new (tenant_id, object_kind, object_id, occurred_at, track, seq)
SELECT r.tenant_id, r.object_kind, r.object_id, a.occurred_at, r.track, r.seq
FROM audit_refs r JOIN audit_records a ON a.tenant_id = r.tenant_id AND a.track = r.track AND a.seq = r.seq;
DROP TABLE audit_refs;
ALTER TABLE audit_refs_new RENAME TO audit_refs;

ALTER TABLE audit_checkpoints ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
ALTER TABLE audit_checkpoints ADD COLUMN pruned_before TIMESTAMP;
