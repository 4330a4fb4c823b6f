-- The weekly digest of expiry notices (issue 14): one row per company,
-- user and ISO week ("2026-W49", the company's calendar) whose digest
-- email was queued. The row is written by a conditional insert in the
-- transaction that queues the email, so two runs or two instances send
-- one digest a week.
CREATE TABLE privacy_digests (
	tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
	user_id   TEXT NOT NULL,
	week      TEXT NOT NULL,
	sent_at   TIMESTAMPTZ NOT NULL,
	PRIMARY KEY (tenant_id, user_id, week)
);
CREATE INDEX privacy_digests_sent ON privacy_digests (tenant_id, sent_at);

-- Row-level security, as for every company table (0027's policy).
ALTER TABLE privacy_digests ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON privacy_digests
	USING (tenant_id = current_setting('kandidat.tenant_id', true) OR current_setting('kandidat.tenant_id', true) = '*')
	WITH CHECK (tenant_id = current_setting('kandidat.tenant_id', true) OR current_setting('kandidat.tenant_id', true) = '*');
