-- A smaller audit trail. The records become a WITHOUT ROWID table
-- clustered by their chain key (tenant_id, track, seq): the separate index
-- of that key, a copy of three columns of every record, goes away, and the
-- time index, which holds the whole key already, grows by nothing. (Since
-- the same release, records store their objects and details in a compact
-- text form instead of JSON; older records keep theirs and read the same.)

CREATE TABLE audit_records_new (
	tenant_id   TEXT NOT NULL,
	track       TEXT NOT NULL,
	seq         BIGINT NOT NULL,
	id          TEXT NOT NULL,
	occurred_at TIMESTAMP NOT NULL,
	actor_kind  TEXT NOT NULL,
	actor_id    TEXT NOT NULL,
	action      TEXT NOT NULL,
	objects     TEXT NOT NULL,
	request_id  TEXT NOT NULL,
	details     TEXT NOT NULL,
	prev_hash   TEXT NOT NULL,
	hash        TEXT NOT NULL,
	PRIMARY KEY (tenant_id, track, seq)
) WITHOUT ROWID;
INSERT INTO audit_records_new (tenant_id, track, seq, id, occurred_at, actor_kind, actor_id, action, objects, request_id, details, prev_hash, hash)
SELECT tenant_id, track, seq, id, occurred_at, actor_kind, actor_id, action, objects, request_id, details, prev_hash, hash FROM audit_records;
DROP TABLE audit_records;
ALTER TABLE audit_records_new RENAME TO audit_records;
CREATE INDEX audit_records_time ON audit_records (tenant_id, occurred_at, track, seq);
