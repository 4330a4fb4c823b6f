package web

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/account"
	"github.com/kandidat/kandidat/internal/audit"
	"github.com/kandidat/kandidat/internal/credit"
	"github.com/kandidat/kandidat/internal/i18n"
	"github.com/kandidat/kandidat/internal/recruit"
	"github.com/kandidat/kandidat/internal/tenant"
)

// TestEveryUsedKeyIsCatalogued finds the message keys the templates and the
// Go code use and checks the catalogue has each; the i18n tests then check
// every language has every catalogued key.
func TestEveryUsedKeyIsCatalogued(t *testing.T) {
	b, err := i18n.Load()
	if err != nil {
		t.Fatal(err)
	}
	known := b.Keys(i18n.Fallback)
	var used []string
	// A message with plural forms must be given its count: through TN, or
	// through T with a "count" argument; otherwise it always shows "other".
	tmplKey := regexp.MustCompile(`\.(TN?) "([a-z0-9_.]+)"( "count")?`)
	fs.WalkDir(templateFS, "templates", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		raw, _ := fs.ReadFile(templateFS, p)
		for _, m := range tmplKey.FindAllStringSubmatch(string(raw), -1) {
			used = append(used, m[2])
			plural := b.Forms(i18n.Fallback, m[2]) != nil
			if plural && m[1] == "T" && m[3] == "" {
				t.Errorf("%s: %q has plural forms but is used without a count; use TN", p, m[2])
			}
			if !plural && m[1] == "TN" {
				t.Errorf("%s: %q is used with TN but has no plural forms", p, m[2])
			}
		}
		// Fields of the shared "field" template.
		for _, m := range regexp.MustCompile(`args \. "([a-z_]+)"`).FindAllStringSubmatch(string(raw), -1) {
			used = append(used, "field."+m[1])
		}
		return nil
	})
	// Keys in Go string literals of the packages that produce messages.
	goKey := regexp.MustCompile(`"((?:error|signin|password|setup|dashboard|profile|audit|alert|unlock|security|forgot|reset|mfa|users|invite|reauth|outbox|passkey|roles|positions|position|application|pool|credits|stage|permission|career|interview|rating|label|note|history|rejection|candidates|templates|messages|board|task|stages|reasons|employment)\.[a-z0-9_.]*[a-z0-9_])"`)
	goT := regexp.MustCompile(`\.T\([a-zA-Z.]+, "([a-z0-9_.]+)"(, "count")?`)
	for _, dir := range []string{".", "../account", "../tenant", "../recruit", "../credit"} {
		files, _ := filepath.Glob(filepath.Join(dir, "*.go"))
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			raw, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range goKey.FindAllStringSubmatch(string(raw), -1) {
				used = append(used, m[1])
			}
			for _, m := range goT.FindAllStringSubmatch(string(raw), -1) {
				if m[2] == "" && b.Forms(i18n.Fallback, m[1]) != nil {
					t.Errorf("%s: %q has plural forms but is used without a count; use N", f, m[1])
				}
			}
		}
	}
	// Keys built at run time.
	for _, m := range tenant.Modules {
		used = append(used, "module."+string(m))
	}
	for _, l := range i18n.Languages {
		used = append(used, "language."+l)
	}
	for _, r := range access.Roles {
		used = append(used, "role."+r)
	}
	for _, p := range access.Permissions {
		used = append(used, "permission."+p.Name())
	}
	for _, e := range recruit.EmploymentTypes {
		used = append(used, "employment."+e)
	}
	for _, r := range recruit.RejectionReasons {
		used = append(used, "rejection."+r)
	}
	for _, k := range recruit.TemplateKinds {
		used = append(used, "templates.kind."+k)
	}
	for _, st := range []string{"queued", "retrying", "sent", "failed"} {
		used = append(used, "messages.status."+st)
	}
	for _, r := range recruit.RatingValues {
		used = append(used, "rating."+r)
	}
	for _, st := range recruit.InterviewStatuses {
		used = append(used, "interview.status."+st)
	}
	for _, st := range []string{recruit.InterviewAccepted, recruit.InterviewDeclined, recruit.InterviewNewTimeAsked} {
		used = append(used, "interview.choice."+st)
	}
	for _, k := range access.StageKinds {
		used = append(used, "stage."+string(k))
	}
	for _, st := range []string{recruit.Draft, recruit.Published, recruit.Closed, recruit.Archived} {
		used = append(used, "position.status."+st)
	}
	for _, k := range []string{credit.Grant, credit.Spend, credit.Refund} {
		used = append(used, "credits.kind."+k)
	}
	for _, r := range append(slices.Clone(credit.GrantReasons), credit.ReasonPublication, "refund") {
		used = append(used, "credits.reason."+r)
	}
	for _, k := range []audit.ActorKind{audit.ActorOperator, audit.ActorSystem} {
		used = append(used, "credits.actor."+string(k))
	}
	for _, st := range []account.Status{account.Active, account.Disabled, account.Invited} {
		used = append(used, "status."+string(st))
	}
	for a := range audit.Catalogue {
		used = append(used, "action."+string(a))
	}
	for _, tr := range audit.Tracks {
		used = append(used, "track."+string(tr))
	}
	for _, k := range audit.ActorKinds {
		used = append(used, "actor."+string(k))
	}
	for _, r := range audit.AllRules {
		used = append(used, "alert.rule."+string(r))
	}
	if len(used) < 40 {
		t.Fatalf("found only %d keys in use; the scan is broken", len(used))
	}
	for _, k := range slices.Compact(slices.Sorted(slices.Values(used))) {
		if !slices.Contains(known, k) {
			t.Errorf("key %q is used but not in the catalogue", k)
		}
	}
}
