-- Roles and permissions: custom roles a company defines, and the optional
-- rights of an HR manager. Positions with their owner and the users they are
-- shared with, candidates, applications and comments: the objects the
-- policy decides on (the recruitment module extends them). Credits: a
-- balance per company and an append-only ledger.

CREATE TABLE roles (
	tenant_id   TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
	id          TEXT NOT NULL,
	name        TEXT NOT NULL,
	-- Permission names joined by commas; unknown names grant nothing.
	permissions TEXT NOT NULL,
	created_at  TIMESTAMP NOT NULL,
	updated_at  TIMESTAMP NOT NULL,
	PRIMARY KEY (tenant_id, id),
	UNIQUE (tenant_id, name)
);

-- users.role is a predefined role's name or the id of a custom role.
ALTER TABLE users ADD COLUMN extra_permissions TEXT NOT NULL DEFAULT '';

CREATE TABLE positions (
	tenant_id          TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
	id                 TEXT NOT NULL,
	title              TEXT NOT NULL,
	department         TEXT NOT NULL DEFAULT '',
	location           TEXT NOT NULL DEFAULT '',
	language           TEXT NOT NULL,
	status             TEXT NOT NULL,
	owner_id           TEXT NOT NULL,
	-- The first publication: a position counts against the free allowance
	-- (or is paid for) once, however often it is closed and reopened.
	first_published_at TIMESTAMP,
	published_at       TIMESTAMP,
	created_at         TIMESTAMP NOT NULL,
	updated_at         TIMESTAMP NOT NULL,
	PRIMARY KEY (tenant_id, id),
	FOREIGN KEY (tenant_id, owner_id) REFERENCES users (tenant_id, id)
);
CREATE INDEX positions_owner ON positions (tenant_id, owner_id);
CREATE INDEX positions_first_published ON positions (tenant_id, first_published_at);

CREATE TABLE position_members (
	tenant_id   TEXT NOT NULL,
	position_id TEXT NOT NULL,
	user_id     TEXT NOT NULL,
	PRIMARY KEY (tenant_id, position_id, user_id),
	FOREIGN KEY (tenant_id, position_id) REFERENCES positions (tenant_id, id) ON DELETE CASCADE,
	FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX position_members_user ON position_members (tenant_id, user_id);

CREATE TABLE candidates (
	tenant_id  TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
	id         TEXT NOT NULL,
	name       TEXT NOT NULL,
	-- Lower-cased and NFC-normalised: one candidate per person and company.
	email      TEXT NOT NULL,
	phone      TEXT NOT NULL DEFAULT '',
	created_at TIMESTAMP NOT NULL,
	updated_at TIMESTAMP NOT NULL,
	PRIMARY KEY (tenant_id, id),
	UNIQUE (tenant_id, email)
);

CREATE TABLE applications (
	tenant_id    TEXT NOT NULL,
	id           TEXT NOT NULL,
	position_id  TEXT NOT NULL,
	candidate_id TEXT NOT NULL,
	stage        TEXT NOT NULL,
	created_at   TIMESTAMP NOT NULL,
	updated_at   TIMESTAMP NOT NULL,
	PRIMARY KEY (tenant_id, id),
	UNIQUE (tenant_id, position_id, candidate_id),
	FOREIGN KEY (tenant_id, position_id) REFERENCES positions (tenant_id, id) ON DELETE CASCADE,
	FOREIGN KEY (tenant_id, candidate_id) REFERENCES candidates (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX applications_stage ON applications (tenant_id, stage);
CREATE INDEX applications_candidate ON applications (tenant_id, candidate_id);

CREATE TABLE comments (
	tenant_id      TEXT NOT NULL,
	id             TEXT NOT NULL,
	application_id TEXT NOT NULL,
	author_id      TEXT NOT NULL,
	body           TEXT NOT NULL,
	created_at     TIMESTAMP NOT NULL,
	PRIMARY KEY (tenant_id, id),
	FOREIGN KEY (tenant_id, application_id) REFERENCES applications (tenant_id, id) ON DELETE CASCADE,
	FOREIGN KEY (tenant_id, author_id) REFERENCES users (tenant_id, id)
);
CREATE INDEX comments_application ON comments (tenant_id, application_id, created_at);

CREATE TABLE credit_accounts (
	tenant_id  TEXT PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
	balance    INTEGER NOT NULL CHECK (balance >= 0),
	updated_at TIMESTAMP NOT NULL
);

-- Append-only: the triggers below refuse every change and deletion.
CREATE TABLE credit_ledger (
	tenant_id     TEXT NOT NULL,
	id            TEXT NOT NULL,
	kind          TEXT NOT NULL CHECK (kind IN ('grant', 'spend', 'refund')),
	amount        INTEGER NOT NULL CHECK (amount > 0),
	balance_after INTEGER NOT NULL CHECK (balance_after >= 0),
	reason        TEXT NOT NULL,
	note          TEXT NOT NULL DEFAULT '',
	actor_kind    TEXT NOT NULL,
	actor_id      TEXT NOT NULL DEFAULT '',
	object_kind   TEXT NOT NULL DEFAULT '',
	object_id     TEXT NOT NULL DEFAULT '',
	-- A refund names the spending it returns; each spending is refunded once.
	refund_of     TEXT UNIQUE,
	created_at    TIMESTAMP NOT NULL,
	PRIMARY KEY (tenant_id, id)
);
CREATE INDEX credit_ledger_time ON credit_ledger (tenant_id, created_at);

CREATE TRIGGER credit_ledger_no_update BEFORE UPDATE ON credit_ledger
BEGIN SELECT RAISE(ABORT, 'credit_ledger is append-only'); END;
CREATE TRIGGER credit_ledger_no_delete BEFORE DELETE ON credit_ledger
BEGIN SELECT RAISE(ABORT, 'credit_ledger is append-only'); END;
