-- Each queued message names its recipient in a column of its own (issue 14
-- follow-up): the lower-cased address of an email to one recipient, or the
-- number (E.164) of a text message; '' for a message to several and for
-- rows queued before. An erasure then finds the candidate's queued mail by
-- this index instead of reading every message of the company's queue in
-- each batch; it still reads the rows with '' (few, and gone once sent).
ALTER TABLE email_queue ADD COLUMN recipient TEXT NOT NULL DEFAULT '';
CREATE INDEX email_queue_recipient ON email_queue (tenant_id, recipient);
