-- The breach register (issue 14, Art. 33/34 GDPR): one row per personal
-- data breach the company records, with the 72-hour deadline to the
-- supervisory authority counted from discovered_at, the notification of
-- the authority (when and how, or why not) and the decision on telling the
-- data subjects. A breach opened from a security alert of the audit trail
-- names it (alert_id); an alert opens at most one breach, which the unique
-- index enforces when two people press the button at once.
-- version counts the saves: a save of a form read at an older version is
-- refused instead of overwriting a colleague's.
CREATE TABLE breaches (
	tenant_id            TEXT NOT NULL,
	id                   TEXT NOT NULL,
	alert_id             TEXT NOT NULL DEFAULT '',
	title                TEXT NOT NULL,
	description          TEXT NOT NULL DEFAULT '',
	occurred_at          TIMESTAMP,
	discovered_at        TIMESTAMP NOT NULL,
	-- Comma-separated closed lists (privacy.SubjectCategories, DataCategories).
	subject_categories   TEXT NOT NULL DEFAULT '',
	data_categories      TEXT NOT NULL DEFAULT '',
	-- Approximate numbers (NULL: not known yet).
	subjects_count       BIGINT,
	records_count        BIGINT,
	consequences         TEXT NOT NULL DEFAULT '',
	measures             TEXT NOT NULL DEFAULT '',
	contact              TEXT NOT NULL DEFAULT '',
	status               TEXT NOT NULL CHECK (status IN ('open', 'contained', 'closed')),
	-- The supervisory authority: notified when and how (a reference), or
	-- why not (no likely risk to people); the reasons of a late notice.
	authority_notified_at TIMESTAMP,
	authority_how        TEXT NOT NULL DEFAULT '',
	authority_reason     TEXT NOT NULL DEFAULT '',
	delay_reason         TEXT NOT NULL DEFAULT '',
	-- The data subjects (Art. 34): '' undecided, notify or not_notify, why,
	-- and when they were told.
	subjects_decision    TEXT NOT NULL DEFAULT '' CHECK (subjects_decision IN ('', 'notify', 'not_notify')),
	subjects_reason      TEXT NOT NULL DEFAULT '',
	subjects_notified_at TIMESTAMP,
	created_by           TEXT NOT NULL DEFAULT '',
	created_at           TIMESTAMP NOT NULL,
	updated_at           TIMESTAMP NOT NULL,
	version              INTEGER NOT NULL DEFAULT 1,
	PRIMARY KEY (tenant_id, id)
);
CREATE INDEX breaches_discovered ON breaches (tenant_id, discovered_at, id);
CREATE UNIQUE INDEX breaches_alert ON breaches (tenant_id, alert_id) WHERE alert_id <> '';
