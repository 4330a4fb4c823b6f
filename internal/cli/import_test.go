package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestImportCommand: a dry run reports the rows' problems with their
// lines and exits non-zero, writing nothing; the import writes the valid
// rows; a second run of the same file adds nothing.
func TestImportCommand(t *testing.T) {
	inst := installation(t)
	with := func(args ...string) []string { return append(args, inst...) }
	if r := run(t, nil, with("migrate", "up")...); r.code != 0 {
		t.Fatalf("migrate up: %d %q", r.code, r.stderr)
	}
	writeKey(t, filepath.Join(inst[1], "master.key"))
	if r := run(t, nil, with("tenant", "create", "--slug", "acme", "--name", "ACME")...); r.code != 0 {
		t.Fatalf("tenant create: %d %q", r.code, r.stderr)
	}
	if r := run(t, nil, with("user", "create", "--tenant", "acme", "--login", "hilda", "--name", "Hilda", "--role", "hr_manager")...); r.code != 0 {
		t.Fatalf("user create: %d %q", r.code, r.stderr)
	}
	dir := t.TempDir()
	// OpenCATS's own export: its header, every value quoted, CRLF; no dates, so the basis comes from --set.
	file := filepath.Join(dir, "candidates.csv")
	os.WriteFile(file, []byte("candidateID,lastName,firstName,phoneHome,phoneCell,email1,keySkills\r\n"+
		"\"12\",\"Novák\",\"Jan\",\"\",\"+420 601 123 456\",\"jan.novak@example.cz\",\"Java, SQL\"\r\n"+
		"\"13\",\"Svoboda\",\"Eva\",\"\",\"\",\"not-an-email\",\"\"\r\n"), 0o600)
	args := []string{"import", "--company", "acme", "--file", file, "--mapping", "opencats", "--set", "basis=purpose", "--set", "basis_date=2026-06-01"}
	dry := run(t, nil, with(append(args, "--dry-run")...)...)
	if dry.code == 0 || !strings.Contains(dry.stdout, "2 rows: 1 accepted") || !strings.Contains(dry.stdout, "line 3: email:") ||
		!strings.Contains(dry.stdout, "nothing was written") {
		t.Fatalf("dry run: %d %q %q", dry.code, dry.stdout, dry.stderr)
	}
	if r := run(t, nil, with("import", "--company", "acme", "--file", file, "--mapping", "opencats", "--dry-run")...); r.code == 0 || !strings.Contains(r.stdout, "import.no_basis") {
		t.Fatalf("dry run without a basis: %d %q", r.code, r.stdout)
	}
	imp := run(t, nil, with(append(args, "--as", "hilda")...)...)
	if !strings.Contains(imp.stdout, ": done; 2 rows written of 2: 1 candidates added, 0 merged, 0 imported before, 1 left out") {
		t.Fatalf("import: %d %q %q", imp.code, imp.stdout, imp.stderr)
	}
	again := run(t, nil, with(append(args, "--as", "hilda")...)...)
	if !strings.Contains(again.stdout, "0 candidates added, 0 merged, 1 imported before") {
		t.Fatalf("second import: %d %q %q", again.code, again.stdout, again.stderr)
	}
	if r := run(t, nil, with("import", "--company", "acme", "--file", file, "--map", "email1=email")...); r.code == 0 || !strings.Contains(r.stderr, "--map:") {
		t.Fatalf("a mapping without a name: %d %q", r.code, r.stderr)
	}
}
