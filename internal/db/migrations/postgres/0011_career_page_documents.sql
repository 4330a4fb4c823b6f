-- The career page: a position's public description, how an application
-- arrived (source, cover letter, the form's submission id that makes a
-- repeated submission one application), the candidates' documents (stored
-- encrypted in the file store; the row holds the object's wrapped key) and
-- the consent log of the talent pool.

ALTER TABLE positions ADD COLUMN description TEXT NOT NULL DEFAULT '';

ALTER TABLE applications ADD COLUMN source TEXT NOT NULL DEFAULT '';
ALTER TABLE applications ADD COLUMN cover_letter TEXT NOT NULL DEFAULT '';
ALTER TABLE applications ADD COLUMN submission_id TEXT;
CREATE UNIQUE INDEX applications_submission ON applications (tenant_id, submission_id);

CREATE TABLE documents (
	tenant_id      TEXT NOT NULL,
	id             TEXT NOT NULL,
	candidate_id   TEXT NOT NULL,
	application_id TEXT,
	kind           TEXT NOT NULL CHECK (kind IN ('cv', 'attachment')),
	-- The name the candidate's file had, cleaned, for display and download.
	file_name      TEXT NOT NULL,
	file_type      TEXT NOT NULL,
	size           BIGINT NOT NULL,
	object_key     BYTEA NOT NULL,
	created_at     TIMESTAMPTZ NOT NULL,
	PRIMARY KEY (tenant_id, id),
	FOREIGN KEY (tenant_id, candidate_id) REFERENCES candidates (tenant_id, id) ON DELETE CASCADE,
	FOREIGN KEY (tenant_id, application_id) REFERENCES applications (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX documents_candidate ON documents (tenant_id, candidate_id);
CREATE INDEX documents_application ON documents (tenant_id, application_id);

-- Consent log: a choice and the version of the text it was given to.
CREATE TABLE consents (
	tenant_id    TEXT NOT NULL,
	id           TEXT NOT NULL,
	candidate_id TEXT NOT NULL,
	purpose      TEXT NOT NULL,
	granted      BOOLEAN NOT NULL,
	text_version TEXT NOT NULL,
	language     TEXT NOT NULL,
	created_at   TIMESTAMPTZ NOT NULL,
	PRIMARY KEY (tenant_id, id),
	FOREIGN KEY (tenant_id, candidate_id) REFERENCES candidates (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX consents_candidate ON consents (tenant_id, candidate_id, created_at);

-- Row-level security, as for every company table (0010).
ALTER TABLE documents ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON documents USING (kandidat_tenant_visible(tenant_id)) WITH CHECK (kandidat_tenant_visible(tenant_id));
ALTER TABLE consents ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON consents USING (kandidat_tenant_visible(tenant_id)) WITH CHECK (kandidat_tenant_visible(tenant_id));
