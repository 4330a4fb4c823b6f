package app

import (
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/kandidat/kandidat/internal/"

// layer names each package group of DESIGN §2; domains are every other package.
func layer(pkg string) string {
	name := strings.SplitN(strings.TrimPrefix(pkg, module), "/", 2)[0]
	switch name {
	case "cli", "app", "web", "jobs", "config", "i18n":
		return name
	case "db", "keys", "blob", "notify", "filetype":
		return "infra"
	}
	return "domain"
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
}

// TestDependencyDirection reads `go list -deps` and fails on any package
// that reaches a layer above it.
func TestDependencyDirection(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}}{{range .Deps}} {{.}}{{end}}`, "../...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	checked := 0
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		pkg := fields[0]
		if !strings.HasPrefix(pkg, module) || strings.HasSuffix(pkg, "/dbtest") {
			continue
		}
		checked++
		from := layer(pkg)
		for _, dep := range fields[1:] {
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
	if checked < 8 {
		t.Fatalf("checked %d packages; the listing is broken", checked)
	}
}

func TestLayerOfKnownPackages(t *testing.T) {
	for pkg, want := range map[string]string{"db": "infra", "keys": "infra", "blob": "infra", "filetype": "infra", "access": "domain", "account": "domain", "tenant": "domain", "web": "web", "cli": "cli", "db/dbtest": "infra"} {
		if got := layer(module + pkg); got != want {
			t.Errorf("layer(%s) = %s, want %s", pkg, got, want)
		}
	}
}
