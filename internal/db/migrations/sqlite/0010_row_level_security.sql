-- Row-level security is PostgreSQL's (see postgres/0010_row_level_security.sql).
-- SQLite has no roles or policies: one process owns the file, and tenant
-- isolation rests on the explicit tenant_id filters and the route test.
SELECT 1;
