package bench

import "testing"

func TestLargestPosition(t *testing.T) {
	body := `<table id="positions"><thead><tr><th>Title</th></tr></thead><tbody>
<tr><td><a href="/positions/aaa">A</a></td><td>open</td><td><strong>3</strong></td></tr>
<tr><td><a href="/positions/bbb">B</a></td><td>open</td><td><strong>12</strong> <span class="counts"><span>New: 4</span></span></td></tr>
<tr><td><a href="/positions/ccc">C</a></td><td>open</td><td><strong>12</strong></td></tr>
</tbody></table>`
	if got := largestPosition(body); got != "bbb" {
		t.Fatalf("largestPosition = %q, want the first with the most candidates, bbb", got)
	}
	if got := largestPosition(`<tr><td><a href="/positions/x1">X</a></td></tr>`); got != "x1" {
		t.Fatalf("without counts: %q, want the first position", got)
	}
	if got := largestPosition(`<p>none</p>`); got != "" {
		t.Fatalf("no positions: %q", got)
	}
}

func TestNextLink(t *testing.T) {
	tests := []struct{ name, body, from, want string }{
		{"a rel=next, relative query", `<a href="/audit">x</a> <a rel="next" href="?after=abc&amp;q=x" id="n">next</a>`, "/candidates?q=x", "/candidates?after=abc&q=x"},
		{"href before rel", `<a class="x" href="/candidates?page=2" rel="next">next</a>`, "/candidates", "/candidates?page=2"},
		{"rel with several tokens", `<a rel="nofollow next" href="/candidates?page=3">`, "/candidates", "/candidates?page=3"},
		{"link element", `<link rel="next" href="/candidates?page=2">`, "/candidates", "/candidates?page=2"},
		{"no next", `<a rel="prev" href="/candidates?page=1">`, "/candidates", ""},
		{"another site is not followed", `<a rel="next" href="https://elsewhere.example/x">`, "/candidates", ""},
		{"noopener is not next", `<a href="https://video.example" rel="noopener noreferrer">`, "/candidates", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := nextLink(tt.body, tt.from); got != tt.want {
				t.Fatalf("nextLink = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestFirstSurname(t *testing.T) {
	body := `<td><a href="/applications/0190-1">Cecília Kováčová</a><br><small>c@example.org</small></td>
<td><a href="/applications/0190-2">Bjørn Hansen</a></td>`
	if got := firstSurname(body); got != "Kováčová" {
		t.Fatalf("firstSurname = %q", got)
	}
	if got := firstSurname(`<a href="/applications/1">O&#39;Brien</a>`); got != "O'Brien" {
		t.Fatalf("escaped name: %q", got)
	}
	if got := firstSurname(`<p>none</p>`); got != "" {
		t.Fatalf("no candidates: %q", got)
	}
}
