package filetype

import (
	"slices"
	"testing"

	"github.com/kandidat/kandidat/internal/synth"
)

// FuzzClean: whatever bytes arrive as whatever type, Clean does not panic,
// returns no more than it was given (a PDF exactly as much, an archive no
// more than its unpacking budget allows), and reports only known
// leftovers.
func FuzzClean(f *testing.F) {
	lines := []string{"Fuzz", "a line"}
	for i, typ := range Types {
		f.Add(uint8(i), samples(f)[typ])
	}
	f.Add(uint8(slices.Index(Types, PDF)), synth.PDF(lines))
	f.Add(uint8(slices.Index(Types, DOCX)), synth.DOCX(lines))
	f.Add(uint8(slices.Index(Types, PDF)), []byte("%PDF-1.7\n1 0 obj << /Author (x) /Metadata 2 0 R >> endobj\n"+
		"2 0 obj << /Type /Metadata /Length 3 /Filter /FlateDecode >>\nstream\nabc\nendstream endobj\n"+
		"3 0 obj << /Subtype /Image /Filter /DCTDecode /Length 4 >>\nstream\n\xff\xd8\xff\xe1\nendstream endobj\n"+
		"4 0 obj << /Type /ObjStm /First 4 /Filter /FlateDecode /Length 2 >>\nstream\nxx\nendstream endobj\n"+
		"trailer << /Root 1 0 R /Info 1 0 R /ID [<ab>(cd)] >>\n%%EOF\n"))
	f.Fuzz(func(t *testing.T, typ uint8, b []byte) {
		ty := Types[int(typ)%len(Types)]
		out, left, err := Clean(ty, b)
		if err != nil {
			return
		}
		switch ty {
		case PDF:
			if len(out) != len(b) {
				t.Fatalf("PDF of %d bytes became %d", len(b), len(out))
			}
		case DOCX, ODT:
			// Headers and names at most twice what the input spent on them.
			if limit := 3*len(b) + cleanMaxUnpacked + 4096; len(out) > limit {
				t.Fatalf("archive of %d bytes became %d", len(b), len(out))
			}
		default:
			if len(out) > len(b) {
				t.Fatalf("%s of %d bytes became %d", ty, len(b), len(out))
			}
		}
		for _, l := range left {
			if !slices.Contains(Leftovers, l) {
				t.Fatalf("unknown leftover %q", l)
			}
		}
	})
}
