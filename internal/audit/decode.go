package audit

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"
)

// Records store their objects and details compactly: "kind:id kind:id"
// and "key=value key=value" (keys sorted). Every value the catalogue allows
// is free of spaces and of the separators, so nothing needs escaping; a
// value that is not (which Validate refuses anyway) is stored as JSON, as
// records written before the compact form were. The compact form halves
// these columns, the largest of the trail after the hashes.

// encodeObjects is the stored form of a record's objects.
func encodeObjects(objs []Ref) string {
	var b strings.Builder
	for i, o := range objs {
		if o.Kind == "" || o.ID == "" || strings.ContainsAny(o.Kind, ": [{") || strings.ContainsAny(o.ID, " ") || !utf8.ValidString(o.Kind+o.ID) {
			j, _ := json.Marshal(objs)
			return string(j)
		}
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(o.Kind)
		b.WriteByte(':')
		b.WriteString(o.ID)
	}
	return b.String()
}

// encodeDetails is the stored form of a record's details.
func encodeDetails(d map[string]string) string {
	keys := make([]string, 0, len(d))
	for k, v := range d {
		if k == "" || strings.ContainsAny(k, "= [{") || strings.ContainsRune(v, ' ') || !utf8.ValidString(k+v) {
			j, _ := json.Marshal(d)
			return string(j)
		}
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(d[k])
	}
	return b.String()
}

// decodeObjects and decodeDetails read both stored forms. The JSON this
// package wrote never needs escaping either, so a plain scan decodes it
// several times faster than encoding/json, which verification of millions
// of records notices. Anything else (an escape, unexpected shape) falls
// back to encoding/json.

func decodeObjects(s string) ([]Ref, error) {
	if !strings.HasPrefix(s, "[") {
		out := []Ref{}
		if s == "" {
			return out, nil
		}
		for part := range strings.SplitSeq(s, " ") {
			kind, id, ok := strings.Cut(part, ":")
			if !ok {
				return nil, fmt.Errorf("audit objects: %q is not kind:id", part)
			}
			out = append(out, Ref{Kind: kind, ID: id})
		}
		return out, nil
	}
	if s == "[]" {
		return []Ref{}, nil
	}
	if strings.IndexByte(s, '\\') < 0 && strings.HasPrefix(s, `[{"kind":"`) && strings.HasSuffix(s, `"}]`) {
		body := s[len(`[{"kind":"`) : len(s)-len(`"}]`)]
		var out []Ref
		ok := true
		for part := range strings.SplitSeq(body, `"},{"kind":"`) {
			kind, id, found := strings.Cut(part, `","id":"`)
			if !found || strings.IndexByte(kind, '"') >= 0 || strings.IndexByte(id, '"') >= 0 {
				ok = false
				break
			}
			out = append(out, Ref{Kind: kind, ID: id})
		}
		if ok {
			return out, nil
		}
	}
	var out []Ref
	err := json.Unmarshal([]byte(s), &out)
	return out, err
}

func decodeDetails(s string) (map[string]string, error) {
	if !strings.HasPrefix(s, "{") {
		out := map[string]string{}
		if s == "" {
			return out, nil
		}
		for part := range strings.SplitSeq(s, " ") {
			k, v, ok := strings.Cut(part, "=")
			if !ok {
				return nil, fmt.Errorf("audit details: %q is not key=value", part)
			}
			out[k] = v
		}
		return out, nil
	}
	if s == "{}" {
		return map[string]string{}, nil
	}
	if strings.IndexByte(s, '\\') < 0 && strings.HasPrefix(s, `{"`) && strings.HasSuffix(s, `"}`) {
		body := s[2 : len(s)-2]
		out := make(map[string]string, 4)
		ok := true
		for part := range strings.SplitSeq(body, `","`) {
			k, v, found := strings.Cut(part, `":"`)
			if !found || strings.IndexByte(k, '"') >= 0 || strings.IndexByte(v, '"') >= 0 {
				ok = false
				break
			}
			out[k] = v
		}
		if ok {
			return out, nil
		}
	}
	out := map[string]string{}
	err := json.Unmarshal([]byte(s), &out)
	return out, err
}
