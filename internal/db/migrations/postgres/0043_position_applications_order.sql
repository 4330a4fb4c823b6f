-- The API's list of a position's applications (issue 15) pages newest
-- first across all stages: this index holds that order, so a page is read
-- in order instead of sorting every application of the position.
CREATE INDEX applications_position_created ON applications (tenant_id, position_id, created_at, id);
