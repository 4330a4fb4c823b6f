package recruit_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/fault"
	"github.com/kandidat/kandidat/internal/recruit"
)

// TestSavedSearches: a user saves, lists and deletes their own searches;
// names and queries are checked; the same name replaces the query; other
// users (of the company or another one) neither see nor delete them.
func TestSavedSearches(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	rec, other, foreign := e.users[access.Recruiter], e.users["recruiter2"], e.users["foreign"]

	for _, c := range []struct{ name, query, field, key string }{
		{"", "java", "saved_name", "saved.error.name_required"},
		{"   ", "java", "saved_name", "saved.error.name_required"},
		{strings.Repeat("ř", recruit.MaxSavedSearchRunes+1), "java", "saved_name", "saved.error.name_too_long"},
		{"a\nb", "java", "saved_name", "saved.error.name_invalid"},
		{"bad \xff", "java", "saved_name", "saved.error.name_invalid"},
		{"Java", "", "saved_query", "saved.error.query_required"},
		{"Java", `"unclosed`, "saved_query", "saved.error.query_invalid"},
		{"Java", strings.Repeat("x ", 300), "saved_query", "saved.error.query_invalid"},
	} {
		_, err := e.svc.SaveSearch(ctx, rec, c.name, c.query)
		var inv *fault.Invalid
		if !errors.As(err, &inv) || inv.Fields[c.field] != c.key {
			t.Errorf("save %q %q: got %v, want %s: %s", c.name, c.query, err, c.field, c.key)
		}
	}
	if _, err := e.svc.SaveSearch(ctx, e.users[access.Administrator], "x", "java"); !errors.Is(err, recruit.ErrForbidden) {
		t.Errorf("an administrator without the list saves a search: %v", err)
	}

	s1, err := e.svc.SaveSearch(ctx, rec, " Go devs ", "golang stage:interview")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.SaveSearch(ctx, rec, "Řízení", "manager"); err != nil {
		t.Fatal(err)
	}
	again, err := e.svc.SaveSearch(ctx, rec, "Go devs", "golang OR rust")
	if err != nil {
		t.Fatal(err)
	}
	if again.ID != s1.ID {
		t.Errorf("saving under the same name: id %s, want the search's %s", again.ID, s1.ID)
	}
	if _, err := e.svc.SaveSearch(ctx, other, "Go devs", "python"); err != nil {
		t.Fatalf("another user's search of the same name: %v", err)
	}
	list, err := e.svc.SavedSearches(ctx, rec)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range list {
		got = append(got, s.Name+"="+s.Query)
	}
	if g := strings.Join(got, ","); g != "Go devs=golang OR rust,Řízení=manager" {
		t.Errorf("own searches: got %q", g)
	}

	// Another user's id, of the company or not, is not found and stays.
	for _, a := range []access.Actor{other, foreign} {
		if err := e.svc.DeleteSavedSearch(ctx, a, s1.ID); !errors.Is(err, recruit.ErrNotFound) {
			t.Errorf("deleting another user's search: got %v, want not found", err)
		}
		l, err := e.svc.SavedSearches(ctx, a)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range l {
			if s.ID == s1.ID {
				t.Errorf("another user lists the search")
			}
		}
	}
	if err := e.svc.DeleteSavedSearch(ctx, rec, "not-an-id"); !errors.Is(err, recruit.ErrNotFound) {
		t.Errorf("a malformed id: got %v, want not found", err)
	}
	if err := e.svc.DeleteSavedSearch(ctx, rec, s1.ID); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.DeleteSavedSearch(ctx, rec, s1.ID); !errors.Is(err, recruit.ErrNotFound) {
		t.Errorf("deleting twice: got %v, want not found", err)
	}
	if l, _ := e.svc.SavedSearches(ctx, rec); len(l) != 1 {
		t.Errorf("after delete: %d searches, want 1", len(l))
	}
}

// TestSavedSearchLimitRace: users racing to save new searches never keep
// more than MaxSavedSearches; replacing a search of a known name still
// works at the limit.
func TestSavedSearchLimitRace(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	rec := e.users[access.Recruiter]
	for i := range recruit.MaxSavedSearches - 3 {
		if _, err := e.svc.SaveSearch(ctx, rec, fmt.Sprintf("s%d", i), "java"); err != nil {
			t.Fatal(err)
		}
	}
	const racers = 12
	var wg sync.WaitGroup
	var mu sync.Mutex
	saved, refused := 0, 0
	for i := range racers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := e.svc.SaveSearch(ctx, rec, fmt.Sprintf("race %d", i), "kotlin")
			mu.Lock()
			defer mu.Unlock()
			var inv *fault.Invalid
			switch {
			case err == nil:
				saved++
			case errors.As(err, &inv) && inv.Fields["saved_name"] == "saved.error.limit":
				refused++
			default:
				t.Errorf("racer %d: %v", i, err)
			}
		}()
	}
	wg.Wait()
	if saved != 3 || refused != racers-3 {
		t.Errorf("saved %d, refused %d; want 3 and %d", saved, refused, racers-3)
	}
	list, err := e.svc.SavedSearches(ctx, rec)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != recruit.MaxSavedSearches {
		t.Errorf("%d searches kept, want %d", len(list), recruit.MaxSavedSearches)
	}
	if _, err := e.svc.SaveSearch(ctx, rec, "s0", "rust"); err != nil {
		t.Errorf("replacing at the limit: %v", err)
	}
	// Another user's limit is their own.
	if _, err := e.svc.SaveSearch(ctx, e.users["recruiter2"], "mine", "go"); err != nil {
		t.Errorf("another user at someone else's limit: %v", err)
	}
}
