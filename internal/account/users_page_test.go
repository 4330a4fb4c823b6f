package account_test

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/account"
	"github.com/kandidat/kandidat/internal/db/dbtest"
)

// addUser creates an active user with a display name of its own.
func (e *env) addUser(t testing.TB, tenantID, login, name string) *account.User {
	t.Helper()
	u, err := e.svc.CreateUser(context.Background(), access.Operator(tenantID), account.CreateUserInput{
		Login: login, DisplayName: name, Password: goodPassword,
	})
	if err != nil {
		t.Fatalf("create user %s: %v", login, err)
	}
	return u
}

// walkUsers lists a company's users page by page from the cursor after,
// calling between (if set) after the first page.
func (e *env) walkUsers(t testing.TB, tenantID string, limit int, between func()) []*account.User {
	t.Helper()
	var out []*account.User
	after := ""
	for pages := 0; ; pages++ {
		if pages > 100 {
			t.Fatal("the walk does not end")
		}
		users, next, err := e.svc.ListUsersPage(context.Background(), tenantID, after, limit)
		if err != nil {
			t.Fatalf("page %d: %v", pages+1, err)
		}
		if len(users) > limit || (next != "" && len(users) != limit) {
			t.Fatalf("page %d holds %d users (next %q), page size %d", pages+1, len(users), next, limit)
		}
		out = append(out, users...)
		if next == "" {
			return out
		}
		if pages == 0 && between != nil {
			between()
		}
		after = next
	}
}

func ids(users []*account.User) []string {
	out := make([]string, len(users))
	for i, u := range users {
		out[i] = u.ID
	}
	return out
}

// TestUsersPagesWalkEveryUserOnce: the users list, paged by keyset on
// (display name, login, id), returns every user once in the order of the
// whole list, also when users are added between two pages.
func TestUsersPagesWalkEveryUserOnce(t *testing.T) {
	e := newFastEnv(t)
	acme, other := e.company(t, "acme"), e.company(t, "other")
	e.addUser(t, other.ID, "someone.else", "Person 03")
	// 27 users (more than 2.5 pages of 10); pairs share a display name, so
	// the login breaks ties, and some names are not ASCII.
	for i := range 24 {
		e.addUser(t, acme.ID, fmt.Sprintf("u%02d", 23-i), fmt.Sprintf("Person %02d", i/2))
	}
	e.addUser(t, acme.ID, "asa", "Åsa Öberg")
	e.addUser(t, acme.ID, "zoe", "Zoë")
	e.addUser(t, acme.ID, "emile", "émile")
	ctx := context.Background()
	all, err := e.svc.ListUsers(ctx, acme.ID)
	if err != nil || len(all) != 27 {
		t.Fatalf("list: %d users, %v", len(all), err)
	}
	if n, err := e.svc.CountUsers(ctx, acme.ID); err != nil || n != 27 {
		t.Fatalf("count: %d, %v", n, err)
	}
	want := ids(all)
	for _, limit := range []int{10, 1, 27, 50} {
		if got := ids(e.walkUsers(t, acme.ID, limit, nil)); !slices.Equal(got, want) {
			t.Fatalf("pages of %d: %v, want the list's order %v", limit, got, want)
		}
	}
	// Between the first and the second page, users join: before the
	// cursor, after it, and beside it (same display name, other login).
	first, _, err := e.svc.ListUsersPage(ctx, acme.ID, "", 10)
	if err != nil {
		t.Fatal(err)
	}
	last := first[len(first)-1]
	var added []*account.User
	got := e.walkUsers(t, acme.ID, 10, func() {
		added = append(added,
			e.addUser(t, acme.ID, "aaa.new", "Aaa New"),
			e.addUser(t, acme.ID, "zzz.new", "Zzz New"),
			e.addUser(t, acme.ID, "a"+last.Login, last.DisplayName),
			e.addUser(t, acme.ID, last.Login+"z", last.DisplayName),
			e.addUser(t, acme.ID, "mid.new", "Person 07"))
	})
	seen := map[string]int{}
	for _, u := range got {
		seen[u.ID]++
		if seen[u.ID] > 1 {
			t.Fatalf("user %s (%s) listed twice", u.Login, u.DisplayName)
		}
	}
	for _, u := range all {
		if seen[u.ID] != 1 {
			t.Fatalf("user %s (%s) missing from the walk", u.Login, u.DisplayName)
		}
	}
	// What was added behind the cursor stays behind; what sorts after it
	// comes in its place.
	now, err := e.svc.ListUsers(ctx, acme.ID)
	if err != nil {
		t.Fatal(err)
	}
	pos := slices.IndexFunc(now, func(u *account.User) bool { return u.ID == last.ID })
	for _, u := range added {
		after := slices.IndexFunc(now, func(v *account.User) bool { return v.ID == u.ID }) > pos
		if after != (seen[u.ID] == 1) {
			t.Fatalf("user %s added during the walk: listed %d times, sorts after the cursor: %v", u.Login, seen[u.ID], after)
		}
	}
	var order []string
	for _, u := range now {
		if seen[u.ID] == 1 {
			order = append(order, u.ID)
		}
	}
	if !slices.Equal(ids(got), order) {
		t.Fatal("the walk with additions is not in the list's order")
	}
}

// TestUsersPageRefusesForeignCursors: a cursor the service did not make,
// or one naming no user of the company, is ErrBadCursor (the page shows
// the first page), never a database error, on both engines.
func TestUsersPageRefusesForeignCursors(t *testing.T) {
	e := newFastEnv(t)
	acme, other := e.company(t, "acme"), e.company(t, "other")
	ada := e.addUser(t, acme.ID, "ada", "Ada")
	stranger := e.addUser(t, other.ID, "stranger", "Stranger")
	b64 := base64.RawURLEncoding.EncodeToString
	for _, c := range []string{
		"garbage!", "e30", b64([]byte("\xff\xfe")), b64([]byte(`["a","b"]`)), b64([]byte(`["a","b",""]`)),
		b64([]byte(`["a\u0000","b","c"]`)), b64([]byte(`["a","b",3]`)), b64([]byte("[\"\xff\",\"b\",\"c\"]")),
		strings.Repeat("A", 4096), strings.Repeat("a", 65), "\xff", "a\x00b", strings.ToUpper(ada.ID),
		b64([]byte(`["Ada","ada","` + ada.ID + `"]`)), // the former format
		stranger.ID, // another company's user
		"01900000-0000-7000-8000-000000000000",
	} {
		users, next, err := e.svc.ListUsersPage(context.Background(), acme.ID, c, 10)
		if !errors.Is(err, account.ErrBadCursor) || users != nil || next != "" {
			t.Errorf("cursor %q: %d users, next %q, %v; want ErrBadCursor", c, len(users), next, err)
		}
	}
}

// TestUsersPageCursorHoldsNoPersonalData: the cursor, which ends up in the
// page's URL, is the last user's id: it holds neither their display name
// nor their login (an email address here). When that user is gone, the
// cursor is ErrBadCursor, and the list starts again.
func TestUsersPageCursorHoldsNoPersonalData(t *testing.T) {
	e := newFastEnv(t)
	acme := e.company(t, "acme")
	var users []*account.User
	for _, u := range [][2]string{{"ada.lovelace@example.com", "Ada Lovelace"}, {"grace@example.com", "Grace Hopper"}, {"zoe@example.org", "Zoë Åberg"}} {
		users = append(users, e.addUser(t, acme.ID, u[0], u[1]))
	}
	ctx := context.Background()
	after := ""
	for i, want := range users {
		page, next, err := e.svc.ListUsersPage(ctx, acme.ID, after, 1)
		if err != nil || len(page) != 1 || page[0].ID != want.ID {
			t.Fatalf("page %d: %v, %v; want %s", i+1, ids(page), err, want.Login)
		}
		if i == len(users)-1 {
			if next != "" {
				t.Fatalf("the last page has a next cursor %q", next)
			}
			break
		}
		if next != want.ID {
			t.Errorf("cursor after %s is %q, want the user's id", want.Login, next)
		}
		for _, u := range users {
			for _, personal := range append([]string{u.DisplayName, u.Login, strings.Split(u.Login, "@")[0]}, strings.Fields(u.DisplayName)...) {
				// A part written only in the characters of an id ("Ada"
				// reads as hex) turns up in a random id by chance; the
				// whole name and address, and the other parts, cannot.
				if !strings.ContainsFunc(strings.ToLower(personal), func(r rune) bool { return !strings.ContainsRune("0123456789abcdef-", r) }) {
					continue
				}
				for _, text := range readings(next) {
					if strings.Contains(strings.ToLower(text), strings.ToLower(personal)) {
						t.Errorf("cursor %q holds %q", next, personal)
					}
				}
			}
		}
		after = next
	}
	// The cursor's user is removed (the company erases it) before the next page.
	_, cursor, err := e.svc.ListUsersPage(ctx, acme.ID, "", 1)
	if err != nil {
		t.Fatal(err)
	}
	e.exec(t, `DELETE FROM users WHERE tenant_id = $1 AND id = $2`, acme.ID, cursor)
	if page, next, err := e.svc.ListUsersPage(ctx, acme.ID, cursor, 1); !errors.Is(err, account.ErrBadCursor) || page != nil || next != "" {
		t.Fatalf("cursor of a removed user: %v, %q, %v; want ErrBadCursor", ids(page), next, err)
	}
}

// readings is the cursor as it is and as it reads once decoded as a URL
// component or as base64 (either alphabet, padded or not).
func readings(c string) []string {
	out := []string{c}
	if u, err := url.QueryUnescape(c); err == nil {
		out = append(out, u)
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(c); err == nil {
			out = append(out, string(b))
		}
	}
	return out
}

// TestUsersPageNeedsNoSort: SQLite reads a page of the users list from an
// index in order, without sorting the company's users.
func TestUsersPageNeedsNoSort(t *testing.T) {
	if os.Getenv(dbtest.PostgresEnv) != "" {
		t.Skip("the query plan checked is SQLite's")
	}
	e := newFastEnv(t)
	const q = `EXPLAIN QUERY PLAN SELECT id FROM users WHERE tenant_id = $1`
	const order = ` ORDER BY display_name, login, id LIMIT 51`
	for _, query := range []string{q + order, q + ` AND (display_name, login, id) > ($2, $3, $4)` + order} {
		rows, err := e.db.Read.Query(query, "t1", "Ada", "ada", "x")
		if err != nil {
			t.Fatal(err)
		}
		var plan strings.Builder
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				t.Fatal(err)
			}
			plan.WriteString(detail + "\n")
		}
		rows.Close()
		if strings.Contains(plan.String(), "TEMP B-TREE") || !strings.Contains(plan.String(), "users_name") {
			t.Fatalf("plan of %s:\n%s", query, plan.String())
		}
	}
}
