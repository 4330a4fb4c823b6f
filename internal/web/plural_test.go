package web

import (
	"html/template"
	"strings"
	"testing"

	"github.com/kandidat/kandidat/internal/i18n"
)

// TestTemplatePlural: templates reach the plural forms through TN with the
// int counts the pages hold.
func TestTemplatePlural(t *testing.T) {
	b, err := i18n.Load()
	if err != nil {
		t.Fatal(err)
	}
	tmpl := template.Must(template.New("t").Parse(`{{.TN "roles.holders" .Data}}|{{.TN "credits.allowance_cost" .Data}}`))
	for _, tt := range []struct {
		lang string
		n    int
		want string
	}{
		{"en", 1, "1 user|Every further publication costs 1 credit."},
		{"en", 2, "2 users|Every further publication costs 2 credits."},
		{"nb", 1, "1 bruker|Hver publisering utover det koster 1 kreditt."},
		{"cs", 3, "3 uživatelé|Každé další zveřejnění stojí 3 kredity."},
		{"sk", 5, "5 používateľov|Každé ďalšie zverejnenie stojí 5 kreditov."},
	} {
		var sb strings.Builder
		if err := tmpl.Execute(&sb, &page{Lang: tt.lang, Data: tt.n, i18n: b}); err != nil {
			t.Fatal(err)
		}
		if got := sb.String(); got != tt.want {
			t.Errorf("%s, %d: got %q, want %q", tt.lang, tt.n, got, tt.want)
		}
	}
}
