-- A company's own wording of the emails to candidates (per kind and
-- language; the catalogue's text when there is none), and the emails sent
-- to each application's candidate, with how their delivery went.

CREATE TABLE email_templates (
	tenant_id  TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
	kind       TEXT NOT NULL,
	language   TEXT NOT NULL,
	subject    TEXT NOT NULL,
	body       TEXT NOT NULL,
	updated_at TIMESTAMPTZ NOT NULL,
	PRIMARY KEY (tenant_id, kind, language)
);

CREATE TABLE messages (
	tenant_id      TEXT NOT NULL,
	id             TEXT NOT NULL,
	application_id TEXT NOT NULL,
	kind           TEXT NOT NULL,
	subject        TEXT NOT NULL,
	body           TEXT NOT NULL,
	queue_id       TEXT NOT NULL,
	-- queued, retrying, sent or failed
	status         TEXT NOT NULL,
	created_at     TIMESTAMPTZ NOT NULL,
	updated_at     TIMESTAMPTZ NOT NULL,
	PRIMARY KEY (tenant_id, id),
	FOREIGN KEY (tenant_id, application_id) REFERENCES applications (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX messages_application ON messages (tenant_id, application_id, created_at);
CREATE INDEX messages_queue ON messages (tenant_id, queue_id);

-- Row-level security, as for every company table (0010).
ALTER TABLE email_templates ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON email_templates USING (kandidat_tenant_visible(tenant_id)) WITH CHECK (kandidat_tenant_visible(tenant_id));
ALTER TABLE messages ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON messages USING (kandidat_tenant_visible(tenant_id)) WITH CHECK (kandidat_tenant_visible(tenant_id));
