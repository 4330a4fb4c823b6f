package cli

import (
	"context"
	"database/sql"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/audit"
	"github.com/kandidat/kandidat/internal/credit"
	"github.com/kandidat/kandidat/internal/db"
)

// TestCreditsAdd: the operator adds the credits a company bought (`credits
// add`, or `credits grant` as earlier versions called it); the ledger
// shows who added them.
func TestCreditsAdd(t *testing.T) {
	inst := installation(t)
	with := func(args ...string) []string { return append(args, inst...) }
	if r := run(t, nil, with("migrate", "up")...); r.code != 0 {
		t.Fatalf("migrate up: %d %q", r.code, r.stderr)
	}
	writeKey(t, filepath.Join(inst[1], "master.key"))
	if r := run(t, nil, with("tenant", "create", "--slug", "acme", "--name", "ACME Ltd")...); r.code != 0 {
		t.Fatalf("tenant create: %d %q", r.code, r.stderr)
	}
	if r := run(t, nil, with("credits", "add", "--tenant", "acme", "--amount", "-3")...); r.code != 1 || !strings.Contains(r.stderr, "--amount: Enter a whole number") {
		t.Fatalf("a negative amount: %d %q", r.code, r.stderr)
	}
	if r := run(t, nil, with("credits", "add", "--tenant", "acme", "--amount", "50", "--note", "invoice 2031-17")...); r.code != 0 || !strings.Contains(r.stdout, "added 50 credits to acme; balance 50") {
		t.Fatalf("credits add: %d %q %q", r.code, r.stdout, r.stderr)
	}
	if r := run(t, nil, with("credits", "grant", "--tenant", "acme", "--amount", "2")...); r.code != 0 || !strings.Contains(r.stdout, "balance 52") {
		t.Fatalf("credits grant: %d %q %q", r.code, r.stdout, r.stderr)
	}
	if r := run(t, nil, with("credits", "show", "--tenant", "acme")...); r.code != 0 || !strings.Contains(r.stdout, "balance: 52") ||
		!strings.Contains(r.stdout, "operator:") || !strings.Contains(r.stdout, "invoice 2031-17") {
		t.Fatalf("credits show: %d %q %q", r.code, r.stdout, r.stderr)
	}
	if r := run(t, nil, "credits", "--help"); !strings.Contains(r.stdout, "credits add|refund|show") {
		t.Fatalf("credits --help: %q", r.stdout)
	}
}

// TestCreditsRefund: the operator refunds a spending once (`credits
// refund`), by the id `credits show` lists; a grant, an unknown entry,
// another company's entry and a bad note are refused and change nothing.
func TestCreditsRefund(t *testing.T) {
	inst := installation(t)
	with := func(args ...string) []string { return append(args, inst...) }
	if r := run(t, nil, with("migrate", "up")...); r.code != 0 {
		t.Fatalf("migrate up: %d %q", r.code, r.stderr)
	}
	writeKey(t, filepath.Join(inst[1], "master.key"))
	idOf := regexp.MustCompile(`, id (\S+)`)
	companies := map[string]string{}
	for _, slug := range []string{"acme", "other"} {
		r := run(t, nil, with("tenant", "create", "--slug", slug, "--name", slug+" Ltd")...)
		m := idOf.FindStringSubmatch(r.stdout)
		if r.code != 0 || m == nil {
			t.Fatalf("tenant create: %d %q %q", r.code, r.stdout, r.stderr)
		}
		companies[slug] = m[1]
	}
	if r := run(t, nil, with("credits", "add", "--tenant", "acme", "--amount", "5")...); r.code != 0 {
		t.Fatalf("credits add: %d %q", r.code, r.stderr)
	}
	// A recruiter of acme publishes beyond the allowance: a spending of 2.
	url := ""
	if len(inst) > 4 {
		url = inst[5] // --database-url on PostgreSQL
	}
	ctx := context.Background()
	d, err := db.Open(ctx, db.Options{URL: url, DataDir: inst[1], SessionScope: db.Installation})
	if err != nil {
		t.Fatal(err)
	}
	svc := credit.NewService(d, audit.NewLog(d, nil, audit.DefaultRules))
	var spent *credit.Entry
	err = d.InTx(ctx, companies["acme"], func(tx *sql.Tx) error {
		var err error
		spent, err = svc.SpendTx(ctx, tx, access.Actor{TenantID: companies["acme"], UserID: "0190f0e2-0000-7000-8000-000000000001", Perms: access.Of(access.SpendCredits)},
			2, credit.ReasonPublication, audit.Ref{Kind: "position", ID: "0190f0e2-0000-7000-8000-000000000002"})
		return err
	})

	d.Close()
	if err != nil {
		t.Fatal(err)
	}
	show := run(t, nil, with("credits", "show", "--tenant", "acme")...)
	if show.code != 0 || !strings.Contains(show.stdout, spent.ID) || !strings.Contains(show.stdout, "balance: 3") {
		t.Fatalf("credits show does not list the spending's id: %d %q %q", show.code, show.stdout, show.stderr)
	}
	grant := regexp.MustCompile(`(?m)^\S+ \S+\s+(\S+)\s+grant\b`).FindStringSubmatch(show.stdout)
	if grant == nil {
		t.Fatalf("credits show lists no grant:\n%s", show.stdout)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--tenant", "acme", "--entry", grant[1]}, "--entry: only a spending can be refunded, and only once"},
		{[]string{"--tenant", "acme", "--entry", "0190f0e2-0000-7000-8000-00000000dead"}, "--entry: acme has no ledger entry with this id"},
		{[]string{"--tenant", "acme"}, "--entry: acme has no ledger entry with this id"},
		{[]string{"--tenant", "other", "--entry", spent.ID}, "--entry: other has no ledger entry with this id"},
		{[]string{"--tenant", "acme", "--entry", spent.ID, "--note", "two\nlines"}, "--note: "},
		{[]string{"--tenant", "nope", "--entry", spent.ID}, "--tenant: no company"},
	} {
		if r := run(t, nil, with(append([]string{"credits", "refund"}, c.args...)...)...); r.code != 1 || !strings.Contains(r.stderr, c.want) {
			t.Errorf("credits refund %v: %d %q, want %q", c.args, r.code, r.stderr, c.want)
		}
	}
	if r := run(t, nil, with("credits", "refund", "--tenant", companies["acme"], "--entry", spent.ID, "--note", "posted by mistake")...); r.code != 0 ||
		!strings.Contains(r.stdout, "refunded 2 credits to acme; balance 5") {
		t.Fatalf("credits refund: %d %q %q", r.code, r.stdout, r.stderr)
	}
	if r := run(t, nil, with("credits", "refund", "--tenant", "acme", "--entry", spent.ID)...); r.code != 1 || !strings.Contains(r.stderr, "only once") {
		t.Fatalf("a second refund: %d %q", r.code, r.stderr)
	}
	show = run(t, nil, with("credits", "show", "--tenant", "acme")...)
	if show.code != 0 || !strings.Contains(show.stdout, "balance: 5") || !strings.Contains(show.stdout, "spend (REFUNDED)") ||
		!regexp.MustCompile(`refund\s+2\s+5\s+refund\s+operator:\S*\s+position:\S+\s+posted by mistake`).MatchString(show.stdout) {
		t.Fatalf("credits show after the refund: %d %q", show.code, show.stdout)
	}
	if r := run(t, nil, "credits", "refund", "--help"); !strings.Contains(r.stdout, "--entry") || !strings.Contains(r.stdout, "--note") {
		t.Fatalf("credits refund --help: %q %q", r.stdout, r.stderr)
	}
}
