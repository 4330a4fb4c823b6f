-- Pages that answer from indexes at 100,000 candidates.
--
-- * Lists page by keyset, newest first: applications by (created_at, id),
--   positions by (created_at, id); the shared pool by (updated_at, id)
--   through a partial index over the pool's stages only.
-- * A position's board reads each stage's newest cards by
--   (position_id, stage_id, created_at, id), and its coming interviews by
--   (position_id, starts_at).
-- * application_counts keeps the number of applications per position and
--   stage, maintained by triggers on every insert, move and deletion
--   (whatever the path: the service, an import, a cascade), so the
--   positions list and the totals never count a company's applications.
-- * candidate_terms is a small inverted index of candidates' names and
--   emails (words lower-cased with diacritics folded: "dvořák" is found as
--   "dvorak" and as "dvořák"), for the candidate list's name filter.
--   Kandidat fills it; pending_backfills tells it to index what came before.
-- * audit_refs becomes a WITHOUT ROWID table keyed by the object, with no
--   second index: the card's history finds an object's records by the
--   key, and pruning deletes references by their key too.

CREATE INDEX applications_created ON applications (tenant_id, created_at, id);
-- The list filtered by source, in its order.
CREATE INDEX applications_source ON applications (tenant_id, source, created_at, id);
CREATE INDEX applications_board ON applications (tenant_id, position_id, stage_id, created_at, id);
-- A position's coming interviews, by the position an interview's
-- application belongs to (kept with the interview, as applications do not
-- change position).
ALTER TABLE interviews ADD COLUMN position_id TEXT NOT NULL DEFAULT '';
UPDATE interviews SET position_id = (SELECT a.position_id FROM applications a WHERE a.tenant_id = interviews.tenant_id AND a.id = interviews.application_id);
CREATE INDEX interviews_position ON interviews (tenant_id, position_id, starts_at);
CREATE INDEX applications_pool ON applications (tenant_id, updated_at, id) WHERE stage IN ('preselected', 'interview', 'offer', 'hired');
DROP INDEX applications_stage;
CREATE INDEX applications_stage ON applications (tenant_id, stage, created_at);
CREATE INDEX positions_created ON positions (tenant_id, created_at, id);
CREATE INDEX positions_status ON positions (tenant_id, status, title);

CREATE TABLE application_counts (
	tenant_id   TEXT NOT NULL,
	position_id TEXT NOT NULL,
	stage_id    TEXT NOT NULL,
	n           INTEGER NOT NULL,
	PRIMARY KEY (tenant_id, position_id, stage_id)
) WITHOUT ROWID;

INSERT INTO application_counts (tenant_id, position_id, stage_id, n)
SELECT tenant_id, position_id, stage_id, count(*) FROM applications GROUP BY tenant_id, position_id, stage_id;

CREATE TRIGGER application_counts_insert AFTER INSERT ON applications
BEGIN
	INSERT INTO application_counts (tenant_id, position_id, stage_id, n) VALUES (NEW.tenant_id, NEW.position_id, NEW.stage_id, 1)
	ON CONFLICT (tenant_id, position_id, stage_id) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER application_counts_delete AFTER DELETE ON applications
BEGIN
	UPDATE application_counts SET n = n - 1 WHERE tenant_id = OLD.tenant_id AND position_id = OLD.position_id AND stage_id = OLD.stage_id;
END;

CREATE TRIGGER application_counts_move AFTER UPDATE OF position_id, stage_id ON applications
WHEN OLD.position_id <> NEW.position_id OR OLD.stage_id <> NEW.stage_id
BEGIN
	UPDATE application_counts SET n = n - 1 WHERE tenant_id = OLD.tenant_id AND position_id = OLD.position_id AND stage_id = OLD.stage_id;
	INSERT INTO application_counts (tenant_id, position_id, stage_id, n) VALUES (NEW.tenant_id, NEW.position_id, NEW.stage_id, 1)
	ON CONFLICT (tenant_id, position_id, stage_id) DO UPDATE SET n = n + 1;
END;

CREATE TABLE candidate_terms (
	tenant_id    TEXT NOT NULL,
	term         TEXT NOT NULL,
	candidate_id TEXT NOT NULL,
	PRIMARY KEY (tenant_id, term, candidate_id),
	FOREIGN KEY (tenant_id, candidate_id) REFERENCES candidates (tenant_id, id) ON DELETE CASCADE
) WITHOUT ROWID;
CREATE INDEX candidate_terms_candidate ON candidate_terms (tenant_id, candidate_id);

-- Work a migration leaves to Kandidat's own code, done once at start-up.
CREATE TABLE pending_backfills (
	name       TEXT PRIMARY KEY,
	created_at TIMESTAMP NOT NULL
);
-- Only an installation with candidates has anything to index.
INSERT INTO pending_backfills (name, created_at) SELECT 'candidate_terms', CURRENT_TIMESTAMP WHERE EXISTS (SELECT 1 FROM candidates);

CREATE TABLE audit_refs_new (
	tenant_id   TEXT NOT NULL,
	object_kind TEXT NOT NULL,
	object_id   TEXT NOT NULL,
	track       TEXT NOT NULL,
	seq         BIGINT NOT NULL,
	PRIMARY KEY (tenant_id, object_kind, object_id, track, seq)
) WITHOUT ROWID;
INSERT INTO audit_refs_new SELECT tenant_id, object_kind, object_id, track, seq FROM audit_refs;
DROP TABLE audit_refs;
ALTER TABLE audit_refs_new RENAME TO audit_refs;
