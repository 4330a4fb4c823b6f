-- Row-level security on every company table, as defence in depth behind
-- the tenant_id filter of every statement (DESIGN §3).
--
-- * The application role kandidat_app (no login) may read and write rows
--   but owns no table, so the policies apply to it. The login role of the
--   database URL owns the tables and runs the migrations; the application's
--   connections SET ROLE kandidat_app once this migration has run.
-- * A transaction that declares a company (SET LOCAL kandidat.tenant_id,
--   done by the application for every signed-in request and every read of
--   candidate data) sees and writes that company's rows only. Installation
--   work (sign-in before the company is known, background jobs, the command
--   line) declares none and is not restricted.
-- * Creating the role needs CREATEROLE; without it the migration still
--   enables the policies and the application warns at start-up that it runs
--   as the table owner, to whom the policies do not apply.

CREATE FUNCTION kandidat_tenant_visible(row_tenant TEXT) RETURNS BOOLEAN
LANGUAGE sql STABLE AS $$
	SELECT coalesce(current_setting('kandidat.tenant_id', true), '') IN ('', row_tenant)
$$;

DO $$
DECLARE
	t RECORD;
BEGIN
	BEGIN
		IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'kandidat_app') THEN
			CREATE ROLE kandidat_app NOLOGIN;
		END IF;
	EXCEPTION
		WHEN duplicate_object OR unique_violation THEN NULL; -- created meanwhile by another installation
		WHEN insufficient_privilege THEN RAISE NOTICE 'cannot create role kandidat_app: row-level security needs it';
	END;
	IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'kandidat_app') THEN
		BEGIN
			IF NOT pg_has_role(current_user, 'kandidat_app', 'MEMBER') THEN
				EXECUTE format('GRANT kandidat_app TO %I', current_user);
			END IF;
		EXCEPTION WHEN OTHERS THEN
			RAISE NOTICE 'cannot grant kandidat_app to %: %', current_user, SQLERRM;
		END;
		EXECUTE format('GRANT USAGE ON SCHEMA %I TO kandidat_app', current_schema());
		EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA %I TO kandidat_app', current_schema());
		EXECUTE format('GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA %I TO kandidat_app', current_schema());
		-- Tables of later migrations are granted the same way.
		EXECUTE format('ALTER DEFAULT PRIVILEGES IN SCHEMA %I GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO kandidat_app', current_schema());
		EXECUTE format('ALTER DEFAULT PRIVILEGES IN SCHEMA %I GRANT USAGE, SELECT ON SEQUENCES TO kandidat_app', current_schema());
		-- The credit ledger is append-only for the application, beyond its triggers.
		EXECUTE 'REVOKE UPDATE, DELETE ON credit_ledger FROM kandidat_app';
	END IF;
	FOR t IN
		SELECT c.table_name FROM information_schema.columns c
		JOIN information_schema.tables tb ON tb.table_schema = c.table_schema AND tb.table_name = c.table_name
		WHERE c.table_schema = current_schema() AND c.column_name = 'tenant_id' AND tb.table_type = 'BASE TABLE'
	LOOP
		EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t.table_name);
		EXECUTE format('CREATE POLICY tenant_isolation ON %I USING (kandidat_tenant_visible(tenant_id)) WITH CHECK (kandidat_tenant_visible(tenant_id))', t.table_name);
	END LOOP;
END $$;
