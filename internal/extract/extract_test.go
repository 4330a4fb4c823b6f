package extract

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/kandidat/kandidat/internal/filetype"
)

// extract runs one extraction under lim with a fresh extractor (the PDF
// engine's code is compiled once per process).
func extract(t testing.TB, lim Limits, typ filetype.Type, data []byte) (Result, error) {
	t.Helper()
	x := New(lim)
	t.Cleanup(func() {
		if err := x.Close(); err != nil {
			t.Error(err)
		}
	})
	return x.Text(context.Background(), typ, data)
}

func mustText(t *testing.T, typ filetype.Type, data []byte) Result {
	t.Helper()
	r, err := extract(t, DefaultLimits(), typ, data)
	if err != nil {
		t.Fatalf("%s: %v", typ, err)
	}
	return r
}

// The fixtures are detected as what they claim to be.
func TestFixturesDetected(t *testing.T) {
	for want, data := range map[filetype.Type][]byte{
		filetype.DOCX: buildDOCX(t, docxXML(docxPara(textCS))),
		filetype.ODT:  buildODT(t, odtXML(`<text:p>`+textCS+`</text:p>`)),
		filetype.PDF:  buildPDF([][]string{{textCS}}),
	} {
		if got, err := filetype.Detect(data); got != want || err != nil {
			t.Errorf("Detect = %q, %v; want %q", got, err, want)
		}
	}
}

func TestDOCX(t *testing.T) {
	body := docxPara(textCS) + docxPara(textSK) +
		// runs, a tab, a break, a hyphen, a duplicate text box, a field code and deleted text
		`<w:p><w:r><w:t>Název</w:t></w:r><w:r><w:tab/><w:t>Hodnota</w:t><w:br/><w:t>druhý</w:t><w:noBreakHyphen/><w:t>řádek</w:t></w:r></w:p>` +
		`<w:p><w:r><mc:AlternateContent xmlns:mc="x"><mc:Choice><w:t>box</w:t></mc:Choice><mc:Fallback><w:t>box</w:t></mc:Fallback></mc:AlternateContent></w:r></w:p>` +
		`<w:p><w:r><w:instrText>HYPERLINK "x"</w:instrText><w:delText>smazáno</w:delText><w:t>   mezery   a	tab </w:t></w:r></w:p>` +
		`<w:p/><w:p/><w:p/>` + docxPara(textSV) + docxPara(textNB) + docxPara(textEN)
	header := zipEntry{name: "word/header1.xml", body: []byte(`<w:hdr ` + docxNS + `>` + docxPara("Jana Nováková, +420 777 123 456") + `</w:hdr>`)}
	r := mustText(t, filetype.DOCX, buildDOCX(t, docxXML(body), header))
	want := textCS + "\n" + textSK + "\nNázev Hodnota\ndruhý-řádek\nbox\nmezery a tab\n\n" +
		textSV + "\n" + textNB + "\n" + textEN + "\n\nJana Nováková, +420 777 123 456"
	if r.Text != want || r.Truncated || r.Pages != 0 {
		t.Errorf("got %+v, want text\n%q", r, want)
	}
}

func TestODT(t *testing.T) {
	body := `<text:h text:outline-level="1">` + textCS + `</text:h>` +
		`<text:p>` + textSK + `</text:p>` +
		`<text:p>a<text:s text:c="5"/>b<text:tab/>c<text:line-break/>d <text:span>span</text:span>` +
		`<office:annotation><text:p>comment</text:p></office:annotation></text:p>` +
		`<text:tracked-changes><text:changed-region><text:p>deleted</text:p></text:changed-region></text:tracked-changes>` +
		`<text:list><text:list-item><text:p>` + textSV + `</text:p></text:list-item></text:list>` +
		`<text:p>` + textNB + "\n  continued</text:p><text:p>" + textEN + `</text:p>`
	r := mustText(t, filetype.ODT, buildODT(t, odtXML(body)))
	want := textCS + "\n" + textSK + "\na b c\nd span\n" + textSV + "\n" + textNB + " continued\n" + textEN
	if r.Text != want || r.Truncated {
		t.Errorf("got %+v, want text\n%q", r, want)
	}
}

func TestTXT(t *testing.T) {
	all := strings.Join(allLanguages, "\n")
	utf16le := func(s string, bigEndian bool) []byte {
		out := []byte{0xFF, 0xFE}
		if bigEndian {
			out = []byte{0xFE, 0xFF}
		}
		for _, u := range utf16.Encode([]rune(s)) {
			if bigEndian {
				out = append(out, byte(u>>8), byte(u))
			} else {
				out = append(out, byte(u), byte(u>>8))
			}
		}
		return out
	}
	for _, c := range []struct {
		name string
		in   []byte
		want string
	}{
		{"utf8", []byte(all), all},
		{"bom", []byte("\xEF\xBB\xBF" + all), all},
		{"utf16le", utf16le(all, false), all},
		{"utf16be", utf16le(all, true), all},
		// Windows-1252: "Räksmörgås – blåbær" with an en dash at 0x96.
		{"windows1252", []byte("R\xe4ksm\xf6rg\xe5s \x96 bl\xe5b\xe6r"), "Räksmörgås – blåbær"},
		{"crlf and blanks", []byte("  a \t b  \r\n\r\n\r\n\r\nc\rd\n\n\n"), "a b\n\nc\nd"},
		{"controls", []byte("a\x00b\x1bc\u200bd\u202ee\ufeff\u00adf\ue000g"), "abcdefg"},
		// NFD in, NFC out.
		{"nfc", []byte("c\u030cs\u030cz\u030c a\u030a"), "čšž å"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := mustText(t, filetype.TXT, c.in)
			if r.Text != c.want {
				t.Errorf("got %q, want %q", r.Text, c.want)
			}
		})
	}
}

func TestTextLimit(t *testing.T) {
	lim := DefaultLimits()
	lim.MaxText = 10
	r, err := extract(t, lim, filetype.TXT, []byte("žluťoučký kůň"))
	if err != nil || !r.Truncated || r.Text != "žluťouč" {
		t.Errorf("got %+v, %v; want the first 10 bytes' whole letters", r, err)
	}
	// A DOCX stops reading at the limit: the rest may be anything.
	body := docxPara(strings.Repeat("á", 20)) + "<w:p><<<broken"
	r, err = extract(t, lim, filetype.DOCX, buildDOCX(t, docxXML(body)))
	if err != nil || !r.Truncated || r.Text != "ááááá" {
		t.Errorf("got %+v, %v", r, err)
	}
}

func TestUnsupportedAndDamaged(t *testing.T) {
	for _, c := range []struct {
		name string
		typ  filetype.Type
		data []byte
		want error
	}{
		{"image", filetype.PNG, []byte("\x89PNG\r\n\x1a\n"), ErrUnsupported},
		{"unknown", "exe", []byte("MZ"), ErrUnsupported},
		{"not a zip", filetype.DOCX, []byte("PK\x03\x04 nothing"), ErrDamaged},
		{"no document", filetype.DOCX, buildZip(t, []zipEntry{{name: "a.xml", body: []byte("<a/>")}}), ErrDamaged},
		{"bad xml", filetype.DOCX, buildDOCX(t, "<w:document><w:body></w:document>"), ErrDamaged},
		{"unclosed xml", filetype.ODT, buildODT(t, "<office:document-content><text:p>a"), ErrDamaged},
		{"foreign encoding", filetype.ODT, buildODT(t, `<?xml version="1.0" encoding="EBCDIC"?><a/>`), ErrDamaged},
		{"odd utf16", filetype.TXT, []byte{0xFF, 0xFE, 'a'}, nil},
		{"not a pdf", filetype.PDF, []byte("%PDF-1.4\n garbage %%EOF"), ErrDamaged},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := extract(t, DefaultLimits(), c.typ, c.data)
			if c.want == nil && err != nil || c.want != nil && !errors.Is(err, c.want) {
				t.Errorf("got %v, want %v", err, c.want)
			}
		})
	}
}

// bounded runs an extraction that must fail with want within a few
// seconds: the limits, not the timeout, must stop it (the bound is loose
// because the machines that run the tests are shared).
func bounded(t *testing.T, lim Limits, typ filetype.Type, data []byte, want error) {
	t.Helper()
	start := time.Now()
	_, err := extract(t, lim, typ, data)
	if !errors.Is(err, want) {
		t.Errorf("got %v, want %v", err, want)
	}
	d := time.Since(start)
	if d > 5*time.Second {
		t.Errorf("took %v", d)
	}
	t.Logf("%v after %v", err, d)
}

var (
	bombOnce sync.Once
	bombZero []byte // 1 GiB of zeros, deflated
	bombXML  []byte // empty paragraphs for 1 GiB, deflated
)

func bombs(t *testing.T) {
	bombOnce.Do(func() {
		bombZero = deflateRepeat(t, "\x00", 1<<30)
		bombXML = deflateRepeat(t, "<w:p/>", 1<<30)
	})
}

// rawEntry writes a pre-compressed entry whose header declares size as
// its uncompressed size.
func rawEntry(t *testing.T, zw *zip.Writer, name string, deflated []byte, size uint64) {
	t.Helper()
	w, err := zw.CreateRaw(&zip.FileHeader{
		Name: name, Method: zip.Deflate, CRC32: crc32.ChecksumIEEE(nil),
		CompressedSize64: uint64(len(deflated)), UncompressedSize64: size,
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(deflated); err != nil {
		t.Fatal(err)
	}
}

// bombDOCX makes a DOCX whose document part is deflated as it is and
// declares size bytes uncompressed.
func bombDOCX(t *testing.T, deflated []byte, declared uint64) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, err := zw.Create("[Content_Types].xml")
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprint(w, "<Types/>")
	rawEntry(t, zw, "word/document.xml", deflated, declared)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestZipBombs(t *testing.T) {
	bombs(t)
	if got := inflated(t, bombXML); got < 1<<30-1<<20 {
		t.Fatalf("the bomb inflates to %d bytes", got)
	}
	t.Logf("1 GiB deflates to %d bytes (zeros) and %d bytes (paragraphs)", len(bombZero), len(bombXML))
	// With default limits the bomb ends at MaxUnpacked, long before the
	// timeout; the timed checks use a smaller budget so that a busy
	// machine does not make them flaky.
	if _, err := extract(t, DefaultLimits(), filetype.DOCX, bombDOCX(t, bombXML, 1<<30)); !errors.Is(err, ErrTooLarge) {
		t.Errorf("default limits: %v", err)
	}
	lim := DefaultLimits()
	lim.MaxUnpacked = 4 << 20
	// Declared truthfully or as 100 bytes: the bytes read are counted.
	bounded(t, lim, filetype.DOCX, bombDOCX(t, bombXML, 1<<30), ErrTooLarge)
	bounded(t, lim, filetype.DOCX, bombDOCX(t, bombXML, 100), ErrDamaged)
	bounded(t, lim, filetype.DOCX, bombDOCX(t, bombZero, 1<<30), ErrDamaged)

	// A budget smaller than one header: the budget applies across parts.
	small := lim
	small.MaxUnpacked = 1000
	header := zipEntry{name: "word/header1.xml", body: []byte(strings.Repeat("<w:p/>", 1000))}
	bounded(t, small, filetype.DOCX, buildDOCX(t, docxXML(docxPara(textCS)), header), ErrTooLarge)
}

func TestZipEntries(t *testing.T) {
	entries := make([]zipEntry, 100_000)
	for i := range entries {
		entries[i] = zipEntry{name: fmt.Sprintf("f%d", i), stored: true}
	}
	entries[0] = zipEntry{name: "content.xml", body: []byte(odtXML("<text:p>a</text:p>"))}
	many := buildZip(t, entries)
	bounded(t, DefaultLimits(), filetype.ODT, many, ErrTooLarge)

	// An end record that lies about the count is caught once the
	// directory is read.
	i := bytes.LastIndex(many, []byte("PK\x05\x06"))
	binary.LittleEndian.PutUint16(many[i+8:], 1)
	binary.LittleEndian.PutUint16(many[i+10:], 1)
	_, err := extract(t, DefaultLimits(), filetype.ODT, many)
	if !errors.Is(err, ErrTooLarge) && !errors.Is(err, ErrDamaged) {
		t.Errorf("lying end record: %v", err)
	}
}

func TestXMLDepth(t *testing.T) {
	deep := strings.Repeat("<w:sdt>", 1_000_000) + strings.Repeat("</w:sdt>", 1_000_000)
	bounded(t, DefaultLimits(), filetype.DOCX, buildDOCX(t, docxXML(deep)), ErrTooLarge)
	bounded(t, DefaultLimits(), filetype.ODT, buildODT(t, odtXML(deep)), ErrTooLarge)
}

func TestInputLimit(t *testing.T) {
	lim := DefaultLimits()
	lim.MaxInput = 10
	bounded(t, lim, filetype.TXT, []byte("0123456789a"), ErrTooLarge)
}

// A context that ends is the caller's, not the document's, failure.
func TestCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	x := New(DefaultLimits())
	defer x.Close()
	for _, typ := range []filetype.Type{filetype.TXT, filetype.DOCX, filetype.PDF} {
		_, err := x.Text(ctx, typ, []byte("a"))
		if !errors.Is(err, context.Canceled) || errors.Is(err, ErrTimeout) || errors.Is(err, ErrDamaged) {
			t.Errorf("%s: %v", typ, err)
		}
	}
}

// A slow XML document ends at the timeout with ErrTimeout.
func TestTimeoutXML(t *testing.T) {
	lim := DefaultLimits()
	lim.Timeout = time.Millisecond
	docx := buildDOCX(t, docxXML(strings.Repeat("<w:p/>", 2_000_000)))
	start := time.Now()
	_, err := extract(t, lim, filetype.DOCX, docx)
	if !errors.Is(err, ErrTimeout) || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("got %v, want ErrTimeout", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("took %v", d)
	}
}

// inflated counts the bytes a deflate stream inflates to.
func inflated(t *testing.T, deflated []byte) int64 {
	t.Helper()
	n, err := io.Copy(io.Discard, flate.NewReader(bytes.NewReader(deflated)))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// pdfPages are the lines of a CV page in the five languages.
func pdfPages(n int) [][]string {
	pages := make([][]string, n)
	for i := range pages {
		pages[i] = append([]string{fmt.Sprintf("Strana %d", i+1)}, allLanguages...)
	}
	return pages
}

func TestPDF(t *testing.T) {
	r := mustText(t, filetype.PDF, buildPDF(pdfPages(2)))
	page := strings.Join(allLanguages, "\n")
	want := "Strana 1\n" + page + "\n\nStrana 2\n" + page
	if r.Text != want || r.Pages != 2 || r.Truncated {
		t.Errorf("got %+v, want text\n%q", r, want)
	}
}

func TestPDFPageLimit(t *testing.T) {
	lim := DefaultLimits()
	lim.MaxPages = 3
	r, err := extract(t, lim, filetype.PDF, buildPDF(pdfPages(5)))
	if err != nil || r.Pages != 5 || !r.Truncated || strings.Count(r.Text, "Strana") != 3 {
		t.Errorf("got %+v, %v", r, err)
	}
	// A page tree that claims a billion pages.
	lies := buildPDFStreams([]pdfStream{{data: []byte(pdfContent([]string{textSV}))}}, 1_000_000_000)
	start := time.Now()
	r, err = extract(t, DefaultLimits(), filetype.PDF, lies)
	t.Logf("a billion pages claimed: %+v, %v after %v", r, err, time.Since(start))
	if err == nil && !strings.Contains(r.Text, textSV) {
		t.Errorf("got %+v", r)
	}
}

func TestPDFEncrypted(t *testing.T) {
	w := &pdfWriter{}
	w.buf.WriteString("%PDF-1.4\n")
	pages := w.add("<< /Type /Pages /Kids [] /Count 0 >>")
	root := w.add(fmt.Sprintf("<< /Type /Catalog /Pages %d 0 R >>", pages))
	enc := w.add("<< /Filter /Standard /V 1 /R 2 /O (0123456789abcdef0123456789abcdef) /U (0123456789abcdef0123456789abcdef) /P -4 >>")
	data := w.finish(root)
	data = bytes.Replace(data, []byte("/Root"), fmt.Appendf(nil, "/Encrypt %d 0 R /ID [(a) (a)] /Root", enc), 1)
	_, err := extract(t, DefaultLimits(), filetype.PDF, data)
	if !errors.Is(err, ErrEncrypted) {
		t.Errorf("got %v, want ErrEncrypted", err)
	}
}

// A content stream that inflates to 1 GiB stays within the sandbox's
// memory and the timeout.
func TestPDFBomb(t *testing.T) {
	bombs(t)
	lim := DefaultLimits()
	lim.Timeout = 3 * time.Second
	for name, s := range map[string]pdfStream{
		"zeros":     {dict: "/Filter /FlateDecode", data: bombZero},
		"operators": {dict: "/Filter /FlateDecode", data: deflateRepeat(t, "q 1 0 0 1 0 0 cm ", 1<<30)},
	} {
		start := time.Now()
		r, err := extract(t, lim, filetype.PDF, buildPDFStreams([]pdfStream{s}, -1))
		d := time.Since(start)
		t.Logf("%s: %d bytes of text, %v after %v", name, len(r.Text), err, d)
		if d > lim.Timeout+2*time.Second {
			t.Errorf("%s: took %v", name, d)
		}
	}
}

// The timeout kills the sandbox in the middle of a document, and the next
// document gets a fresh one.
func TestPDFTimeout(t *testing.T) {
	lim := DefaultLimits()
	lim.Timeout = 50 * time.Millisecond
	x := New(lim)
	defer x.Close()
	start := time.Now()
	_, err := x.Text(context.Background(), filetype.PDF, buildPDF(pdfPages(200)))
	if !errors.Is(err, ErrTimeout) {
		t.Errorf("got %v, want ErrTimeout", err)
	}
	t.Logf("%v after %v", err, time.Since(start))
	// The same extractor reads the next document: with the default time,
	// so that what is checked is the recovery from the timeout, not how
	// fast a loaded machine reads one page in 50 ms.
	x.lim.Timeout = DefaultLimits().Timeout
	start = time.Now()
	r, err := x.Text(context.Background(), filetype.PDF, buildPDF(pdfPages(1)))
	if err != nil || !strings.Contains(r.Text, textCS) {
		t.Errorf("after a timeout: %+v, %v", r, err)
	}
	t.Logf("the next document read in %v", time.Since(start))
}

// Documents read at the same time each get their own sandbox.
func TestPDFConcurrent(t *testing.T) {
	x := New(DefaultLimits())
	defer x.Close()
	var wg sync.WaitGroup
	for i := range 6 {
		wg.Go(func() {
			r, err := x.Text(context.Background(), filetype.PDF, buildPDF(pdfPages(i+1)))
			if err != nil || r.Pages != i+1 {
				t.Errorf("%d: %+v, %v", i, r, err)
			}
		})
	}
	wg.Wait()
	if err := x.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := x.Text(context.Background(), filetype.PDF, buildPDF(pdfPages(1))); !errors.Is(err, errClosed) {
		t.Errorf("after Close: %v", err)
	}
}
