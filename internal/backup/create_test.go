package backup_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"filippo.io/age"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/backup"
	"github.com/kandidat/kandidat/internal/blob"
	"github.com/kandidat/kandidat/internal/db"
	"github.com/kandidat/kandidat/internal/db/dbtest"
	"github.com/kandidat/kandidat/internal/recruit"
	"github.com/kandidat/kandidat/internal/tenant"
	"github.com/kandidat/kandidat/internal/testkit"
)

// install is an installation with data in several tables and files, and
// the key its backups are encrypted to.
type install struct {
	kit      *testkit.Kit
	url      string // "" on SQLite
	src      backup.Source
	files    *blob.Dir
	identity *age.X25519Identity
	idFile   string
}

func (in *install) recipients() []age.Recipient { return []age.Recipient{in.identity.Recipient()} }
func (in *install) ids() []age.Identity         { return []age.Identity{in.identity} }

// newInstall opens a database on the engine under test (its URL known,
// for pg_dump) and fills it: two companies, users, a position, candidates
// with documents, extra files of several MiB, an erasure ledger and
// audit checkpoints.
func newInstall(t testing.TB) *install {
	t.Helper()
	return newInstallAt(t, dbtest.URL(t))
}

// newInstallAt is newInstall on the database of u ("" for SQLite).
func newInstallAt(t testing.TB, u string) *install {
	t.Helper()
	ctx := context.Background()
	d, err := db.Open(ctx, db.Options{URL: u, DataDir: t.TempDir(), SessionScope: db.Installation})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	if _, err := d.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	k := testkit.New(t, testkit.Options{DB: d})
	files, err := blob.NewDir(k.FilesDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, slug := range []string{"acme", "beta"} {
		c := k.Company(t, tenant.CreateInput{Slug: slug, Name: strings.ToUpper(slug)})
		hr := k.Actor(t, c.ID, slug+"-hr", access.HRManager)
		p, err := k.Recruit.CreatePosition(ctx, hr, recruit.PositionInput{Title: "Welder " + slug, Language: "en"})
		if err != nil {
			t.Fatal(err)
		}
		for i := range 3 {
			app, err := k.Recruit.AddCandidate(ctx, hr, p.ID, recruit.CandidateInput{Name: fmt.Sprintf("Person %d %s", i, slug),
				Email: fmt.Sprintf("p%d@%s.example", i, slug)}, access.StageNew, recruit.ViaStaff)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := k.Recruit.AddDocument(ctx, hr, app.ID, recruit.DocumentUpload{Name: fmt.Sprint("cv", i, ".pdf"),
				Data: strings.NewReader(fmt.Sprintf("%%PDF-1.7\nCV of person %d\n%%%%EOF\n", i))}); err != nil {
				t.Fatal(err)
			}
		}
		// A larger file: several of age's and Tink's segments.
		big := make([]byte, 3<<20+17)
		rand.Read(big)
		if _, err := k.Blobs.Put(ctx, c.ID, "0190f0e2-0000-7000-8000-0000000000"+slug[:2], bytes.NewReader(big), 0); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(k.Ledger, []byte(`{"candidate":"c1"}`+"\n"+`{"candidate":"c2"}`+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	checkpoints := filepath.Join(t.TempDir(), "audit-checkpoints.jsonl")
	if err := os.WriteFile(checkpoints, []byte(`{"seq":1}`+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	idFile := filepath.Join(t.TempDir(), "backup.key")
	if err := os.WriteFile(idFile, []byte("# created: test\n# public key: "+id.Recipient().String()+"\n"+id.String()+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return &install{kit: k, url: u, files: files, identity: id, idFile: idFile, src: backup.Source{
		DB: d, DatabaseURL: u, Blobs: files, Ledger: k.Ledger, Checkpoints: checkpoints,
		StagingDir: filepath.Join(t.TempDir(), "staging"), Version: "test",
	}}
}

// dirTarget is a directory target through the package's own parsing.
func dirTarget(t testing.TB, dir string) backup.Target {
	t.Helper()
	s, err := backup.ParseLocation(dir)
	if err != nil {
		t.Fatal(err)
	}
	tg, err := backup.Open(s, backup.OpenOptions{TmpDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	return tg
}

func (in *install) create(t testing.TB, targets ...backup.Target) *backup.Result {
	t.Helper()
	res, err := backup.Create(context.Background(), in.src, backup.CreateOptions{Recipients: in.recipients(), Targets: targets})
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	return res
}

// tableSums returns, per table, a SHA-256 of its rows (each row printed,
// the rows sorted): equal sums, equal contents.
func tableSums(t testing.TB, d *db.DB) map[string]string {
	t.Helper()
	ctx := context.Background()
	tables, err := d.Tables(ctx)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, tb := range tables {
		if tb == "schema_migrations" {
			continue // applied_at is the time of migration, kept as is; compared by name below
		}
		rows, err := d.Read.QueryContext(ctx, `SELECT * FROM "`+tb+`"`)
		if err != nil {
			t.Fatalf("read %s: %v", tb, err)
		}
		cols, _ := rows.Columns()
		var lines []string
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			for i, v := range vals {
				if b, ok := v.([]byte); ok {
					vals[i] = hex.EncodeToString(b)
				}
			}
			lines = append(lines, fmt.Sprintf("%v", vals))
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		rows.Close()
		sort.Strings(lines)
		h := sha256.Sum256([]byte(strings.Join(lines, "\n")))
		out[tb] = fmt.Sprintf("%d rows %x", len(lines), h[:8])
	}
	return out
}

// blobSums returns the SHA-256 of every stored object by name.
func blobSums(t testing.TB, l blob.Lister) map[string]string {
	t.Helper()
	ctx := context.Background()
	out := map[string]string{}
	err := l.Walk(ctx, func(name string, size int64) error {
		rc, err := l.Get(ctx, name)
		if err != nil {
			return err
		}
		defer rc.Close()
		h := sha256.New()
		if _, err := io.Copy(h, rc); err != nil {
			return err
		}
		out[name] = hex.EncodeToString(h.Sum(nil))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// place is where a restore goes: an empty data directory and, on
// PostgreSQL, a new database on the same server with the same schema name.
type place struct {
	dataDir string
	url     string
	files   *blob.Dir
}

func newPlace(t testing.TB, in *install) *place {
	t.Helper()
	p := &place{dataDir: filepath.Join(t.TempDir(), "data")}
	var err error
	if p.files, err = blob.NewDir(filepath.Join(p.dataDir, "files")); err != nil {
		t.Fatal(err)
	}
	if in.url == "" {
		return p
	}
	name := newDatabase(t, "restore_")
	p.url = databaseURL(t, name, in.url)
	return p
}

// newDatabase creates a database on the test server, dropped at cleanup,
// and returns its name.
func newDatabase(t testing.TB, prefix string) string {
	t.Helper()
	admin, err := sql.Open("pgx", os.Getenv(dbtest.PostgresEnv))
	if err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 6)
	rand.Read(b)
	name := prefix + hex.EncodeToString(b)
	if _, err := admin.Exec(`CREATE DATABASE ` + name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		admin.Exec(`DROP DATABASE ` + name + ` WITH (FORCE)`)
		admin.Close()
	})
	return name
}

// databaseURL is the test server's URL for database name with the
// search_path of like (none: public).
func databaseURL(t testing.TB, name, like string) string {
	t.Helper()
	src, _ := url.Parse(like)
	u, _ := url.Parse(os.Getenv(dbtest.PostgresEnv))
	u.Path = "/" + name
	q := u.Query()
	if sp := src.Query().Get("search_path"); sp != "" {
		q.Set("search_path", sp)
	}
	u.RawQuery = q.Encode()
	return u.String()
}

func (p *place) options() backup.RestoreOptions {
	return backup.RestoreOptions{DataDir: p.dataDir, DatabaseURL: p.url, Blobs: p.files, StagingDir: filepath.Join(p.dataDir, "staging")}
}

// open opens the restored database.
func (p *place) open(t testing.TB) *db.DB {
	t.Helper()
	d, err := db.Open(context.Background(), db.Options{URL: p.url, DataDir: p.dataDir, SessionScope: db.Installation})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// TestRoundTrip: a backup restored into an empty place holds every row of
// every table and every file, byte for byte, on the engine under test,
// through a directory target; the restored database passes its integrity
// check and opens as current by this binary's migrations.
func TestRoundTrip(t *testing.T) {
	ctx := context.Background()
	in := newInstall(t)
	target := dirTarget(t, filepath.Join(t.TempDir(), "backups"))
	res := in.create(t, target)
	m := res.Manifest
	if len(res.Targets) != 1 || res.Targets[0].Err != nil {
		t.Fatalf("target results %+v", res.Targets)
	}
	wantEngine := backup.EngineSQLite
	if in.url != "" {
		wantEngine = backup.EnginePostgres
	}
	known, err := backup.KnownSchema(in.kit.DB.Engine)
	if err != nil {
		t.Fatal(err)
	}
	if m.Engine != wantEngine || m.SchemaVersion != known || m.Files != 8 || len(m.Parts) != 4 || m.Version != "test" {
		t.Fatalf("manifest: engine %s schema %d (want %d) files %d parts %d", m.Engine, m.SchemaVersion, known, m.Files, len(m.Parts))
	}
	if entries, _ := os.ReadDir(in.src.StagingDir); len(entries) != 0 {
		t.Errorf("staging after create: %v, want nothing", entries)
	}
	e, err := backup.Newest(ctx, target)
	if err != nil || e.ID != m.ID || !e.Complete || e.Objects != 5 {
		t.Fatalf("newest: %+v %v", e, err)
	}

	p := newPlace(t, in)
	// The restored place already has a ledger line of its own, and one the backup also holds.
	if err := os.MkdirAll(p.dataDir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(p.dataDir, "erasures.jsonl"), []byte(`{"candidate":"c2"}`+"\n"+`{"candidate":"c9"}`+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := backup.Restore(ctx, target, "", in.ids(), p.options())
	if err != nil {
		t.Fatalf("restore: %v", err)
	}
	if got.ID != m.ID {
		t.Errorf("restored %s, want %s", got.ID, m.ID)
	}
	restored := p.open(t)
	if err := backup.IntegrityCheck(ctx, restored); err != nil {
		t.Errorf("integrity check of the restored database: %v", err)
	}
	st, err := restored.Status(ctx)
	if err != nil || !st.Current() {
		t.Errorf("restored schema: %+v %v, want current", st, err)
	}
	want, have := tableSums(t, in.kit.DB), tableSums(t, restored)
	if len(want) < 30 {
		t.Fatalf("only %d tables compared", len(want))
	}
	nonEmpty := 0
	for tb, sum := range want {
		if have[tb] != sum {
			t.Errorf("table %s: restored %s, want %s", tb, have[tb], sum)
		}
		if !strings.HasPrefix(sum, "0 rows") {
			nonEmpty++
		}
	}
	if nonEmpty < 8 {
		t.Errorf("only %d tables hold rows: the fixture is too thin", nonEmpty)
	}
	if len(have) != len(want) {
		t.Errorf("restored %d tables, want %d", len(have), len(want))
	}
	if in.url != "" {
		// Row-level security, its policies, the triggers and the grants to the application role came back too.
		if want, have := pgCatalogue(t, in.url), pgCatalogue(t, p.url); want != have || !strings.Contains(want, "true true") {
			t.Errorf("catalogue: restored\n%s\nwant\n%s", have, want)
		}
	}
	wantFiles, haveFiles := blobSums(t, in.files), blobSums(t, p.files)
	if len(wantFiles) != 8 || fmt.Sprint(wantFiles) != fmt.Sprint(haveFiles) {
		t.Errorf("files: restored %v, want %v", haveFiles, wantFiles)
	}
	ledger, _ := os.ReadFile(filepath.Join(p.dataDir, "erasures.jsonl"))
	if string(ledger) != `{"candidate":"c2"}`+"\n"+`{"candidate":"c9"}`+"\n"+`{"candidate":"c1"}`+"\n" {
		t.Errorf("merged ledger:\n%s", ledger)
	}
	checkpoints, _ := os.ReadFile(filepath.Join(p.dataDir, "audit-checkpoints.jsonl"))
	if string(checkpoints) != `{"seq":1}`+"\n" {
		t.Errorf("checkpoints: %q", checkpoints)
	}
	// The restored documents open with the restored keyring: same company keys, same object keys.
	if entries, _ := os.ReadDir(filepath.Join(p.dataDir, "staging")); len(entries) != 0 {
		t.Errorf("restore staging left %d entries", len(entries))
	}

	// A second restore into the same place is refused and changes nothing.
	before := tableSums(t, restored)
	if _, err := backup.Restore(ctx, target, m.ID, in.ids(), p.options()); !errors.Is(err, backup.ErrNotEmpty) {
		t.Errorf("restore over an installation: got %v, want ErrNotEmpty", err)
	}
	if after := tableSums(t, restored); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Errorf("a refused restore changed the database")
	}
}

// openPG opens a plain pool on a PostgreSQL URL (as its login role).
func openPG(t testing.TB, u string) *sql.DB {
	t.Helper()
	d, err := sql.Open("pgx", u)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// pgCatalogue describes the schema of u's search_path beyond its rows:
// per table row-level security (enabled, forced), its policies and
// triggers, and the privileges of the application role.
func pgCatalogue(t testing.TB, u string) string {
	t.Helper()
	pu, _ := url.Parse(u)
	schema := pu.Query().Get("search_path")
	d := openPG(t, u)
	rows, err := d.Query(`SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity,
		(SELECT count(*) FROM pg_policies p WHERE p.schemaname = n.nspname AND p.tablename = c.relname),
		(SELECT count(*) FROM pg_trigger g WHERE g.tgrelid = c.oid AND NOT g.tgisinternal),
		coalesce((SELECT string_agg(privilege_type, ',' ORDER BY privilege_type) FROM information_schema.role_table_grants r
			WHERE r.grantee = 'kandidat_app' AND r.table_schema = n.nspname AND r.table_name = c.relname), '')
		FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = $1 AND c.relkind = 'r' ORDER BY 1`, schema)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var b strings.Builder
	for rows.Next() {
		var name, grants string
		var rls, force bool
		var policies, triggers int
		if err := rows.Scan(&name, &rls, &force, &policies, &triggers, &grants); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "%s %v %v %d %d %s\n", name, rls, force, policies, triggers, grants)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// TestPostgresPublicSchema: an installation in the public schema (no
// search_path, as most are) backs up and restores into a new database,
// also over an existing one with force. PostgreSQL only: on SQLite there
// is no schema.
func TestPostgresPublicSchema(t *testing.T) {
	if os.Getenv(dbtest.PostgresEnv) == "" {
		t.Skip("PostgreSQL only: set " + dbtest.PostgresEnv)
	}
	ctx := context.Background()
	in := newInstallAt(t, databaseURL(t, newDatabase(t, "public_"), ""))
	target := dirTarget(t, filepath.Join(t.TempDir(), "backups"))
	m := in.create(t, target).Manifest
	p := newPlace(t, in)
	if strings.Contains(p.url, "search_path") {
		t.Fatalf("place %s", p.url)
	}
	o := p.options()
	if _, err := backup.Restore(ctx, target, m.ID, in.ids(), o); err != nil {
		t.Fatalf("restore: %v", err)
	}
	want := fmt.Sprint(tableSums(t, in.kit.DB))
	if have := fmt.Sprint(tableSums(t, p.open(t))); have != want {
		t.Errorf("restored tables differ")
	}
	if w, h := pgCatalogue(t, in.url+"&search_path=public"), pgCatalogue(t, p.url+"&search_path=public"); w != h || w == "" {
		t.Errorf("catalogue: restored\n%s\nwant\n%s", h, w)
	}
	o.Force = true
	if _, err := backup.Restore(ctx, target, m.ID, in.ids(), o); err != nil {
		t.Fatalf("forced restore: %v", err)
	}
	if have := fmt.Sprint(tableSums(t, p.open(t))); have != want {
		t.Errorf("tables after the forced restore differ")
	}
	var schemas int
	openPG(t, p.url).QueryRow(`SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'public%'`).Scan(&schemas)
	if schemas != 1 {
		t.Errorf("%d public schemas after the forced restore: the old one was not dropped", schemas)
	}
}
