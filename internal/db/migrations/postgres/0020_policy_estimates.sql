-- Row-level security policies the planner can estimate.
--
-- 0010 gave every company table the policy kandidat_tenant_visible(tenant_id),
-- whose body the planner inlines as coalesce(setting, '') = ANY (ARRAY['',
-- tenant_id]): an expression it cannot estimate, so it guessed that about
-- 0.5% of a company's rows pass. Expecting a handful of rows, it read all of
-- a company's rows and sorted them (a bitmap or sequential scan under a
-- Sort) rather than walk the page's index and stop after the page.
--
-- The policy now compares tenant_id with the setting directly. The planner
-- evaluates current_setting (a stable function) while estimating, so it
-- reads tenant_id = 'the declared company' against the column's statistics,
-- and the other arm, false once a company is declared, adds nothing.
-- The meaning is unchanged: a row is visible and writable when the
-- transaction declared no company (setting absent or '') or declared the
-- row's. The helper function goes: nothing uses it any more, and dropping it
-- (without CASCADE) proves that no policy still does.
--
-- Marking the helper LEAKPROOF was no way out: only a superuser may, and
-- the trouble is the estimate, not the order in which qualifiers run.

DO $$
DECLARE
	t RECORD;
BEGIN
	FOR t IN
		SELECT c.table_name FROM information_schema.columns c
		JOIN information_schema.tables tb ON tb.table_schema = c.table_schema AND tb.table_name = c.table_name
		WHERE c.table_schema = current_schema() AND c.column_name = 'tenant_id' AND tb.table_type = 'BASE TABLE'
	LOOP
		EXECUTE format('DROP POLICY IF EXISTS tenant_isolation ON %I', t.table_name);
		EXECUTE format('CREATE POLICY tenant_isolation ON %I'
			' USING (tenant_id = current_setting(''kandidat.tenant_id'', true) OR coalesce(current_setting(''kandidat.tenant_id'', true), '''') = '''')'
			' WITH CHECK (tenant_id = current_setting(''kandidat.tenant_id'', true) OR coalesce(current_setting(''kandidat.tenant_id'', true), '''') = '''')',
			t.table_name);
	END LOOP;
END $$;

DROP FUNCTION kandidat_tenant_visible(TEXT);
