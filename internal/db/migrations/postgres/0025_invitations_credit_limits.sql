-- Invitations claim no login, and each user's monthly spending limit.
--
-- Logins are unique across the installation. An invitation used to write
-- the invitee's login at once, so inviting a login another company already
-- used failed, and told the inviting company that the login existed
-- elsewhere. An invited user's login now holds a stand-in,
-- 'invited:<user id>' (a colon never appears in a real login), and the
-- login to be waits in invited_login, unique within the company only. It is
-- claimed when the invitation is accepted; if it is taken by then, the
-- invitee chooses another. Pending invitations move to the new form.
ALTER TABLE users ADD COLUMN invited_login TEXT;
CREATE UNIQUE INDEX users_invited_login ON users (tenant_id, invited_login);
UPDATE users SET invited_login = login, login = 'invited:' || id WHERE status = 'invited';

-- How many credits a user may spend in a calendar month (UTC), set by the
-- company's credit administration; no row means no limit of one's own.
-- Publishing checks it inside the transaction that debits.
CREATE TABLE credit_limits (
	tenant_id     TEXT NOT NULL,
	user_id       TEXT NOT NULL,
	monthly_limit INTEGER NOT NULL CHECK (monthly_limit >= 0),
	updated_at    TIMESTAMPTZ NOT NULL,
	PRIMARY KEY (tenant_id, user_id),
	FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE
);

-- What a user spent this month, read from the ledger by its index.
CREATE INDEX credit_ledger_actor ON credit_ledger (tenant_id, actor_id, created_at);

-- Row-level security, as for every company table (0010, with 0020's policy).
ALTER TABLE credit_limits ENABLE ROW LEVEL SECURITY;
ALTER TABLE credit_limits FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON credit_limits
	USING (tenant_id = current_setting('kandidat.tenant_id', true) OR coalesce(current_setting('kandidat.tenant_id', true), '') = '')
	WITH CHECK (tenant_id = current_setting('kandidat.tenant_id', true) OR coalesce(current_setting('kandidat.tenant_id', true), '') = '');
