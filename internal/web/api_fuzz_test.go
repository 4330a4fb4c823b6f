package web

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzDecodeJSON: whatever the body, the decoder answers a value or one of
// its refusals (never a panic, never an error the chain would answer 500).
func FuzzDecodeJSON(f *testing.F) {
	for _, seed := range []string{``, `{}`, `{"title":"a","language":"en"}`, `{"title":5}`, `{"x":1}`, `[]`, `null`, `{"skills":["a","b"]}`,
		`{"title":"a"} {}`, "{\"title\":\"\xff\"}", `{"title":"a","title":"b"}`, `{"skills":null}`, `{"department":"` + strings.Repeat("é", 300) + `"}`,
		`{"title":"\u0000"}`, `{"title":"\ud800"}`, `1e999`, `{"title":{"nested":[[[[[]]]]]}}`} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var in apiPositionPatch
		err := decodeJSONBytes(body, &in)
		if err == nil {
			if !utf8.Valid(body) {
				t.Fatal("accepted invalid UTF-8")
			}
			return
		}
		var ae *apiError
		if !errors.As(err, &ae) {
			t.Fatalf("refusal %v is not an API problem", err)
		}
		if ae.status < 400 || ae.status >= 500 {
			t.Fatalf("refusal with status %d", ae.status)
		}
	})
}

// FuzzCursor: a cursor opens only when this server signed it for this
// operation, and whatever opens is the text that was signed.
func FuzzCursor(f *testing.F) {
	s := &Server{cursorKey: []byte("0123456789abcdef0123456789abcdef")}
	good := s.signCursor("listPositions", "1700000000000000.01890000-0000-7000-8000-000000000000")
	for _, seed := range []string{good, "", ".", good + "x", strings.Replace(good, ".", "..", 1), "%%%.%%%", strings.Repeat("A", 600)} {
		f.Add(seed, "listPositions")
	}
	f.Add(good, "listCandidates")
	f.Fuzz(func(t *testing.T, cursor, op string) {
		inner, ok := s.openCursor(op, cursor)
		if !ok {
			return
		}
		if !utf8.ValidString(inner) {
			t.Fatal("opened a cursor that is not UTF-8")
		}
		if s.signCursor(op, inner) != cursor {
			t.Fatalf("opened %q for %q, which this server did not sign", cursor, op)
		}
	})
}

// TestCursorOfAnotherOperation: a list's cursor is refused by another list.
func TestCursorOfAnotherOperation(t *testing.T) {
	s := &Server{cursorKey: []byte("k")}
	c := s.signCursor("listPositions", "1.x")
	if _, ok := s.openCursor("listCandidates", c); ok {
		t.Fatal("a cursor of one list opened for another")
	}
	if got, ok := s.openCursor("listPositions", c); !ok || got != "1.x" {
		t.Fatalf("own cursor: %q %v", got, ok)
	}
	other := &Server{cursorKey: []byte("other")}
	if _, ok := other.openCursor("listPositions", c); ok {
		t.Fatal("a cursor signed with another key opened")
	}
}
