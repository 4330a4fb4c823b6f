-- Colleagues' ratings of an application (one each), labels on
-- applications, private notes (seen by their author only), and the reason
-- an application was rejected.

ALTER TABLE applications ADD COLUMN rejection_reason TEXT NOT NULL DEFAULT '';

CREATE TABLE ratings (
	tenant_id      TEXT NOT NULL,
	application_id TEXT NOT NULL,
	user_id        TEXT NOT NULL,
	value          TEXT NOT NULL CHECK (value IN ('invite', 'not_suitable', 'later')),
	updated_at     TIMESTAMPTZ NOT NULL,
	PRIMARY KEY (tenant_id, application_id, user_id),
	FOREIGN KEY (tenant_id, application_id) REFERENCES applications (tenant_id, id) ON DELETE CASCADE,
	FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE
);

CREATE TABLE application_labels (
	tenant_id      TEXT NOT NULL,
	application_id TEXT NOT NULL,
	label          TEXT NOT NULL,
	created_at     TIMESTAMPTZ NOT NULL,
	PRIMARY KEY (tenant_id, application_id, label),
	FOREIGN KEY (tenant_id, application_id) REFERENCES applications (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX application_labels_label ON application_labels (tenant_id, label);

CREATE TABLE private_notes (
	tenant_id      TEXT NOT NULL,
	id             TEXT NOT NULL,
	application_id TEXT NOT NULL,
	author_id      TEXT NOT NULL,
	body           TEXT NOT NULL,
	created_at     TIMESTAMPTZ NOT NULL,
	PRIMARY KEY (tenant_id, id),
	FOREIGN KEY (tenant_id, application_id) REFERENCES applications (tenant_id, id) ON DELETE CASCADE,
	FOREIGN KEY (tenant_id, author_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX private_notes_application ON private_notes (tenant_id, application_id, author_id);

-- Row-level security, as for every company table (0010).
ALTER TABLE ratings ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON ratings USING (kandidat_tenant_visible(tenant_id)) WITH CHECK (kandidat_tenant_visible(tenant_id));
ALTER TABLE application_labels ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON application_labels USING (kandidat_tenant_visible(tenant_id)) WITH CHECK (kandidat_tenant_visible(tenant_id));
ALTER TABLE private_notes ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON private_notes USING (kandidat_tenant_visible(tenant_id)) WITH CHECK (kandidat_tenant_visible(tenant_id));
