-- Whether an application is a receipt that starts the purpose of the
-- candidate's data (recruit/basis.go). Not one: an application a recruiter
-- made from the pool's matches (the candidate did not apply), and an
-- application the anonymous career form adds to a candidate the company
-- already holds (anyone who knows the address could send it, and keep the
-- person's data from its erasure that way).
ALTER TABLE applications ADD COLUMN receipt BOOLEAN NOT NULL DEFAULT TRUE;
UPDATE applications SET receipt = FALSE WHERE source = 'match';

-- (SQLite's basis index gains the candidate's id here, for its keyset
-- without a sort; PostgreSQL's planner pages (basis_until, id) from the
-- two-column index as it is, and chose other indexes over the wider one.)
