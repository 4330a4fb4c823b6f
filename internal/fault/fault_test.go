package fault

import (
	"errors"
	"fmt"
	"maps"
	"testing"
)

var errLast = New(ErrConflict, "the company would have no administrator left", "error.last_administrator")

func TestSentinelIsItselfAndItsKind(t *testing.T) {
	err := fmt.Errorf("set role: %w", errLast)
	if !errors.Is(err, errLast) || !errors.Is(err, ErrConflict) {
		t.Fatalf("errors.Is fails for the sentinel or its kind: %v", err)
	}
	if errors.Is(err, ErrForbidden) || errors.Is(err, New(ErrConflict, "other", "error.other")) {
		t.Fatal("a sentinel matches another kind or another sentinel")
	}
	if got := KindOf(err); got != ErrConflict {
		t.Fatalf("KindOf = %v", got)
	}
	if err.Error() != "set role: the company would have no administrator left" {
		t.Fatalf("text %q", err.Error())
	}
}

func TestInvalidIsOfKindInvalid(t *testing.T) {
	err := fmt.Errorf("create: %w", &Invalid{Fields: map[string]string{"name": "error.name", "": "error.form"}})
	if !errors.Is(err, ErrInvalid) || KindOf(err) != ErrInvalid {
		t.Fatal("an *Invalid is not of kind ErrInvalid")
	}
	var inv *Invalid
	if !errors.As(err, &inv) || inv.Fields["name"] != "error.name" {
		t.Fatal("errors.As does not find the fields")
	}
	if got := inv.Error(); got != "invalid input (: error.form, name: error.name)" {
		t.Fatalf("text %q", got)
	}
}

func TestMessages(t *testing.T) {
	unkeyed := New(ErrNotFound, "user not found", "")
	onField := NewField(ErrConflict, "login", "login already in use", "error.login_taken")
	cases := []struct {
		name string
		err  error
		want map[string]string
	}{
		{"nil", nil, nil},
		{"internal", errors.New("disk full"), nil},
		{"kind only", ErrForbidden, nil},
		{"sentinel without message", fmt.Errorf("x: %w", unkeyed), nil},
		{"sentinel", fmt.Errorf("x: %w", errLast), map[string]string{"": "error.last_administrator"}},
		{"sentinel on a field", onField, map[string]string{"login": "error.login_taken"}},
		{"fields", Field("phone", "error.phone_format"), map[string]string{"phone": "error.phone_format"}},
		{"shown", Show(fmt.Errorf("x: %w", onField), onField, "email", "error.invite_in_company"), map[string]string{"email": "error.invite_in_company"}},
		{"shown on another error", Show(errLast, onField, "email", "error.invite_in_company"), map[string]string{"": "error.last_administrator"}},
	}
	for _, c := range cases {
		if got := Messages(c.err); !maps.Equal(got, c.want) {
			t.Errorf("%s: Messages = %v, want %v", c.name, got, c.want)
		}
	}
}

func TestShowKeepsTheKind(t *testing.T) {
	err := Show(errLast, errLast, "", "error.status_last_administrator")
	if !errors.Is(err, errLast) || KindOf(err) != ErrConflict {
		t.Fatal("Show lost the error it labels")
	}
	if Show(nil, errLast, "", "x") != nil {
		t.Fatal("Show of nil is not nil")
	}
}

func TestMessagesDoesNotShareTheFields(t *testing.T) {
	inv := Field("a", "error.a")
	Messages(inv)["a"] = "changed"
	if inv.Fields["a"] != "error.a" {
		t.Fatal("Messages returned the error's own map")
	}
}

func TestEveryKindIsListed(t *testing.T) {
	for _, k := range []error{ErrInvalid, ErrNotFound, ErrForbidden, ErrUnauthenticated, ErrConflict, ErrInsufficient, ErrBusy} {
		if KindOf(k) != k {
			t.Errorf("%v is not in Kinds", k)
		}
	}
	if KindOf(errors.New("other")) != nil {
		t.Error("KindOf of a plain error is not nil")
	}
}
