-- Whistleblowing (issue 16). A company's reporting channels, the case
-- handlers' key pairs, and the reports, sealed so that the server alone
-- cannot read them: every report has its own X25519 key pair; its content,
-- messages, notes and files are sealed to its public key; its private key
-- is sealed to each case handler's public key (whistle_case_handlers) and
-- under a key derived from the reporter's receipt (sealed_by_receipt). A
-- handler's private key is sealed under their password and a recovery key,
-- and, if the company set up an escrow, to the escrow's public key, whose
-- private key exists only as shares held by custodians.
--
-- No trace of the reporter: the report-side rows carry days (YYYY-MM-DD),
-- never times, and random ids (not UUIDv7, which embed the millisecond).
CREATE TABLE whistle_settings (
	tenant_id         TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
	escrow_id         TEXT NOT NULL DEFAULT '',
	escrow_public_key TEXT NOT NULL DEFAULT '',
	escrow_threshold  INTEGER NOT NULL DEFAULT 0,
	escrow_shares     INTEGER NOT NULL DEFAULT 0,
	archive_recipient TEXT NOT NULL DEFAULT '',
	updated_at        TIMESTAMPTZ NOT NULL,
	PRIMARY KEY (tenant_id)
);

CREATE TABLE whistle_channels (
	tenant_id        TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
	id               TEXT NOT NULL,
	slug             TEXT NOT NULL,
	name             TEXT NOT NULL,
	default_language TEXT NOT NULL,
	languages        TEXT NOT NULL,
	config           TEXT NOT NULL,
	allow_identified BOOLEAN NOT NULL,
	retention_days   INTEGER NOT NULL,
	active           BOOLEAN NOT NULL,
	version          INTEGER NOT NULL DEFAULT 1,
	created_at       TIMESTAMPTZ NOT NULL,
	updated_at       TIMESTAMPTZ NOT NULL,
	PRIMARY KEY (tenant_id, id),
	UNIQUE (tenant_id, slug)
);

CREATE TABLE whistle_channel_handlers (
	tenant_id  TEXT NOT NULL,
	channel_id TEXT NOT NULL,
	user_id    TEXT NOT NULL,
	PRIMARY KEY (tenant_id, channel_id, user_id),
	FOREIGN KEY (tenant_id, channel_id) REFERENCES whistle_channels (tenant_id, id) ON DELETE CASCADE,
	FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX whistle_channel_handlers_user ON whistle_channel_handlers (tenant_id, user_id);

CREATE TABLE whistle_handler_keys (
	tenant_id          TEXT NOT NULL,
	user_id            TEXT NOT NULL,
	public_key         TEXT NOT NULL,
	password_salt      BYTEA NOT NULL,
	sealed_by_password BYTEA NOT NULL,
	sealed_by_recovery BYTEA NOT NULL,
	escrow_id          TEXT NOT NULL DEFAULT '',
	sealed_by_escrow   BYTEA,
	created_at         TIMESTAMPTZ NOT NULL,
	updated_at         TIMESTAMPTZ NOT NULL,
	PRIMARY KEY (tenant_id, user_id),
	FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE
);

CREATE TABLE whistle_reports (
	tenant_id             TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
	id                    TEXT NOT NULL,
	channel_id            TEXT NOT NULL,
	public_key            TEXT NOT NULL,
	receipt_lookup        BYTEA NOT NULL,
	receipt_salt          BYTEA NOT NULL,
	sealed_by_receipt     BYTEA NOT NULL,
	language              TEXT NOT NULL,
	identified            BOOLEAN NOT NULL,
	meeting_requested     BOOLEAN NOT NULL DEFAULT FALSE,
	status                TEXT NOT NULL,
	outcome               TEXT NOT NULL DEFAULT '',
	received_on           TEXT NOT NULL,
	acknowledged_on       TEXT,
	feedback_on           TEXT,
	closed_on             TEXT,
	ack_due               TEXT NOT NULL,
	feedback_due          TEXT NOT NULL,
	delete_on             TEXT,
	legal_hold            BOOLEAN NOT NULL DEFAULT FALSE,
	entries               INTEGER NOT NULL DEFAULT 0,
	attachments           INTEGER NOT NULL DEFAULT 0,
	reporter_seen         INTEGER NOT NULL DEFAULT 0,
	activity_on           TEXT NOT NULL,
	reporter_activity_on  TEXT NOT NULL,
	notified_on           TEXT,
	ack_reminded_on       TEXT,
	feedback_reminded_on  TEXT,
	retention_reminded_on TEXT,
	failed_unlocks        INTEGER NOT NULL DEFAULT 0,
	failed_on             TEXT,
	version               INTEGER NOT NULL DEFAULT 1,
	PRIMARY KEY (tenant_id, id),
	UNIQUE (tenant_id, receipt_lookup),
	FOREIGN KEY (tenant_id, channel_id) REFERENCES whistle_channels (tenant_id, id)
);
CREATE INDEX whistle_reports_channel ON whistle_reports (tenant_id, channel_id, status);
CREATE INDEX whistle_reports_received ON whistle_reports (tenant_id, received_on);
CREATE INDEX whistle_reports_delete ON whistle_reports (delete_on);
CREATE INDEX whistle_reports_open ON whistle_reports (status, tenant_id);

CREATE TABLE whistle_case_handlers (
	tenant_id TEXT NOT NULL,
	report_id TEXT NOT NULL,
	user_id   TEXT NOT NULL,
	excluded  BOOLEAN NOT NULL DEFAULT FALSE,
	sealed    BYTEA,
	PRIMARY KEY (tenant_id, report_id, user_id),
	FOREIGN KEY (tenant_id, report_id) REFERENCES whistle_reports (tenant_id, id) ON DELETE CASCADE,
	FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX whistle_case_handlers_user ON whistle_case_handlers (tenant_id, user_id);

CREATE TABLE whistle_entries (
	tenant_id   TEXT NOT NULL,
	report_id   TEXT NOT NULL,
	seq         INTEGER NOT NULL,
	kind        TEXT NOT NULL,
	author_kind TEXT NOT NULL,
	author_id   TEXT NOT NULL DEFAULT '',
	day         TEXT NOT NULL,
	sealed      BYTEA NOT NULL,
	PRIMARY KEY (tenant_id, report_id, seq),
	FOREIGN KEY (tenant_id, report_id) REFERENCES whistle_reports (tenant_id, id) ON DELETE CASCADE
);

CREATE TABLE whistle_attachments (
	tenant_id   TEXT NOT NULL,
	report_id   TEXT NOT NULL,
	id          TEXT NOT NULL,
	seq         INTEGER NOT NULL,
	blob_key    BYTEA NOT NULL,
	size        BIGINT NOT NULL,
	sealed_meta BYTEA NOT NULL,
	PRIMARY KEY (tenant_id, report_id, id),
	FOREIGN KEY (tenant_id, report_id) REFERENCES whistle_reports (tenant_id, id) ON DELETE CASCADE
);

CREATE TABLE whistle_archives (
	tenant_id TEXT NOT NULL,
	report_id TEXT NOT NULL,
	object_id TEXT NOT NULL,
	blob_key  BYTEA NOT NULL,
	size      BIGINT NOT NULL,
	sha256    TEXT NOT NULL,
	made_on   TEXT NOT NULL,
	made_by   TEXT NOT NULL,
	PRIMARY KEY (tenant_id, report_id),
	FOREIGN KEY (tenant_id, report_id) REFERENCES whistle_reports (tenant_id, id) ON DELETE CASCADE
);

-- Row-level security, as for every company table (0027's policy).
ALTER TABLE whistle_settings ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON whistle_settings
	USING (tenant_id = current_setting('kandidat.tenant_id', true) OR current_setting('kandidat.tenant_id', true) = '*')
	WITH CHECK (tenant_id = current_setting('kandidat.tenant_id', true) OR current_setting('kandidat.tenant_id', true) = '*');
ALTER TABLE whistle_channels ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON whistle_channels
	USING (tenant_id = current_setting('kandidat.tenant_id', true) OR current_setting('kandidat.tenant_id', true) = '*')
	WITH CHECK (tenant_id = current_setting('kandidat.tenant_id', true) OR current_setting('kandidat.tenant_id', true) = '*');
ALTER TABLE whistle_channel_handlers ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON whistle_channel_handlers
	USING (tenant_id = current_setting('kandidat.tenant_id', true) OR current_setting('kandidat.tenant_id', true) = '*')
	WITH CHECK (tenant_id = current_setting('kandidat.tenant_id', true) OR current_setting('kandidat.tenant_id', true) = '*');
ALTER TABLE whistle_handler_keys ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON whistle_handler_keys
	USING (tenant_id = current_setting('kandidat.tenant_id', true) OR current_setting('kandidat.tenant_id', true) = '*')
	WITH CHECK (tenant_id = current_setting('kandidat.tenant_id', true) OR current_setting('kandidat.tenant_id', true) = '*');
ALTER TABLE whistle_reports ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON whistle_reports
	USING (tenant_id = current_setting('kandidat.tenant_id', true) OR current_setting('kandidat.tenant_id', true) = '*')
	WITH CHECK (tenant_id = current_setting('kandidat.tenant_id', true) OR current_setting('kandidat.tenant_id', true) = '*');
ALTER TABLE whistle_case_handlers ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON whistle_case_handlers
	USING (tenant_id = current_setting('kandidat.tenant_id', true) OR current_setting('kandidat.tenant_id', true) = '*')
	WITH CHECK (tenant_id = current_setting('kandidat.tenant_id', true) OR current_setting('kandidat.tenant_id', true) = '*');
ALTER TABLE whistle_entries ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON whistle_entries
	USING (tenant_id = current_setting('kandidat.tenant_id', true) OR current_setting('kandidat.tenant_id', true) = '*')
	WITH CHECK (tenant_id = current_setting('kandidat.tenant_id', true) OR current_setting('kandidat.tenant_id', true) = '*');
ALTER TABLE whistle_attachments ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON whistle_attachments
	USING (tenant_id = current_setting('kandidat.tenant_id', true) OR current_setting('kandidat.tenant_id', true) = '*')
	WITH CHECK (tenant_id = current_setting('kandidat.tenant_id', true) OR current_setting('kandidat.tenant_id', true) = '*');
ALTER TABLE whistle_archives ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON whistle_archives
	USING (tenant_id = current_setting('kandidat.tenant_id', true) OR current_setting('kandidat.tenant_id', true) = '*')
	WITH CHECK (tenant_id = current_setting('kandidat.tenant_id', true) OR current_setting('kandidat.tenant_id', true) = '*');
