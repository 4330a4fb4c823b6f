package importer

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/kandidat/kandidat/internal/fault"
)

// Formats of an import file.
const (
	CSV   = "csv"
	JSONL = "jsonl"
)

// Formats lists them.
var Formats = []string{CSV, JSONL}

// Bounds of a file. A record (a CSV record, which may span lines inside
// quotes, or a JSON line) longer than MaxRecordBytes stops the file with a
// clear error: the reader never holds more than about that much of it.
const (
	MaxRecordBytes = 1 << 20
	MaxColumns     = 200
	MaxCellRunes   = 10_000
	MaxRows        = 1_000_000
)

// The file-level refusals, each with its message key.
var (
	ErrRecordTooLong = fault.New(fault.ErrInvalid, "import record too long", "import.error_record_too_long")
	ErrHeader        = fault.New(fault.ErrInvalid, "import file has no header", "import.error_header")
	ErrTooManyCols   = fault.New(fault.ErrInvalid, "import header too wide", "import.error_header_too_wide")
	ErrTooManyRows   = fault.New(fault.ErrInvalid, "import file has too many rows", "import.error_too_many_rows")
	ErrFormat        = fault.New(fault.ErrInvalid, "import format unknown", "import.error_format")
	ErrHeaderUTF8    = fault.New(fault.ErrInvalid, "import header not UTF-8", "import.error_header_utf8")
)

// Record is one row of a file: its line (the first line of the record;
// the header of a CSV file is line 1) and its cells by column, or the
// message key of why it cannot be read.
type Record struct {
	Line    int
	Values  map[string]string
	Problem string
}

// Source reads the records of a file one at a time.
type Source interface {
	// Header lists the columns: a CSV file's first record, or the keys of
	// the first JSON lines, in the order first seen.
	Header() []string
	// Next returns the next record, io.EOF after the last, or an error that
	// stops the file (a record over MaxRecordBytes, a read error).
	Next() (Record, error)
}

// Open reads the header of a file of format (csv or jsonl) and returns its
// source.
func Open(r io.Reader, format string) (Source, error) {
	switch format {
	case CSV:
		return openCSV(r)
	case JSONL:
		return openJSONL(r)
	}
	return nil, ErrFormat
}

// boundedReader stops a reader after limit bytes since the mark: the
// csv.Reader above it never sees (nor buffers) more of one record.
type boundedReader struct {
	r           io.Reader
	read, limit int64
}

func (b *boundedReader) Read(p []byte) (int, error) {
	if b.read >= b.limit {
		return 0, ErrRecordTooLong
	}
	if int64(len(p)) > b.limit-b.read {
		p = p[:b.limit-b.read]
	}
	n, err := b.r.Read(p)
	b.read += int64(n)
	return n, err
}

type csvSource struct {
	cr     *csv.Reader
	br     *boundedReader
	header []string
	rows   int
}

// slack covers what the csv.Reader's buffer (64 KiB) reads ahead of a
// record, twice over.
const slack = 128 << 10

func openCSV(r io.Reader) (Source, error) {
	br := &boundedReader{r: r, limit: MaxRecordBytes + slack}
	buf := bufio.NewReaderSize(br, 64<<10)
	// The BOM some spreadsheets write is not part of the first column's name.
	if b, err := buf.Peek(3); err == nil && bytes.Equal(b, []byte("\xef\xbb\xbf")) {
		buf.Discard(3)
	}
	comma := detectComma(buf)
	cr := csv.NewReader(buf)
	cr.Comma, cr.FieldsPerRecord, cr.ReuseRecord = comma, -1, false
	s := &csvSource{cr: cr, br: br}
	header, err := cr.Read()
	if errors.Is(err, ErrRecordTooLong) {
		return nil, ErrRecordTooLong
	}
	if err != nil {
		return nil, ErrHeader
	}
	if len(header) > MaxColumns {
		return nil, ErrTooManyCols
	}
	seen := map[string]bool{}
	for i, h := range header {
		if !utf8.ValidString(h) {
			return nil, ErrHeaderUTF8
		}
		h = strings.TrimSpace(h)
		if h == "" || seen[h] {
			h = "column " + strconv.Itoa(i+1)
		}
		seen[h] = true
		header[i] = h
	}
	s.header = header
	return s, nil
}

// detectComma chooses the separator: a comma or a semicolon (spreadsheets
// in many European locales), whichever the first line has more of outside
// quotes.
func detectComma(buf *bufio.Reader) rune {
	b, _ := buf.Peek(buf.Size())
	if i := bytes.IndexByte(b, '\n'); i >= 0 {
		b = b[:i]
	}
	commas, semis, quoted := 0, 0, false
	for _, c := range b {
		switch {
		case c == '"':
			quoted = !quoted
		case quoted:
		case c == ',':
			commas++
		case c == ';':
			semis++
		}
	}
	if semis > commas {
		return ';'
	}
	return ','
}

func (s *csvSource) Header() []string { return s.header }

func (s *csvSource) Next() (Record, error) {
	off := s.cr.InputOffset()
	s.br.limit = off + MaxRecordBytes + slack
	fields, err := s.cr.Read()
	line := 0
	if err == nil && len(fields) > 0 {
		line, _ = s.cr.FieldPos(0)
	}
	if errors.Is(err, io.EOF) {
		return Record{}, io.EOF
	}
	if errors.Is(err, ErrRecordTooLong) || s.cr.InputOffset()-off > MaxRecordBytes {
		return Record{}, fmt.Errorf("line %d: %w", line, ErrRecordTooLong)
	}
	s.rows++
	if s.rows > MaxRows {
		return Record{}, ErrTooManyRows
	}
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return Record{Line: pe.StartLine, Problem: "import.malformed"}, nil
	}
	if err != nil {
		return Record{}, err
	}
	rec := Record{Line: line, Values: make(map[string]string, len(s.header))}
	if len(fields) > len(s.header) {
		rec.Problem = "import.too_many_columns"
		return rec, nil
	}
	for i, f := range fields {
		if !utf8.ValidString(f) {
			rec.Problem = "import.invalid_utf8"
			return rec, nil
		}
		rec.Values[s.header[i]] = f
	}
	return rec, nil
}

type jsonlSource struct {
	r      *bufio.Reader
	line   int
	rows   int
	header []string
	queued []jsonRecord
}

func openJSONL(r io.Reader) (Source, error) {
	s := &jsonlSource{r: bufio.NewReaderSize(r, 64<<10)}
	// The header is the keys of the first records, in the order first seen.
	seen := map[string]bool{}
	for len(s.queued) < 100 {
		rec, err := s.read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		s.queued = append(s.queued, rec)
		for _, k := range rec.keys {
			if !seen[k] {
				seen[k] = true
				s.header = append(s.header, k)
			}
		}
		if len(s.header) > MaxColumns {
			return nil, ErrTooManyCols
		}
	}
	if len(s.header) == 0 && len(s.queued) == 0 {
		return nil, ErrHeader
	}
	return s, nil
}

func (s *jsonlSource) Header() []string { return s.header }

type jsonRecord struct {
	Record
	keys []string
}

func (s *jsonlSource) Next() (Record, error) {
	if len(s.queued) > 0 {
		r := s.queued[0]
		s.queued = s.queued[1:]
		return r.Record, nil
	}
	r, err := s.read()
	return r.Record, err
}

// readLine reads one line of at most MaxRecordBytes; a longer one is an
// error once that much is read, never held whole.
func (s *jsonlSource) readLine() ([]byte, error) {
	var line []byte
	for {
		chunk, err := s.r.ReadSlice('\n')
		if len(line)+len(chunk) > MaxRecordBytes {
			return nil, ErrRecordTooLong
		}
		line = append(line, chunk...)
		switch {
		case err == nil:
			return line, nil
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case errors.Is(err, io.EOF) && len(line) > 0:
			return line, nil
		default:
			return nil, err
		}
	}
}

func (s *jsonlSource) read() (jsonRecord, error) {
	for {
		b, err := s.readLine()
		s.line++
		if errors.Is(err, ErrRecordTooLong) {
			return jsonRecord{}, fmt.Errorf("line %d: %w", s.line, ErrRecordTooLong)
		}
		if err != nil {
			return jsonRecord{}, err
		}
		if len(bytes.TrimSpace(b)) == 0 {
			continue
		}
		s.rows++
		if s.rows > MaxRows {
			return jsonRecord{}, ErrTooManyRows
		}
		return parseJSONLine(s.line, b), nil
	}
}

// parseJSONLine reads one object whose values are strings, numbers,
// booleans, null or lists of those (joined by "; ").
func parseJSONLine(line int, b []byte) jsonRecord {
	rec := jsonRecord{Record: Record{Line: line}}
	if !utf8.Valid(b) {
		rec.Problem = "import.invalid_utf8"
		return rec
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	if t, err := d.Token(); err != nil || t != json.Delim('{') {
		rec.Problem = "import.malformed"
		return rec
	}
	rec.Values = map[string]string{}
	for d.More() {
		t, err := d.Token()
		if err != nil {
			rec.Problem = "import.malformed"
			return rec
		}
		key, _ := t.(string)
		var v any
		if err := d.Decode(&v); err != nil {
			rec.Problem = "import.malformed"
			return rec
		}
		text, ok := cellText(v)
		if !ok {
			rec.Problem = "import.nested_value"
			return rec
		}
		if _, dup := rec.Values[key]; !dup {
			rec.keys = append(rec.keys, key)
		}
		if len(rec.keys) > MaxColumns {
			rec.Problem = "import.too_many_columns"
			return rec
		}
		rec.Values[key] = text
	}
	if t, err := d.Token(); err != nil || t != json.Delim('}') {
		rec.Problem = "import.malformed"
		return rec
	}
	if _, err := d.Token(); err != io.EOF {
		rec.Problem = "import.malformed"
	}
	return rec
}

func cellText(v any) (string, bool) {
	switch v := v.(type) {
	case nil:
		return "", true
	case string:
		return v, true
	case json.Number:
		return v.String(), true
	case bool:
		return strconv.FormatBool(v), true
	case []any:
		parts := make([]string, 0, len(v))
		for _, e := range v {
			t, ok := cellText(e)
			if !ok {
				return "", false
			}
			if _, nested := e.([]any); nested {
				return "", false
			}
			parts = append(parts, t)
		}
		return strings.Join(parts, "; "), true
	}
	return "", false
}
