-- Webhooks (issue 15): a company's subscriptions of URLs to business
-- events, the delivery of each event to each subscription (its log, retried
-- with backoff by the jobs runner), and per company and audit track the
-- cursor of the records already turned into events. Payloads hold ids and
-- non-personal details only; the signing secret is encrypted with the
-- company's data key, bound to its row.
CREATE TABLE webhook_subscriptions (
	tenant_id   TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
	id          TEXT NOT NULL,
	url         TEXT NOT NULL,
	description TEXT NOT NULL DEFAULT '',
	events      TEXT NOT NULL,
	active      BOOLEAN NOT NULL,
	secret      BYTEA NOT NULL,
	created_by  TEXT NOT NULL,
	created_at  TIMESTAMPTZ NOT NULL,
	updated_at  TIMESTAMPTZ NOT NULL,
	PRIMARY KEY (tenant_id, id)
);
CREATE INDEX webhook_subscriptions_list ON webhook_subscriptions (tenant_id, created_at);
CREATE INDEX webhook_subscriptions_active ON webhook_subscriptions (active, tenant_id);

-- The position reached in a company's track: for an audit track the last
-- sequence number turned into events, for "consent_expiring" the end of the
-- notice window already announced (Unix microseconds). Moved by a
-- conditional update in the transaction that inserts the deliveries.
CREATE TABLE webhook_cursors (
	tenant_id  TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
	track      TEXT NOT NULL,
	position   BIGINT NOT NULL,
	updated_at TIMESTAMPTZ NOT NULL,
	PRIMARY KEY (tenant_id, track)
);

-- One event for one subscription. next_try_at is set while the delivery
-- waits (or is claimed by an attempt) and NULL once delivered or failed.
CREATE TABLE webhook_deliveries (
	tenant_id       TEXT NOT NULL,
	id              TEXT NOT NULL,
	subscription_id TEXT NOT NULL,
	event_id        TEXT NOT NULL,
	event_type      TEXT NOT NULL,
	payload         TEXT NOT NULL,
	status          TEXT NOT NULL,
	attempts        INTEGER NOT NULL DEFAULT 0,
	next_try_at     TIMESTAMPTZ,
	last_attempt_at TIMESTAMPTZ,
	last_status     INTEGER NOT NULL DEFAULT 0,
	last_error      TEXT NOT NULL DEFAULT '',
	created_at      TIMESTAMPTZ NOT NULL,
	PRIMARY KEY (tenant_id, id),
	FOREIGN KEY (tenant_id, subscription_id) REFERENCES webhook_subscriptions (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_try_at) WHERE next_try_at IS NOT NULL;
CREATE INDEX webhook_deliveries_log ON webhook_deliveries (tenant_id, subscription_id, created_at, id);
CREATE INDEX webhook_deliveries_created ON webhook_deliveries (created_at);

-- Row-level security, as for every company table (0027's policy).
ALTER TABLE webhook_subscriptions ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON webhook_subscriptions
	USING (tenant_id = current_setting('kandidat.tenant_id', true) OR current_setting('kandidat.tenant_id', true) = '*')
	WITH CHECK (tenant_id = current_setting('kandidat.tenant_id', true) OR current_setting('kandidat.tenant_id', true) = '*');
ALTER TABLE webhook_cursors ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON webhook_cursors
	USING (tenant_id = current_setting('kandidat.tenant_id', true) OR current_setting('kandidat.tenant_id', true) = '*')
	WITH CHECK (tenant_id = current_setting('kandidat.tenant_id', true) OR current_setting('kandidat.tenant_id', true) = '*');
ALTER TABLE webhook_deliveries ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON webhook_deliveries
	USING (tenant_id = current_setting('kandidat.tenant_id', true) OR current_setting('kandidat.tenant_id', true) = '*')
	WITH CHECK (tenant_id = current_setting('kandidat.tenant_id', true) OR current_setting('kandidat.tenant_id', true) = '*');
