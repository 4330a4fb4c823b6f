-- The privacy engine (issue 14): processing bases, the consent log that
-- survives erasure, and the record of erasures.
--
-- * candidates.purpose_until: when the purpose of the candidate's newest
--   application (or, without one, of their entry) ends; consent_until: when
--   their talent-pool consent ends (NULL: none in force); basis_until: the
--   later of the two, the moment from which nothing allows keeping the
--   data. Written in the transaction that changes an application or a
--   consent; NULL until the backfill this migration leaves has run.
-- * consent_log: every grant, refusal and withdrawal with the text the
--   candidate saw, the person's name and email and the company's business
--   id as they were then. It has no foreign key to candidates: it is the
--   one thing erasure leaves, kept ten years.
-- * erasures: who was erased, when and why, by id only; each row is also
--   appended to the erasure ledger outside the database (ledgered).
ALTER TABLE candidates ADD COLUMN purpose_until TIMESTAMP;
ALTER TABLE candidates ADD COLUMN consent_until TIMESTAMP;
ALTER TABLE candidates ADD COLUMN basis_until TIMESTAMP;
CREATE INDEX candidates_basis ON candidates (tenant_id, basis_until);

CREATE TABLE consent_log (
	tenant_id      TEXT NOT NULL,
	id             TEXT NOT NULL,
	candidate_id   TEXT NOT NULL,
	purpose        TEXT NOT NULL CHECK (purpose IN ('talent_pool')),
	event          TEXT NOT NULL CHECK (event IN ('granted', 'refused', 'withdrawn')),
	given_name     TEXT NOT NULL,
	family_name    TEXT NOT NULL,
	email          TEXT NOT NULL,
	company_number TEXT NOT NULL DEFAULT '',
	-- The version of the text the candidate saw, and its language.
	text_version   TEXT NOT NULL,
	language       TEXT NOT NULL,
	-- Where the choice came from: career_page, request, renewal, manual,
	-- self_service, import.
	referral       TEXT NOT NULL,
	-- A recruiter's note of the evidence of a consent entered by hand.
	evidence       TEXT NOT NULL DEFAULT '',
	-- When a grant ends (NULL for a refusal or withdrawal).
	valid_until    TIMESTAMP,
	-- The user who recorded it ('' for the candidate themselves).
	recorded_by    TEXT NOT NULL DEFAULT '',
	created_at     TIMESTAMP NOT NULL,
	PRIMARY KEY (tenant_id, id)
);
CREATE INDEX consent_log_candidate ON consent_log (tenant_id, candidate_id, created_at);
CREATE INDEX consent_log_time ON consent_log (tenant_id, created_at);

-- The consents recorded so far move to the log, with the name and address
-- the candidate has now (the old rows did not keep them).
INSERT INTO consent_log (tenant_id, id, candidate_id, purpose, event, given_name, family_name, email, text_version, language, referral, created_at)
SELECT c.tenant_id, c.id, c.candidate_id, c.purpose, CASE WHEN c.granted THEN 'granted' ELSE 'refused' END,
	k.name, '', k.email, c.text_version, c.language, 'career_page', c.created_at
FROM consents c JOIN candidates k ON k.tenant_id = c.tenant_id AND k.id = c.candidate_id;
DROP TABLE consents;

CREATE TABLE erasures (
	tenant_id    TEXT NOT NULL,
	id           TEXT NOT NULL,
	candidate_id TEXT NOT NULL,
	reason       TEXT NOT NULL CHECK (reason IN ('manual', 'position_archived', 'purpose_ended', 'consent_ended', 'subject_request')),
	-- The user who erased ('' for the daily sweep or the candidate).
	erased_by    TEXT NOT NULL DEFAULT '',
	erased_at    TIMESTAMP NOT NULL,
	ledgered     BOOLEAN NOT NULL DEFAULT FALSE,
	PRIMARY KEY (tenant_id, id)
);
CREATE INDEX erasures_time ON erasures (tenant_id, erased_at);
CREATE INDEX erasures_unledgered ON erasures (ledgered) WHERE NOT ledgered;

-- Erased rows' bytes are overwritten in the search index too (the file's
-- own pages are, by PRAGMA secure_delete on every connection).
INSERT INTO candidate_search (candidate_search, rank) VALUES ('secure-delete', 1);

INSERT INTO pending_backfills (name, created_at) VALUES ('privacy_bases', CURRENT_TIMESTAMP);
