-- The audit trail: records hash-chained per (tenant, track), references to
-- the objects they are about, signed checkpoints, alerts and per-company
-- retention. tenant_id is '' for installation-level records (e.g. a sign-in
-- with an unknown login), so audit tables have no foreign key to tenants:
-- the trail outlives what it describes.

CREATE TABLE audit_records (
	tenant_id   TEXT NOT NULL,
	track       TEXT NOT NULL,
	seq         BIGINT NOT NULL,
	id          TEXT NOT NULL,
	occurred_at TIMESTAMPTZ NOT NULL,
	actor_kind  TEXT NOT NULL,
	actor_id    TEXT NOT NULL,
	action      TEXT NOT NULL,
	objects     TEXT NOT NULL,
	request_id  TEXT NOT NULL,
	details     TEXT NOT NULL,
	prev_hash   TEXT NOT NULL,
	hash        TEXT NOT NULL,
	PRIMARY KEY (tenant_id, track, seq)
);
CREATE INDEX audit_records_time ON audit_records (tenant_id, occurred_at);
-- Filters by action or actor walk the company's time index: two more
-- indexes would halve the rate at which records can be appended.

CREATE TABLE audit_refs (
	tenant_id   TEXT NOT NULL,
	object_kind TEXT NOT NULL,
	object_id   TEXT NOT NULL,
	track       TEXT NOT NULL,
	seq         BIGINT NOT NULL,
	PRIMARY KEY (tenant_id, object_kind, object_id, track, seq),
	FOREIGN KEY (tenant_id, track, seq) REFERENCES audit_records (tenant_id, track, seq) ON DELETE CASCADE
);
CREATE INDEX audit_refs_record ON audit_refs (tenant_id, track, seq);

CREATE TABLE audit_checkpoints (
	tenant_id  TEXT NOT NULL,
	track      TEXT NOT NULL,
	seq        BIGINT NOT NULL,
	hash       TEXT NOT NULL,
	created_at TIMESTAMPTZ NOT NULL,
	reason     TEXT NOT NULL,
	key_id     TEXT NOT NULL,
	signature  TEXT NOT NULL,
	PRIMARY KEY (tenant_id, track, seq)
);

CREATE TABLE audit_alerts (
	tenant_id       TEXT NOT NULL,
	id              TEXT NOT NULL,
	rule            TEXT NOT NULL,
	count           BIGINT NOT NULL,
	created_at      TIMESTAMPTZ NOT NULL,
	record_track    TEXT NOT NULL,
	record_seq      BIGINT NOT NULL,
	notified_at     TIMESTAMPTZ,
	acknowledged_at TIMESTAMPTZ,
	acknowledged_by TEXT NOT NULL DEFAULT '',
	PRIMARY KEY (tenant_id, id)
);
CREATE INDEX audit_alerts_pending ON audit_alerts (notified_at);

CREATE TABLE audit_retention (
	tenant_id TEXT NOT NULL,
	track     TEXT NOT NULL,
	days      INTEGER NOT NULL,
	PRIMARY KEY (tenant_id, track)
);
