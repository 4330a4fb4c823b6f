package cli

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"filippo.io/age"

	"github.com/kandidat/kandidat/internal/db"
)

// TestBackupRestoreCommands walks the operator's commands on the suite's
// engine: a backup of a seeded installation; erasures after it; a second
// backup; then
//   - restoring the first backup in place (--force) keeps the erased
//     erased (the data directory's ledger), and
//   - restoring it into a new, empty installation keeps them erased too
//     (the ledger of the newest backup on the target);
//
// and refuses a live installation without --force and a wrong identity.
// backup list shows both backups, backup verify passes.
func TestBackupRestoreCommands(t *testing.T) {
	inst := installation(t)
	dataDir := inst[1]
	with := func(args ...string) []string { return append(args, inst...) }
	if r := run(t, nil, with("migrate", "up")...); r.code != 0 {
		t.Fatalf("migrate up: %d %q", r.code, r.stderr)
	}
	writeKey(t, filepath.Join(dataDir, "master.key"))
	if r := run(t, nil, with("seed", "--scale", "small", "--seed", "5")...); r.code != 0 {
		t.Fatalf("seed: %d %q", r.code, r.stderr)
	}
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	identity := filepath.Join(t.TempDir(), "backup.key")
	if err := os.WriteFile(identity, []byte("# created: test\n"+id.String()+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	target := filepath.Join(t.TempDir(), "backups")
	before := candidateIDs(t, inst)

	first := run(t, nil, with("backup", "create", "--to", target, "--recipient", id.Recipient().String(), "--quiet")...)
	if first.code != 0 {
		t.Fatalf("backup create: %d %q %q", first.code, first.stdout, first.stderr)
	}
	firstID := strings.TrimSpace(first.stdout)
	if !regexp.MustCompile(`^\d{8}T\d{6}\.\d{3}Z-[0-9a-f]{6}$`).MatchString(firstID) {
		t.Fatalf("backup id %q", firstID)
	}

	sweep := run(t, nil, with("privacy", "sweep")...)
	m := regexp.MustCompile(`erased (\d+) candidates`).FindStringSubmatch(sweep.stdout)
	if sweep.code != 0 || m == nil || m[1] == "0" {
		t.Fatalf("sweep: %d %q %q", sweep.code, sweep.stdout, sweep.stderr)
	}
	after := candidateIDs(t, inst)
	erased := len(before) - len(after)
	if n, _ := strconv.Atoi(m[1]); n != erased || erased == 0 {
		t.Fatalf("sweep erased %s, the database lost %d", m[1], erased)
	}
	// As if another instance (its own data directory) had erased them: the
	// ledger file here does not know, only the database's record does, and
	// the next backup's ledger must carry it.
	if err := os.Remove(filepath.Join(dataDir, "erasures.jsonl")); err != nil {
		t.Fatal(err)
	}
	second := run(t, nil, with("backup", "create", "--to", target, "--recipient", id.Recipient().String(), "--quiet")...)
	if second.code != 0 {
		t.Fatalf("second backup: %d %q", second.code, second.stderr)
	}

	list := run(t, nil, with("backup", "list", "--from", target)...)
	if list.code != 0 || !strings.Contains(list.stdout, firstID) || strings.Count(list.stdout, "complete") != 2 {
		t.Fatalf("backup list: %d %q %q", list.code, list.stdout, list.stderr)
	}
	verify := run(t, nil, with("backup", "verify", "--from", target, "--identity", identity, "--id", firstID)...)
	if verify.code != 0 || !strings.Contains(verify.stdout, "integrity check  ok") || !strings.Contains(verify.stdout, "verified") {
		t.Fatalf("backup verify: %d %q %q", verify.code, verify.stdout, verify.stderr)
	}
	if list := run(t, nil, with("backup", "list", "--from", target)...); !strings.Contains(list.stdout, "ok ") {
		t.Fatalf("backup list after verify shows no verify: %q", list.stdout)
	}

	// A live installation is not overwritten without --force; a wrong
	// identity opens nothing.
	if r := run(t, nil, with("restore", "--from", target, "--identity", identity, "--id", firstID)...); r.code != 1 || !strings.Contains(r.stderr, "not empty") {
		t.Fatalf("restore over a live installation: %d %q", r.code, r.stderr)
	}
	other, _ := age.GenerateX25519Identity()
	wrong := filepath.Join(t.TempDir(), "wrong.key")
	os.WriteFile(wrong, []byte(other.String()+"\n"), 0o600)
	if r := run(t, nil, with("restore", "--from", target, "--identity", wrong, "--id", firstID, "--force")...); r.code != 1 || !strings.Contains(r.stderr, "identity") {
		t.Fatalf("restore with a wrong identity: %d %q", r.code, r.stderr)
	}
	if got := candidateIDs(t, inst); len(got) != len(after) {
		t.Fatalf("a refused restore changed the database: %d candidates, had %d", len(got), len(after))
	}

	// In place: the first backup holds the erased; the data directory's ledger erases them again.
	r := run(t, nil, with("restore", "--from", target, "--identity", identity, "--id", firstID, "--force")...)
	if r.code != 0 || !strings.Contains(r.stdout, "erased again: "+strconv.Itoa(erased)) {
		t.Fatalf("restore in place: %d %q %q", r.code, r.stdout, r.stderr)
	}
	if got := candidateIDs(t, inst); !slices.Equal(got, after) {
		t.Fatalf("after restoring in place: %d candidates, want the %d left after the erasures", len(got), len(after))
	}

	// Into a new installation: only the newest backup on the target knows of the erasures.
	fresh := []string{"--data-dir", t.TempDir(), "--log-level", "warn"}
	if i := slices.Index(inst, "--database-url"); i >= 0 {
		fresh = append(fresh, "--database-url", otherDatabase(t, inst[i+1]))
	}
	key, err := os.ReadFile(filepath.Join(dataDir, "master.key"))
	if err != nil {
		t.Fatal(err)
	}
	if r := run(t, nil, append([]string{"restore", "--from", target, "--identity", identity, "--id", firstID}, fresh...)...); r.code != 1 || !strings.Contains(r.stderr, "master key") {
		t.Fatalf("restore without the master key: %d %q", r.code, r.stderr)
	}
	os.WriteFile(filepath.Join(fresh[1], "master.key"), key, 0o600)
	r = run(t, nil, append([]string{"restore", "--from", target, "--identity", identity, "--id", firstID}, fresh...)...)
	if r.code != 0 || !strings.Contains(r.stdout, "erased again: "+strconv.Itoa(erased)) {
		t.Fatalf("restore into a new installation: %d %q %q", r.code, r.stdout, r.stderr)
	}
	if got := candidateIDs(t, fresh); !slices.Equal(got, after) {
		t.Fatalf("new installation: %d candidates, want the %d left after the erasures", len(got), len(after))
	}
	// Its files are the original's, minus the erased candidates' documents.
	if orig, restored := fileNames(t, dataDir), fileNames(t, fresh[1]); !slices.Equal(orig, restored) || len(orig) == 0 {
		t.Fatalf("files: original %d, restored %d", len(orig), len(restored))
	}

	// The newer backup's ledger damaged: the restore of the older one into
	// an empty installation refuses before installing anything, unless told.
	ledgerPart := ""
	for _, e := range entriesOf(t, target) {
		if e != firstID {
			ledgerPart = filepath.Join(target, e, "erasures.jsonl.age")
		}
	}
	b, err := os.ReadFile(ledgerPart)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)-20] ^= 1
	os.WriteFile(ledgerPart, b, 0o600)
	empty := []string{"--data-dir", t.TempDir(), "--log-level", "warn"}
	if i := slices.Index(inst, "--database-url"); i >= 0 {
		empty = append(empty, "--database-url", otherDatabase(t, inst[i+1]))
	}
	os.WriteFile(filepath.Join(empty[1], "master.key"), key, 0o600)
	r = run(t, nil, append([]string{"restore", "--from", target, "--identity", identity, "--id", firstID}, empty...)...)
	if r.code != 1 || !strings.Contains(r.stderr, "nothing was restored") || !strings.Contains(r.stderr, "--ignore-unreadable-ledgers") {
		t.Fatalf("restore with a damaged ledger: %d %q %q", r.code, r.stdout, r.stderr)
	}
	if _, err := os.Stat(filepath.Join(empty[1], db.SQLiteFileName)); err == nil && !slices.Contains(empty, "--database-url") {
		t.Fatal("a refused restore installed a database")
	}
	r = run(t, nil, append([]string{"restore", "--from", target, "--identity", identity, "--id", firstID, "--ignore-unreadable-ledgers"}, empty...)...)
	if r.code != 0 || !strings.Contains(r.stdout, "WARNING: erasure ledger not read") {
		t.Fatalf("restore ignoring the damaged ledger: %d %q %q", r.code, r.stdout, r.stderr)
	}

	// An interrupted restore: nothing opens the installation until the
	// ledger is applied.
	os.WriteFile(filepath.Join(empty[1], "restore-pending"), []byte("x"), 0o600)
	if r := run(t, nil, append([]string{"tenant", "list"}, empty...)...); r.code != 1 || !strings.Contains(r.stderr, "a restore did not finish") {
		t.Fatalf("tenant list during an unfinished restore: %d %q", r.code, r.stderr)
	}
	if r := run(t, nil, append([]string{"privacy", "apply-ledger"}, empty...)...); r.code != 0 || !strings.Contains(r.stdout, "the unfinished restore is finished") {
		t.Fatalf("apply-ledger finishing a restore: %d %q %q", r.code, r.stdout, r.stderr)
	}
	if r := run(t, nil, append([]string{"tenant", "list"}, empty...)...); r.code != 0 {
		t.Fatalf("tenant list after the restore finished: %d %q", r.code, r.stderr)
	}

	// Another installation's master key: refused, named.
	os.Remove(filepath.Join(empty[1], "master.key"))
	writeKey(t, filepath.Join(empty[1], "master.key"))
	r = run(t, nil, append([]string{"restore", "--from", target, "--identity", identity, "--id", firstID, "--force", "--ignore-unreadable-ledgers"}, empty...)...)
	if r.code != 1 || !strings.Contains(r.stderr, "wrapped by master key") {
		t.Fatalf("restore with another master key: %d %q %q", r.code, r.stdout, r.stderr)
	}
}

// entriesOf lists the backup ids in a directory target.
func entriesOf(t *testing.T, target string) []string {
	t.Helper()
	des, err := os.ReadDir(target)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, d := range des {
		if d.IsDir() {
			out = append(out, d.Name())
		}
	}
	return out
}

// candidateIDs lists the candidates of every company, read as the owner.
func candidateIDs(t *testing.T, inst []string) []string {
	t.Helper()
	driver, dsn := "sqlite", filepath.Join(inst[1], db.SQLiteFileName)
	if i := slices.Index(inst, "--database-url"); i >= 0 {
		driver, dsn = "pgx", inst[i+1]
	}
	c, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	rows, err := c.QueryContext(context.Background(), `SELECT id FROM candidates ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return ids
}

// fileNames lists the stored files of a data directory.
func fileNames(t *testing.T, dataDir string) []string {
	t.Helper()
	var out []string
	root := filepath.Join(dataDir, "files")
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		out = append(out, rel)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(out)
	return out
}

// otherDatabase returns the URL of a new, empty database on the server of
// schemaURL, keeping its search_path (a restore recreates the schema
// there), dropped at cleanup.
func otherDatabase(t *testing.T, schemaURL string) string {
	t.Helper()
	b := make([]byte, 5)
	rand.Read(b)
	name := "restore_" + hex.EncodeToString(b)
	admin, err := sql.Open("pgx", schemaURL)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := admin.Exec(`CREATE DATABASE ` + name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		admin.Exec(`DROP DATABASE IF EXISTS ` + name + ` WITH (FORCE)`)
		admin.Close()
	})
	u, err := url.Parse(schemaURL)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	return u.String()
}
