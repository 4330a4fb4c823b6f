-- Interviews: a candidate invited to a time and place (or video link), in
-- the interview's own time zone; the candidate answers through an emailed
-- link whose secret is stored hashed; a reminder goes out a day before.

CREATE TABLE interviews (
	tenant_id        TEXT NOT NULL,
	id               TEXT NOT NULL,
	application_id   TEXT NOT NULL,
	starts_at        TIMESTAMP NOT NULL,
	duration_minutes INTEGER NOT NULL,
	time_zone        TEXT NOT NULL,
	location         TEXT NOT NULL DEFAULT '',
	video_link       TEXT NOT NULL DEFAULT '',
	note             TEXT NOT NULL DEFAULT '',
	status           TEXT NOT NULL,
	response_note    TEXT NOT NULL DEFAULT '',
	token_hash       TEXT NOT NULL UNIQUE,
	created_by       TEXT NOT NULL,
	reminded_at      TIMESTAMP,
	created_at       TIMESTAMP NOT NULL,
	updated_at       TIMESTAMP NOT NULL,
	PRIMARY KEY (tenant_id, id),
	FOREIGN KEY (tenant_id, application_id) REFERENCES applications (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX interviews_application ON interviews (tenant_id, application_id);
CREATE INDEX interviews_start ON interviews (starts_at);

CREATE TABLE interview_participants (
	tenant_id    TEXT NOT NULL,
	interview_id TEXT NOT NULL,
	user_id      TEXT NOT NULL,
	PRIMARY KEY (tenant_id, interview_id, user_id),
	FOREIGN KEY (tenant_id, interview_id) REFERENCES interviews (tenant_id, id) ON DELETE CASCADE,
	FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE
);
