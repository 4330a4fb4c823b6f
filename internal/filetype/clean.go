package filetype

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"path"
	"regexp"
	"slices"
	"strings"
)

// Leftover names what Clean could not remove, as a message key the page
// translates ("filetype.left.pdf_images", ...), never file content.
type Leftover string

// What Clean may leave behind.
const (
	// LeftPDFMetadata: details of the PDF's author are in a compressed part
	// of the file that Clean cannot rewrite in place.
	LeftPDFMetadata Leftover = "filetype.left.pdf_metadata"
	// LeftPDFImages: photos inside the PDF are compressed twice (or are
	// JPEG 2000, or the PDF is encrypted), so their camera details stay.
	LeftPDFImages Leftover = "filetype.left.pdf_images"
	// LeftPDFSignature: the PDF is digitally signed; the signature names
	// the signer.
	LeftPDFSignature Leftover = "filetype.left.pdf_signature"
	// LeftPDFAttachments: files attached inside the PDF were not cleaned.
	LeftPDFAttachments Leftover = "filetype.left.pdf_attachments"
	// LeftEmbeddedImages: pictures inside a document are of a kind Clean
	// does not clean (TIFF, WebP, HEIF) or damaged.
	LeftEmbeddedImages Leftover = "filetype.left.embedded_images"
	// LeftEmbeddedFiles: documents embedded in a DOCX (a spreadsheet, an
	// OLE object) keep their own metadata.
	LeftEmbeddedFiles Leftover = "filetype.left.embedded_files"
)

// Leftovers lists every Leftover Clean returns.
var Leftovers = []Leftover{LeftPDFMetadata, LeftPDFImages, LeftPDFSignature, LeftPDFAttachments, LeftEmbeddedImages, LeftEmbeddedFiles}

// ErrTooLarge: an archive has more entries, or unpacks to more bytes (or
// at a higher ratio), than Clean reads; a zip bomb ends here.
var ErrTooLarge = errors.New("file unpacks beyond the limits")

// The limits of reading an archive in Clean.
const (
	cleanMaxEntries  = 10_000
	cleanMaxUnpacked = 64 << 20 // bytes decompressed, all entries together
	cleanMaxRatio    = 100      // decompressed bytes per byte of the archive
	cleanMinBudget   = 1 << 20  // small archives may always unpack this much
)

// cleanDOSDate is the date of every entry of a cleaned archive, in MS-DOS
// form (1980-01-01, at midnight): the earliest a zip file can tell, so
// that the archive carries no time of its own.
const cleanDOSDate = 1<<5 | 1

// Clean returns b without the metadata it can remove, and what it could
// not. b has type t as told by Detect; a malformed file fails with
// ErrDamaged, an archive beyond the limits with ErrTooLarge.
//
//   - JPEG, PNG: as StripMetadata.
//   - DOCX: the core properties are emptied, the extended properties
//     (company, manager, template, total editing time, titles of parts)
//     emptied, the custom properties and custom XML parts dropped with
//     their relationships and content types; the authors and initials of
//     comments, tracked changes and co-authors are replaced by "" and their
//     dates by 1980-01-01; local file links (a template on the author's
//     disk) lose their path; JPEG and PNG pictures are stripped.
//   - ODT: meta.xml (also of embedded objects) is emptied, the creators of
//     comments and tracked changes replaced by "" and their dates by
//     1980-01-01, the printer's name and set-up removed, pictures stripped;
//     mimetype stays the first entry, stored.
//   - PDF: rewritten in place, byte for byte the same length, so that every
//     cross-reference of every incremental update stays true and every
//     revision is cleaned: the entries of the document information
//     dictionaries, the XMP metadata streams, the file identifiers (unless
//     encrypted), the authors and dates of annotations, and the EXIF, XMP,
//     IPTC and comment segments of JPEG images.
//   - TXT: unchanged.
//
// Every zip entry is written with the time 1980-01-01 and without extra
// fields or comments.
func Clean(t Type, b []byte) ([]byte, []Leftover, error) {
	switch t {
	case JPEG, PNG:
		out, err := StripMetadata(t, b)
		return out, nil, err
	case TXT:
		return b, nil, nil
	case DOCX, ODT:
		return cleanZip(t, b)
	case PDF:
		if err := checkPDF(b); err != nil {
			return nil, nil, err
		}
		out, left := cleanPDF(b)
		return out, left, nil
	}
	return nil, nil, fmt.Errorf("%w: %q", ErrUnsupported, t)
}

// leftovers collects what could not be removed, each once.
type leftovers []Leftover

func (l *leftovers) add(x Leftover) {
	if !slices.Contains(*l, x) {
		*l = append(*l, x)
	}
}

func (l leftovers) list() []Leftover {
	if len(l) == 0 {
		return nil
	}
	out := slices.Clone(l)
	slices.Sort(out)
	return out
}

// zipEntry is an entry of the archive being cleaned, unpacked.
type zipEntry struct {
	name string
	data []byte
}

// cleanZip unpacks the archive under the limits, cleans its entries and
// packs them again.
func cleanZip(t Type, b []byte) ([]byte, []Leftover, error) {
	// The end record tells the entries before the directory is read, so a
	// directory of a million entries is refused without building it.
	if n, ok := zipDeclaredEntries(b); ok && n > cleanMaxEntries {
		return nil, nil, fmt.Errorf("%w: %d entries", ErrTooLarge, n)
	}
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %w", ErrDamaged, err)
	}
	if len(zr.File) > cleanMaxEntries {
		return nil, nil, fmt.Errorf("%w: %d entries", ErrTooLarge, len(zr.File))
	}
	budget := int64(min(cleanMaxUnpacked, max(cleanMinBudget, cleanMaxRatio*len(b))))
	entries := make([]zipEntry, 0, len(zr.File))
	for _, f := range zr.File {
		if strings.HasSuffix(f.Name, "/") {
			entries = append(entries, zipEntry{name: f.Name})
			continue
		}
		rc, err := f.Open()
		if err != nil {
			return nil, nil, fmt.Errorf("%w: %s: %w", ErrDamaged, f.Name, err)
		}
		// Counted as read, whatever size the entry declares.
		data, err := io.ReadAll(io.LimitReader(rc, budget+1))
		rc.Close()
		if int64(len(data)) > budget {
			return nil, nil, fmt.Errorf("%w: more than %d bytes unpacked", ErrTooLarge, budget)
		}
		if err != nil {
			return nil, nil, fmt.Errorf("%w: %s: %w", ErrDamaged, f.Name, err)
		}
		budget -= int64(len(data))
		entries = append(entries, zipEntry{name: f.Name, data: data})
	}

	var left leftovers
	if t == ODT {
		entries = cleanODT(entries)
	} else {
		entries = cleanDOCX(entries, &left)
	}
	for i := range entries {
		entries[i].data = cleanPicture(entries[i].data, &left)
	}

	var out bytes.Buffer
	out.Grow(len(b))
	zw := zip.NewWriter(&out)
	for _, e := range entries {
		// The time is set in the MS-DOS fields only: a time in Modified
		// would add an extra field with it as well.
		h := &zip.FileHeader{Name: e.name, Method: zip.Deflate}
		//lint:ignore SA1019 the MS-DOS fields are the only way to a time without an extra field
		h.ModifiedDate, h.ModifiedTime = cleanDOSDate, 0
		var w io.Writer
		var err error
		switch {
		case e.name == "mimetype":
			// Stored with its sizes in the local header and no extra
			// field, so that its bytes are at offset 38 of an ODF file.
			h.Method = zip.Store
			h.CRC32 = crc32.ChecksumIEEE(e.data)
			h.CompressedSize64 = uint64(len(e.data))
			h.UncompressedSize64 = uint64(len(e.data))
			w, err = zw.CreateRaw(h)
		case strings.HasSuffix(e.name, "/"):
			h.Method = zip.Store
			w, err = zw.CreateHeader(h)
		default:
			w, err = zw.CreateHeader(h)
		}
		if err != nil {
			return nil, nil, fmt.Errorf("%w: %s: %w", ErrDamaged, e.name, err)
		}
		if _, err := w.Write(e.data); err != nil {
			return nil, nil, fmt.Errorf("write %s: %w", e.name, err)
		}
	}
	if err := zw.Close(); err != nil {
		return nil, nil, fmt.Errorf("write archive: %w", err)
	}
	return out.Bytes(), left.list(), nil
}

// zipDeclaredEntries reads the entry count of the end of central directory
// record.
func zipDeclaredEntries(b []byte) (int, bool) {
	const endLen = 22
	tail := b[max(0, len(b)-endLen-0xFFFF):]
	i := bytes.LastIndex(tail, []byte("PK\x05\x06"))
	if i < 0 || len(tail)-i < endLen {
		return 0, false
	}
	return int(binary.LittleEndian.Uint16(tail[i+10:])), true
}

// cleanPicture strips a JPEG or PNG entry (told by its content, whatever
// its name) and reports pictures of kinds that carry metadata Clean does
// not remove. Other entries are returned as they are.
func cleanPicture(data []byte, left *leftovers) []byte {
	var t Type
	switch {
	case bytes.HasPrefix(data, jpegMagic):
		t = JPEG
	case bytes.HasPrefix(data, pngMagic):
		t = PNG
	case bytes.HasPrefix(data, []byte("II*\x00")), bytes.HasPrefix(data, []byte("MM\x00*")),
		len(data) >= 12 && string(data[:4]) == "RIFF" && string(data[8:12]) == "WEBP",
		len(data) >= 12 && string(data[4:8]) == "ftyp":
		left.add(LeftEmbeddedImages)
		return data
	default:
		return data
	}
	out, err := StripMetadata(t, data)
	if err != nil {
		left.add(LeftEmbeddedImages)
		return data
	}
	return out
}

const emptyCore = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" xmlns:dcmitype="http://purl.org/dc/dcmitype/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"></cp:coreProperties>`

const emptyApp = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties" xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes"></Properties>`

// The content types of the DOCX property parts.
const (
	ctCore   = "application/vnd.openxmlformats-package.core-properties+xml"
	ctApp    = "application/vnd.openxmlformats-officedocument.extended-properties+xml"
	ctCustom = "application/vnd.openxmlformats-officedocument.custom-properties+xml"
)

var (
	xmlOverride     = regexp.MustCompile(`<Override\b[^>]*?(?:/>|>(?:\s*</Override>)?)`)
	xmlRelationship = regexp.MustCompile(`<Relationship\b[^>]*?(?:/>|>(?:\s*</Relationship>)?)`)
	xmlPartName     = regexp.MustCompile(`\bPartName\s*=\s*("[^"]*"|'[^']*')`)
	xmlContentType  = regexp.MustCompile(`\bContentType\s*=\s*("[^"]*"|'[^']*')`)
	xmlTarget       = regexp.MustCompile(`\bTarget\s*=\s*("[^"]*"|'[^']*')`)
	// The people of comments, tracked changes and co-authoring (w:author,
	// w:initials, w15:author, w15:userId, w15:providerId).
	ooxmlPerson = regexp.MustCompile(`\b(\w+:(?:author|initials|userId|providerId))\s*=\s*("[^"]*"|'[^']*')`)
	// The times of comments and tracked changes (w:date, w16cex:dateUtc).
	ooxmlDate = regexp.MustCompile(`\b(\w+:(?:date|dateUtc))\s*=\s*("[^"]*"|'[^']*')`)
	// A link to a file on the author's disk (an attached template).
	ooxmlFileTarget = regexp.MustCompile(`(?i)\bTarget\s*=\s*("file:[^"]*"|'file:[^']*')`)
)

// attr returns the value of the attribute matched by re in tag, unquoted.
func attr(re *regexp.Regexp, tag []byte) string {
	m := re.FindSubmatch(tag)
	if m == nil {
		return ""
	}
	return string(m[1][1 : len(m[1])-1])
}

// partKey is the name of an OPC part as a zip entry name compares: part
// names ignore case and have no leading slash.
func partKey(name string) string {
	return strings.ToLower(strings.TrimPrefix(name, "/"))
}

// cleanDOCX empties the property parts, drops the custom properties and
// custom XML with their relationships and content types, and removes the
// people and times of comments and tracked changes.
func cleanDOCX(entries []zipEntry, left *leftovers) []zipEntry {
	core := map[string]bool{"docprops/core.xml": true}
	app := map[string]bool{"docprops/app.xml": true}
	drop := map[string]bool{"docprops/custom.xml": true}
	for _, e := range entries {
		if e.name != "[Content_Types].xml" {
			continue
		}
		for _, tag := range xmlOverride.FindAll(e.data, -1) {
			part := partKey(attr(xmlPartName, tag))
			switch attr(xmlContentType, tag) {
			case ctCore:
				core[part] = true
			case ctApp:
				app[part] = true
			case ctCustom:
				drop[part] = true
			}
		}
	}
	for _, e := range entries {
		// Custom XML parts hold data bound to the document (a cover page's
		// author, company, e-mail) and document management properties;
		// bound content controls keep the text they show.
		if k := partKey(e.name); strings.HasPrefix(k, "customxml/") {
			drop[k] = true
		}
	}

	out := entries[:0]
	for _, e := range entries {
		k := partKey(e.name)
		switch {
		case drop[k]:
			continue
		case core[k]:
			e.data = []byte(emptyCore)
		case app[k]:
			e.data = []byte(emptyApp)
		case e.name == "[Content_Types].xml":
			e.data = xmlOverride.ReplaceAllFunc(e.data, func(tag []byte) []byte {
				if drop[partKey(attr(xmlPartName, tag))] {
					return nil
				}
				return tag
			})
		case strings.HasSuffix(k, ".rels"):
			source := path.Dir(path.Dir(k)) // word/_rels/document.xml.rels: word
			e.data = xmlRelationship.ReplaceAllFunc(e.data, func(tag []byte) []byte {
				target := attr(xmlTarget, tag)
				var part string
				if strings.HasPrefix(target, "/") {
					part = partKey(target)
				} else {
					part = partKey(path.Join(source, target))
				}
				if drop[part] {
					return nil
				}
				return ooxmlFileTarget.ReplaceAll(tag, []byte(`Target="file:///"`))
			})
		case strings.HasSuffix(k, ".xml"):
			e.data = ooxmlPerson.ReplaceAll(e.data, []byte(`$1=""`))
			e.data = ooxmlDate.ReplaceAll(e.data, []byte(`$1="1980-01-01T00:00:00Z"`))
		case strings.HasPrefix(k, "word/embeddings/"):
			left.add(LeftEmbeddedFiles)
		}
		out = append(out, e)
	}
	return out
}

const emptyMeta = `<?xml version="1.0" encoding="UTF-8"?>
<office:document-meta xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:meta="urn:oasis:names:tc:opendocument:xmlns:meta:1.0" office:version="1.2"><office:meta/></office:document-meta>`

var (
	// The authors of comments and tracked changes.
	odfCreator  = regexp.MustCompile(`(<dc:creator\b[^>]*>)[^<]*(</dc:creator>)`)
	odfInitials = regexp.MustCompile(`(<meta:creator-initials\b[^>]*>)[^<]*(</meta:creator-initials>)`)
	odfDate     = regexp.MustCompile(`(<dc:date\b[^>]*>)[^<]*(</dc:date>)`)
	// The printer the document was last printed on, by name and driver.
	odfPrinter = regexp.MustCompile(`(<config:config-item\b[^>]*config:name="Printer(?:Name|Setup)"[^>]*>)[^<]*(</config:config-item>)`)
)

// cleanODT empties every meta.xml, removes the people and times of
// comments and tracked changes and the printer, and puts mimetype first.
func cleanODT(entries []zipEntry) []zipEntry {
	out := make([]zipEntry, 0, len(entries))
	for _, e := range entries {
		if e.name == "mimetype" {
			out = append(out, e)
		}
	}
	for _, e := range entries {
		switch {
		case e.name == "mimetype":
			continue
		case e.name == "meta.xml" || strings.HasSuffix(e.name, "/meta.xml"):
			e.data = []byte(emptyMeta)
		case strings.HasSuffix(e.name, ".xml"):
			e.data = odfCreator.ReplaceAll(e.data, []byte("$1$2"))
			e.data = odfInitials.ReplaceAll(e.data, []byte("$1$2"))
			e.data = odfDate.ReplaceAll(e.data, []byte("${1}1980-01-01T00:00:00$2"))
			e.data = odfPrinter.ReplaceAll(e.data, []byte("$1$2"))
		}
		out = append(out, e)
	}
	return out
}
