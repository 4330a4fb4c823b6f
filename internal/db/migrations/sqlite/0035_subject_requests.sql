-- Data subjects' self-service and requests (issue 14, item 8).
--
-- * subject_links: the single-use link a candidate asks for on the
--   company's privacy page, by its secret's SHA-256 (the secret is only in
--   the email). Spent by a conditional write (used_at IS NULL AND
--   expires_at > now); goes with the candidate.
-- * subject_sessions: the short session a spent link starts (its secret's
--   hash; idle_until moves on with every request); goes with the candidate.
-- * subject_requests: the register of requests and their answers, with the
--   one-month deadline the company sees. candidate_id has no foreign key:
--   the register keeps the id (nothing else of the person) after erasure.
CREATE TABLE subject_links (
	tenant_id    TEXT NOT NULL,
	id           TEXT NOT NULL,
	candidate_id TEXT NOT NULL,
	token_hash   TEXT NOT NULL UNIQUE,
	created_at   TIMESTAMP NOT NULL,
	expires_at   TIMESTAMP NOT NULL,
	used_at      TIMESTAMP,
	PRIMARY KEY (tenant_id, id),
	FOREIGN KEY (tenant_id, candidate_id) REFERENCES candidates (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX subject_links_candidate ON subject_links (tenant_id, candidate_id);
CREATE INDEX subject_links_expiry ON subject_links (tenant_id, expires_at);

CREATE TABLE subject_sessions (
	tenant_id    TEXT NOT NULL,
	id           TEXT NOT NULL,
	candidate_id TEXT NOT NULL,
	token_hash   TEXT NOT NULL UNIQUE,
	created_at   TIMESTAMP NOT NULL,
	idle_until   TIMESTAMP NOT NULL,
	PRIMARY KEY (tenant_id, id),
	FOREIGN KEY (tenant_id, candidate_id) REFERENCES candidates (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX subject_sessions_candidate ON subject_sessions (tenant_id, candidate_id);
CREATE INDEX subject_sessions_idle ON subject_sessions (tenant_id, idle_until);

CREATE TABLE subject_requests (
	tenant_id    TEXT NOT NULL,
	id           TEXT NOT NULL,
	candidate_id TEXT NOT NULL,
	kind         TEXT NOT NULL CHECK (kind IN ('access', 'export', 'rectify', 'withdraw', 'erasure')),
	status       TEXT NOT NULL CHECK (status IN ('open', 'done', 'refused')),
	received_at  TIMESTAMP NOT NULL,
	-- One month after receipt, on the company's calendar (Art. 12(3)).
	due_at       TIMESTAMP NOT NULL,
	answered_at  TIMESTAMP,
	-- The user who answered ('' for the candidate's own self-service).
	answered_by  TEXT NOT NULL DEFAULT '',
	-- A refusal's reason, written by the company.
	note         TEXT NOT NULL DEFAULT '',
	PRIMARY KEY (tenant_id, id)
);
CREATE INDEX subject_requests_open ON subject_requests (tenant_id, status, due_at, id);
CREATE INDEX subject_requests_time ON subject_requests (tenant_id, received_at, id);
CREATE INDEX subject_requests_candidate ON subject_requests (tenant_id, candidate_id, received_at);
