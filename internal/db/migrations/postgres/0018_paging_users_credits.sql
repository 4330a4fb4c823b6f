-- Keyset pagination: each list's index holds its whole page order, so a
-- page is read from the cursor onward without sorting the company's rows.
--
-- * The users list pages by (display_name, login, id).
-- * The credit ledger pages by (created_at, id), newest first; the index on
--   (tenant_id, created_at) left ties on created_at to a sort.
-- * The audit trail pages by (occurred_at, track, seq), newest first; the
--   index on (tenant_id, occurred_at) left ties to a sort. It is replaced,
--   not joined by a second one, so appending a record costs no more.

CREATE INDEX users_name ON users (tenant_id, display_name, login, id);

DROP INDEX credit_ledger_time;
CREATE INDEX credit_ledger_time ON credit_ledger (tenant_id, created_at, id);

DROP INDEX audit_records_time;
CREATE INDEX audit_records_time ON audit_records (tenant_id, occurred_at, track, seq);
