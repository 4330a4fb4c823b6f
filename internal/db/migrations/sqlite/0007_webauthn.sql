-- Passkeys and security keys (WebAuthn): one row per registered credential,
-- and the challenge of a ceremony in progress, kept with the session.

CREATE TABLE webauthn_credentials (
	tenant_id    TEXT NOT NULL,
	id           TEXT NOT NULL,
	user_id      TEXT NOT NULL,
	credential   TEXT NOT NULL,
	created_at   TIMESTAMP NOT NULL,
	last_used_at TIMESTAMP,
	PRIMARY KEY (tenant_id, id),
	FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX webauthn_credentials_user ON webauthn_credentials (tenant_id, user_id);

ALTER TABLE sessions ADD COLUMN webauthn_ceremony TEXT;
