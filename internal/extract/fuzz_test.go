package extract

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/kandidat/kandidat/internal/filetype"
	"golang.org/x/text/unicode/norm"
)

// fuzzLimits keep each input small and quick.
func fuzzLimits() Limits {
	lim := DefaultLimits()
	lim.MaxText = 4 << 10
	lim.MaxUnpacked = 1 << 20
	lim.MaxPages = 10
	lim.Timeout = 5 * time.Second
	return lim
}

var (
	fuzzOnce sync.Once
	fuzzX    *Extractor
)

// fuzzExtractor is one extractor for all inputs of a fuzzing process, so
// that PDF sandboxes come from one pool. The fuzzer runs a process per
// worker and starts new ones as it goes: they share PDFium's compiled code
// through a cache directory, or each would spend seconds compiling it.
func fuzzExtractor() *Extractor {
	fuzzOnce.Do(func() {
		if err := UseCacheDir(filepath.Join(os.TempDir(), "kandidat-test-pdfium")); err != nil {
			panic(err)
		}
		fuzzX = New(fuzzLimits())
	})
	return fuzzX
}

// checkExtraction holds for every input: an error is one of the
// package's, and text is clean and within the limit.
func checkExtraction(t *testing.T, typ filetype.Type, data []byte) {
	lim := fuzzLimits()
	r, err := fuzzExtractor().Text(context.Background(), typ, data)
	if err != nil {
		if !errors.Is(err, ErrDamaged) && !errors.Is(err, ErrTooLarge) && !errors.Is(err, ErrEncrypted) {
			t.Fatalf("unexpected error: %v", err)
		}
		return
	}
	if len(r.Text) > lim.MaxText || !utf8.ValidString(r.Text) || !norm.NFC.IsNormalString(r.Text) {
		t.Fatalf("text of %d bytes, valid %v, NFC %v", len(r.Text), utf8.ValidString(r.Text), norm.NFC.IsNormalString(r.Text))
	}
	if strings.HasPrefix(r.Text, "\n") || strings.HasSuffix(r.Text, "\n") || strings.Contains(r.Text, "\n\n\n") ||
		strings.Contains(r.Text, "  ") || strings.Contains(r.Text, " \n") {
		t.Fatalf("blank space not collapsed: %q", r.Text)
	}
	for _, c := range r.Text {
		if c != '\n' && c != ' ' && (unicode.IsControl(c) || unicode.IsSpace(c) || dropped(c)) {
			t.Fatalf("character %U kept in %q", c, r.Text)
		}
	}
}

func FuzzTXT(f *testing.F) {
	for _, s := range append(allLanguages, "a\r\n\r\nb", "\xEF\xBB\xBFbom", "\xFF\xFEa\x00", "\xFE\xFF\x00a", "bl\xe5b\xe6r", "c\u030c \u200b\u0085") {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) { checkExtraction(t, filetype.TXT, data) })
}

// FuzzDOCX mutates whole files (the archive) and, separately, the XML of
// the document part in a valid archive: mutations of a compressed file
// rarely get past its checksums to the XML.
func FuzzDOCX(f *testing.F) {
	for _, doc := range []string{
		docxXML(docxPara(textCS) + `<w:p><w:r><w:tab/><w:t>a</w:t><w:br/></w:r></w:p>`),
		docxXML(`<mc:Fallback><w:t>x</w:t></mc:Fallback><w:noBreakHyphen/>` + docxPara(textSV)),
	} {
		f.Add(buildDOCX(f, doc, zipEntry{name: "word/header1.xml", body: []byte(docxPara(textNB))}), []byte(doc))
	}
	f.Fuzz(func(t *testing.T, file, document []byte) {
		checkExtraction(t, filetype.DOCX, file)
		checkExtraction(t, filetype.DOCX, buildZip(t, []zipEntry{
			{name: "[Content_Types].xml", stored: true},
			{name: "word/document.xml", body: document, stored: true},
		}))
	})
}

// FuzzODT mutates whole files and the XML of content.xml, as FuzzDOCX.
func FuzzODT(f *testing.F) {
	for _, content := range []string{
		odtXML(`<text:h>` + textSK + `</text:h><text:p>a<text:s text:c="3"/>b<text:tab/><text:line-break/></text:p>`),
		odtXML(`<text:p>` + textNB + `<office:annotation><text:p>c</text:p></office:annotation></text:p>`),
	} {
		f.Add(buildODT(f, content), []byte(content))
	}
	f.Fuzz(func(t *testing.T, file, content []byte) {
		checkExtraction(t, filetype.ODT, file)
		checkExtraction(t, filetype.ODT, buildZip(t, []zipEntry{{name: "content.xml", body: content, stored: true}}))
	})
}

func FuzzPDF(f *testing.F) {
	f.Add(buildPDF(pdfPages(1)))
	f.Add(buildPDF([][]string{{textCS, textSK}, {textSV, textNB}}))
	f.Add(buildPDFStreams([]pdfStream{{data: []byte(pdfContent([]string{textEN}))}}, 3))
	// Compile the engine before fuzzing: in a busy worker it takes longer
	// than the ten seconds after which the fuzzer calls an input hung.
	if _, err := fuzzExtractor().Text(context.Background(), filetype.PDF, buildPDF(pdfPages(1))); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) { checkExtraction(t, filetype.PDF, data) })
}
