package audit

import (
	"encoding/json"
	"reflect"
	"testing"
)

// FuzzDecode: the fast decoders agree with encoding/json on whatever
// json.Marshal produces, and never panic on stored garbage.
func FuzzDecode(f *testing.F) {
	f.Add("user", "0190a5c2-7d5e", "ip", "192.0.2.1", "method", "password")
	f.Add("a\"b", "x\\y", "k\",\"x", "v", "", "")
	f.Add("kind", "id", "{", "}", "\",\"", ":")
	f.Add("application", "0190a5c2-7d5e-7000-8000-000000000001", "permission", "applications.view", "decision", "allow")
	f.Add("a:b", "x y", "k=v", "a b", "[", "{")
	f.Fuzz(func(t *testing.T, kind, id, k1, v1, k2, v2 string) {
		objs := []Ref{{Kind: kind, ID: id}, {Kind: id, ID: kind}}
		b, _ := json.Marshal(objs)
		got, err := decodeObjects(string(b))
		if err == nil && !reflect.DeepEqual(got, objs) {
			// json.Marshal replaces invalid UTF-8; compare with its own round trip.
			var want []Ref
			json.Unmarshal(b, &want)
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("objects %q: got %v, want %v", b, got, want)
			}
		}
		details := map[string]string{k1: v1, k2: v2}
		b, _ = json.Marshal(details)
		gotD, err := decodeDetails(string(b))
		var wantD map[string]string
		json.Unmarshal(b, &wantD)
		if err == nil && !reflect.DeepEqual(gotD, wantD) {
			t.Fatalf("details %q: got %v, want %v", b, gotD, wantD)
		}
		decodeObjects(kind + id) // garbage must not panic
		decodeDetails(k1 + v1)
		// The stored form, compact or JSON, reads back as it was written
		// (JSON replaces invalid UTF-8: compare with its own round trip then).
		enc := encodeObjects(objs)
		back, err := decodeObjects(enc)
		if err != nil {
			t.Fatalf("objects %v stored as %q: %v", objs, enc, err)
		}
		if !reflect.DeepEqual(back, objs) {
			var want []Ref
			b, _ := json.Marshal(objs)
			json.Unmarshal(b, &want)
			if !reflect.DeepEqual(back, want) {
				t.Fatalf("objects %v stored as %q read back as %v", objs, enc, back)
			}
		}
		encD := encodeDetails(details)
		backD, err := decodeDetails(encD)
		if err != nil {
			t.Fatalf("details %v stored as %q: %v", details, encD, err)
		}
		if !reflect.DeepEqual(backD, details) && !reflect.DeepEqual(backD, wantD) {
			t.Fatalf("details %v stored as %q read back as %v", details, encD, backD)
		}
	})
}
