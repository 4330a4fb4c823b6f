-- Row-level security denies what no company declared.
--
-- Until now a transaction that declared no company saw and wrote every
-- company's rows: the policy allowed everything when kandidat.tenant_id was
-- absent or ''. A statement that forgot its company was therefore not
-- caught by the second line of defence at all. Every transaction now
-- declares a scope (db.InTx / db.ReadTx take it as an argument): one
-- company's id, or '*' for the installation (jobs that sweep every company,
-- the command line, the lookups behind emailed links and the sign-in form,
-- which find a company from a token or a login). A transaction with no
-- declaration sees no company row and cannot write one.
--
-- The planner still evaluates current_setting while estimating (see 0020):
-- with a company declared the second arm is the constant false, with '*'
-- the first arm no longer matters.
--
-- Every table with a tenant_id column gets the policy and has row-level
-- security enabled, including tables added after 0010 whose migration set
-- it up by hand. The tables' owner (the login role that runs migrations and
-- maintenance) stays exempt, as before; the application runs as
-- kandidat_app.

DO $$
DECLARE
	t RECORD;
BEGIN
	FOR t IN
		SELECT c.table_name FROM information_schema.columns c
		JOIN information_schema.tables tb ON tb.table_schema = c.table_schema AND tb.table_name = c.table_name
		WHERE c.table_schema = current_schema() AND c.column_name = 'tenant_id' AND tb.table_type = 'BASE TABLE'
	LOOP
		EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t.table_name);
		EXECUTE format('DROP POLICY IF EXISTS tenant_isolation ON %I', t.table_name);
		EXECUTE format('CREATE POLICY tenant_isolation ON %I'
			' USING (tenant_id = current_setting(''kandidat.tenant_id'', true) OR current_setting(''kandidat.tenant_id'', true) = ''*'')'
			' WITH CHECK (tenant_id = current_setting(''kandidat.tenant_id'', true) OR current_setting(''kandidat.tenant_id'', true) = ''*'')',
			t.table_name);
	END LOOP;
END $$;
