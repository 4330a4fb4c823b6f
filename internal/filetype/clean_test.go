package filetype_test

import (
	"archive/zip"
	"bytes"
	"compress/zlib"
	"context"
	"encoding/binary"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kandidat/kandidat/internal/extract"
	"github.com/kandidat/kandidat/internal/filetype"
	"github.com/kandidat/kandidat/internal/i18n"
	"github.com/kandidat/kandidat/internal/synth"
)

// planted is in every piece of metadata the samples carry; no cleaned file
// may hold it in any case or encoding checked.
const planted = "Planted"

var lines = []string{"Report of the warehouse", "On 3 May the stock was counted twice.", "Nobody signed the second count."}

func sampleJPEG(t *testing.T) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 8, 8))
	img.Set(1, 1, color.RGBA{200, 10, 10, 255})
	var j bytes.Buffer
	if err := jpeg.Encode(&j, img, nil); err != nil {
		t.Fatal(err)
	}
	b := j.Bytes()
	seg := func(marker byte, payload string) []byte {
		s := []byte{0xFF, marker, 0, 0}
		binary.BigEndian.PutUint16(s[2:], uint16(len(payload)+2))
		return append(s, payload...)
	}
	out := append([]byte{}, b[:2]...)
	out = append(out, seg(0xE1, "Exif\x00\x00MM\x00*GPSLatitude 48.1486N Artist Planted Author")...)
	out = append(out, seg(0xE1, "http://ns.adobe.com/xap/1.0/\x00<dc:creator>Planted Author</dc:creator>")...)
	out = append(out, seg(0xED, "Photoshop 3.0\x008BIM Planted Company")...)
	out = append(out, seg(0xFE, "Planted comment")...)
	return append(out, b[2:]...)
}

func samplePNG(t *testing.T) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 8, 8))
	var p bytes.Buffer
	if err := png.Encode(&p, img); err != nil {
		t.Fatal(err)
	}
	b := p.Bytes()
	ihdrEnd := 8 + 12 + int(binary.BigEndian.Uint32(b[8:12]))
	out := append([]byte{}, b[:ihdrEnd]...)
	for _, c := range []struct{ kind, data string }{
		{"tEXt", "Author\x00Planted Author"},
		{"eXIf", "MM\x00*GPS 48.1486N Planted"},
		{"iTXt", "XML:com.adobe.xmp\x00\x00\x00\x00\x00<dc:creator>Planted Author</dc:creator>"},
	} {
		chunk := binary.BigEndian.AppendUint32(nil, uint32(len(c.data)))
		chunk = append(chunk, c.kind...)
		chunk = append(chunk, c.data...)
		chunk = binary.BigEndian.AppendUint32(chunk, crc32.ChecksumIEEE(chunk[4:]))
		out = append(out, chunk...)
	}
	return append(out, b[ihdrEnd:]...)
}

// zipFile writes entries in order, with the times and comment an office
// suite leaves.
func zipFile(t *testing.T, entries [][2]string) []byte {
	t.Helper()
	var b bytes.Buffer
	w := zip.NewWriter(&b)
	for _, e := range entries {
		h := &zip.FileHeader{Name: e[0], Method: zip.Deflate, Modified: time.Date(2026, 5, 10, 10, 11, 12, 0, time.UTC)}
		if e[0] == "mimetype" {
			h.Method = zip.Store
		}
		fw, err := w.CreateHeader(h)
		if err != nil {
			t.Fatal(err)
		}
		fw.Write([]byte(e[1]))
	}
	w.SetComment("Planted archive comment")
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// unzip returns the entries in order, and fails on a header with a time
// other than 1980-01-01, an extra field or a comment.
func unzip(t *testing.T, b []byte) ([]string, map[string][]byte) {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	if zr.Comment != "" {
		t.Errorf("archive comment %q", zr.Comment)
	}
	var names []string
	data := map[string][]byte{}
	for _, f := range zr.File {
		if !f.Modified.Equal(time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)) {
			t.Errorf("%s: time %v, want 1980-01-01", f.Name, f.Modified)
		}
		if len(f.Extra) != 0 {
			t.Errorf("%s: extra field %x", f.Name, f.Extra)
		}
		if f.Comment != "" {
			t.Errorf("%s: comment %q", f.Name, f.Comment)
		}
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		d, err := io.ReadAll(rc)
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, f.Name)
		data[f.Name] = d
	}
	return names, data
}

// checkClean fails when planted (as text, UTF-16 or hex) is in b.
func checkClean(t *testing.T, where string, b []byte) {
	t.Helper()
	// ASCII only, so that offsets stay those of b.
	lower := make([]byte, len(b))
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		lower[i] = c
	}
	utf16 := []byte("\x00p\x00l\x00a\x00n\x00t\x00e\x00d")
	for _, needle := range [][]byte{[]byte("planted"), utf16, []byte(hex.EncodeToString([]byte(planted)))} {
		if i := bytes.Index(lower, bytes.ToLower(needle)); i >= 0 {
			t.Errorf("%s still holds %q: …%q…", where, needle, b[max(0, i-40):min(len(b), i+60)])
		}
	}
}

// checkXML fails when an XML entry is no longer well formed.
func checkXML(t *testing.T, name string, data []byte) {
	t.Helper()
	if !strings.HasSuffix(name, ".xml") && !strings.HasSuffix(name, ".rels") {
		return
	}
	d := xml.NewDecoder(bytes.NewReader(data))
	for {
		_, err := d.Token()
		if err == io.EOF {
			return
		}
		if err != nil {
			t.Errorf("%s is not well formed: %v\n%s", name, err, data)
			return
		}
	}
}

var (
	extractorOnce sync.Once
	extractor     *extract.Extractor
)

func textOf(t *testing.T, typ filetype.Type, b []byte) string {
	t.Helper()
	extractorOnce.Do(func() { extractor = extract.New(extract.DefaultLimits()) })
	r, err := extractor.Text(context.Background(), typ, b)
	if err != nil {
		t.Fatalf("extract %s: %v", typ, err)
	}
	return r.Text
}

// cleaned runs Clean and checks what every type must keep: the type, and
// the text.
func cleaned(t *testing.T, typ filetype.Type, in []byte) ([]byte, []filetype.Leftover) {
	t.Helper()
	if !bytes.Contains(in, []byte(planted)) && typ != filetype.DOCX && typ != filetype.ODT {
		t.Fatal("the sample lacks its planted metadata")
	}
	if got, err := filetype.Detect(in); got != typ || err != nil {
		t.Fatalf("sample: Detect = %q %v, want %s", got, err, typ)
	}
	out, left, err := filetype.Clean(typ, in)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := filetype.Detect(out); got != typ || err != nil {
		t.Errorf("cleaned: Detect = %q %v, want %s", got, err, typ)
	}
	for _, l := range left {
		if !slices.Contains(filetype.Leftovers, l) {
			t.Errorf("leftover %q is not in Leftovers", l)
		}
	}
	return out, left
}

func TestCleanImages(t *testing.T) {
	for _, tc := range []struct {
		typ filetype.Type
		in  []byte
	}{{filetype.JPEG, sampleJPEG(t)}, {filetype.PNG, samplePNG(t)}} {
		out, left := cleaned(t, tc.typ, tc.in)
		checkClean(t, string(tc.typ), out)
		if left != nil {
			t.Errorf("%s: leftovers %v, want none", tc.typ, left)
		}
		if _, _, err := image.Decode(bytes.NewReader(out)); err != nil {
			t.Errorf("%s: cleaned image does not decode: %v", tc.typ, err)
		}
	}
}

func TestCleanText(t *testing.T) {
	in := []byte("Nothing but text.\n")
	out, left, err := filetype.Clean(filetype.TXT, in)
	if err != nil || !bytes.Equal(out, in) || left != nil {
		t.Errorf("got %q %v %v, want the text unchanged", out, left, err)
	}
	if _, _, err := filetype.Clean("exe", in); !errors.Is(err, filetype.ErrUnsupported) {
		t.Errorf("unknown type: %v, want ErrUnsupported", err)
	}
}

// plantedDOCX is synth's DOCX with what Word writes about its author.
func plantedDOCX(t *testing.T) []byte {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(synth.DOCX(lines)), int64(len(synth.DOCX(lines))))
	if err != nil {
		t.Fatal(err)
	}
	base := map[string]string{}
	for _, f := range zr.File {
		rc, _ := f.Open()
		d, _ := io.ReadAll(rc)
		base[f.Name] = string(d)
	}
	doc := strings.Replace(base["word/document.xml"], "</w:body>",
		`<w:p><w:ins w:id="1" w:author="Planted Author" w:date="2026-05-10T10:11:12Z"><w:r><w:t>Added later.</w:t></w:r></w:ins>`+
			`<w:commentRangeStart w:id="0"/><w:r><w:t>See note.</w:t></w:r><w:commentRangeEnd w:id="0"/>`+
			`<w:r><w:commentReference w:id="0"/></w:r></w:p>`+
			`<w:p><w:r><w:drawing><a:blip xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" r:embed="rId9" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"/></w:drawing></w:r></w:p></w:body>`, 1)
	contentTypes := strings.Replace(base["[Content_Types].xml"], "</Types>",
		`<Default Extension="jpeg" ContentType="image/jpeg"/>`+
			`<Override PartName="/docProps/core.xml" ContentType="application/vnd.openxmlformats-package.core-properties+xml"/>`+
			`<Override PartName="/docProps/app.xml" ContentType="application/vnd.openxmlformats-officedocument.extended-properties+xml"/>`+
			`<Override PartName="/docProps/custom.xml" ContentType="application/vnd.openxmlformats-officedocument.custom-properties+xml"/>`+
			`<Override PartName="/customXml/itemProps1.xml" ContentType="application/vnd.openxmlformats-officedocument.customXmlProperties+xml"/>`+
			`<Override PartName="/word/comments.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.comments+xml"/>`+
			`<Override PartName="/word/people.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.people+xml"/>`+
			`<Override PartName="/word/settings.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.settings+xml"/>`+
			`</Types>`, 1)
	rels := strings.Replace(base["_rels/.rels"], "</Relationships>",
		`<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties" Target="docProps/core.xml"/>`+
			`<Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/extended-properties" Target="docProps/app.xml"/>`+
			`<Relationship Id="rId4" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/custom-properties" Target="docProps/custom.xml"></Relationship>`+
			`</Relationships>`, 1)
	return zipFile(t, [][2]string{
		{"[Content_Types].xml", contentTypes},
		{"_rels/.rels", rels},
		{"word/document.xml", doc},
		{"word/_rels/document.xml.rels", `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">` +
			`<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/settings" Target="settings.xml"/>` +
			`<Relationship Id="rId5" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/comments" Target="comments.xml"/>` +
			`<Relationship Id="rId6" Type="http://schemas.microsoft.com/office/2011/relationships/people" Target="people.xml"/>` +
			`<Relationship Id="rId7" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/customXml" Target="../customXml/item1.xml"/>` +
			`<Relationship Id="rId9" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/image" Target="media/image1.jpeg"/>` +
			`</Relationships>`},
		{"word/settings.xml", `<w:settings xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><w:attachedTemplate r:id="rId1"/></w:settings>`},
		{"word/_rels/settings.xml.rels", `<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/attachedTemplate" Target="file:///C:\Users\planted.author\AppData\Roaming\Microsoft\Templates\Normal.dotm" TargetMode="External"/></Relationships>`},
		{"word/comments.xml", `<w:comments xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:comment w:id="0" w:author="Planted Author" w:date="2026-05-10T10:11:12Z" w:initials="PA"><w:p><w:r><w:t>Check this.</w:t></w:r></w:p></w:comment></w:comments>`},
		{"word/people.xml", `<w15:people xmlns:w15="http://schemas.microsoft.com/office/word/2012/wordml"><w15:person w15:author="Planted Author"><w15:presenceInfo w15:providerId="AD" w15:userId="S::planted.author@example.com::7b1c"/></w15:person></w15:people>`},
		{"word/media/image1.jpeg", string(sampleJPEG(t))},
		{"docProps/core.xml", `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">` +
			`<dc:title>Planted Title</dc:title><dc:creator>Planted Author</dc:creator><cp:lastModifiedBy>Planted Author</cp:lastModifiedBy>` +
			`<dcterms:created xsi:type="dcterms:W3CDTF">2026-05-10T10:11:12Z</dcterms:created></cp:coreProperties>`},
		{"docProps/app.xml", `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties"><Template>Planted.dotm</Template><TotalTime>417</TotalTime><Company>Planted Company</Company><Manager>Planted Manager</Manager></Properties>`},
		{"docProps/custom.xml", `<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/custom-properties"><property name="Department">Planted Department</property></Properties>`},
		{"customXml/item1.xml", `<CoverPageProperties><CompanyEmail>planted@example.com</CompanyEmail></CoverPageProperties>`},
		{"customXml/itemProps1.xml", `<ds:datastoreItem xmlns:ds="http://schemas.openxmlformats.org/officeDocument/2006/customXml" ds:itemID="{Planted}"/>`},
		{"customXml/_rels/item1.xml.rels", `<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/customXmlProps" Target="itemProps1.xml"/></Relationships>`},
	})
}

func TestCleanDOCX(t *testing.T) {
	in := plantedDOCX(t)
	out, left := cleaned(t, filetype.DOCX, in)
	if left != nil {
		t.Errorf("leftovers %v, want none", left)
	}
	checkClean(t, "the archive", out)
	names, entries := unzip(t, out)
	for name, data := range entries {
		checkClean(t, name, data)
		checkXML(t, name, data)
	}
	for _, gone := range []string{"docProps/custom.xml", "customXml/item1.xml", "customXml/itemProps1.xml", "customXml/_rels/item1.xml.rels"} {
		if slices.Contains(names, gone) {
			t.Errorf("%s is still there", gone)
		}
	}
	for _, name := range []string{"[Content_Types].xml", "_rels/.rels", "word/_rels/document.xml.rels"} {
		if d := string(entries[name]); strings.Contains(d, "custom") {
			t.Errorf("%s still names a dropped part: %s", name, d)
		}
	}
	if !strings.Contains(string(entries["[Content_Types].xml"]), `PartName="/word/comments.xml"`) ||
		!strings.Contains(string(entries["word/_rels/document.xml.rels"]), `Target="comments.xml"`) {
		t.Error("a kept part lost its content type or relationship")
	}
	core := string(entries["docProps/core.xml"])
	if !strings.Contains(core, "<cp:coreProperties") || strings.Contains(core, "creator") || strings.Contains(core, "created") {
		t.Errorf("core properties: %s", core)
	}
	app := string(entries["docProps/app.xml"])
	for _, field := range []string{"Company", "Manager", "Template", "TotalTime"} {
		if strings.Contains(app, field) {
			t.Errorf("app.xml keeps %s: %s", field, app)
		}
	}
	for name, data := range entries {
		if bytes.Contains(data, []byte("2026-05-10")) {
			t.Errorf("%s keeps a date: %s", name, data)
		}
	}
	if c := string(entries["word/comments.xml"]); !strings.Contains(c, `w:author=""`) || !strings.Contains(c, `w:initials=""`) {
		t.Errorf("comments: %s", c)
	}
	if _, _, err := image.Decode(bytes.NewReader(entries["word/media/image1.jpeg"])); err != nil {
		t.Errorf("the picture does not decode: %v", err)
	}
	if got, want := textOf(t, filetype.DOCX, out), textOf(t, filetype.DOCX, in); got != want || !strings.Contains(got, lines[1]) {
		t.Errorf("text after cleaning:\n%q\nwant\n%q", got, want)
	}
}

func TestCleanODT(t *testing.T) {
	content := `<?xml version="1.0" encoding="UTF-8"?>
<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:meta="urn:oasis:names:tc:opendocument:xmlns:meta:1.0" office:version="1.3"><office:body><office:text>` +
		`<text:tracked-changes><text:changed-region text:id="ct1"><text:insertion><office:change-info><dc:creator>Planted Author</dc:creator><dc:date>2026-05-10T10:11:12</dc:date></office:change-info></text:insertion></text:changed-region></text:tracked-changes>` +
		`<text:p>` + lines[0] + `</text:p><text:p>` + lines[1] + `<office:annotation><dc:creator>Planted Author</dc:creator><meta:creator-initials>PA</meta:creator-initials><dc:date>2026-05-10T10:11:12</dc:date><text:p>Check.</text:p></office:annotation></text:p><text:p>` + lines[2] + `</text:p>` +
		`</office:text></office:body></office:document-content>`
	meta := `<?xml version="1.0" encoding="UTF-8"?>
<office:document-meta xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:meta="urn:oasis:names:tc:opendocument:xmlns:meta:1.0" xmlns:dc="http://purl.org/dc/elements/1.1/" office:version="1.3"><office:meta>` +
		`<meta:initial-creator>Planted Author</meta:initial-creator><dc:creator>Planted Author</dc:creator><meta:creation-date>2026-05-10T10:11:12</meta:creation-date>` +
		`<meta:user-defined meta:name="Company">Planted Company</meta:user-defined><meta:editing-duration>PT1H</meta:editing-duration></office:meta></office:document-meta>`
	settings := `<office:document-settings xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:config="urn:oasis:names:tc:opendocument:xmlns:config:1.0"><office:settings><config:config-item-set config:name="ooo:configuration-settings">` +
		`<config:config-item config:name="PrinterName" config:type="string">Planted Printer 4th floor</config:config-item>` +
		`<config:config-item config:name="PrinterSetup" config:type="base64Binary">` + hex.EncodeToString([]byte("Planted")) + `</config:config-item>` +
		`</config:config-item-set></office:settings></office:document-settings>`
	manifest := `<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.3"><manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.text"/></manifest:manifest>`
	for _, first := range []bool{true, false} {
		entries := [][2]string{
			{"content.xml", content}, {"meta.xml", meta}, {"settings.xml", settings},
			{"META-INF/manifest.xml", manifest}, {"Pictures/photo.png", string(samplePNG(t))},
			{"Object 1/meta.xml", meta}, {"Object 1/content.xml", "<office:document-content/>"},
		}
		mimetype := [2]string{"mimetype", "application/vnd.oasis.opendocument.text"}
		if first {
			entries = append([][2]string{mimetype}, entries...)
		} else {
			entries = append(entries[:1], append([][2]string{mimetype}, entries[1:]...)...)
		}
		in := zipFile(t, entries)
		out, left := cleaned(t, filetype.ODT, in)
		if left != nil {
			t.Errorf("leftovers %v, want none", left)
		}
		checkClean(t, "the archive", out)
		names, data := unzip(t, out)
		for name, d := range data {
			checkClean(t, name, d)
			checkXML(t, name, d)
			if bytes.Contains(d, []byte("2026-05-10")) {
				t.Errorf("%s keeps a date: %s", name, d)
			}
		}
		if len(names) != len(entries) || names[0] != "mimetype" {
			t.Errorf("mimetype first %v: entries %v", first, names)
		}
		zr, _ := zip.NewReader(bytes.NewReader(out), int64(len(out)))
		if zr.File[0].Method != zip.Store {
			t.Errorf("mimetype stored with method %d", zr.File[0].Method)
		}
		if !bytes.HasPrefix(out[30:], []byte("mimetypeapplication/vnd.oasis.opendocument.text")) {
			t.Errorf("the archive does not start with the stored mimetype: %q", out[:90])
		}
		if got, want := textOf(t, filetype.ODT, out), textOf(t, filetype.ODT, in); got != want || !strings.Contains(got, lines[1]) {
			t.Errorf("text after cleaning:\n%q\nwant\n%q", got, want)
		}
	}
}

// pdfUpdate appends an incremental update of objects to a PDF and returns
// it; the objects are written as given, the cross-reference table and
// trailer computed.
func pdfUpdate(t *testing.T, b []byte, objects map[int]string, trailer string) []byte {
	t.Helper()
	prev := bytes.LastIndex(b, []byte("startxref"))
	if prev < 0 {
		t.Fatal("no startxref")
	}
	prevXref, err := strconv.Atoi(strings.TrimSpace(string(b[prev+len("startxref") : bytes.LastIndex(b, []byte("%%EOF"))])))
	if err != nil {
		t.Fatal(err)
	}
	nums := make([]int, 0, len(objects))
	for n := range objects {
		nums = append(nums, n)
	}
	slices.Sort(nums)
	out := slices.Clone(b)
	offsets := map[int]int{}
	for _, n := range nums {
		offsets[n] = len(out)
		out = fmt.Appendf(out, "%d 0 obj\n%s\nendobj\n", n, objects[n])
	}
	xref := len(out)
	out = append(out, "xref\n"...)
	for _, n := range nums {
		out = fmt.Appendf(out, "%d 1\n%010d 00000 n \n", n, offsets[n])
	}
	out = fmt.Appendf(out, "trailer\n<< %s /Prev %d >>\nstartxref\n%d\n%%%%EOF\n", trailer, prevXref, xref)
	return out
}

func stream(dict string, data []byte) string {
	return fmt.Sprintf("<< %s /Length %d >>\nstream\n%s\nendstream", dict, len(data), data)
}

func plantedPDF(t *testing.T) []byte {
	t.Helper()
	base := synth.PDF(lines)
	size := bytes.Count(base, []byte(" 0 obj\n")) + 1 // objects 1..size-1
	info, xmp, img, annot := size, size+1, size+2, size+3
	xmpData := `<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?><x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:creator>Planted Author</dc:creator></rdf:Description></rdf:RDF></x:xmpmeta><?xpacket end="w"?>`
	root := fmt.Sprintf("/Root 1 0 R /Info %d 0 R /ID [<%s><%s>]", info, hex.EncodeToString([]byte("Planted ID 1")), hex.EncodeToString([]byte("Planted ID 2")))
	b := pdfUpdate(t, base, map[int]string{
		1: fmt.Sprintf("<< /Type /Catalog /Pages 2 0 R /Metadata %d 0 R >>", xmp),
		7: fmt.Sprintf("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 3 0 R >> /XObject << /Im1 %d 0 R >> >> /Contents 8 0 R /Annots [%d 0 R] >>", img, annot),
		info: "<< /Author (Planted Author) /Creator (Planted Creator \\(v2\\)) /Producer (Planted Producer)" +
			" /Title (Planted Title) /Subject (Planted) /Keywords (Planted, Company) /Company (Planted Company)" +
			" /CreationDate (D:20260510101112+02'00') /ModDate (D:20260510101112+02'00') >>",
		xmp:   stream("/Type /Metadata /Subtype /XML", []byte(xmpData)),
		img:   stream("/Type /XObject /Subtype /Image /Width 8 /Height 8 /ColorSpace /DeviceRGB /BitsPerComponent 8 /Filter /DCTDecode", sampleJPEG(t)),
		annot: "<< /Type /Annot /Subtype /Text /Rect [10 10 30 30] /T (Planted Author) /Contents (Check.) /M (D:20260510101112Z) /CreationDate (D:20260510101112Z) >>",
	}, fmt.Sprintf("/Size %d %s", size+4, root))
	// A second update changes the information dictionary again: the first
	// version stays in the file and must be cleaned as well.
	title := "\xFE\xFF" + string([]byte{0, 'P', 0, 'l', 0, 'a', 0, 'n', 0, 't', 0, 'e', 0, 'd'})
	return pdfUpdate(t, b, map[int]string{
		info:     fmt.Sprintf("<< /Author <%s> /Title (%s) /Producer %d 0 R >>", hex.EncodeToString([]byte("Planted Author 2")), title, size+4),
		size + 4: "(Planted Producer 2)",
	}, fmt.Sprintf("/Size %d %s", size+5, root))
}

func TestCleanPDF(t *testing.T) {
	in := plantedPDF(t)
	out, left := cleaned(t, filetype.PDF, in)
	if left != nil {
		t.Errorf("leftovers %v, want none", left)
	}
	checkClean(t, "the PDF", out)
	if len(out) != len(in) {
		t.Errorf("length %d, want %d (offsets must not move)", len(out), len(in))
	}
	if bytes.Contains(out, []byte("D:2026")) {
		t.Error("a date survived")
	}
	if !bytes.Contains(out, []byte("<x:xmpmeta xmlns:x=\"adobe:ns:meta/\"/>")) {
		t.Error("the XMP stream was not replaced by an empty packet")
	}
	if got, want := textOf(t, filetype.PDF, out), textOf(t, filetype.PDF, synth.PDF(lines)); got != want {
		t.Errorf("text after cleaning:\n%q\nwant\n%q", got, want)
	}
	// The embedded photo still decodes.
	i := bytes.Index(out, []byte("/Filter /DCTDecode"))
	j := bytes.Index(out[i:], []byte("stream\n"))
	start := i + j + len("stream\n")
	end := start + bytes.Index(out[start:], []byte("\nendstream"))
	if _, err := jpeg.Decode(bytes.NewReader(out[start:end])); err != nil {
		t.Errorf("the embedded JPEG does not decode: %v", err)
	}
}

func TestCleanPDFLeftovers(t *testing.T) {
	base := synth.PDF(lines)
	size := bytes.Count(base, []byte(" 0 obj\n")) + 1
	deflate := func(s string) []byte {
		var b bytes.Buffer
		w := zlib.NewWriter(&b)
		w.Write([]byte(s))
		w.Close()
		return b.Bytes()
	}
	var flatJPEG bytes.Buffer
	w := zlib.NewWriter(&flatJPEG)
	w.Write(sampleJPEG(t))
	w.Close()
	objStm := "<< /Author (Planted Author) >>"
	header := fmt.Sprintf("%d 0 ", size+1)
	cases := []struct {
		name    string
		objects map[int]string
		trailer string
		want    []filetype.Leftover
	}{
		{"photo compressed twice", map[int]string{size: stream("/Subtype /Image /Filter [/FlateDecode /DCTDecode]", flatJPEG.Bytes())}, "", []filetype.Leftover{filetype.LeftPDFImages}},
		{"JPEG 2000", map[int]string{size: stream("/Subtype /Image /Filter /JPXDecode", []byte("jp2"))}, "", []filetype.Leftover{filetype.LeftPDFImages}},
		{"information in an object stream", map[int]string{
			size: stream(fmt.Sprintf("/Type /ObjStm /N 1 /First %d /Filter /FlateDecode", len(header)), deflate(header+objStm)),
		}, fmt.Sprintf("/Info %d 0 R", size+1), []filetype.Leftover{filetype.LeftPDFMetadata}},
		{"object stream that does not unpack", map[int]string{size: stream("/Type /ObjStm /N 1 /First 4 /Filter /LZWDecode", []byte("junk"))}, "", []filetype.Leftover{filetype.LeftPDFMetadata}},
		{"signed", map[int]string{size: "<< /Type /Sig /Filter /Adobe.PPKLite /ByteRange [0 1 2 3] /Contents <00> >>"}, "", []filetype.Leftover{filetype.LeftPDFSignature}},
		{"attachment", map[int]string{size: stream("/Type /EmbeddedFile", []byte("hello"))}, "", []filetype.Leftover{filetype.LeftPDFAttachments}},
		{"encrypted with a photo", map[int]string{
			size:     stream("/Subtype /Image /Filter /DCTDecode", sampleJPEG(t)),
			size + 1: "<< /Filter /Standard /V 2 /R 3 /O <00> /U <00> /P -4 >>",
		}, fmt.Sprintf("/Encrypt %d 0 R", size+1), []filetype.Leftover{filetype.LeftPDFImages}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := pdfUpdate(t, base, tc.objects, fmt.Sprintf("/Size %d /Root 1 0 R %s", size+2, tc.trailer))
			out, left, err := filetype.Clean(filetype.PDF, in)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(left, tc.want) {
				t.Errorf("leftovers %v, want %v", left, tc.want)
			}
			if len(out) != len(in) {
				t.Errorf("length %d, want %d", len(out), len(in))
			}
		})
	}
}

func TestCleanZipLimits(t *testing.T) {
	// A bomb: 30 MB of zeros in a few kilobytes.
	var bomb bytes.Buffer
	zw := zip.NewWriter(&bomb)
	for _, name := range []string{"[Content_Types].xml", "word/document.xml"} {
		f, _ := zw.Create(name)
		f.Write([]byte("<x/>"))
	}
	f, _ := zw.Create("word/media/zeros.bin")
	zero := make([]byte, 1<<20)
	for range 30 {
		f.Write(zero)
	}
	zw.Close()
	if _, _, err := filetype.Clean(filetype.DOCX, bomb.Bytes()); !errors.Is(err, filetype.ErrTooLarge) {
		t.Errorf("zip bomb of %d bytes: %v, want ErrTooLarge", bomb.Len(), err)
	}

	var many bytes.Buffer
	zw = zip.NewWriter(&many)
	for i := range 10_001 {
		zw.CreateHeader(&zip.FileHeader{Name: strconv.Itoa(i), Method: zip.Store})
	}
	zw.Close()
	if _, _, err := filetype.Clean(filetype.DOCX, many.Bytes()); !errors.Is(err, filetype.ErrTooLarge) {
		t.Errorf("10,001 entries: %v, want ErrTooLarge", err)
	}

	if _, _, err := filetype.Clean(filetype.ODT, []byte("PK\x03\x04junk")); !errors.Is(err, filetype.ErrDamaged) {
		t.Errorf("damaged zip: %v, want ErrDamaged", err)
	}
}

func TestLeftoversAreTranslated(t *testing.T) {
	b, err := i18n.Load()
	if err != nil {
		t.Fatal(err)
	}
	for _, lang := range i18n.Languages {
		keys := b.Keys(lang)
		for _, l := range filetype.Leftovers {
			if !slices.Contains(keys, string(l)) {
				t.Errorf("%s: no message for %s", lang, l)
			}
		}
	}
}
