-- Companies (tenants), their enabled modules and data keys, users, sessions
-- and the one-time setup token of an empty installation.
-- Global tables: tenants, setup_tokens, schema_migrations. Every other table
-- carries tenant_id, and its key and foreign keys include it (DESIGN §3).

CREATE TABLE tenants (
	id                  TEXT PRIMARY KEY,
	slug                TEXT NOT NULL UNIQUE,
	name                TEXT NOT NULL,
	registration_number TEXT NOT NULL DEFAULT '',
	default_language    TEXT NOT NULL,
	settings            TEXT NOT NULL DEFAULT '{}',
	created_at          TIMESTAMP NOT NULL,
	updated_at          TIMESTAMP NOT NULL
);

CREATE TABLE tenant_modules (
	tenant_id  TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
	module     TEXT NOT NULL,
	enabled_at TIMESTAMP NOT NULL,
	PRIMARY KEY (tenant_id, module)
);

CREATE TABLE tenant_keys (
	tenant_id      TEXT PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
	wrapped_keyset BLOB NOT NULL,
	master_key_id  TEXT NOT NULL,
	created_at     TIMESTAMP NOT NULL,
	updated_at     TIMESTAMP NOT NULL
);

CREATE TABLE users (
	tenant_id            TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
	id                   TEXT NOT NULL,
	-- The login identifier is unique across the installation, so sign-in
	-- needs no company name; it is stored lower-cased and NFC-normalised.
	login                TEXT NOT NULL UNIQUE,
	email                TEXT NOT NULL DEFAULT '',
	display_name         TEXT NOT NULL,
	language             TEXT NOT NULL DEFAULT '',
	role                 TEXT NOT NULL,
	status               TEXT NOT NULL,
	must_change_password BOOLEAN NOT NULL DEFAULT FALSE,
	password_hash        TEXT NOT NULL,
	password_changed_at  TIMESTAMP NOT NULL,
	created_at           TIMESTAMP NOT NULL,
	updated_at           TIMESTAMP NOT NULL,
	PRIMARY KEY (tenant_id, id)
);

CREATE TABLE sessions (
	tenant_id    TEXT NOT NULL,
	id           TEXT NOT NULL,
	-- SHA-256 of the 256-bit secret in the cookie; the secret itself is never stored.
	token_hash   TEXT NOT NULL UNIQUE,
	user_id      TEXT NOT NULL,
	created_at   TIMESTAMP NOT NULL,
	last_seen_at TIMESTAMP NOT NULL,
	expires_at   TIMESTAMP NOT NULL,
	ip           TEXT NOT NULL DEFAULT '',
	user_agent   TEXT NOT NULL DEFAULT '',
	PRIMARY KEY (tenant_id, id),
	FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX sessions_user ON sessions (tenant_id, user_id);
CREATE INDEX sessions_expires ON sessions (expires_at);

CREATE TABLE setup_tokens (
	token_hash TEXT PRIMARY KEY,
	created_at TIMESTAMP NOT NULL,
	used_at    TIMESTAMP
);
