package filetype

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"io"
	"strconv"
)

// A PDF is cleaned in place: every byte keeps its offset, so the
// cross-reference tables and streams of the original and of each
// incremental update stay true, and every revision's objects (an update
// leaves the older ones in the file) are cleaned, not only the newest.
// What is removed is overwritten with spaces, which PDF reads as nothing
// between tokens. What lies in compressed object streams cannot be
// rewritten so; it is reported instead.

// pdfMaxInflated bounds the bytes of object streams unpacked to look for
// metadata inside them, all streams together.
const pdfMaxInflated = 32 << 20

// pdfMaxDepth bounds the nesting of arrays and dictionaries.
const pdfMaxDepth = 64

// The tokens of PDF's syntax.
const (
	pdfEOF = iota
	pdfName
	pdfString // (literal)
	pdfHex    // <hex>
	pdfDictOpen
	pdfDictClose
	pdfArrayOpen
	pdfArrayClose
	pdfWord // numbers, keywords, stray delimiters
)

type pdfToken struct{ kind, start, end int }

type pdfScanner struct {
	b []byte
	i int
}

func isPDFSpace(c byte) bool {
	return c == 0 || c == '\t' || c == '\n' || c == '\f' || c == '\r' || c == ' '
}

func isPDFDelim(c byte) bool {
	switch c {
	case '(', ')', '<', '>', '[', ']', '{', '}', '/', '%':
		return true
	}
	return false
}

func (s *pdfScanner) next() pdfToken {
	b := s.b
	for s.i < len(b) {
		c := b[s.i]
		if isPDFSpace(c) {
			s.i++
			continue
		}
		if c == '%' {
			for s.i < len(b) && b[s.i] != '\n' && b[s.i] != '\r' {
				s.i++
			}
			continue
		}
		break
	}
	start := s.i
	if s.i >= len(b) {
		return pdfToken{pdfEOF, len(b), len(b)}
	}
	switch b[s.i] {
	case '/':
		s.i++
		for s.i < len(b) && !isPDFSpace(b[s.i]) && !isPDFDelim(b[s.i]) {
			s.i++
		}
		return pdfToken{pdfName, start, s.i}
	case '(':
		depth := 0
	literal:
		for s.i < len(b) {
			switch b[s.i] {
			case '\\':
				s.i++
			case '(':
				depth++
			case ')':
				depth--
				if depth == 0 {
					s.i++
					break literal
				}
			}
			s.i++
		}
		s.i = min(s.i, len(b))
		return pdfToken{pdfString, start, s.i}
	case '<':
		if s.i+1 < len(b) && b[s.i+1] == '<' {
			s.i += 2
			return pdfToken{pdfDictOpen, start, s.i}
		}
		if j := bytes.IndexByte(b[s.i:], '>'); j >= 0 {
			s.i += j + 1
		} else {
			s.i = len(b)
		}
		return pdfToken{pdfHex, start, s.i}
	case '>':
		if s.i+1 < len(b) && b[s.i+1] == '>' {
			s.i += 2
			return pdfToken{pdfDictClose, start, s.i}
		}
		s.i++
		return pdfToken{pdfWord, start, s.i}
	case '[':
		s.i++
		return pdfToken{pdfArrayOpen, start, s.i}
	case ']':
		s.i++
		return pdfToken{pdfArrayClose, start, s.i}
	case ')', '{', '}':
		s.i++
		return pdfToken{pdfWord, start, s.i}
	}
	for s.i < len(b) && !isPDFSpace(b[s.i]) && !isPDFDelim(b[s.i]) {
		s.i++
	}
	return pdfToken{pdfWord, start, s.i}
}

// word returns the text of a word token, or "" for another token.
func (s *pdfScanner) word(t pdfToken) string {
	if t.kind != pdfWord {
		return ""
	}
	return string(s.b[t.start:t.end])
}

// number returns the value of a token that is a non-negative integer.
func (s *pdfScanner) number(t pdfToken) (int, bool) {
	if t.kind != pdfWord || t.end-t.start > 10 {
		return 0, false
	}
	n, err := strconv.Atoi(string(s.b[t.start:t.end]))
	return n, err == nil && n >= 0
}

// pdfEntry is one key and value of a dictionary.
type pdfEntry struct {
	key        string   // without the slash
	start, end int      // from the key's slash to the end of the value
	val        pdfToken // the value's first token; end is the value's end
	ref        int      // the object number when the value is "N G R", else -1
}

type pdfDict struct {
	entries []pdfEntry
}

func (d *pdfDict) get(key string) *pdfEntry {
	if d == nil {
		return nil
	}
	for i := range d.entries {
		if d.entries[i].key == key {
			return &d.entries[i]
		}
	}
	return nil
}

// name returns the value of key when it is a name, without the slash.
func (s *pdfScanner) name(d *pdfDict, key string) string {
	e := d.get(key)
	if e == nil || e.val.kind != pdfName {
		return ""
	}
	return string(s.b[e.val.start+1 : e.val.end])
}

// names returns the names of key's value: one name, or those of an array.
func (s *pdfScanner) names(d *pdfDict, key string) []string {
	e := d.get(key)
	if e == nil {
		return nil
	}
	sub := pdfScanner{b: s.b[:e.end], i: e.val.start}
	var out []string
	for t := sub.next(); t.kind != pdfEOF; t = sub.next() {
		if t.kind == pdfName {
			out = append(out, string(s.b[t.start+1:t.end]))
		}
	}
	return out
}

// value reads the rest of the value whose first token is t and returns
// where it ends, and the object it refers to ("N G R") or -1.
func (s *pdfScanner) value(t pdfToken, depth int) (end, ref int) {
	switch t.kind {
	case pdfDictOpen:
		_, end := s.dict(depth + 1)
		return end, -1
	case pdfArrayOpen:
		if depth >= pdfMaxDepth {
			s.i = len(s.b)
			return len(s.b), -1
		}
		for {
			v := s.next()
			if v.kind == pdfArrayClose || v.kind == pdfEOF {
				return v.end, -1
			}
			s.value(v, depth+1)
		}
	case pdfWord:
		if n, ok := s.number(t); ok {
			save := s.i
			if _, ok := s.number(s.next()); ok && s.word(s.next()) == "R" {
				return s.i, n
			}
			s.i = save
		}
	}
	return t.end, -1
}

// dict reads a dictionary after its "<<" and returns its entries (those of
// its own level) and where it ends.
func (s *pdfScanner) dict(depth int) (*pdfDict, int) {
	d := &pdfDict{}
	if depth > pdfMaxDepth {
		s.i = len(s.b)
		return d, len(s.b)
	}
	for {
		k := s.next()
		switch k.kind {
		case pdfDictClose, pdfEOF:
			return d, k.end
		case pdfName:
			v := s.next()
			if v.kind == pdfDictClose || v.kind == pdfEOF {
				return d, v.end
			}
			end, ref := s.value(v, depth)
			v.end = end
			d.entries = append(d.entries, pdfEntry{key: string(s.b[k.start+1 : k.end]), start: k.start, end: end, val: v, ref: ref})
		default:
			s.value(k, depth) // not a key: skipped
		}
	}
}

// pdfObject is an indirect object of the file's top level (any revision).
type pdfObject struct {
	num       int
	dict      *pdfDict // nil when the object is no dictionary
	val       pdfToken // the first token of the value
	stream    bool
	data, end int // the stream's data
}

// scanPDF reads the objects and the trailers (trailer dictionaries) of
// the whole file.
func scanPDF(s *pdfScanner) (objects []pdfObject, trailers []*pdfDict) {
	var prev [2]pdfToken
	for {
		t := s.next()
		if t.kind == pdfEOF {
			return objects, trailers
		}
		switch s.word(t) {
		case "obj":
			num, ok1 := s.number(prev[0])
			_, ok2 := s.number(prev[1])
			if !ok1 || !ok2 {
				break
			}
			o := pdfObject{num: num, val: s.next()}
			if o.val.kind == pdfDictOpen {
				o.dict, _ = s.dict(0)
				save := s.i
				if s.word(s.next()) == "stream" {
					o.stream = true
					o.data, o.end = s.streamData(o.dict)
				} else {
					s.i = save
				}
			} else {
				o.val.end, _ = s.value(o.val, 0)
			}
			objects = append(objects, o)
		case "trailer":
			save := s.i
			if s.next().kind == pdfDictOpen {
				d, _ := s.dict(0)
				trailers = append(trailers, d)
			} else {
				s.i = save
			}
		case "stream": // a stream whose object was not understood
			s.streamData(nil)
		}
		prev[0], prev[1] = prev[1], t
	}
}

// streamData finds the data of a stream whose keyword "stream" was just
// read: by its direct /Length when "endstream" follows it there, else up
// to the next "endstream".
func (s *pdfScanner) streamData(d *pdfDict) (start, end int) {
	b := s.b
	i := s.i
	if i < len(b) && b[i] == '\r' {
		i++
	}
	if i < len(b) && b[i] == '\n' {
		i++
	}
	start = i
	if e := d.get("Length"); e != nil && e.ref < 0 {
		if n, ok := s.number(e.val); ok && n <= len(b)-start {
			j := start + n
			for j < len(b) && isPDFSpace(b[j]) {
				j++
			}
			if bytes.HasPrefix(b[j:], []byte("endstream")) {
				s.i = j + len("endstream")
				return start, start + n
			}
		}
	}
	j := bytes.Index(b[start:], []byte("endstream"))
	if j < 0 {
		s.i = len(b)
		return start, len(b)
	}
	s.i = start + j + len("endstream")
	return start, start + j
}

// pdfMarkup are the annotations whose /T names their author (a widget's
// /T is its form field's name and stays).
var pdfMarkup = map[string]bool{
	"Text": true, "FreeText": true, "Line": true, "Square": true, "Circle": true, "Polygon": true,
	"PolyLine": true, "Highlight": true, "Underline": true, "Squiggly": true, "StrikeOut": true,
	"Stamp": true, "Caret": true, "Ink": true, "FileAttachment": true, "Sound": true, "Redact": true,
}

// emptyXMP replaces an XMP packet, padded with spaces to its length.
const emptyXMP = `<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?><x:xmpmeta xmlns:x="adobe:ns:meta/"/><?xpacket end="w"?>`

func blank(b []byte, start, end int) {
	for i := start; i < end; i++ {
		b[i] = ' '
	}
}

// cleanPDF cleans a copy of b in place (see Clean).
func cleanPDF(b []byte) ([]byte, []Leftover) {
	out := bytes.Clone(b)
	s := &pdfScanner{b: b}
	objects, trailers := scanPDF(s)
	var left leftovers

	for _, o := range objects {
		if s.name(o.dict, "Type") == "XRef" {
			trailers = append(trailers, o.dict) // a cross-reference stream's dictionary is a trailer
		}
	}
	info := map[int]bool{}
	metadata := map[int]bool{}
	encrypted := false
	for _, d := range trailers {
		if e := d.get("Info"); e != nil && e.ref >= 0 {
			info[e.ref] = true
		}
		if d.get("Encrypt") != nil {
			encrypted = true
		}
	}
	for _, o := range objects {
		if e := o.dict.get("Metadata"); e != nil && e.ref >= 0 {
			metadata[e.ref] = true
		}
	}

	// Object streams: what they hold cannot be cleaned in place, only
	// looked for.
	inflated := 0
	inStreams := map[int]bool{}
	for _, o := range objects {
		if !o.stream || s.name(o.dict, "Type") != "ObjStm" {
			continue
		}
		data, ok := inflatePDF(s, o, pdfMaxInflated-inflated)
		inflated += len(data)
		if !ok || encrypted {
			left.add(LeftPDFMetadata)
			continue
		}
		inner := &pdfScanner{b: data}
		first := 0
		if e := o.dict.get("First"); e != nil {
			first, _ = s.number(e.val)
		}
		head := &pdfScanner{b: data[:min(first, len(data))]}
		for {
			n, ok := head.number(head.next())
			if !ok {
				break
			}
			inStreams[n] = true
			head.next() // the offset
		}
		for t := inner.next(); t.kind != pdfEOF; t = inner.next() {
			if t.kind != pdfDictOpen {
				continue
			}
			d, _ := inner.dict(0)
			if e := d.get("Metadata"); e != nil && e.ref >= 0 {
				metadata[e.ref] = true
			}
			if pdfMarkup[inner.name(d, "Subtype")] && d.get("T") != nil {
				left.add(LeftPDFMetadata)
			}
			if inner.name(d, "Type") == "Sig" || d.get("ByteRange") != nil {
				left.add(LeftPDFSignature)
			}
		}
	}
	for n := range info {
		if inStreams[n] {
			left.add(LeftPDFMetadata)
		}
	}

	refStrings := map[int]bool{} // objects that are the values of removed entries
	for _, o := range objects {
		d := o.dict
		switch {
		case info[o.num] && d != nil && !o.stream && s.name(d, "Type") == "":
			// An information dictionary has no /Type; a number reused for a page keeps it.
			for _, e := range d.entries {
				blank(out, e.start, e.end)
				if e.ref >= 0 {
					refStrings[e.ref] = true
				}
			}
		case o.stream && (metadata[o.num] || s.name(d, "Type") == "Metadata" || s.name(d, "Subtype") == "XML"):
			blank(out, o.data, o.end)
			if o.end-o.data >= len(emptyXMP) && !encrypted {
				copy(out[o.data:], emptyXMP)
			}
			for _, key := range []string{"Filter", "DecodeParms", "DL"} {
				if e := d.get(key); e != nil {
					blank(out, e.start, e.end)
				}
			}
		case o.stream && s.name(d, "Subtype") == "Image":
			cleanPDFImage(s, o, out, encrypted, &left)
		case o.stream && s.name(d, "Type") == "EmbeddedFile":
			left.add(LeftPDFAttachments)
		case d != nil && (s.name(d, "Type") == "Sig" || d.get("ByteRange") != nil):
			left.add(LeftPDFSignature)
		case d != nil && pdfMarkup[s.name(d, "Subtype")]:
			for _, key := range []string{"T", "M", "CreationDate"} {
				if e := d.get(key); e != nil {
					blank(out, e.start, e.end)
				}
			}
		}
	}
	for _, o := range objects {
		if refStrings[o.num] && o.dict == nil && (o.val.kind == pdfString || o.val.kind == pdfHex) {
			blank(out, o.val.start+1, o.val.end-1)
		}
	}
	// The file identifier is made from the time, the path and the content
	// of the author's first copy; an encrypted file needs it for its key.
	if !encrypted {
		for _, d := range trailers {
			e := d.get("ID")
			if e == nil {
				continue
			}
			sub := pdfScanner{b: b[:e.end], i: e.val.start}
			for t := sub.next(); t.kind != pdfEOF; t = sub.next() {
				if t.kind != pdfString && t.kind != pdfHex {
					continue
				}
				for i := t.start + 1; i < t.end-1; i++ {
					if t.kind == pdfString || !isPDFSpace(out[i]) {
						out[i] = '0'
					}
				}
			}
		}
	}
	return out, left.list()
}

// inflatePDF unpacks a Flate stream (with no predictor) up to limit bytes.
func inflatePDF(s *pdfScanner, o pdfObject, limit int) ([]byte, bool) {
	filters := s.names(o.dict, "Filter")
	if len(filters) != 1 || filters[0] != "FlateDecode" || o.dict.get("DecodeParms") != nil || limit <= 0 {
		return nil, false
	}
	zr, err := zlib.NewReader(bytes.NewReader(s.b[o.data:o.end]))
	if err != nil {
		return nil, false
	}
	data, err := io.ReadAll(io.LimitReader(zr, int64(limit)+1))
	if len(data) > limit {
		return data[:limit], false
	}
	// A stream cut short by a wrong /Length still shows what it holds.
	return data, err == nil || err == io.ErrUnexpectedEOF && len(data) > 0
}

// cleanPDFImage turns the metadata segments of a JPEG image (EXIF, XMP,
// IPTC, comments) into comments of spaces of the same length, so that the
// stream keeps its length; images it cannot clean are reported.
func cleanPDFImage(s *pdfScanner, o pdfObject, out []byte, encrypted bool, left *leftovers) {
	filters := s.names(o.dict, "Filter")
	dct := false
	for _, f := range filters {
		switch f {
		case "DCTDecode", "DCT":
			dct = true
		case "JPXDecode":
			left.add(LeftPDFImages) // JPEG 2000 boxes may hold XMP
			return
		}
	}
	if !dct {
		return
	}
	if encrypted || len(filters) != 1 || !neutraliseJPEG(out[o.data:o.end]) {
		left.add(LeftPDFImages)
	}
}

// neutraliseJPEG overwrites in place the APP1, APP12, APP13 and comment
// segments before the start of scan with comments of spaces. It reports
// whether the segments could be walked.
func neutraliseJPEG(b []byte) bool {
	if !bytes.HasPrefix(b, jpegMagic) {
		return false
	}
	i := 2
	for {
		for i+1 < len(b) && b[i] == 0xFF && b[i+1] == 0xFF {
			i++
		}
		if i+4 > len(b) || b[i] != 0xFF {
			return false
		}
		marker := b[i+1]
		if marker >= 0xD0 && marker <= 0xD7 || marker == 0x01 {
			i += 2
			continue
		}
		if marker == 0xD9 {
			return false
		}
		length := int(binary.BigEndian.Uint16(b[i+2 : i+4]))
		if length < 2 || i+2+length > len(b) {
			return false
		}
		if marker == 0xDA {
			return true
		}
		if marker == 0xE1 || marker == 0xEC || marker == 0xED || marker == 0xFE {
			b[i+1] = 0xFE
			blank(b, i+4, i+2+length)
		}
		i += 2 + length
	}
}
