package web

import (
	"regexp"
	"strings"
	"testing"
)

func TestMarkdownIsSafe(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    []string
		wantNot []string
	}{
		{"## Your role\n\n- **Go**\n- *SQL*", []string{"<h2", "Your role", "<li><strong>Go</strong></li>", "<em>SQL</em>"}, nil},
		{"<script>alert(1)</script>", nil, []string{"<script", "alert(1)</script"}},
		{"<img src=x onerror=alert(1)>", nil, []string{"onerror", "<img src=x"}},
		{"[click](javascript:alert(1))", nil, []string{"javascript:"}},
		{"[site](https://example.org)", []string{`href="https://example.org"`, `rel="nofollow noopener"`}, nil},
		{"<a href=\"https://evil.example\" style=\"x\">x</a>", nil, []string{"style="}},
		{"![p](data:image/png;base64,AAAA)", nil, []string{"data:image"}},
	} {
		got := string(renderMarkdown(tc.in))
		for _, w := range tc.want {
			if !strings.Contains(got, w) {
				t.Errorf("%q: %q lacks %q", tc.in, got, w)
			}
		}
		for _, w := range tc.wantNot {
			if strings.Contains(got, w) {
				t.Errorf("%q: %q contains %q", tc.in, got, w)
			}
		}
	}
}

// FuzzMarkdown: no input makes the renderer panic or let a script through.
func FuzzMarkdown(f *testing.F) {
	for _, s := range []string{"# t", "<script>x</script>", "[a](javascript:x)", "<img onerror=x>", "| a | b |\n|---|---|\n| 1 | 2 |"} {
		f.Add(s)
	}
	dangerous := regexp.MustCompile(`(?i)<(script|iframe|style|object|embed)|<[a-z][^>]*\son[a-z]+\s*=|(href|src)\s*=\s*"?\s*(javascript|vbscript|data):`)
	f.Fuzz(func(t *testing.T, s string) {
		if out := string(renderMarkdown(s)); dangerous.MatchString(out) {
			t.Fatalf("%q renders %q", s, out)
		}
	})
}
