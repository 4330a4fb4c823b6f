package jobs

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/account"
	"github.com/kandidat/kandidat/internal/audit"
	"github.com/kandidat/kandidat/internal/notify"
	"github.com/kandidat/kandidat/internal/tenant"
	"github.com/kandidat/kandidat/internal/testkit"
)

func TestNotifyAlertsReachesActiveAdministratorsOnce(t *testing.T) {
	ctx := context.Background()
	k := testkit.New(t, testkit.Options{})
	d, log, tenants, accounts, bundle := k.DB, k.Audit, k.Tenants, k.Accounts, k.I18n
	acme := k.Company(t, tenant.CreateInput{Slug: "acme", Name: "ACME AB", DefaultLanguage: "sv"})
	mk2 := func(login, email, role, lang string) *account.User {
		u, err := accounts.CreateUser(ctx, access.Operator(acme.ID), account.CreateUserInput{Login: login, Email: email, DisplayName: login,
			Role: role, Language: lang, Password: "long-Enough-1"})
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	mk2("greta", "greta@acme.example", account.RoleAdministrator, "")       // Swedish, the company's language
	mk2("ola", "ola@acme.example", account.RoleAdministrator, "nb")         // her own language
	mk2("noemail", "", account.RoleAdministrator, "")                       // no address: nothing to send
	mk2("rec", "rec@acme.example", "recruiter", "")                         // not an administrator
	gone := mk2("gone", "gone@acme.example", account.RoleAdministrator, "") // disabled
	if err := accounts.SetStatus(ctx, access.Operator(acme.ID), gone.ID, account.Disabled); err != nil {
		t.Fatal(err)
	}
	outbox := filepath.Join(t.TempDir(), "outbox")
	r := &Runner{DB: d, Audit: log, Accounts: accounts, Tenants: tenants, Mailer: notify.NewOutbox(outbox, "kandidat@localhost"),
		I18n: bundle, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), BaseURL: "https://jobs.acme.example"}
	reg := prometheus.NewRegistry()
	if err := r.Register(reg); err != nil {
		t.Fatal(err)
	}
	n, err := r.NotifyAlerts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// Four administrators were created: four new_administrator alerts.
	if n != 4 {
		t.Fatalf("announced %d alerts, want 4", n)
	}
	if got := testutil.ToFloat64(r.alerts.WithLabelValues(string(audit.RuleNewAdministrator))); got != 4 {
		t.Fatalf("metric counts %v alerts, want 4", got)
	}
	files, _ := os.ReadDir(outbox)
	to := map[string]int{}
	for _, f := range files {
		b, _ := os.ReadFile(filepath.Join(outbox, f.Name()))
		s := string(b)
		for _, addr := range []string{"greta@acme.example", "ola@acme.example", "rec@acme.example", "gone@acme.example"} {
			if strings.Contains(s, "To: "+addr) || strings.Contains(s, "To: <"+addr+">") {
				to[addr]++
			}
		}
		if !strings.Contains(s, "https://jobs.acme.example/audit/security") {
			t.Errorf("%s lacks the link to the security log", f.Name())
		}
	}
	if to["greta@acme.example"] != 4 || to["ola@acme.example"] != 4 || to["rec@acme.example"] != 0 || to["gone@acme.example"] != 0 {
		t.Fatalf("emails per address %v, want 4 each to the two active administrators with an address", to)
	}
	if n, err := r.NotifyAlerts(ctx); err != nil || n != 0 {
		t.Fatalf("second run announced %d (%v), want none", n, err)
	}
}
