package audit_test

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/kandidat/kandidat/internal/audit"
)

// FuzzParseObject: the object filter of the trail's page (outside input)
// splits into a known kind and an id only when it is "kind:id"; anything
// else is an id, kept whole.
func FuzzParseObject(f *testing.F) {
	for _, s := range []string{"application:0190a5c2-7d5e", "0190a5c2", "user:", ":x", "nosuchkind:x", "user:a:b", "", "tenant:\xff", "candidate:x y"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		kind, id := audit.ParseObject(s)
		if kind == "" {
			if id != s {
				t.Fatalf("%q: id %q, want the input whole", s, id)
			}
			return
		}
		if !slices.Contains(audit.ObjectKinds, kind) || id == "" || kind+":"+id != s {
			t.Fatalf("%q: kind %q, id %q", s, kind, id)
		}
	})
}

// FuzzReadCheckpoints: an exported checkpoint file (read back from another
// machine: outside input) never panics the reader, and nothing in it
// verifies without the signing key, whatever it claims (a prune, a
// version, a cut-off).
func FuzzReadCheckpoints(f *testing.F) {
	s, _, err := audit.LoadOrCreateSigner(filepath.Join(f.TempDir(), "audit.key"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(`{"tenant_id":"t1","track":"security","seq":5,"hash":"ab","created_at":"2026-01-02T03:04:05Z","reason":"prune","version":2,"pruned_before":"2025-01-01T00:00:00Z","key_id":"k","signature":"AAAA"}`)
	f.Add(`{"tenant_id":"t1","track":"security","seq":1,"hash":"ab","created_at":"2026-01-02T03:04:05Z","reason":"periodic","key_id":"k","signature":""}` + "\n\n{}")
	f.Add("{\"version\":99}\n[")
	f.Add(strings.Repeat("{}\n", 3))
	f.Fuzz(func(t *testing.T, file string) {
		cps, err := audit.ReadCheckpoints(strings.NewReader(file))
		if err != nil {
			return
		}
		for _, cp := range cps {
			if cp.Valid(s.PublicKey()) {
				t.Fatalf("a checkpoint nobody signed verifies: %+v", cp)
			}
			if cp.Prune() && cp.Version >= 2 && cp.PrunedBefore == nil {
				t.Fatalf("a version 2 prune checkpoint without its cut-off vouches for a prune: %+v", cp)
			}
		}
	})
}
