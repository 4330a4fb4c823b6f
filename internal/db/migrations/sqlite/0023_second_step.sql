-- The second step of sign-in.
--
-- Recovery codes are stored as HMAC-SHA256 under a key of their user's own:
-- 32 random bytes, encrypted with the company's data key and bound to the
-- user's row (recovery_key). Codes stored before as bare SHA-256 keep
-- working; Kandidat re-hashes them under the key at the user's next second
-- step, or all at once when the pending backfill 'recovery_codes' runs.
--
-- Six-digit codes sent by email or SMS are found by user and purpose when
-- a new one retires the older ones and forgets those past their memory.

ALTER TABLE users ADD COLUMN recovery_key BLOB;

CREATE INDEX account_tokens_user_purpose ON account_tokens (tenant_id, user_id, purpose);

INSERT INTO pending_backfills (name, created_at) SELECT 'recovery_codes', CURRENT_TIMESTAMP WHERE EXISTS (SELECT 1 FROM recovery_codes);
