-- Each position has its own pipeline: named stages in order, each of one
-- of the six kinds the rules speak of (new, preselected, interview, offer,
-- hired, rejected). New positions copy the company's template, or the six
-- standard stages. An application is at one stage of its position;
-- applications.stage keeps that stage's kind.

CREATE TABLE position_stages (
	tenant_id   TEXT NOT NULL,
	id          TEXT NOT NULL,
	position_id TEXT NOT NULL,
	-- Empty for a standard stage, whose name is translated by kind.
	name        TEXT NOT NULL DEFAULT '',
	kind        TEXT NOT NULL,
	ord         INTEGER NOT NULL,
	PRIMARY KEY (tenant_id, id),
	FOREIGN KEY (tenant_id, position_id) REFERENCES positions (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX position_stages_position ON position_stages (tenant_id, position_id, ord);

CREATE TABLE stage_templates (
	tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
	ord       INTEGER NOT NULL,
	name      TEXT NOT NULL,
	kind      TEXT NOT NULL,
	PRIMARY KEY (tenant_id, ord)
);

ALTER TABLE applications ADD COLUMN stage_id TEXT NOT NULL DEFAULT '';

INSERT INTO position_stages (tenant_id, id, position_id, name, kind, ord)
SELECT p.tenant_id, p.id || '-' || k.kind, p.id, '', k.kind, k.ord
FROM positions p CROSS JOIN (SELECT 'new' AS kind, 1 AS ord UNION ALL SELECT 'preselected', 2 UNION ALL SELECT 'interview', 3
	UNION ALL SELECT 'offer', 4 UNION ALL SELECT 'hired', 5 UNION ALL SELECT 'rejected', 6) k;

UPDATE applications SET stage_id = position_id || '-' || stage;
