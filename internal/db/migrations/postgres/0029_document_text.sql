-- The text of candidates' documents, for search and for the card.
--
-- A background job extracts the text of each document after upload
-- (internal/extract: PDF in a sandbox, DOCX, ODT, plain text; bounded in
-- time, memory and unpacked size). The text is stored like the file
-- itself: encrypted in the file store under its own key, which this row
-- keeps (text_key), so deleting the row leaves the text unreadable.
-- text_state is 'pending' until the job has tried, then 'done', 'failed'
-- (text_error says why: damaged, too_large, timeout, encrypted,
-- unsupported, attempts) or 'none' (an image, which has no text). A
-- document is tried at most three times, counted before each try, so a
-- file that crashes the worker does not come back for ever. A worker
-- claims a document until text_claimed_until (a conditional write: one
-- worker wins), so workers on several instances never read one twice, and
-- a crashed worker's claim lapses. Every existing
-- document starts pending: the job is also the backfill.
ALTER TABLE documents ADD COLUMN text_state TEXT NOT NULL DEFAULT 'pending' CHECK (text_state IN ('pending', 'done', 'failed', 'none'));
ALTER TABLE documents ADD COLUMN text_error TEXT NOT NULL DEFAULT '';
ALTER TABLE documents ADD COLUMN text_attempts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE documents ADD COLUMN text_key BYTEA;
ALTER TABLE documents ADD COLUMN text_claimed_until TIMESTAMPTZ;
ALTER TABLE documents ADD COLUMN text_pages INTEGER NOT NULL DEFAULT 0;
ALTER TABLE documents ADD COLUMN text_truncated BOOLEAN NOT NULL DEFAULT FALSE;
CREATE INDEX documents_text_pending ON documents (created_at, tenant_id, id) WHERE text_state = 'pending';
