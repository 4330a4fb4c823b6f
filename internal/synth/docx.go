package synth

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"io"
	"sync"
	"time"
	"unicode/utf8"
)

// docxTime is the modification time of every DOCX entry: fixed, so that the
// same lines always give the same bytes.
var docxTime = time.Date(2025, time.January, 1, 12, 0, 0, 0, time.UTC)

const docxContentTypes = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">` +
	`<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>` +
	`<Default Extension="xml" ContentType="application/xml"/>` +
	`<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>` +
	`</Types>`

const docxRels = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">` +
	`<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/>` +
	`</Relationships>`

const docxHead = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>`

// The section: A4 with 2 cm margins (in twentieths of a point).
const docxTail = `<w:sectPr><w:pgSz w:w="11906" w:h="16838"/>` +
	`<w:pgMar w:top="1134" w:right="1134" w:bottom="1134" w:left="1134" w:header="709" w:footer="709" w:gutter="0"/>` +
	`</w:sectPr></w:body></w:document>`

// docxFlate holds the compressors of DOCX: making one costs more than a
// whole document.
var docxFlate = sync.Pool{New: func() any {
	w, _ := flate.NewWriter(io.Discard, flate.BestSpeed)
	return w
}}

// pooledFlate returns its compressor to docxFlate when closed.
type pooledFlate struct{ w *flate.Writer }

func (p *pooledFlate) Write(b []byte) (int, error) { return p.w.Write(b) }

func (p *pooledFlate) Close() error {
	err := p.w.Close()
	docxFlate.Put(p.w)
	p.w = nil
	return err
}

func docxCompressor(out io.Writer) (io.WriteCloser, error) {
	w := docxFlate.Get().(*flate.Writer)
	w.Reset(out)
	return &pooledFlate{w}, nil
}

// DOCX renders lines as a minimal Office Open XML document: one paragraph
// a line (an empty one for an empty line), the first in bold as a title. It has no metadata (no docProps),
// and the same lines always give the same bytes.
func DOCX(lines []string) []byte {
	doc := make([]byte, 0, 1024+64*len(lines))
	doc = append(doc, docxHead...)
	for i, line := range lines {
		switch {
		case line == "":
			doc = append(doc, `<w:p><w:pPr><w:spacing w:after="0"/></w:pPr></w:p>`...)
			continue
		case i == 0:
			doc = append(doc, `<w:p><w:pPr><w:spacing w:after="120"/></w:pPr>`+
				`<w:r><w:rPr><w:b/><w:sz w:val="32"/></w:rPr><w:t xml:space="preserve">`...)
		default:
			doc = append(doc, `<w:p><w:pPr><w:spacing w:after="0"/></w:pPr><w:r><w:t xml:space="preserve">`...)
		}
		doc = appendXMLText(doc, line)
		doc = append(doc, "</w:t></w:r></w:p>"...)
	}
	doc = append(doc, docxTail...)

	var buf bytes.Buffer
	buf.Grow(len(doc)/2 + 1024)
	zw := zip.NewWriter(&buf)
	zw.RegisterCompressor(zip.Deflate, docxCompressor)
	for _, e := range docxStatic {
		h := e.header
		w, err := zw.CreateRaw(&h)
		mustZip(err)
		_, err = w.Write(e.compressed)
		mustZip(err)
	}
	w, err := zw.CreateHeader(&zip.FileHeader{Name: "word/document.xml", Method: zip.Deflate, Modified: docxTime})
	mustZip(err)
	_, err = w.Write(doc)
	mustZip(err)
	mustZip(zw.Close())
	return buf.Bytes()
}

// mustZip panics on an error of writing a zip file to memory, which cannot
// happen.
func mustZip(err error) {
	if err != nil {
		panic("synth: docx: " + err.Error())
	}
}

// staticEntry is a DOCX entry that never changes: its header and its
// compressed bytes.
type staticEntry struct {
	header     zip.FileHeader
	compressed []byte
}

// docxStatic are the entries before word/document.xml: compressed once,
// then copied as they are into every file.
var docxStatic = func() []staticEntry {
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	for _, f := range [][2]string{
		{"[Content_Types].xml", docxContentTypes},
		{"_rels/.rels", docxRels},
	} {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: f[0], Method: zip.Deflate, Modified: docxTime})
		mustZip(err)
		_, err = w.Write([]byte(f[1]))
		mustZip(err)
	}
	mustZip(zw.Close())
	zr, err := zip.NewReader(bytes.NewReader(b.Bytes()), int64(b.Len()))
	mustZip(err)
	var entries []staticEntry
	for _, f := range zr.File {
		rc, err := f.OpenRaw()
		mustZip(err)
		data, err := io.ReadAll(rc)
		mustZip(err)
		entries = append(entries, staticEntry{f.FileHeader, data})
	}
	return entries
}()

// appendXMLText appends s escaped as XML character data, without the
// characters XML forbids (tabs become spaces).
func appendXMLText(b []byte, s string) []byte {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			i++
			switch {
			case c == '&':
				b = append(b, "&amp;"...)
			case c == '<':
				b = append(b, "&lt;"...)
			case c == '>':
				b = append(b, "&gt;"...)
			case c == '\t':
				b = append(b, ' ')
			case c < 0x20 || c == 0x7F:
			default:
				b = append(b, c)
			}
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if r != utf8.RuneError && r != 0xFFFE && r != 0xFFFF && (r < 0x80 || r > 0x9F) {
			b = append(b, s[i:i+n]...)
		}
		i += n
	}
	return b
}
