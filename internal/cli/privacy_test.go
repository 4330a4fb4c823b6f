package cli

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// TestPrivacySweepCommand: on a seeded installation (two years of
// history), `privacy sweep --dry-run` counts by reason what the sweep then
// erases, a second sweep finds nothing, the ledger holds every erasure
// and applying it again erases nobody more; --as-of previews a later day
// and is refused without --dry-run.
func TestPrivacySweepCommand(t *testing.T) {
	inst := installation(t)
	with := func(args ...string) []string { return append(args, inst...) }
	if r := run(t, nil, with("migrate", "up")...); r.code != 0 {
		t.Fatalf("migrate up: %d %q", r.code, r.stderr)
	}
	writeKey(t, filepath.Join(inst[1], "master.key"))
	if r := run(t, nil, with("seed", "--scale", "small", "--seed", "3")...); r.code != 0 {
		t.Fatalf("seed: %d %q", r.code, r.stderr)
	}
	count := func(out, verb string) int {
		m := regexp.MustCompile(verb + ` (\d+) candidates`).FindStringSubmatch(out)
		if m == nil {
			t.Fatalf("no count in %q", out)
		}
		n, _ := strconv.Atoi(m[1])
		return n
	}
	dry := run(t, nil, with("privacy", "sweep", "--dry-run")...)
	if dry.code != 0 {
		t.Fatalf("dry run: %d %q", dry.code, dry.stderr)
	}
	would := count(dry.stdout, "would erase")
	if would == 0 || !strings.Contains(dry.stdout, "purpose_ended") {
		t.Fatalf("dry run: %q", dry.stdout)
	}
	later := run(t, nil, with("privacy", "sweep", "--dry-run", "--as-of", "2099-01-01")...)
	if later.code != 0 || count(later.stdout, "would erase") <= would {
		t.Fatalf("dry run as of 2099: %d %q", later.code, later.stdout)
	}
	if r := run(t, nil, with("privacy", "sweep", "--as-of", "2099-01-01")...); r.code == 0 || !strings.Contains(r.stderr, "only with --dry-run") {
		t.Fatalf("--as-of without --dry-run: %d %q", r.code, r.stderr)
	}
	if r := run(t, nil, with("privacy", "sweep", "--tenant", "no-such-company")...); r.code == 0 {
		t.Fatalf("an unknown company: %d %q", r.code, r.stdout)
	}
	sweep := run(t, nil, with("privacy", "sweep")...)
	if sweep.code != 0 || count(sweep.stdout, "erased") != would {
		t.Fatalf("sweep: %d %q %q (dry run counted %d)", sweep.code, sweep.stdout, sweep.stderr, would)
	}
	if again := run(t, nil, with("privacy", "sweep")...); again.code != 0 || count(again.stdout, "erased") != 0 {
		t.Fatalf("second sweep: %d %q", again.code, again.stdout)
	}
	ledger, err := os.ReadFile(filepath.Join(inst[1], "erasures.jsonl"))
	if err != nil || strings.Count(string(ledger), "\n") != would || strings.Contains(string(ledger), "@") {
		t.Fatalf("ledger: %d lines, %v", strings.Count(string(ledger), "\n"), err)
	}
	apply := run(t, nil, with("privacy", "apply-ledger")...)
	if apply.code != 0 || !strings.Contains(apply.stdout, "ledger: "+strconv.Itoa(would)+" entries (0 unreadable lines); erased again: 0") {
		t.Fatalf("apply-ledger: %d %q %q", apply.code, apply.stdout, apply.stderr)
	}
}
