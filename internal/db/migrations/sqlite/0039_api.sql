-- The REST API (issue 15): tokens and idempotency keys.
--
-- A token acts in one company as one user (its creator, or a service user
-- made for an integration), with scopes that are a subset of that user's
-- permissions at every call. Only the SHA-256 of its secret is stored.
CREATE TABLE api_tokens (
	tenant_id    TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
	id           TEXT NOT NULL,
	user_id      TEXT NOT NULL,
	created_by   TEXT NOT NULL,
	name         TEXT NOT NULL,
	-- Permission names separated by commas (access.Set.Encode).
	scopes       TEXT NOT NULL,
	secret_hash  TEXT NOT NULL UNIQUE,
	-- The first characters of the secret, shown in lists to tell tokens apart.
	prefix       TEXT NOT NULL,
	created_at   TIMESTAMP NOT NULL,
	expires_at   TIMESTAMP,
	last_used_at TIMESTAMP,
	last_used_ip TEXT NOT NULL DEFAULT '',
	revoked_at   TIMESTAMP,
	PRIMARY KEY (tenant_id, id),
	FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX api_tokens_user ON api_tokens (tenant_id, user_id);

-- A service user is a user that never signs in: API tokens act as it.
ALTER TABLE users ADD COLUMN service BOOLEAN NOT NULL DEFAULT FALSE;

-- Idempotency-Key: the first request with a key runs; a repeat with the
-- same request gets the stored response, a different request with the same
-- key is refused. The response body is encrypted with the company's data
-- key (it may name a candidate) and the row is deleted after a day.
CREATE TABLE api_idempotency (
	tenant_id   TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
	token_id    TEXT NOT NULL,
	key         TEXT NOT NULL,
	fingerprint TEXT NOT NULL,
	-- 0 while the first request runs.
	status      INTEGER NOT NULL DEFAULT 0,
	location    TEXT NOT NULL DEFAULT '',
	body        BLOB,
	created_at  TIMESTAMP NOT NULL,
	PRIMARY KEY (tenant_id, token_id, key)
);
CREATE INDEX api_idempotency_created ON api_idempotency (created_at);
