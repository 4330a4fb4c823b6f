package dbtest

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/kandidat/kandidat/internal/db"
)

// Statement is a captured statement with its arguments.
type Statement struct {
	Query string
	Args  []any
}

// Recorder collects the statements a database runs (pass its Trace as
// db.Options.Trace, or to OpenTraced). It is safe for concurrent use.
type Recorder struct {
	mu    sync.Mutex
	stmts []Statement
}

// Trace records one statement; it is the func for db.Options.Trace.
// The checker's own EXPLAIN statements are not recorded.
func (r *Recorder) Trace(query string, args []any) {
	if strings.HasPrefix(strings.TrimSpace(query), "EXPLAIN ") {
		return
	}
	r.mu.Lock()
	r.stmts = append(r.stmts, Statement{Query: query, Args: append([]any(nil), args...)})
	r.mu.Unlock()
}

// Reset forgets what was recorded.
func (r *Recorder) Reset() {
	r.mu.Lock()
	r.stmts = nil
	r.mu.Unlock()
}

// Take returns what was recorded since the last Reset or Take, and forgets it.
func (r *Recorder) Take() []Statement {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.stmts
	r.stmts = nil
	return s
}

// OpenTraced is Open with every statement reported to trace before it runs
// (the migrations' statements too: reset the recorder before the part a
// test looks at).
func OpenTraced(t testing.TB, trace func(query string, args []any)) *db.DB {
	t.Helper()
	d, err := db.Open(context.Background(), db.Options{URL: URL(t), DataDir: t.TempDir(), Trace: trace, SessionScope: db.Installation})
	if err != nil {
		t.Fatalf("open database: %v", err)
	}
	t.Cleanup(func() { d.Close() })
	if _, err := d.Migrate(context.Background()); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	return d
}

// CheckPlans asks the database for the plan of every SELECT in stmts
// (run with its own arguments; writes, transaction control, set_config and
// PRAGMA are skipped) and returns one problem per plan step that reads a
// whole table of big, or all of one company's rows of it:
//
//   - SQLite (EXPLAIN QUERY PLAN): SCAN of the table, with or without an
//     index; an automatic index or a Bloom filter on it (both are built by
//     scanning it; SQLite builds a Bloom filter only when it expects to
//     search the table more often than it has rows, that is when the
//     statement's outer loop is that big); a SEARCH whose only constraint
//     is tenant_id=?, unless
//     the statement has a LIMIT, the plan sorts nothing into a temporary
//     B-tree (ORDER BY, GROUP BY, DISTINCT) and the search is not inside a
//     subquery, so that it stops after the page (keyset pagination).
//   - PostgreSQL (EXPLAIN (FORMAT JSON), in a read transaction declaring
//     the statement's company, with enable_seqscan off so that a Seq Scan
//     left means no index serves the statement): a Seq Scan of the table,
//     an index scan without an Index Cond, and an index scan whose Index
//     Cond is on tenant_id only, unless a Limit is above it with no Sort,
//     Hash or Aggregate in between and no subplan boundary.
//
// A statement whose plan cannot be had is a problem too. Each statement is
// explained once per distinct arguments.
func CheckPlans(ctx context.Context, d *db.DB, stmts []Statement, big []string) []string {
	bigSet := map[string]bool{}
	for _, b := range big {
		bigSet[b] = true
	}
	var problems []string
	explainable(stmts, func(q string, args []any, tenantID string) {
		var ps []string
		var err error
		if d.Engine == db.Postgres {
			ps, err = postgresProblems(ctx, d, q, args, tenantID, bigSet)
		} else {
			ps, err = sqliteProblems(ctx, d, q, args, bigSet)
		}
		if err != nil {
			problems = append(problems, fmt.Sprintf("no plan for %q: %v", Head(q), err))
			return
		}
		problems = append(problems, ps...)
	})
	return problems
}

// Plans returns the plan of each statement CheckPlans would look at, as
// text under the statement (the same settings as CheckPlans: on PostgreSQL
// with enable_seqscan off), for reading while fixing a query.
func Plans(ctx context.Context, d *db.DB, stmts []Statement) []string {
	var out []string
	explainable(stmts, func(q string, args []any, tenantID string) {
		var plan string
		var err error
		if d.Engine == db.Postgres {
			plan, err = postgresPlanText(ctx, d, q, args, tenantID)
		} else {
			var rows []eqpRow
			if rows, err = sqlitePlan(ctx, d, q, args); err == nil {
				plan = sqlitePlanText(rows)
			}
		}
		if err != nil {
			plan = "no plan: " + err.Error()
		}
		out = append(out, strings.Join(strings.Fields(q), " ")+"\n"+plan)
	})
	return out
}

// explainable calls fn for each SELECT of stmts, once per distinct
// arguments, with the company to declare for explaining it.
func explainable(stmts []Statement, fn func(q string, args []any, tenantID string)) {
	seen := map[string]bool{}
	declared := "" // the company the last set_config declared
	for _, s := range stmts {
		q := strings.TrimSpace(s.Query)
		if t, ok := declaresTenant(q, s.Args); ok {
			declared = t
			continue
		}
		if !isSelect(q) {
			continue
		}
		key := q + "\x00" + fmt.Sprintf("%#v", s.Args)
		if seen[key] {
			continue
		}
		seen[key] = true
		fn(q, s.Args, tenantOf(q, s.Args, declared))
	}
}

// Head is the start of a statement for messages: whitespace collapsed,
// 160 characters at most.
func Head(q string) string {
	q = strings.Join(strings.Fields(q), " ")
	if r := []rune(q); len(r) > 160 {
		return string(r[:160]) + "…"
	}
	return q
}

var (
	setConfigRe = regexp.MustCompile(`(?is)^SELECT\s+set_config\s*\(\s*'kandidat\.tenant_id'\s*,\s*\$1`)
	tenantArgRe = regexp.MustCompile(`(?i)\btenant_id\s*=\s*\$(\d+)`)
	writeRe     = regexp.MustCompile(`(?i)\b(INSERT\s+INTO|UPDATE\s+\w+\s+SET|DELETE\s+FROM)\b`)
	limitRe     = regexp.MustCompile(`(?i)\bLIMIT\b`)
)

// declaresTenant reports the company a `SELECT set_config('kandidat.tenant_id', $1, true)` declares.
func declaresTenant(q string, args []any) (string, bool) {
	if !setConfigRe.MatchString(q) || len(args) == 0 {
		return "", false
	}
	t, _ := args[0].(string)
	return t, true
}

// tenantOf is the company to declare for explaining q: the argument its
// tenant_id = $n filter binds, or else the last company declared before it.
func tenantOf(q string, args []any, declared string) string {
	if m := tenantArgRe.FindStringSubmatch(q); m != nil {
		if n, err := strconv.Atoi(m[1]); err == nil && n >= 1 && n <= len(args) {
			if t, ok := args[n-1].(string); ok {
				return t
			}
		}
	}
	return declared
}

// isSelect tells a query worth explaining: a SELECT (or WITH … SELECT),
// not set_config, not a write behind a WITH.
func isSelect(q string) bool {
	u := strings.ToUpper(strings.TrimLeft(q, "( \t\r\n"))
	switch {
	case strings.HasPrefix(u, "SELECT"):
		return !strings.Contains(u, "SET_CONFIG(")
	case strings.HasPrefix(u, "WITH"):
		return !writeRe.MatchString(q)
	}
	return false
}

// problem formats one finding.
func problem(table, what, q, step string) string {
	return fmt.Sprintf("%s: %s in %q: %s", table, what, Head(q), step)
}

// --- SQLite

type eqpRow struct {
	id, parent int
	detail     string
}

var (
	// SCAN a | SCAN a USING INDEX i | SCAN a USING COVERING INDEX i (a may be "applications AS a" in other versions).
	scanRe = regexp.MustCompile(`^SCAN (\S+)(?: AS (\S+))?(?: USING .*)?$`)
	// SEARCH a USING [COVERING] INDEX i (tenant_id=? AND …) | … PRIMARY KEY (…) | … AUTOMATIC [PARTIAL] COVERING INDEX (…)
	searchRe = regexp.MustCompile(`^SEARCH (\S+)(?: AS (\S+))? USING (.*?)\s*\(([^()]*)\)$`)
	bloomRe  = regexp.MustCompile(`^BLOOM FILTER ON (\S+)`)
	// FROM/JOIN table [AS] alias, to resolve the aliases SQLite prints.
	fromRe = regexp.MustCompile(`(?i)\b(?:FROM|JOIN)\s+([A-Za-z_][A-Za-z0-9_]*)(?:\s+(?:AS\s+)?([A-Za-z_][A-Za-z0-9_]*))?`)
)

// notAlias are words that can follow a table name without being its alias.
var notAlias = map[string]bool{
	"WHERE": true, "JOIN": true, "LEFT": true, "RIGHT": true, "INNER": true, "OUTER": true, "CROSS": true, "FULL": true,
	"NATURAL": true, "ON": true, "USING": true, "GROUP": true, "ORDER": true, "LIMIT": true, "OFFSET": true, "UNION": true,
	"EXCEPT": true, "INTERSECT": true, "HAVING": true, "WINDOW": true, "AS": true, "SET": true, "VALUES": true, "RETURNING": true,
	"INDEXED": true, "NOT": true, "AND": true, "OR": true, "FOR": true,
}

// tablesByName maps each table name and alias in q to the tables it may
// stand for (an alias can be reused for different tables in subqueries).
func tablesByName(q string) map[string][]string {
	m := map[string][]string{}
	add := func(name, table string) {
		for _, t := range m[name] {
			if t == table {
				return
			}
		}
		m[name] = append(m[name], table)
	}
	for _, g := range fromRe.FindAllStringSubmatch(q, -1) {
		table := strings.ToLower(g[1])
		add(table, table)
		if a := g[2]; a != "" && !notAlias[strings.ToUpper(a)] {
			add(strings.ToLower(a), table)
		}
	}
	return m
}

func sqliteProblems(ctx context.Context, d *db.DB, q string, args []any, big map[string]bool) ([]string, error) {
	plan, err := sqlitePlan(ctx, d, q, args)
	if err != nil {
		return nil, err
	}
	return sqlitePlanProblems(q, plan, big), nil
}

func sqlitePlan(ctx context.Context, d *db.DB, q string, args []any) ([]eqpRow, error) {
	rows, err := d.Read.QueryContext(ctx, "EXPLAIN QUERY PLAN "+q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var plan []eqpRow
	for rows.Next() {
		var r eqpRow
		var unused int
		if err := rows.Scan(&r.id, &r.parent, &unused, &r.detail); err != nil {
			return nil, err
		}
		plan = append(plan, r)
	}
	return plan, rows.Err()
}

// sqlitePlanText indents each step under its parent, as the sqlite3 shell does.
func sqlitePlanText(plan []eqpRow) string {
	depth := map[int]int{}
	var b strings.Builder
	for _, r := range plan {
		d := 0
		if p, ok := depth[r.parent]; ok {
			d = p + 1
		}
		depth[r.id] = d
		fmt.Fprintf(&b, "%s%s\n", strings.Repeat("  ", d+1), r.detail)
	}
	return strings.TrimRight(b.String(), "\n")
}

func sqlitePlanProblems(q string, plan []eqpRow, big map[string]bool) []string {
	names := tablesByName(q)
	bigOf := func(name, real string) string {
		if real != "" && big[strings.ToLower(real)] {
			return strings.ToLower(real)
		}
		var hit []string
		for _, t := range names[strings.ToLower(name)] {
			if big[t] {
				hit = append(hit, t)
			}
		}
		if len(hit) == 0 && big[strings.ToLower(name)] {
			hit = append(hit, strings.ToLower(name))
		}
		return strings.Join(hit, "/")
	}
	byID := map[int]eqpRow{}
	sorts := false
	for _, r := range plan {
		byID[r.id] = r
		if strings.HasPrefix(r.detail, "USE TEMP B-TREE FOR ORDER BY") || strings.HasPrefix(r.detail, "USE TEMP B-TREE FOR GROUP BY") ||
			strings.HasPrefix(r.detail, "USE TEMP B-TREE FOR DISTINCT") {
			sorts = true
		}
	}
	inSubquery := func(r eqpRow) bool {
		for p, ok := byID[r.parent]; ok; p, ok = byID[p.parent] {
			if strings.Contains(p.detail, "SUBQUERY") {
				return true
			}
			if p.parent == p.id {
				break
			}
		}
		return false
	}
	var out []string
	for _, r := range plan {
		if m := scanRe.FindStringSubmatch(r.detail); m != nil {
			// "SCAN a AS b" in some versions names the table first.
			name, real := m[1], ""
			if m[2] != "" {
				name, real = m[2], m[1]
			}
			if t := bigOf(name, real); t != "" {
				out = append(out, problem(t, "full scan", q, r.detail))
			}
			continue
		}
		if m := bloomRe.FindStringSubmatch(r.detail); m != nil {
			if t := bigOf(m[1], ""); t != "" {
				out = append(out, problem(t, "full scan (Bloom filter)", q, r.detail))
			}
			continue
		}
		m := searchRe.FindStringSubmatch(r.detail)
		if m == nil {
			continue
		}
		name, real := m[1], ""
		if m[2] != "" {
			name, real = m[2], m[1]
		}
		t := bigOf(name, real)
		if t == "" {
			continue
		}
		if strings.HasPrefix(m[3], "AUTOMATIC") {
			out = append(out, problem(t, "full scan (automatic index)", q, r.detail))
			continue
		}
		if strings.TrimSpace(m[4]) != "tenant_id=?" {
			continue
		}
		switch {
		case sorts:
			out = append(out, problem(t, "reads and sorts all of one company's rows", q, r.detail+"; "+tempBTrees(plan)))
		case !limitRe.MatchString(q):
			out = append(out, problem(t, "reads all of one company's rows", q, r.detail))
		case inSubquery(r):
			out = append(out, problem(t, "reads all of one company's rows in a subquery", q, r.detail))
		}
	}
	return out
}

func tempBTrees(plan []eqpRow) string {
	var s []string
	for _, r := range plan {
		if strings.HasPrefix(r.detail, "USE TEMP B-TREE") {
			s = append(s, r.detail)
		}
	}
	return strings.Join(s, "; ")
}

// --- PostgreSQL

type pgNode struct {
	NodeType  string   `json:"Node Type"`
	Relation  string   `json:"Relation Name"`
	Alias     string   `json:"Alias"`
	Index     string   `json:"Index Name"`
	IndexCond string   `json:"Index Cond"`
	Filter    string   `json:"Filter"`
	ParentRel string   `json:"Parent Relationship"`
	Strategy  string   `json:"Strategy"`
	Plans     []pgNode `json:"Plans"`
}

// postgresExplain runs explain (the EXPLAIN statement's start) for q in a
// read transaction that declares tenantID, with sequential scans off, and
// returns its rows.
func postgresExplain(ctx context.Context, d *db.DB, explain, q string, args []any, tenantID string) ([]string, error) {
	var out []string
	scope := tenantID
	if scope == "" { // a statement of no company (the installation's)
		scope = db.Installation
	}
	err := d.ReadTx(ctx, scope, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `SET LOCAL enable_seqscan = off`); err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, explain+" "+q, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var line string
			if err := rows.Scan(&line); err != nil {
				return err
			}
			out = append(out, line)
		}
		return rows.Err()
	})

	return out, err
}

func postgresPlanText(ctx context.Context, d *db.DB, q string, args []any, tenantID string) (string, error) {
	lines, err := postgresExplain(ctx, d, "EXPLAIN", q, args, tenantID)
	for i, l := range lines {
		lines[i] = "  " + l
	}
	return strings.Join(lines, "\n"), err
}

func postgresProblems(ctx context.Context, d *db.DB, q string, args []any, tenantID string, big map[string]bool) ([]string, error) {
	raw, err := postgresExplain(ctx, d, "EXPLAIN (FORMAT JSON)", q, args, tenantID)
	if err != nil {
		return nil, err
	}
	var doc []struct {
		Plan pgNode `json:"Plan"`
	}
	if err := json.Unmarshal([]byte(strings.Join(raw, "\n")), &doc); err != nil {
		return nil, err
	}
	var out []string
	for _, p := range doc {
		out = append(out, pgPlanProblems(q, p.Plan, big)...)
	}
	return out, nil
}

// pgPlanProblems walks the plan. limited says a Limit is above with nothing
// in between that reads its whole input (Sort, Hash, an Aggregate…), and no
// subplan boundary (a subplan runs to its end for every outer row).
func pgPlanProblems(q string, root pgNode, big map[string]bool) []string {
	var out []string
	var walk func(n pgNode, limited bool, heap string)
	walk = func(n pgNode, limited bool, heap string) {
		if n.ParentRel == "SubPlan" || n.ParentRel == "InitPlan" {
			limited = false
		}
		rel := n.Relation
		if n.NodeType == "Bitmap Index Scan" {
			rel = heap
		}
		isBig := big[strings.ToLower(rel)]
		step := pgStep(n, rel)
		switch n.NodeType {
		case "Seq Scan":
			if isBig {
				out = append(out, problem(rel, "full scan", q, step))
			}
		case "Index Scan", "Index Only Scan", "Bitmap Index Scan":
			if !isBig {
				break
			}
			switch {
			case n.IndexCond == "":
				out = append(out, problem(rel, "full scan", q, step))
			case onlyTenant(n.IndexCond) && !limited:
				out = append(out, problem(rel, "reads all of one company's rows", q, step))
			}
		}
		switch n.NodeType {
		case "Limit":
			limited = true
		case "Sort", "Hash", "WindowAgg", "SetOp", "Recursive Union":
			limited = false
		case "Aggregate":
			// Only an aggregate over sorted groups hands rows on before the end of its input.
			if n.Strategy != "Sorted" {
				limited = false
			}
		}
		if n.NodeType == "Bitmap Heap Scan" {
			heap = n.Relation
		}
		for _, c := range n.Plans {
			walk(c, limited, heap)
		}
	}
	walk(root, false, "")
	return out
}

func pgStep(n pgNode, rel string) string {
	s := n.NodeType
	if n.Index != "" {
		s += " using " + n.Index
	}
	if rel != "" {
		s += " on " + rel
		if n.Alias != "" && n.Alias != rel {
			s += " " + n.Alias
		}
	}
	if n.IndexCond != "" {
		s += " Index Cond: " + n.IndexCond
	}
	if n.Filter != "" {
		s += " Filter: " + n.Filter
	}
	return s
}

var condColumnRe = regexp.MustCompile(`^\(*\s*(?:[A-Za-z_][A-Za-z0-9_]*\.)?"?([A-Za-z_][A-Za-z0-9_]*)"?\s*(=|<|>|<=|>=|<>|~~|IS)`)

// onlyTenant tells an Index Cond that constrains tenant_id and nothing else,
// e.g. "(tenant_id = 'x'::text)" or "(a.tenant_id = $1)".
func onlyTenant(cond string) bool {
	parts := splitAnd(cond)
	if len(parts) == 0 {
		return false
	}
	for _, p := range parts {
		m := condColumnRe.FindStringSubmatch(p)
		if m == nil || m[1] != "tenant_id" {
			return false
		}
	}
	return true
}

// splitAnd splits a condition on its top-level ANDs, outer parentheses removed.
func splitAnd(cond string) []string {
	c := strings.TrimSpace(cond)
	for strings.HasPrefix(c, "(") && matchingParen(c) == len(c)-1 {
		c = strings.TrimSpace(c[1 : len(c)-1])
	}
	var parts []string
	depth, start := 0, 0
	inQuote := false
	for i := 0; i < len(c); i++ {
		switch ch := c[i]; {
		case ch == '\'':
			inQuote = !inQuote
		case inQuote:
		case ch == '(':
			depth++
		case ch == ')':
			depth--
		case depth == 0 && strings.HasPrefix(c[i:], " AND "):
			parts = append(parts, strings.TrimSpace(c[start:i]))
			start = i + len(" AND ")
			i += len(" AND ") - 1
		}
	}
	return append(parts, strings.TrimSpace(c[start:]))
}

// matchingParen returns the index of the parenthesis closing s[0].
func matchingParen(s string) int {
	depth := 0
	inQuote := false
	for i := 0; i < len(s); i++ {
		switch ch := s[i]; {
		case ch == '\'':
			inQuote = !inQuote
		case inQuote:
		case ch == '(':
			depth++
		case ch == ')':
			depth--
			if depth == 0 {
				return i
			}
		}
	}
	return -1
}
