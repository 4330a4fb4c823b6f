package app

import (
	"bytes"
	"fmt"
	"regexp"
	"strconv"
	"testing"

	"github.com/kandidat/kandidat/internal/filetype"
)

// TestDemoCV: the generated CV is a PDF whose cross-reference table points
// at its objects, as a reader expects.
func TestDemoCV(t *testing.T) {
	b := DemoCV("Cecília (Kováčová)", "Backend Engineer")
	if typ, err := filetype.Detect(b); typ != filetype.PDF || err != nil {
		t.Fatalf("detected %q %v", typ, err)
	}
	m := regexp.MustCompile(`startxref\n(\d+)\n`).FindSubmatch(b)
	if m == nil {
		t.Fatal("no startxref")
	}
	xref, _ := strconv.Atoi(string(m[1]))
	if !bytes.HasPrefix(b[xref:], []byte("xref\n")) {
		t.Fatalf("startxref %d does not point at the table", xref)
	}
	offsets := regexp.MustCompile(`(\d{10}) 00000 n `).FindAllSubmatch(b, -1)
	if len(offsets) != 5 {
		t.Fatalf("%d objects in the table", len(offsets))
	}
	for i, o := range offsets {
		off, _ := strconv.Atoi(string(o[1]))
		if !bytes.HasPrefix(b[off:], []byte(fmt.Sprintf("%d 0 obj", i+1))) {
			t.Errorf("object %d is not at %d", i+1, off)
		}
	}
	if !bytes.Contains(b, []byte(`Cecilia \(Kovacova\)`)) {
		t.Errorf("the name is not in the page: %s", b)
	}
}
