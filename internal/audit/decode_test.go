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
	})
}
