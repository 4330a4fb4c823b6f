-- Tasks on an application: a title, an optional due date, the colleague
-- who should do it, and whether it is done.

CREATE TABLE tasks (
	tenant_id      TEXT NOT NULL,
	id             TEXT NOT NULL,
	application_id TEXT NOT NULL,
	title          TEXT NOT NULL,
	due_on         TEXT NOT NULL DEFAULT '',
	assignee_id    TEXT NOT NULL,
	done           BOOLEAN NOT NULL DEFAULT FALSE,
	created_by     TEXT NOT NULL,
	created_at     TIMESTAMP NOT NULL,
	updated_at     TIMESTAMP NOT NULL,
	PRIMARY KEY (tenant_id, id),
	FOREIGN KEY (tenant_id, application_id) REFERENCES applications (tenant_id, id) ON DELETE CASCADE,
	FOREIGN KEY (tenant_id, assignee_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX tasks_application ON tasks (tenant_id, application_id);
CREATE INDEX tasks_assignee ON tasks (tenant_id, assignee_id, done);
