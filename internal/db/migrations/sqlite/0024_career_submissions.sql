-- What an unauthenticated career-page submission may not change by itself.
--
-- * candidate_proposals: a name or phone a submission gave for a candidate
--   already known by the email, kept apart until a colleague who may work on
--   the application accepts it (then it is applied) or dismisses it.
-- * application_submissions: a later submission to a position the candidate
--   already applied to. Its cover letter and documents (documents.submission_id)
--   stay apart from the application's own, for colleagues to see.
-- * consent_confirmations: a consent ticked on the form, waiting for the
--   candidate to follow the link emailed to the address. Only then does the
--   consent log (consents) receive it, as granted. The link's secret is
--   stored hashed and expires.

CREATE TABLE candidate_proposals (
	tenant_id      TEXT NOT NULL,
	id             TEXT NOT NULL,
	candidate_id   TEXT NOT NULL,
	-- The application the submission came with; its card shows the proposal.
	application_id TEXT NOT NULL,
	-- '' where the submission agreed with what is stored.
	name           TEXT NOT NULL,
	phone          TEXT NOT NULL,
	created_at     TIMESTAMP NOT NULL,
	PRIMARY KEY (tenant_id, id),
	FOREIGN KEY (tenant_id, candidate_id) REFERENCES candidates (tenant_id, id) ON DELETE CASCADE,
	FOREIGN KEY (tenant_id, application_id) REFERENCES applications (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX candidate_proposals_application ON candidate_proposals (tenant_id, application_id, created_at);
CREATE INDEX candidate_proposals_candidate ON candidate_proposals (tenant_id, candidate_id);

CREATE TABLE application_submissions (
	tenant_id      TEXT NOT NULL,
	id             TEXT NOT NULL,
	application_id TEXT NOT NULL,
	candidate_id   TEXT NOT NULL,
	-- The form's one-time id: sending the same form again is this submission.
	form_id        TEXT NOT NULL,
	source         TEXT NOT NULL DEFAULT '',
	cover_letter   TEXT NOT NULL DEFAULT '',
	created_at     TIMESTAMP NOT NULL,
	PRIMARY KEY (tenant_id, id),
	UNIQUE (tenant_id, form_id),
	FOREIGN KEY (tenant_id, application_id) REFERENCES applications (tenant_id, id) ON DELETE CASCADE,
	FOREIGN KEY (tenant_id, candidate_id) REFERENCES candidates (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX application_submissions_application ON application_submissions (tenant_id, application_id, created_at);
CREATE INDEX application_submissions_candidate ON application_submissions (tenant_id, candidate_id);

-- A document of a later submission: NULL for the application's own. The
-- document goes with its application (documents' foreign key).
ALTER TABLE documents ADD COLUMN submission_id TEXT;

CREATE TABLE consent_confirmations (
	tenant_id      TEXT NOT NULL,
	id             TEXT NOT NULL,
	candidate_id   TEXT NOT NULL,
	application_id TEXT NOT NULL,
	purpose        TEXT NOT NULL,
	text_version   TEXT NOT NULL,
	language       TEXT NOT NULL,
	-- SHA-256 of the link's secret, hex.
	token_hash     TEXT NOT NULL,
	created_at     TIMESTAMP NOT NULL,
	expires_at     TIMESTAMP NOT NULL,
	PRIMARY KEY (tenant_id, id),
	FOREIGN KEY (tenant_id, candidate_id) REFERENCES candidates (tenant_id, id) ON DELETE CASCADE,
	FOREIGN KEY (tenant_id, application_id) REFERENCES applications (tenant_id, id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX consent_confirmations_token ON consent_confirmations (token_hash);
CREATE INDEX consent_confirmations_expiry ON consent_confirmations (tenant_id, expires_at);
CREATE INDEX consent_confirmations_candidate ON consent_confirmations (tenant_id, candidate_id);
CREATE INDEX consent_confirmations_application ON consent_confirmations (tenant_id, application_id);
