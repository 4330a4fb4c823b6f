-- The profile recruiters search by (issue: candidate search, item 0).
--
-- A candidate was a name, an email and a phone. These are what an ATS
-- keeps besides and a recruiter filters on. Free text is stored as typed;
-- city_folded is the city case- and diacritic-folded (search.Fold), so
-- that city:malmo finds Malmö through an index.
ALTER TABLE candidates ADD COLUMN city TEXT NOT NULL DEFAULT '';
ALTER TABLE candidates ADD COLUMN city_folded TEXT NOT NULL DEFAULT '';
-- ISO 3166-1 alpha-2, upper case, or ''.
ALTER TABLE candidates ADD COLUMN country TEXT NOT NULL DEFAULT '';
-- Current job title and employer.
ALTER TABLE candidates ADD COLUMN title TEXT NOT NULL DEFAULT '';
ALTER TABLE candidates ADD COLUMN employer TEXT NOT NULL DEFAULT '';
-- Links: absolute https URLs or ''.
ALTER TABLE candidates ADD COLUMN linkedin TEXT NOT NULL DEFAULT '';
ALTER TABLE candidates ADD COLUMN portfolio TEXT NOT NULL DEFAULT '';
-- Notice period in weeks; NULL: not known.
ALTER TABLE candidates ADD COLUMN notice_weeks INTEGER CHECK (notice_weeks >= 0 AND notice_weeks <= 104);
-- Salary expectation in whole units of the currency (ISO 4217) per period;
-- NULL: not known.
ALTER TABLE candidates ADD COLUMN salary_amount BIGINT CHECK (salary_amount >= 0);
ALTER TABLE candidates ADD COLUMN salary_currency TEXT NOT NULL DEFAULT '';
ALTER TABLE candidates ADD COLUMN salary_period TEXT NOT NULL DEFAULT '' CHECK (salary_period IN ('', 'hour', 'month', 'year'));

CREATE INDEX candidates_city ON candidates (tenant_id, city_folded);

-- A company's skill vocabulary: recruiters pick from it and may add to
-- it; one skill per folded name, so "Go", "go" and "GO" are one.
CREATE TABLE skills (
	tenant_id  TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
	id         TEXT NOT NULL,
	name       TEXT NOT NULL,
	folded     TEXT NOT NULL,
	created_at TIMESTAMPTZ NOT NULL,
	PRIMARY KEY (tenant_id, id),
	UNIQUE (tenant_id, folded)
);

CREATE TABLE candidate_skills (
	tenant_id    TEXT NOT NULL,
	candidate_id TEXT NOT NULL,
	skill_id     TEXT NOT NULL,
	PRIMARY KEY (tenant_id, candidate_id, skill_id),
	FOREIGN KEY (tenant_id, candidate_id) REFERENCES candidates (tenant_id, id) ON DELETE CASCADE,
	FOREIGN KEY (tenant_id, skill_id) REFERENCES skills (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX candidate_skills_by_skill ON candidate_skills (tenant_id, skill_id, candidate_id);

-- Languages a candidate speaks: an ISO 639-1 code and a level (native or
-- a CEFR level A1..C2).
CREATE TABLE candidate_languages (
	tenant_id    TEXT NOT NULL,
	candidate_id TEXT NOT NULL,
	language     TEXT NOT NULL,
	level        TEXT NOT NULL CHECK (level IN ('native', 'C2', 'C1', 'B2', 'B1', 'A2', 'A1')),
	PRIMARY KEY (tenant_id, candidate_id, language),
	FOREIGN KEY (tenant_id, candidate_id) REFERENCES candidates (tenant_id, id) ON DELETE CASCADE
);

-- The skills a position requires, for matching.
CREATE TABLE position_skills (
	tenant_id   TEXT NOT NULL,
	position_id TEXT NOT NULL,
	skill_id    TEXT NOT NULL,
	PRIMARY KEY (tenant_id, position_id, skill_id),
	FOREIGN KEY (tenant_id, position_id) REFERENCES positions (tenant_id, id) ON DELETE CASCADE,
	FOREIGN KEY (tenant_id, skill_id) REFERENCES skills (tenant_id, id) ON DELETE CASCADE
);

-- Which profile fields a position's career form asks for: a
-- comma-separated list of field names (city, title, employer, languages,
-- links, notice, salary, skills), each with a trailing '!' when required.
ALTER TABLE positions ADD COLUMN profile_fields TEXT NOT NULL DEFAULT '';

-- A profile's history: every change of a field, by whom and how. It holds
-- the candidate's data, so it goes with the candidate; the audit trail
-- records only that a field changed.
CREATE TABLE candidate_profile_changes (
	tenant_id    TEXT NOT NULL,
	id           TEXT NOT NULL,
	candidate_id TEXT NOT NULL,
	field        TEXT NOT NULL,
	old_value    TEXT NOT NULL,
	new_value    TEXT NOT NULL,
	changed_at   TIMESTAMPTZ NOT NULL,
	-- The user who changed it, '' for the candidate on the career form or
	-- an import.
	changed_by   TEXT NOT NULL,
	via          TEXT NOT NULL,
	PRIMARY KEY (tenant_id, id),
	FOREIGN KEY (tenant_id, candidate_id) REFERENCES candidates (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX candidate_profile_changes_by_candidate ON candidate_profile_changes (tenant_id, candidate_id, changed_at);

-- Searches a user keeps, by name.
CREATE TABLE saved_searches (
	tenant_id  TEXT NOT NULL,
	id         TEXT NOT NULL,
	user_id    TEXT NOT NULL,
	name       TEXT NOT NULL,
	query      TEXT NOT NULL,
	created_at TIMESTAMPTZ NOT NULL,
	PRIMARY KEY (tenant_id, id),
	UNIQUE (tenant_id, user_id, name),
	FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE
);

-- Row-level security, as for every company table (0027's policy).

ALTER TABLE skills ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON skills
	USING (tenant_id = current_setting('kandidat.tenant_id', true) OR current_setting('kandidat.tenant_id', true) = '*')
	WITH CHECK (tenant_id = current_setting('kandidat.tenant_id', true) OR current_setting('kandidat.tenant_id', true) = '*');

ALTER TABLE candidate_skills ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON candidate_skills
	USING (tenant_id = current_setting('kandidat.tenant_id', true) OR current_setting('kandidat.tenant_id', true) = '*')
	WITH CHECK (tenant_id = current_setting('kandidat.tenant_id', true) OR current_setting('kandidat.tenant_id', true) = '*');

ALTER TABLE candidate_languages ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON candidate_languages
	USING (tenant_id = current_setting('kandidat.tenant_id', true) OR current_setting('kandidat.tenant_id', true) = '*')
	WITH CHECK (tenant_id = current_setting('kandidat.tenant_id', true) OR current_setting('kandidat.tenant_id', true) = '*');

ALTER TABLE position_skills ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON position_skills
	USING (tenant_id = current_setting('kandidat.tenant_id', true) OR current_setting('kandidat.tenant_id', true) = '*')
	WITH CHECK (tenant_id = current_setting('kandidat.tenant_id', true) OR current_setting('kandidat.tenant_id', true) = '*');

ALTER TABLE candidate_profile_changes ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON candidate_profile_changes
	USING (tenant_id = current_setting('kandidat.tenant_id', true) OR current_setting('kandidat.tenant_id', true) = '*')
	WITH CHECK (tenant_id = current_setting('kandidat.tenant_id', true) OR current_setting('kandidat.tenant_id', true) = '*');

ALTER TABLE saved_searches ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON saved_searches
	USING (tenant_id = current_setting('kandidat.tenant_id', true) OR current_setting('kandidat.tenant_id', true) = '*')
	WITH CHECK (tenant_id = current_setting('kandidat.tenant_id', true) OR current_setting('kandidat.tenant_id', true) = '*');

-- What the index covers of the profile queues the candidate (0030).
CREATE TRIGGER search_candidates_profile AFTER UPDATE OF title, employer, city, country ON candidates
	FOR EACH ROW EXECUTE FUNCTION search_queue_candidate();
CREATE TRIGGER search_candidate_skills AFTER INSERT OR DELETE ON candidate_skills
	FOR EACH ROW EXECUTE FUNCTION search_queue_by_candidate_id();
CREATE TRIGGER search_candidate_languages AFTER INSERT OR DELETE ON candidate_languages
	FOR EACH ROW EXECUTE FUNCTION search_queue_by_candidate_id();

-- The index stems documents in their language (internal/search/stem.go):
-- every candidate is queued for a new entry.
INSERT INTO search_queue (tenant_id, candidate_id) SELECT tenant_id, id FROM candidates
	ON CONFLICT (tenant_id, candidate_id) DO UPDATE SET version = search_queue.version + 1;
