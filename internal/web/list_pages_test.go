package web

import (
	"context"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/account"
	"github.com/kandidat/kandidat/internal/credit"
)

// relNextHref returns the address of the link with rel="next" and the id, or "".
func relNextHref(b, id string) string {
	return html.UnescapeString(regexpFind(b, `<a href="([^"]*)" rel="next" id="`+id+`">`))
}

// TestUsersPages: the users list shows 50 users a page, the total, and a
// link to the next page; the last page links back to the first; a cursor
// the server did not make shows the first page.
func TestUsersPages(t *testing.T) {
	f := newFixture(t, Options{})
	f.user("ada", false)
	tok := f.signIn("ada", testPassword)
	for i := range usersPerPage + 1 {
		if _, err := f.accounts.CreateUser(context.Background(), access.Operator(f.company.ID), account.CreateUserInput{
			Login: fmt.Sprintf("user%02d", i), DisplayName: fmt.Sprintf("Colleague %02d", i), Password: testPassword, Role: "recruiter",
		}); err != nil {
			t.Fatal(err)
		}
	}
	rows := func(b string) int { return strings.Count(b, `/role" class="inline">`) }
	res := f.do(request{method: "GET", path: "/users", cookie: tok})
	b := body(t, res)
	if res.StatusCode != http.StatusOK || rows(b) != usersPerPage || !strings.Contains(b, "52 in all") || strings.Contains(b, `id="users-first"`) {
		t.Fatalf("first page: %d, %d users", res.StatusCode, rows(b))
	}
	next := relNextHref(b, "users-next")
	if !strings.HasPrefix(next, "/users?after=") {
		t.Fatalf("no link to the next page: %q", next)
	}
	res = f.do(request{method: "GET", path: next, cookie: tok})
	b2 := body(t, res)
	if res.StatusCode != http.StatusOK || rows(b2) != 2 || !strings.Contains(b2, `href="/users" id="users-first"`) || strings.Contains(b2, `id="users-next"`) {
		t.Fatalf("second page: %d, %d users", res.StatusCode, rows(b2))
	}
	// Together the pages show every user once: Ada and the 51 colleagues.
	for i := range usersPerPage + 1 {
		name := fmt.Sprintf("<td>Colleague %02d</td>", i)
		if strings.Count(b, name)+strings.Count(b2, name) != 1 {
			t.Fatalf("%s is not shown exactly once", name)
		}
	}
	for _, bad := range []string{"garbage", "%ff%fe", "W10", url.QueryEscape(next[len("/users?after="):] + "x")} {
		res := f.do(request{method: "GET", path: "/users?after=" + bad, cookie: tok})
		if b := body(t, res); res.StatusCode != http.StatusOK || rows(b) != usersPerPage || relNextHref(b, "users-next") != next {
			t.Fatalf("cursor %q: %d, %d users; want the first page", bad, res.StatusCode, rows(b))
		}
	}
}

// TestCreditsPages: the ledger shows 50 entries a page, newest first, the
// total, and a link to older entries; a cursor the server did not make
// shows the newest entries.
func TestCreditsPages(t *testing.T) {
	f := newFixture(t, Options{})
	f.user("root", false)
	tok := f.signIn("root", testPassword)
	for i := range ledgerPerPage + 1 {
		if _, err := f.credits.GrantAsOperator(context.Background(), f.company.ID, credit.GrantInput{Amount: 1, Reason: "purchase", Note: fmt.Sprintf("Invoice %02d", i)}); err != nil {
			t.Fatal(err)
		}
	}
	rows := func(b string) int { return strings.Count(b, `<tr><td><time datetime=`) }
	res := f.do(request{method: "GET", path: "/credits", cookie: tok})
	b := body(t, res)
	if res.StatusCode != http.StatusOK || rows(b) != ledgerPerPage || !strings.Contains(b, "51 in all") || !strings.Contains(b, "Invoice 50") || strings.Contains(b, "Invoice 00") {
		t.Fatalf("first page: %d, %d entries", res.StatusCode, rows(b))
	}
	next := relNextHref(b, "credits-next")
	if !strings.HasPrefix(next, "/credits?after=") {
		t.Fatalf("no link to older entries: %q", next)
	}
	res = f.do(request{method: "GET", path: next, cookie: tok})
	b2 := body(t, res)
	if res.StatusCode != http.StatusOK || rows(b2) != 1 || !strings.Contains(b2, "Invoice 00") || !strings.Contains(b2, `href="/credits" id="credits-first"`) || strings.Contains(b2, `id="credits-next"`) {
		t.Fatalf("second page: %d, %d entries", res.StatusCode, rows(b2))
	}
	for _, bad := range []string{"garbage", "1_%ff", "99999999999999999999_x", "1_a%00b"} {
		res := f.do(request{method: "GET", path: "/credits?after=" + bad, cookie: tok})
		if b := body(t, res); res.StatusCode != http.StatusOK || rows(b) != ledgerPerPage || !strings.Contains(b, "Invoice 50") {
			t.Fatalf("cursor %q: %d, %d entries; want the newest", bad, res.StatusCode, rows(b))
		}
	}
}

// TestAuditPagesKeepFilters: the trail's next page keeps the filters, and
// a later page links back to the first with the same filters; a cursor the
// server did not make (here invalid UTF-8) shows the newest records with a
// notice.
func TestAuditPagesKeepFilters(t *testing.T) {
	f := newFixture(t, Options{})
	f.user("ada", false)
	tok := f.signIn("ada", testPassword)
	for range 55 {
		f.do(request{method: "POST", path: "/profile", cookie: tok, form: url.Values{"display_name": {"Ada"}, "language": {""}}})
	}
	rows := func(b string) int { return strings.Count(b, "Profile changed</span>") }
	b := body(t, f.do(request{method: "GET", path: "/audit?action=user.profile_changed", cookie: tok}))
	next := relNextHref(b, "audit-next")
	if rows(b) != 50 || !strings.Contains(next, "action=user.profile_changed") || !strings.Contains(next, "after=") || strings.Contains(b, `id="audit-first"`) {
		t.Fatalf("first page: %d records, next %q", rows(b), next)
	}
	res := f.do(request{method: "GET", path: next, cookie: tok})
	b2 := body(t, res)
	if res.StatusCode != http.StatusOK || rows(b2) != 5 || !strings.Contains(b2, `href="/audit?action=user.profile_changed" id="audit-first"`) || strings.Contains(b2, `id="audit-next"`) {
		t.Fatalf("second page: %d, %d records", res.StatusCode, rows(b2))
	}
	for _, bad := range []string{"1.secu%ffrity.3", "1.%00.3", "999999999999999999.security.1"} {
		res := f.do(request{method: "GET", path: "/audit/security?after=" + bad, cookie: tok})
		if b := body(t, res); res.StatusCode != http.StatusOK || !strings.Contains(b, "That page no longer exists") || strings.Contains(b, `id="audit-first"`) {
			t.Fatalf("cursor %q: %d", bad, res.StatusCode)
		}
	}
	// Nor do ids PostgreSQL would refuse reach it.
	for _, bad := range []string{"actor=%ff", "object=a%00b", "object=%c3"} {
		res := f.do(request{method: "GET", path: "/audit?" + bad, cookie: tok})
		if b := body(t, res); res.StatusCode != http.StatusOK || !strings.Contains(b, "Enter at most 200 characters on one line") {
			t.Fatalf("filter %q: %d", bad, res.StatusCode)
		}
		if res := f.do(request{method: "GET", path: "/audit/export/csv?" + bad, cookie: tok}); res.StatusCode != http.StatusBadRequest {
			t.Fatalf("export with filter %q: %d, want 400", bad, res.StatusCode)
		}
	}
}
