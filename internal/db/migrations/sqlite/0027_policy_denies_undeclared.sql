-- Row-level security is PostgreSQL's (see postgres/0027_policy_denies_undeclared.sql:
-- a transaction that declares no company sees no company row). SQLite has no
-- roles or policies; db.InTx and db.ReadTx refuse a transaction without a
-- declared scope on both engines. This migration changes nothing here.
SELECT 1;
