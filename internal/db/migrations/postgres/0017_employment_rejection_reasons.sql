-- A position's employment type, and a company's own list of reasons for
-- rejecting an application (the standard reasons when it has none).

ALTER TABLE positions ADD COLUMN employment_type TEXT NOT NULL DEFAULT 'full_time';

CREATE TABLE rejection_reasons (
	tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
	id        TEXT NOT NULL,
	name      TEXT NOT NULL,
	ord       INTEGER NOT NULL,
	PRIMARY KEY (tenant_id, id)
);

-- Row-level security, as for every company table (0010).
ALTER TABLE rejection_reasons ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON rejection_reasons USING (kandidat_tenant_visible(tenant_id)) WITH CHECK (kandidat_tenant_visible(tenant_id));
