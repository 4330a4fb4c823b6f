// Package filetype recognises uploaded documents by their content, never
// by their name, and removes the metadata of images (EXIF, XMP, comments,
// text chunks) that could tell where and when a photo was taken. Clean
// (clean.go) goes further for the whistleblowing channel: it removes what
// names a document's author from every accepted type. Each parser reads
// untrusted bytes and is fuzzed; Detect decompresses nothing beyond a few
// bytes, and Clean unpacks an archive only under limits, so archives cannot
// be used as bombs.
package filetype

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"errors"
	"unicode/utf8"
)

// Type is a kind of document Kandidat accepts.
type Type string

// The accepted types.
const (
	PDF  Type = "pdf"
	DOCX Type = "docx"
	ODT  Type = "odt"
	TXT  Type = "txt"
	JPEG Type = "jpeg"
	PNG  Type = "png"
)

// Types lists the accepted types.
var Types = []Type{PDF, DOCX, ODT, TXT, JPEG, PNG}

// ContentType is the media type a file of type t is served with.
func (t Type) ContentType() string {
	switch t {
	case PDF:
		return "application/pdf"
	case DOCX:
		return "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
	case ODT:
		return "application/vnd.oasis.opendocument.text"
	case TXT:
		return "text/plain; charset=utf-8"
	case JPEG:
		return "image/jpeg"
	case PNG:
		return "image/png"
	}
	return "application/octet-stream"
}

// Extension is the file name extension of type t, with the dot.
func (t Type) Extension() string {
	if t == JPEG {
		return ".jpg"
	}
	return "." + string(t)
}

// Errors of Detect.
var (
	// ErrUnsupported: the content is none of the accepted types (whatever its name says).
	ErrUnsupported = errors.New("unsupported file type")
	// ErrDamaged: the content starts like an accepted type but is malformed or truncated.
	ErrDamaged = errors.New("damaged file")
	// ErrEmpty: the file has no content.
	ErrEmpty = errors.New("empty file")
)

var (
	pngMagic  = []byte("\x89PNG\r\n\x1a\n")
	jpegMagic = []byte{0xFF, 0xD8, 0xFF}
)

// Detect tells the type of a whole file by its content.
func Detect(b []byte) (Type, error) {
	switch {
	case len(b) == 0:
		return "", ErrEmpty
	case bytes.HasPrefix(b, []byte("%PDF-")):
		return PDF, checkPDF(b)
	case bytes.HasPrefix(b, pngMagic):
		return PNG, checkPNG(b)
	case bytes.HasPrefix(b, jpegMagic):
		return JPEG, checkJPEG(b)
	case bytes.HasPrefix(b, []byte("PK\x03\x04")):
		return detectZip(b)
	}
	if isText(b) {
		return TXT, nil
	}
	return "", ErrUnsupported
}

// checkPDF wants a version in the header and an end-of-file marker near
// the end (a truncated upload has none).
func checkPDF(b []byte) error {
	if len(b) < 8 || b[5] < '1' || b[5] > '2' || b[6] != '.' {
		return ErrDamaged
	}
	tail := b[max(0, len(b)-2048):]
	if !bytes.Contains(tail, []byte("%%EOF")) {
		return ErrDamaged
	}
	return nil
}

// detectZip tells DOCX from ODT by the archive's directory, reading no
// compressed entry but ODT's tiny stored "mimetype".
func detectZip(b []byte) (Type, error) {
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		return "", ErrDamaged
	}
	var contentTypes, document bool
	for _, f := range zr.File {
		switch f.Name {
		case "[Content_Types].xml":
			contentTypes = true
		case "word/document.xml":
			document = true
		case "mimetype":
			if f.Method != zip.Store || f.UncompressedSize64 > 100 {
				continue
			}
			rc, err := f.Open()
			if err != nil {
				return "", ErrDamaged
			}
			buf := make([]byte, 100)
			n, _ := rc.Read(buf)
			rc.Close()
			if string(buf[:n]) == "application/vnd.oasis.opendocument.text" {
				return ODT, nil
			}
		}
	}
	if contentTypes && document {
		return DOCX, nil
	}
	return "", ErrUnsupported
}

// isText accepts valid UTF-8 with no control characters but tab, line
// breaks and form feed (and a byte order mark).
func isText(b []byte) bool {
	if !utf8.Valid(b) {
		return false
	}
	for _, c := range bytes.TrimPrefix(b, []byte("\xEF\xBB\xBF")) {
		if c < 0x20 && c != '\t' && c != '\n' && c != '\r' && c != '\f' || c == 0x7F {
			return false
		}
	}
	return true
}

// StripMetadata returns the file without its metadata: for JPEG the APP1
// (EXIF, XMP), APP12, APP13 (IPTC) and comment segments, for PNG the text,
// EXIF and time chunks. Other types are returned unchanged.
func StripMetadata(t Type, b []byte) ([]byte, error) {
	switch t {
	case JPEG:
		return stripJPEG(b)
	case PNG:
		return stripPNG(b)
	}
	return b, nil
}

func checkJPEG(b []byte) error {
	_, err := stripJPEG(b)
	return err
}

func checkPNG(b []byte) error {
	_, err := stripPNG(b)
	return err
}

// stripJPEG walks the segments up to the start of scan and drops the
// metadata ones; the compressed image data after it is copied as it is.
func stripJPEG(b []byte) ([]byte, error) {
	if !bytes.HasPrefix(b, jpegMagic) {
		return nil, ErrDamaged
	}
	out := make([]byte, 0, len(b))
	out = append(out, 0xFF, 0xD8)
	i := 2
	for {
		// Markers may be padded with 0xFF.
		for i < len(b) && b[i] == 0xFF && i+1 < len(b) && b[i+1] == 0xFF {
			i++
		}
		if i+4 > len(b) || b[i] != 0xFF {
			return nil, ErrDamaged
		}
		marker := b[i+1]
		if marker == 0xD9 { // end of image without a scan
			return nil, ErrDamaged
		}
		if marker >= 0xD0 && marker <= 0xD7 || marker == 0x01 { // stand-alone markers
			out = append(out, b[i:i+2]...)
			i += 2
			continue
		}
		length := int(binary.BigEndian.Uint16(b[i+2 : i+4]))
		if length < 2 || i+2+length > len(b) {
			return nil, ErrDamaged
		}
		segment := b[i : i+2+length]
		if marker == 0xDA { // start of scan: the rest is image data
			out = append(out, b[i:]...)
			return out, nil
		}
		drop := marker == 0xE1 || marker == 0xEC || marker == 0xED || marker == 0xFE
		if !drop {
			out = append(out, segment...)
		}
		i += 2 + length
	}
}

// pngMetadata are the chunk types that carry text, EXIF or time.
var pngMetadata = map[string]bool{"tEXt": true, "zTXt": true, "iTXt": true, "eXIf": true, "tIME": true}

func stripPNG(b []byte) ([]byte, error) {
	if !bytes.HasPrefix(b, pngMagic) {
		return nil, ErrDamaged
	}
	out := make([]byte, 0, len(b))
	out = append(out, pngMagic...)
	i := len(pngMagic)
	first := true
	for {
		if i+12 > len(b) {
			return nil, ErrDamaged
		}
		length := int(binary.BigEndian.Uint32(b[i : i+4]))
		if length < 0 || length > len(b) || i+12+length > len(b) {
			return nil, ErrDamaged
		}
		kind := string(b[i+4 : i+8])
		if first && kind != "IHDR" {
			return nil, ErrDamaged
		}
		first = false
		chunk := b[i : i+12+length]
		if !pngMetadata[kind] {
			out = append(out, chunk...)
		}
		i += 12 + length
		if kind == "IEND" {
			return out, nil
		}
	}
}
