// Package fault is the small vocabulary every domain package refuses in,
// so that the web layer maps refusals to status codes and messages in one
// table instead of knowing each package's sentinels.
//
// A refusal is of one kind (ErrInvalid, ErrNotFound, ErrForbidden,
// ErrUnauthenticated, ErrConflict, ErrInsufficient, ErrBusy, ErrGone, ErrStale). A domain
// package declares its own sentinels of a kind with New, carrying the
// message key the user is shown; bad input is an *Invalid naming each
// field's message key. errors.Is holds for the sentinel and for its kind.
//
// fault imports only the standard library, so every layer may use it.
package fault

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// The kinds of refusal.
var (
	// ErrInvalid: the input is wrong; the user corrects it (an *Invalid).
	ErrInvalid = errors.New("invalid input")
	// ErrNotFound: the object does not exist, or the user may not know it does.
	ErrNotFound = errors.New("not found")
	// ErrForbidden: the user may not do this.
	ErrForbidden = errors.New("not permitted")
	// ErrUnauthenticated: no valid session, or credentials that do not prove who the user is.
	ErrUnauthenticated = errors.New("not authenticated")
	// ErrConflict: a conflict with what exists (a taken name), or a state
	// of the object that forbids the action.
	ErrConflict = errors.New("conflict")
	// ErrInsufficient: not enough credits, or a limit reached.
	ErrInsufficient = errors.New("insufficient")
	// ErrBusy: too many attempts at once; the same request may succeed later.
	ErrBusy = errors.New("busy")
	// ErrGone: the object existed and is no longer usable (a single-use
	// link already used, or one past its expiry).
	ErrGone = errors.New("gone")
	// ErrStale: the object changed since the caller read it (an API
	// update whose If-Match names an older version).
	ErrStale = errors.New("changed since read")
)

// Error is a domain sentinel of a kind. Declare it once, as a package
// variable, and compare with errors.Is.
type Error struct {
	kind  error
	text  string
	key   string
	field string
}

// New declares a sentinel of kind with its text (for logs and wrapping)
// and the message key the user is shown for the form as a whole ("" when
// the refusal has no message of its own and the user sees the error page
// of its kind).
func New(kind error, text, key string) *Error {
	return &Error{kind: kind, text: text, key: key}
}

// NewField declares a sentinel of kind whose message belongs beside one
// field of the form that caused it.
func NewField(kind error, field, text, key string) *Error {
	return &Error{kind: kind, text: text, key: key, field: field}
}

func (e *Error) Error() string { return e.text }

// Unwrap makes errors.Is(err, kind) hold for every sentinel of the kind.
func (e *Error) Unwrap() error { return e.kind }

// Invalid names what is wrong with an input: field -> message key, ""
// for the input as a whole.
type Invalid struct {
	Fields map[string]string
}

// Field is an *Invalid with one field's message.
func Field(field, key string) *Invalid {
	return &Invalid{Fields: map[string]string{field: key}}
}

func (e *Invalid) Error() string {
	parts := make([]string, 0, len(e.Fields))
	for _, f := range slices.Sorted(maps.Keys(e.Fields)) {
		parts = append(parts, fmt.Sprintf("%s: %s", f, e.Fields[f]))
	}
	return "invalid input (" + strings.Join(parts, ", ") + ")"
}

// Is makes errors.Is(err, ErrInvalid) hold.
func (e *Invalid) Is(target error) bool { return target == ErrInvalid }

// shown is a refusal with the message one form shows for it.
type shown struct {
	err        error
	field, key string
}

func (s *shown) Error() string { return s.err.Error() }
func (s *shown) Unwrap() error { return s.err }

// Show returns err (when it is target, or wraps it) labelled with the
// message one page shows for it and the field it belongs to, keeping its
// kind; any other err is returned unchanged. A sentinel's message is the
// common one; a page where the same refusal means something more
// particular says so here.
func Show(err, target error, field, key string) error {
	if !errors.Is(err, target) {
		return err
	}
	return &shown{err: err, field: field, key: key}
}

// Messages returns the messages err carries for the user, field ->
// message key, or nil when it carries none (an internal error, or a
// sentinel without a message): the outermost label of Show, else the
// fields of an *Invalid, else a sentinel's message.
func Messages(err error) map[string]string {
	var s *shown
	if errors.As(err, &s) {
		return map[string]string{s.field: s.key}
	}
	var inv *Invalid
	if errors.As(err, &inv) {
		return maps.Clone(inv.Fields)
	}
	var e *Error
	if errors.As(err, &e) && e.key != "" {
		return map[string]string{e.field: e.key}
	}
	return nil
}

// Kinds lists every kind, for tables that map each to a response.
var Kinds = []error{ErrInvalid, ErrNotFound, ErrForbidden, ErrUnauthenticated, ErrConflict, ErrInsufficient, ErrBusy, ErrGone, ErrStale}

// KindOf returns the kind of err, or nil when err is of none.
func KindOf(err error) error {
	for _, k := range Kinds {
		if errors.Is(err, k) {
			return k
		}
	}
	return nil
}
