-- Second factor: TOTP secrets (encrypted with the company's data key, bound
-- to the user's row), the last time step used (no replay), a separate
-- failure counter, single-use recovery codes (hashed), and sessions that
-- wait for the second step.

ALTER TABLE users ADD COLUMN totp_secret BYTEA;
ALTER TABLE users ADD COLUMN totp_pending BYTEA;
ALTER TABLE users ADD COLUMN totp_last_step BIGINT NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN mfa_failed_attempts INTEGER NOT NULL DEFAULT 0;

ALTER TABLE sessions ADD COLUMN mfa_pending BOOLEAN NOT NULL DEFAULT FALSE;

CREATE TABLE recovery_codes (
	tenant_id TEXT NOT NULL,
	user_id   TEXT NOT NULL,
	code_hash TEXT NOT NULL,
	used_at   TIMESTAMPTZ,
	PRIMARY KEY (tenant_id, user_id, code_hash),
	FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE
);
