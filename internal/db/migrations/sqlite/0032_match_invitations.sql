-- Invitations to apply sent from a position's matches (issue 13, item 4):
-- at most one per candidate and position. The row is the conditional
-- write the invitation is spent by (INSERT ... ON CONFLICT DO NOTHING in
-- the transaction that queues the email), so a second click, or a
-- colleague's at the same moment, sends nothing again.
CREATE TABLE match_invitations (
	tenant_id    TEXT NOT NULL,
	position_id  TEXT NOT NULL,
	candidate_id TEXT NOT NULL,
	-- The user who invited, and the email queued.
	invited_by   TEXT NOT NULL,
	queue_id     TEXT NOT NULL,
	created_at   TIMESTAMP NOT NULL,
	PRIMARY KEY (tenant_id, position_id, candidate_id),
	FOREIGN KEY (tenant_id, position_id) REFERENCES positions (tenant_id, id) ON DELETE CASCADE,
	FOREIGN KEY (tenant_id, candidate_id) REFERENCES candidates (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX match_invitations_candidate ON match_invitations (tenant_id, candidate_id);
