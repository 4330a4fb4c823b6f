package extract

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"fmt"
	"html"
	"io"
	"strings"
	"testing"
)

// Letters of the five languages, in every fixture.
const (
	textCS = "Příliš žluťoučký kůň úpěl ďábelské ódy"
	textSK = "Ďateľ ťuká do kôry, dlhý ľadový rámček"
	textSV = "Räksmörgås och blåbär på ön"
	textNB = "Blåbærsyltetøy og æbler på Ørland"
	textEN = "Experienced engineer, team lead"
)

var allLanguages = []string{textCS, textSK, textSV, textNB, textEN}

// zipEntry is one file of an archive under construction.
type zipEntry struct {
	name   string
	body   []byte
	stored bool
}

func buildZip(t testing.TB, entries []zipEntry) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	zw.RegisterCompressor(zip.Deflate, func(w io.Writer) (io.WriteCloser, error) {
		return flate.NewWriter(w, flate.BestCompression)
	})
	for _, e := range entries {
		method := zip.Deflate
		if e.stored {
			method = zip.Store
		}
		w, err := zw.CreateHeader(&zip.FileHeader{Name: e.name, Method: method})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(e.body); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

const docxNS = `xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"`

// docxXML wraps WordprocessingML body content in a document.
func docxXML(body string) string {
	return `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>` +
		`<w:document ` + docxNS + `><w:body>` + body + `</w:body></w:document>`
}

// docxPara is a paragraph of one run of text.
func docxPara(text string) string {
	return `<w:p><w:r><w:t xml:space="preserve">` + html.EscapeString(text) + `</w:t></w:r></w:p>`
}

// buildDOCX makes a DOCX of a document part and further parts (headers).
func buildDOCX(t testing.TB, document string, parts ...zipEntry) []byte {
	t.Helper()
	entries := []zipEntry{
		{name: "[Content_Types].xml", body: []byte(`<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>`)},
		{name: "word/document.xml", body: []byte(document)},
	}
	return buildZip(t, append(entries, parts...))
}

const odtNS = `xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" ` +
	`xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"`

// odtXML wraps ODF text content in content.xml.
func odtXML(body string) string {
	return `<?xml version="1.0" encoding="UTF-8"?><office:document-content ` + odtNS +
		`><office:body><office:text>` + body + `</office:text></office:body></office:document-content>`
}

func buildODT(t testing.TB, content string) []byte {
	t.Helper()
	return buildZip(t, []zipEntry{
		{name: "mimetype", body: []byte("application/vnd.oasis.opendocument.text"), stored: true},
		{name: "content.xml", body: []byte(content)},
	})
}

// pdfLatin2 are the letters of Czech and Slovak that WinAnsiEncoding
// lacks, placed at codes 128 and up by the font's /Differences.
var pdfLatin2 = []struct {
	r     rune
	glyph string
}{
	{'č', "ccaron"}, {'š', "scaron"}, {'ž', "zcaron"}, {'ť', "tcaron"}, {'ď', "dcaron"},
	{'ř', "rcaron"}, {'ě', "ecaron"}, {'ů', "uring"}, {'ň', "ncaron"}, {'ľ', "lcaron"},
	{'ĺ', "lacute"}, {'ŕ', "racute"}, {'Č', "Ccaron"}, {'Š', "Scaron"}, {'Ž', "Zcaron"},
	{'Ť', "Tcaron"}, {'Ď', "Dcaron"}, {'Ř', "Rcaron"}, {'Ě', "Ecaron"}, {'Ů', "Uring"},
	{'Ň', "Ncaron"}, {'Ľ', "Lcaron"},
}

// pdfString encodes s as a literal string for the fixture's font: Latin-1
// letters as themselves (WinAnsiEncoding), the others by pdfLatin2.
func pdfString(s string) string {
	var b strings.Builder
	b.WriteByte('(')
	for _, r := range s {
		code := -1
		for i, l := range pdfLatin2 {
			if l.r == r {
				code = 128 + i
			}
		}
		switch {
		case code >= 0:
			fmt.Fprintf(&b, `\%03o`, code)
		case r == '(' || r == ')' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r < 0x80:
			b.WriteRune(r)
		case r >= 0xA0 && r <= 0xFF:
			fmt.Fprintf(&b, `\%03o`, r)
		default:
			b.WriteByte('?')
		}
	}
	b.WriteByte(')')
	return b.String()
}

// pdfContent is a page's content stream showing lines.
func pdfContent(lines []string) string {
	var b strings.Builder
	b.WriteString("BT /F1 11 Tf 14 TL 56 780 Td\n")
	for _, l := range lines {
		b.WriteString(pdfString(l) + " Tj T*\n")
	}
	b.WriteString("ET\n")
	return b.String()
}

// pdfWriter numbers objects and writes the cross-reference table.
type pdfWriter struct {
	buf     bytes.Buffer
	offsets []int
}

// add writes the next object and returns its number.
func (w *pdfWriter) add(body string) int {
	w.offsets = append(w.offsets, w.buf.Len())
	n := len(w.offsets)
	fmt.Fprintf(&w.buf, "%d 0 obj\n%s\nendobj\n", n, body)
	return n
}

// stream writes a stream object, raw bytes with the given extra dictionary entries.
func (w *pdfWriter) stream(dict string, data []byte) int {
	w.offsets = append(w.offsets, w.buf.Len())
	n := len(w.offsets)
	fmt.Fprintf(&w.buf, "%d 0 obj\n<< /Length %d %s >>\nstream\n", n, len(data), dict)
	w.buf.Write(data)
	w.buf.WriteString("\nendstream\nendobj\n")
	return n
}

func (w *pdfWriter) finish(root int) []byte {
	xref := w.buf.Len()
	fmt.Fprintf(&w.buf, "xref\n0 %d\n0000000000 65535 f \n", len(w.offsets)+1)
	for _, o := range w.offsets {
		fmt.Fprintf(&w.buf, "%010d 00000 n \n", o)
	}
	fmt.Fprintf(&w.buf, "trailer\n<< /Size %d /Root %d 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(w.offsets)+1, root, xref)
	return w.buf.Bytes()
}

// pdfFontDict is the fixture's font: Helvetica, WinAnsiEncoding with the
// letters of pdfLatin2 from code 128.
func pdfFontDict() string {
	var diff strings.Builder
	for _, l := range pdfLatin2 {
		diff.WriteString(" /" + l.glyph)
	}
	return "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding << /Type /Encoding " +
		"/BaseEncoding /WinAnsiEncoding /Differences [128" + diff.String() + "] >> >>"
}

// buildPDF makes a PDF 1.4 file with one page per element of pages, each
// page showing its lines. Content streams are given by contents when set
// (raw, with their dictionary entries), to build hostile files.
func buildPDF(pages [][]string) []byte {
	contents := make([]pdfStream, len(pages))
	for i, lines := range pages {
		contents[i] = pdfStream{data: []byte(pdfContent(lines))}
	}
	return buildPDFStreams(contents, -1)
}

// pdfStream is a content stream and its extra dictionary entries.
type pdfStream struct {
	dict string
	data []byte
}

// buildPDFStreams makes a PDF of one page per content stream; a count of
// 0 or more is written as the page tree's /Count instead of the true one.
func buildPDFStreams(contents []pdfStream, count int) []byte {
	w := &pdfWriter{}
	w.buf.WriteString("%PDF-1.4\n%\xE2\xE3\xCF\xD3\n")
	font := w.add(pdfFontDict())
	// The page tree is object 2 + 2*len(contents): pages come first.
	pagesObj := 2 + 2*len(contents)
	kids := make([]string, len(contents))
	for i, c := range contents {
		content := w.stream(c.dict, c.data)
		kids[i] = fmt.Sprintf("%d 0 R", w.add(fmt.Sprintf(
			"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 %d 0 R >> >> /Contents %d 0 R >>",
			pagesObj, font, content)))
	}
	if count < 0 {
		count = len(contents)
	}
	if n := w.add(fmt.Sprintf("<< /Type /Pages /Kids [%s] /Count %d >>", strings.Join(kids, " "), count)); n != pagesObj {
		panic("page tree numbered wrongly")
	}
	root := w.add(fmt.Sprintf("<< /Type /Catalog /Pages %d 0 R >>", pagesObj))
	return w.finish(root)
}

// deflateRepeat returns a deflate stream of about n bytes of pattern
// repeated, the way a bomb is made, in milliseconds: one chunk is
// compressed after an identical one and the bytes it compresses to are
// repeated, since they refer only to the identical window before them.
func deflateRepeat(t testing.TB, pattern string, n int64) []byte {
	t.Helper()
	chunk := []byte(strings.Repeat(pattern, (1<<20)/len(pattern)))
	var buf bytes.Buffer
	fw, err := flate.NewWriter(&buf, flate.BestCompression)
	if err != nil {
		t.Fatal(err)
	}
	flush := func() []byte {
		if _, err := fw.Write(chunk); err != nil {
			t.Fatal(err)
		}
		if err := fw.Flush(); err != nil {
			t.Fatal(err)
		}
		out := bytes.Clone(buf.Bytes())
		buf.Reset()
		return out
	}
	first, next := flush(), flush()
	if err := fw.Close(); err != nil {
		t.Fatal(err)
	}
	stream := append(first, bytes.Repeat(next, int(n/int64(len(chunk)))-1)...)
	return append(stream, buf.Bytes()...)
}
