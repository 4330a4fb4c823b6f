package audit

import (
	"encoding/json"
	"strings"
)

// decodeObjects and decodeDetails read the JSON this package writes. The
// values it writes never need escaping (identifiers, enumerations, numbers,
// addresses), so a plain scan decodes them several times faster than
// encoding/json, which verification of millions of records notices.
// Anything else (an escape, unexpected shape) falls back to encoding/json.

func decodeObjects(s string) ([]Ref, error) {
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
