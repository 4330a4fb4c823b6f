-- A smaller audit trail. On SQLite the records become a table clustered by
-- their chain key; PostgreSQL keeps its heap and indexes. On both engines
-- records store their objects and details in a compact text form instead
-- of JSON from this release on; older records keep theirs and read the same.
SELECT 1;
