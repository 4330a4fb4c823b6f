-- Company settings that apply where they are enforced.
--
-- A company may shorten the installation's session timeouts for its own
-- users. The values sit in columns of their own, not in the settings
-- document, because every signed-in request reads them together with its
-- session (one join on the primary key, no JSON to parse); NULL means the
-- installation's timeout.
ALTER TABLE tenants ADD COLUMN session_idle_seconds INTEGER CHECK (session_idle_seconds > 0);
ALTER TABLE tenants ADD COLUMN session_absolute_seconds INTEGER CHECK (session_absolute_seconds > 0);

-- A company's own alert thresholds, read by the rule that a record may
-- raise, in the transaction that writes the record. No row: the
-- installation's thresholds.
CREATE TABLE audit_rules (
	tenant_id                     TEXT PRIMARY KEY,
	failed_sign_ins               INTEGER NOT NULL CHECK (failed_sign_ins >= 0),
	failed_sign_in_window_seconds INTEGER NOT NULL CHECK (failed_sign_in_window_seconds > 0),
	mass_count                    INTEGER NOT NULL CHECK (mass_count >= 0),
	updated_at                    TIMESTAMP NOT NULL
);

-- The career page's logo: public by nature and small (at most 256 kB,
-- its metadata removed), so it is kept in the database with the company
-- and goes with it.
CREATE TABLE company_logos (
	tenant_id    TEXT PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
	content_type TEXT NOT NULL,
	data         BLOB NOT NULL,
	updated_at   TIMESTAMP NOT NULL
);
