-- The full-text index of candidates (internal/search).
--
-- One entry per candidate, rewritten a moment after every change to what
-- it covers: name, email and phone; skills, labels and the titles of the
-- positions applied to; comments; the text of their documents. The index
-- holds folded words only (lower case, no diacritics, ø as o, æ as ae, ł
-- as l...), the same folding the queries get, so "oyvind" finds Øyvind.
-- The FTS5 table is contentless (the words are not stored twice);
-- candidate_search_docs maps its rows to candidates. Each company has a
-- number (search_tenants), and its candidates' rows lie in the range
-- number << 32 onwards, so a query reads the company's range of every
-- word's postings and no other company's.
CREATE TABLE search_tenants (
	number    INTEGER PRIMARY KEY,
	tenant_id TEXT NOT NULL UNIQUE REFERENCES tenants (id) ON DELETE CASCADE
);
CREATE TABLE candidate_search_docs (
	id           INTEGER PRIMARY KEY,
	tenant_id    TEXT NOT NULL,
	candidate_id TEXT NOT NULL,
	UNIQUE (tenant_id, candidate_id),
	FOREIGN KEY (tenant_id, candidate_id) REFERENCES candidates (tenant_id, id) ON DELETE CASCADE
);
CREATE VIRTUAL TABLE candidate_search USING fts5 (
	name, tags, notes, documents,
	content = '', contentless_delete = 1, prefix = '2 3',
	tokenize = 'unicode61 remove_diacritics 2'
);
-- A candidate erased from the company leaves the index with them.
CREATE TRIGGER candidate_search_docs_delete AFTER DELETE ON candidate_search_docs BEGIN
	DELETE FROM candidate_search WHERE rowid = old.id;
END;

-- Candidates whose entry is to be rewritten. Triggers on what the index
-- covers queue the candidate in the transaction of the change, so nothing
-- that writes those tables (the services, the importer, the seed, a
-- migration) can forget the index; a job rewrites queued entries a moment
-- later (the lag is measured in docs/benchmarks.md). version grows with
-- every change, and the job removes a candidate from the queue only if no
-- change came while it indexed.
CREATE TABLE search_queue (
	tenant_id    TEXT NOT NULL,
	candidate_id TEXT NOT NULL,
	version      INTEGER NOT NULL DEFAULT 1,
	PRIMARY KEY (tenant_id, candidate_id)
);

CREATE TRIGGER search_candidates_insert AFTER INSERT ON candidates BEGIN
	INSERT INTO search_queue (tenant_id, candidate_id) VALUES (new.tenant_id, new.id)
	ON CONFLICT (tenant_id, candidate_id) DO UPDATE SET version = version + 1;
END;
CREATE TRIGGER search_candidates_update AFTER UPDATE OF name, email, phone ON candidates BEGIN
	INSERT INTO search_queue (tenant_id, candidate_id) VALUES (new.tenant_id, new.id)
	ON CONFLICT (tenant_id, candidate_id) DO UPDATE SET version = version + 1;
END;
CREATE TRIGGER search_applications_insert AFTER INSERT ON applications BEGIN
	INSERT INTO search_queue (tenant_id, candidate_id) VALUES (new.tenant_id, new.candidate_id)
	ON CONFLICT (tenant_id, candidate_id) DO UPDATE SET version = version + 1;
END;
CREATE TRIGGER search_applications_delete AFTER DELETE ON applications BEGIN
	INSERT INTO search_queue (tenant_id, candidate_id) VALUES (old.tenant_id, old.candidate_id)
	ON CONFLICT (tenant_id, candidate_id) DO UPDATE SET version = version + 1;
END;
CREATE TRIGGER search_labels_insert AFTER INSERT ON application_labels BEGIN
	INSERT INTO search_queue (tenant_id, candidate_id)
	SELECT a.tenant_id, a.candidate_id FROM applications a WHERE a.tenant_id = new.tenant_id AND a.id = new.application_id
	ON CONFLICT (tenant_id, candidate_id) DO UPDATE SET version = version + 1;
END;
CREATE TRIGGER search_labels_delete AFTER DELETE ON application_labels BEGIN
	INSERT INTO search_queue (tenant_id, candidate_id)
	SELECT a.tenant_id, a.candidate_id FROM applications a WHERE a.tenant_id = old.tenant_id AND a.id = old.application_id
	ON CONFLICT (tenant_id, candidate_id) DO UPDATE SET version = version + 1;
END;
CREATE TRIGGER search_comments_insert AFTER INSERT ON comments BEGIN
	INSERT INTO search_queue (tenant_id, candidate_id)
	SELECT a.tenant_id, a.candidate_id FROM applications a WHERE a.tenant_id = new.tenant_id AND a.id = new.application_id
	ON CONFLICT (tenant_id, candidate_id) DO UPDATE SET version = version + 1;
END;
CREATE TRIGGER search_documents_text AFTER UPDATE OF text_state ON documents BEGIN
	INSERT INTO search_queue (tenant_id, candidate_id) VALUES (new.tenant_id, new.candidate_id)
	ON CONFLICT (tenant_id, candidate_id) DO UPDATE SET version = version + 1;
END;
CREATE TRIGGER search_positions_title AFTER UPDATE OF title ON positions BEGIN
	INSERT INTO search_queue (tenant_id, candidate_id)
	SELECT DISTINCT a.tenant_id, a.candidate_id FROM applications a WHERE a.tenant_id = new.tenant_id AND a.position_id = new.id
	ON CONFLICT (tenant_id, candidate_id) DO UPDATE SET version = version + 1;
END;
-- Every candidate already there is queued once.
INSERT INTO search_queue (tenant_id, candidate_id) SELECT tenant_id, id FROM candidates;

-- The name index the candidate list read before (candidate_terms, 0019)
-- is replaced by this one.
DROP TABLE candidate_terms;
DELETE FROM pending_backfills WHERE name = 'candidate_terms';
