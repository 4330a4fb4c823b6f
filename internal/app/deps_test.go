package app

import (
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

const module = "github.com/kandidat/kandidat/internal/"

// layers names the layer of every package of the module (DESIGN §2). A
// package missing here fails the test: a new package is placed on purpose.
var layers = map[string]string{
	"cli": "cli", "app": "app", "web": "web", "jobs": "jobs", "config": "config", "i18n": "i18n",
	"db": "infra", "db/dbtest": "infra", "keys": "infra", "blob": "infra", "notify": "infra", "filetype": "infra", "search": "infra", "extract": "infra", "backup": "infra", "backup/pitr": "infra",
	"access": "domain", "account": "domain", "audit": "domain", "credit": "domain", "recruit": "domain", "tenant": "domain", "privacy": "domain", "webhook": "domain",
	"seed": "domain", "synth": "domain", "importer": "domain", "whistle": "domain",
	// testkit wires the services for tests (only _test.go files import
	// it); it imports the domains, so it sits among them.
	"testkit": "domain",
	// bench is the load client of `kandidat bench`: it speaks HTTP to a
	// server and knows nothing of the packages behind it.
	"bench": "client",
	// id makes ids and secret tokens for every layer, so it imports none.
	"id": "leaf",
	// fault is the vocabulary of refusals every layer shares, so it imports none.
	"fault": "leaf",
	// whistle/vault is the whistleblowing channel's cryptography: pure
	// functions over the standard library, x/crypto and age.
	"whistle/vault": "leaf",
}

// layer returns the layer of a package of the module, or "" when unknown.
func layer(pkg string) string { return layers[strings.TrimPrefix(pkg, module)] }

// forbiddenImports lists direct imports a layer must not make even where
// the layer may depend on the package indirectly: handlers reach the
// database only through the services, which declare the company of every
// transaction.
var forbiddenImports = map[string][]string{
	"web": {"db"},
}

// forbidden lists, per layer, the layers it must not depend on, even
// indirectly: cmd -> cli -> app -> web, jobs -> domains -> db, keys, blob, notify.
var forbidden = map[string][]string{
	"app":    {"cli"},
	"web":    {"cli", "app", "jobs"},
	"jobs":   {"cli", "app", "web"},
	"domain": {"cli", "app", "web", "jobs"},
	"infra":  {"cli", "app", "web", "jobs", "domain"},
	"config": {"cli", "app", "web", "jobs", "domain", "infra"},
	"i18n":   {"cli", "app", "web", "jobs", "domain", "infra", "config"},
	"client": {"cli", "app", "web", "jobs", "domain", "infra", "config", "i18n"},
	"leaf":   {"cli", "app", "web", "jobs", "domain", "infra", "config", "i18n", "client"},
}

// TestDependencyDirection reads `go list -deps` and fails on any package
// that reaches a layer above it, imports what its layer may not import
// directly, or has no layer.
func TestDependencyDirection(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}} |{{range .Imports}} {{.}}{{end}} |{{range .Deps}} {{.}}{{end}}`, "../...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	checked := 0
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		parts := strings.Split(line, "|")
		if len(parts) != 3 {
			t.Fatalf("go list line %q", line)
		}
		pkg := strings.TrimSpace(parts[0])
		if !strings.HasPrefix(pkg, module) {
			continue // cmd/kandidat: the program's main, above everything
		}
		checked++
		from := layer(pkg)
		if from == "" {
			t.Errorf("%s has no layer: add it to layers in this file", strings.TrimPrefix(pkg, module))
			continue
		}
		for _, imp := range strings.Fields(parts[1]) {
			for _, bad := range forbiddenImports[from] {
				if imp == module+bad {
					t.Errorf("%s (%s) imports %s directly", strings.TrimPrefix(pkg, module), from, bad)
				}
			}
		}
		for _, dep := range strings.Fields(parts[2]) {
			if !strings.HasPrefix(dep, module) || dep == pkg {
				continue
			}
			to := layer(dep)
			for _, bad := range forbidden[from] {
				if to == bad && !(from == "domain" && to == "domain") {
					t.Errorf("%s (%s) depends on %s (%s): the dependency points the wrong way", strings.TrimPrefix(pkg, module), from, strings.TrimPrefix(dep, module), to)
				}
			}
		}
	}
	if checked < len(layers) {
		t.Fatalf("checked %d packages of %d known; the listing is broken", checked, len(layers))
	}
}

func TestLayerOfKnownPackages(t *testing.T) {
	for pkg, want := range map[string]string{"db": "infra", "keys": "infra", "blob": "infra", "filetype": "infra", "access": "domain", "account": "domain", "tenant": "domain", "web": "web", "cli": "cli", "db/dbtest": "infra"} {
		if got := layer(module + pkg); got != want {
			t.Errorf("layer(%s) = %s, want %s", pkg, got, want)
		}
	}
}

// TestEveryStatementDeclaresItsScope: outside the db package, no code runs a
// statement straight on a pool; every statement goes through the
// transaction helpers, which declare the company (or the installation) to
// row-level security (a statement prepared on a pool runs inside them).
// Tests may set up data directly.
func TestEveryStatementDeclaresItsScope(t *testing.T) {
	direct := regexp.MustCompile(`\.(Write|Read)\.(Query|QueryRow|Exec|Begin|Conn)(Context)?\(`)
	var found []string
	err := filepath.WalkDir("..", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && path == filepath.Join("..", "db") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for i, line := range strings.Split(string(b), "\n") {
			if direct.MatchString(line) {
				found = append(found, fmt.Sprintf("%s:%d: %s", path, i+1, strings.TrimSpace(line)))
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range found {
		t.Errorf("a statement straight on a pool (use InTx/ReadTx with the company or db.Installation): %s", f)
	}
}
