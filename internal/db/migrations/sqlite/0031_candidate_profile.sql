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
ALTER TABLE candidates ADD COLUMN salary_amount INTEGER CHECK (salary_amount >= 0);
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
	created_at TIMESTAMP NOT NULL,
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
	changed_at   TIMESTAMP NOT NULL,
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
	created_at TIMESTAMP NOT NULL,
	PRIMARY KEY (tenant_id, id),
	UNIQUE (tenant_id, user_id, name),
	FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE
);

-- What the index covers of the profile queues the candidate (0030).
CREATE TRIGGER search_candidates_profile AFTER UPDATE OF title, employer, city, country ON candidates BEGIN
	INSERT INTO search_queue (tenant_id, candidate_id) VALUES (new.tenant_id, new.id)
	ON CONFLICT (tenant_id, candidate_id) DO UPDATE SET version = version + 1;
END;
CREATE TRIGGER search_candidate_skills_insert AFTER INSERT ON candidate_skills BEGIN
	INSERT INTO search_queue (tenant_id, candidate_id) VALUES (new.tenant_id, new.candidate_id)
	ON CONFLICT (tenant_id, candidate_id) DO UPDATE SET version = version + 1;
END;
CREATE TRIGGER search_candidate_skills_delete AFTER DELETE ON candidate_skills BEGIN
	INSERT INTO search_queue (tenant_id, candidate_id) VALUES (old.tenant_id, old.candidate_id)
	ON CONFLICT (tenant_id, candidate_id) DO UPDATE SET version = version + 1;
END;
CREATE TRIGGER search_candidate_languages_insert AFTER INSERT ON candidate_languages BEGIN
	INSERT INTO search_queue (tenant_id, candidate_id) VALUES (new.tenant_id, new.candidate_id)
	ON CONFLICT (tenant_id, candidate_id) DO UPDATE SET version = version + 1;
END;
CREATE TRIGGER search_candidate_languages_delete AFTER DELETE ON candidate_languages BEGIN
	INSERT INTO search_queue (tenant_id, candidate_id) VALUES (old.tenant_id, old.candidate_id)
	ON CONFLICT (tenant_id, candidate_id) DO UPDATE SET version = version + 1;
END;

-- The index stems documents in their language (internal/search/stem.go).
-- The stems get a column of their own, which finds a document but does
-- not rank it (search.Index.Ranked), so that a word a document says does
-- not count twice, as itself and as its rarer stem.
-- The table is made anew and every candidate queued for a new entry.
DELETE FROM candidate_search_docs;
DROP TABLE candidate_search;
CREATE VIRTUAL TABLE candidate_search USING fts5 (
	name, tags, notes, documents, stems,
	content = '', contentless_delete = 1, prefix = '2 3',
	tokenize = 'unicode61 remove_diacritics 2'
);
INSERT INTO search_queue (tenant_id, candidate_id) SELECT tenant_id, id FROM candidates WHERE TRUE
	ON CONFLICT (tenant_id, candidate_id) DO UPDATE SET version = version + 1;
