-- The full-text index of candidates (internal/search).
--
-- One entry per candidate, rewritten in the transaction of every change to
-- what it covers: name, email and phone; skills, labels and the titles of
-- the positions applied to; notes and comments; the text of their
-- documents. The index holds folded words only (lower case, no diacritics,
-- ø as o, æ as ae, ł as l...), the same folding the queries get, so
-- "oyvind" finds Øyvind, in a tsvector of the 'simple' configuration,
-- weighted by where a word came from (A name, B tags, C notes, D
-- documents), with a GIN index.
CREATE TABLE candidate_search (
	tenant_id    TEXT NOT NULL,
	candidate_id TEXT NOT NULL,
	doc_id       BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE,
	PRIMARY KEY (tenant_id, candidate_id),
	FOREIGN KEY (tenant_id, candidate_id) REFERENCES candidates (tenant_id, id) ON DELETE CASCADE
);
ALTER TABLE candidate_search ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON candidate_search
	USING (tenant_id = current_setting('kandidat.tenant_id', true) OR current_setting('kandidat.tenant_id', true) = '*')
	WITH CHECK (tenant_id = current_setting('kandidat.tenant_id', true) OR current_setting('kandidat.tenant_id', true) = '*');

-- The words, apart from the map above. Matching a tsvector (@@) is not
-- "leakproof", so PostgreSQL evaluates it only after a row-level security
-- policy has passed the row: on a table with a policy the GIN index could
-- not serve the match, and every query read every entry (70 ms at 100,000
-- candidates instead of under 1 ms). The words table carries no company
-- column and no policy, like SQLite's FTS5 tables: its rows are folded words
-- under a number, reached only through the map, which has both.
CREATE TABLE candidate_search_words (
	doc_id BIGINT PRIMARY KEY REFERENCES candidate_search (doc_id) ON DELETE CASCADE,
	body   TSVECTOR NOT NULL
);
CREATE INDEX candidate_search_words_body ON candidate_search_words USING GIN (body);

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
	version      BIGINT NOT NULL DEFAULT 1,
	PRIMARY KEY (tenant_id, candidate_id)
);
ALTER TABLE search_queue ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON search_queue
	USING (tenant_id = current_setting('kandidat.tenant_id', true) OR current_setting('kandidat.tenant_id', true) = '*')
	WITH CHECK (tenant_id = current_setting('kandidat.tenant_id', true) OR current_setting('kandidat.tenant_id', true) = '*');

CREATE FUNCTION search_enqueue(t TEXT, c TEXT) RETURNS void LANGUAGE sql AS $$
	INSERT INTO search_queue (tenant_id, candidate_id) VALUES (t, c)
	ON CONFLICT (tenant_id, candidate_id) DO UPDATE SET version = search_queue.version + 1;
$$;

CREATE FUNCTION search_queue_candidate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	PERFORM search_enqueue(NEW.tenant_id, NEW.id);
	RETURN NULL;
END $$;
CREATE TRIGGER search_candidates AFTER INSERT OR UPDATE OF name, email, phone ON candidates
	FOR EACH ROW EXECUTE FUNCTION search_queue_candidate();

CREATE FUNCTION search_queue_by_candidate_id() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP = 'DELETE' THEN
		PERFORM search_enqueue(OLD.tenant_id, OLD.candidate_id);
	ELSE
		PERFORM search_enqueue(NEW.tenant_id, NEW.candidate_id);
	END IF;
	RETURN NULL;
END $$;
CREATE TRIGGER search_applications AFTER INSERT OR DELETE ON applications
	FOR EACH ROW EXECUTE FUNCTION search_queue_by_candidate_id();
CREATE TRIGGER search_documents_text AFTER UPDATE OF text_state ON documents
	FOR EACH ROW EXECUTE FUNCTION search_queue_by_candidate_id();

CREATE FUNCTION search_queue_by_application() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
	r RECORD;
BEGIN
	IF TG_OP = 'DELETE' THEN r := OLD; ELSE r := NEW; END IF;
	PERFORM search_enqueue(a.tenant_id, a.candidate_id) FROM applications a WHERE a.tenant_id = r.tenant_id AND a.id = r.application_id;
	RETURN NULL;
END $$;
CREATE TRIGGER search_labels AFTER INSERT OR DELETE ON application_labels
	FOR EACH ROW EXECUTE FUNCTION search_queue_by_application();
CREATE TRIGGER search_comments AFTER INSERT ON comments
	FOR EACH ROW EXECUTE FUNCTION search_queue_by_application();

CREATE FUNCTION search_queue_by_position() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	PERFORM search_enqueue(t.tenant_id, t.candidate_id)
	FROM (SELECT DISTINCT a.tenant_id, a.candidate_id FROM applications a WHERE a.tenant_id = NEW.tenant_id AND a.position_id = NEW.id) t;
	RETURN NULL;
END $$;
CREATE TRIGGER search_positions_title AFTER UPDATE OF title ON positions
	FOR EACH ROW EXECUTE FUNCTION search_queue_by_position();

-- Every candidate already there is queued once.
INSERT INTO search_queue (tenant_id, candidate_id) SELECT tenant_id, id FROM candidates;

-- The name index the candidate list read before (candidate_terms, 0019)
-- is replaced by this one.
DROP TABLE candidate_terms;
DELETE FROM pending_backfills WHERE name = 'candidate_terms';
