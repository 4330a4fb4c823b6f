-- Lockout after repeated failures, single-use account tokens (unlock links
-- now; invitations and password resets use the same table), and the queue of
-- outgoing email, delivered by a background job and deleted once sent.

ALTER TABLE users ADD COLUMN failed_attempts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN locked_until TIMESTAMPTZ;

CREATE TABLE account_tokens (
	tenant_id  TEXT NOT NULL,
	id         TEXT NOT NULL,
	user_id    TEXT NOT NULL,
	purpose    TEXT NOT NULL,
	token_hash TEXT NOT NULL UNIQUE,
	created_at TIMESTAMPTZ NOT NULL,
	expires_at TIMESTAMPTZ NOT NULL,
	used_at    TIMESTAMPTZ,
	PRIMARY KEY (tenant_id, id),
	FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE
);

CREATE TABLE email_queue (
	tenant_id   TEXT NOT NULL,
	id          TEXT NOT NULL,
	message     TEXT NOT NULL,
	created_at  TIMESTAMPTZ NOT NULL,
	next_try_at TIMESTAMPTZ NOT NULL,
	attempts    INTEGER NOT NULL DEFAULT 0,
	last_error  TEXT NOT NULL DEFAULT '',
	PRIMARY KEY (tenant_id, id)
);
CREATE INDEX email_queue_due ON email_queue (next_try_at);
