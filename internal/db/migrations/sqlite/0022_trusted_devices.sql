-- Browsers their owner signed in with (device cookies), each with its own
-- failure count and lock, so failures from other browsers neither lock nor
-- slow the owner; and a failure count on emailed links that ask for the
-- password (the unlock link), which dies after a few wrong ones; and the
-- trusted device a session was started from.
--
-- The cookie holds the user id, a random nonce, an expiry and an HMAC made
-- with a key derived from the master key; the row is found by the SHA-256 of
-- the nonce. Rows go at their expiry, at a password change or reset, and
-- beyond the newest few of a user.

CREATE TABLE trusted_devices (
	tenant_id       TEXT NOT NULL,
	id              TEXT NOT NULL,
	user_id         TEXT NOT NULL,
	failed_attempts INTEGER NOT NULL DEFAULT 0,
	locked_until    TIMESTAMP,
	created_at      TIMESTAMP NOT NULL,
	expires_at      TIMESTAMP NOT NULL,
	PRIMARY KEY (tenant_id, id),
	FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX trusted_devices_user ON trusted_devices (tenant_id, user_id, created_at);
CREATE INDEX trusted_devices_expiry ON trusted_devices (expires_at);

ALTER TABLE account_tokens ADD COLUMN failed_attempts INTEGER NOT NULL DEFAULT 0;

-- The trusted device (trusted_devices.id) whose password attempt started a
-- session, NULL for another browser: the second step of a session waiting
-- for it can tell whether the account's lock holds that browser.
ALTER TABLE sessions ADD COLUMN device_id TEXT;
