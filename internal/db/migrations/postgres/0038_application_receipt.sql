-- Whether an application is a receipt that starts the purpose of the
-- candidate's data (recruit/basis.go). Not one: an application a recruiter
-- made from the pool's matches (the candidate did not apply), and an
-- application the anonymous career form adds to a candidate the company
-- already holds (anyone who knows the address could send it, and keep the
-- person's data from its erasure that way).
ALTER TABLE applications ADD COLUMN receipt BOOLEAN NOT NULL DEFAULT TRUE;
UPDATE applications SET receipt = FALSE WHERE source = 'match';

-- The basis index carries the candidate's id too, so that the sweep and
-- the expiry list page through candidates whose bases end at the same
-- moment (a batch, an import) by the index alone, with no sort.
DROP INDEX candidates_basis;
CREATE INDEX candidates_basis ON candidates (tenant_id, basis_until, id);
