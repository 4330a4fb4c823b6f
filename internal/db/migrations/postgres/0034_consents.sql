-- Consents (issue 14): the company's own consent texts, and consent
-- requests emailed to candidates.
--
-- * consent_texts: the talent-pool consent text of a company in one
--   language, versioned: saving a changed text adds the next version, an
--   old version is never changed (the consent log names the version a
--   candidate saw, as "company:<version>" with its language). Without a
--   row for a language the built-in text applies.
-- * consent_requests: a recruiter's request (or renewal request) for the
--   candidate's consent; the email's link holds a secret whose SHA-256 is
--   token_hash. The answer spends it: answered_at is set by a conditional
--   write (answered_at IS NULL AND expires_at > now), once.
CREATE TABLE consent_texts (
	tenant_id  TEXT NOT NULL,
	id         TEXT NOT NULL,
	purpose    TEXT NOT NULL CHECK (purpose IN ('talent_pool')),
	language   TEXT NOT NULL,
	version    INTEGER NOT NULL CHECK (version > 0),
	body       TEXT NOT NULL,
	created_at TIMESTAMPTZ NOT NULL,
	created_by TEXT NOT NULL,
	PRIMARY KEY (tenant_id, id),
	UNIQUE (tenant_id, purpose, language, version)
);

CREATE TABLE consent_requests (
	tenant_id    TEXT NOT NULL,
	id           TEXT NOT NULL,
	candidate_id TEXT NOT NULL,
	kind         TEXT NOT NULL CHECK (kind IN ('request', 'renewal')),
	-- The text the request shows, and its language.
	text_version TEXT NOT NULL,
	language     TEXT NOT NULL,
	-- SHA-256 of the link's secret, hex.
	token_hash   TEXT NOT NULL,
	created_at   TIMESTAMPTZ NOT NULL,
	expires_at   TIMESTAMPTZ NOT NULL,
	answered_at  TIMESTAMPTZ,
	-- granted or refused once answered, '' before.
	answer       TEXT NOT NULL DEFAULT '' CHECK (answer IN ('', 'granted', 'refused')),
	requested_by TEXT NOT NULL,
	PRIMARY KEY (tenant_id, id),
	FOREIGN KEY (tenant_id, candidate_id) REFERENCES candidates (tenant_id, id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX consent_requests_token ON consent_requests (token_hash);
CREATE INDEX consent_requests_candidate ON consent_requests (tenant_id, candidate_id, expires_at);

-- The consent log's page, newest first, with and without a filter on the event.
CREATE INDEX consent_log_page ON consent_log (tenant_id, created_at, id);
CREATE INDEX consent_log_event ON consent_log (tenant_id, event, created_at, id);

-- Row-level security, as for every company table (0033's policy).
ALTER TABLE consent_texts ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON consent_texts
	USING (tenant_id = current_setting('kandidat.tenant_id', true) OR current_setting('kandidat.tenant_id', true) = '*')
	WITH CHECK (tenant_id = current_setting('kandidat.tenant_id', true) OR current_setting('kandidat.tenant_id', true) = '*');
ALTER TABLE consent_requests ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON consent_requests
	USING (tenant_id = current_setting('kandidat.tenant_id', true) OR current_setting('kandidat.tenant_id', true) = '*')
	WITH CHECK (tenant_id = current_setting('kandidat.tenant_id', true) OR current_setting('kandidat.tenant_id', true) = '*');
