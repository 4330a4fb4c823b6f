-- Import from another ATS (issue 15): saved column mappings, the runs with
-- their progress, and the key of every row imported.
--
-- A mapping is a company's named choice of which column of a file feeds
-- which field, with the value map of its stages (JSON).
CREATE TABLE import_mappings (
	tenant_id  TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
	name       TEXT NOT NULL,
	definition TEXT NOT NULL,
	created_by TEXT NOT NULL,
	updated_at TIMESTAMPTZ NOT NULL,
	PRIMARY KEY (tenant_id, name)
);

-- A run: one file (kept encrypted in the file store while the run needs it,
-- deleted when it is done), its mapping, the dry run's report (row numbers,
-- field names and message keys: nothing of the people in it) and the
-- progress, which each batch advances in its own transaction, so that an
-- interrupted run continues after the last batch written.
CREATE TABLE import_runs (
	tenant_id    TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
	id           TEXT NOT NULL,
	created_by   TEXT NOT NULL,
	-- uploaded, checking (the dry run), checked, running, done, failed
	status       TEXT NOT NULL,
	format       TEXT NOT NULL,
	file_name    TEXT NOT NULL DEFAULT '',
	file_sha256  TEXT NOT NULL DEFAULT '',
	file_key     BYTEA,
	documents_key BYTEA,
	header       TEXT NOT NULL DEFAULT '[]',
	mapping      TEXT NOT NULL DEFAULT '',
	report       TEXT NOT NULL DEFAULT '',
	total_rows   INTEGER NOT NULL DEFAULT 0,
	rows_done    INTEGER NOT NULL DEFAULT 0,
	created      INTEGER NOT NULL DEFAULT 0,
	merged       INTEGER NOT NULL DEFAULT 0,
	skipped      INTEGER NOT NULL DEFAULT 0,
	problems     INTEGER NOT NULL DEFAULT 0,
	error        TEXT NOT NULL DEFAULT '',
	-- The instance working on the run and until when it holds it: a run is
	-- taken by a conditional write, so two workers never write one file.
	lease_until  TIMESTAMPTZ,
	created_at   TIMESTAMPTZ NOT NULL,
	updated_at   TIMESTAMPTZ NOT NULL,
	finished_at  TIMESTAMPTZ,
	PRIMARY KEY (tenant_id, id)
);
CREATE INDEX import_runs_created ON import_runs (tenant_id, created_at, id);

-- The key of each row imported (SHA-256 of the source's external id, or of
-- the normalised row, with the company's id): a second run of the same file
-- finds them and imports nothing twice. It holds no candidate id, so it
-- outlives an erasure without naming the person, and an erased person is
-- not brought back by importing an old file again.
CREATE TABLE import_keys (
	tenant_id  TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
	key        TEXT NOT NULL,
	run_id     TEXT NOT NULL,
	-- What the key stands for: "" for a row, the position's id for a
	-- position the import added for an external id of the file.
	target     TEXT NOT NULL DEFAULT '',
	created_at TIMESTAMPTZ NOT NULL,
	PRIMARY KEY (tenant_id, key)
);

-- Row-level security, as for every company table (0027's policy).
ALTER TABLE import_mappings ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON import_mappings
	USING (tenant_id = current_setting('kandidat.tenant_id', true) OR current_setting('kandidat.tenant_id', true) = '*')
	WITH CHECK (tenant_id = current_setting('kandidat.tenant_id', true) OR current_setting('kandidat.tenant_id', true) = '*');
ALTER TABLE import_runs ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON import_runs
	USING (tenant_id = current_setting('kandidat.tenant_id', true) OR current_setting('kandidat.tenant_id', true) = '*')
	WITH CHECK (tenant_id = current_setting('kandidat.tenant_id', true) OR current_setting('kandidat.tenant_id', true) = '*');
ALTER TABLE import_keys ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON import_keys
	USING (tenant_id = current_setting('kandidat.tenant_id', true) OR current_setting('kandidat.tenant_id', true) = '*')
	WITH CHECK (tenant_id = current_setting('kandidat.tenant_id', true) OR current_setting('kandidat.tenant_id', true) = '*');
