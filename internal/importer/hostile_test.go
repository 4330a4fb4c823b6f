package importer

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kandidat/kandidat/internal/fault"
)

// endless is a reader of n bytes of c, made as it is read: a 2 GB line
// without 2 GB anywhere.
type endless struct {
	n int64
	c byte
}

func (e *endless) Read(p []byte) (int, error) {
	if e.n <= 0 {
		return 0, io.EOF
	}
	k := min(int64(len(p)), e.n)
	for i := range p[:k] {
		p[i] = e.c
	}
	e.n -= k
	return int(k), nil
}

func TestHugeRecordStopsWithAClearError(t *testing.T) {
	const twoGB = 2 << 30
	for _, tc := range []struct {
		name, format string
		r            func() io.Reader
	}{
		{"csv header", CSV, func() io.Reader { return &endless{n: twoGB, c: 'a'} }},
		{"csv row", CSV, func() io.Reader {
			return io.MultiReader(strings.NewReader("Name,Email\nx,"), &endless{n: twoGB, c: 'a'})
		}},
		{"csv quoted row over many lines", CSV, func() io.Reader {
			return io.MultiReader(strings.NewReader("Name,Email\nx,\""), &endless{n: twoGB, c: '\n'})
		}},
		{"jsonl", JSONL, func() io.Reader { return io.MultiReader(strings.NewReader(`{"Name":"`), &endless{n: twoGB, c: 'a'}) }},
		{"jsonl later line", JSONL, func() io.Reader {
			return io.MultiReader(strings.NewReader("{\"Name\":\"x\"}\n{\"Name\":\""), &endless{n: twoGB, c: 'a'})
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var before runtime.MemStats
			runtime.ReadMemStats(&before)
			start := time.Now()
			src, err := Open(tc.r(), tc.format)
			for err == nil {
				_, err = src.Next()
			}
			if !errors.Is(err, ErrRecordTooLong) {
				t.Fatalf("error %v, want ErrRecordTooLong", err)
			}
			if msgs := fault.Messages(err); msgs[""] != "import.error_record_too_long" {
				t.Fatalf("message %v", msgs)
			}
			var after runtime.MemStats
			runtime.ReadMemStats(&after)
			if grew := after.TotalAlloc - before.TotalAlloc; grew > 64<<20 {
				t.Fatalf("allocated %d MB reading the record", grew>>20)
			}
			if took := time.Since(start); took > 10*time.Second {
				t.Fatalf("took %v: the reader read on", took)
			}
		})
	}
}

func TestHostileRows(t *testing.T) {
	f := newFixture(t)
	m, err := ParseMap("Name=full_name,Email=email,Basis=basis,Applied=applied,Title=title,Docs=documents,Comment=comment")
	if err != nil {
		t.Fatal(err)
	}
	rows := "Name,Email,Basis,Applied,Title,Docs,Comment\n" +
		"Ann Formula,ann@example.com,purpose,2026-01-02,\"=HYPERLINK(\"\"http://x\"\")\",,\n" + // 2
		"Bo At,bo@example.com,purpose,2026-01-02,@SUM(A1),,\n" + // 3
		"Cy Minus,cy@example.com,purpose,2026-01-02,-cmd|calc,,\n" + // 4
		"Di Phone,di@example.com,purpose,2026-01-02,+46 is fine? no: +4,,\n" + // 5 (+ and a digit: not a formula)
		"Ed Bad,ed@example.com,purpose,2026-01-02,\xff\xfe,,\n" + // 6
		"Fi Wide,fi@example.com,purpose,2026-01-02,x,,,extra,columns\n" + // 7
		"Gu Trav,gu@example.com,purpose,2026-01-02,,../../etc/passwd,\n" + // 8
		"Ha Abs,ha@example.com,purpose,2026-01-02,,/etc/passwd,\n" + // 9
		"Io None,io@example.com,,2026-01-02,,,\n" + // 10
		"Jo Consent,jo@example.com,consent,2026-01-02,,,\n" + // 11
		"Ka Dup,ann@example.com,purpose,2026-01-03,,,\n" + // 12: Ann's row was refused, so Ka is new
		"La Dup,bo2@example.com,purpose,2026-01-03,,,\n" + // 13
		"Ma Dup,BO2@example.com,purpose,2026-01-04,,,\n" + // 14: the same person as line 13
		"Na Long," + "na@example.com,purpose,2026-01-02," + strings.Repeat("x", MaxCellRunes+1) + ",,\n" + // 15
		"Ol Missing,ol@example.com,purpose,2026-01-02,,missing.pdf,\n" + // 16
		"Pe Future,pe@example.com,purpose,2999-01-02,,,\n" + // 17
		"Qu Date,qu@example.com,purpose,01/02/2026,,,\n" // 18
	dir := t.TempDir()
	outside := filepath.Join(t.TempDir(), "secret.pdf")
	os.WriteFile(outside, pdf, 0o600)
	if err := os.Symlink(outside, filepath.Join(dir, "link.pdf")); err != nil {
		t.Fatal(err)
	}
	docs, err := OpenDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer docs.Close()
	rep, err := f.svc.Check(context.Background(), f.hr, bytesInput([]byte(rows+"Ro Link,ro@example.com,purpose,2026-01-02,,link.pdf,\n"), CSV, m, docs)) // 19
	if err != nil {
		t.Fatal(err)
	}
	want := map[int]string{2: "import.formula", 3: "import.formula", 4: "import.formula", 6: "import.invalid_utf8", 7: "import.too_many_columns",
		8: "import.document_path", 9: "import.document_path", 10: "import.no_basis", 11: "import.no_consent_evidence", 15: "import.too_long",
		16: "import.document_missing", 17: "import.date_future", 18: "import.date", 19: "import.document_path"}
	for line, key := range want {
		if !slices.ContainsFunc(rep.Problems, func(p Problem) bool { return p.Line == line && p.Key == key && !p.Note }) {
			t.Errorf("line %d: no %s in %+v", line, key, rep.Problems)
		}
	}
	for _, p := range rep.Problems {
		if !p.Note && want[p.Line] == "" {
			t.Errorf("unexpected problem %+v", p)
		}
	}
	if !slices.ContainsFunc(rep.Problems, func(p Problem) bool { return p.Line == 14 && p.Key == "import.note_duplicate_in_file" && p.Note }) {
		t.Errorf("no note of the duplicate on line 14: %+v", rep.Problems)
	}
	if rep.Rejected != len(want) || rep.Rows != 18 {
		t.Errorf("rejected %d of %d rows, want %d of 18", rep.Rejected, rep.Rows, len(want))
	}
}

func TestZipLimits(t *testing.T) {
	// A bomb: one entry of 100 MB of zeros, a few hundred KB packed.
	var bomb bytes.Buffer
	zw := zip.NewWriter(&bomb)
	w, _ := zw.Create("cv.pdf")
	zeros := make([]byte, 1<<20)
	for range 100 {
		w.Write(zeros)
	}
	zw.Close()
	if _, err := ZipBytes(bomb.Bytes()); !errors.Is(err, ErrZipBomb) || MessageKey(err, "") != "import.error_zip_bomb" {
		t.Fatalf("bomb: %v", err)
	}
	// Path traversal inside the zip: the entry is never reachable.
	var trav bytes.Buffer
	zw = zip.NewWriter(&trav)
	w, _ = zw.Create("../evil.pdf")
	w.Write(pdf)
	w, _ = zw.Create("ok/cv.pdf")
	w.Write(pdf)
	zw.Close()
	d, err := ZipBytes(trav.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Read("../evil.pdf"); !errors.Is(err, ErrDocumentPath) {
		t.Fatalf("traversal: %v", err)
	}
	if b, err := d.Read("ok/cv.pdf"); err != nil || !bytes.Equal(b, pdf) {
		t.Fatalf("ok entry: %v", err)
	}
	if _, err := ZipBytes([]byte("not a zip")); !errors.Is(err, ErrZip) {
		t.Fatalf("not a zip: %v", err)
	}
}

// FuzzSource: no input makes a parser panic, hold more than a record's
// bound, or return a record with invalid UTF-8 in it.
func FuzzSource(f *testing.F) {
	f.Add([]byte(everyField), true)
	f.Add([]byte("a;b\n\"x\"\"y\";z\n"), true)
	f.Add([]byte("{\"a\":\"b\",\"c\":[1,true,null]}\n{\"a\":{}}\n"), false)
	f.Add([]byte("\xef\xbb\xbfa,b\n\xff,\"unterminated\n"), true)
	f.Fuzz(func(t *testing.T, data []byte, csv bool) {
		format := JSONL
		if csv {
			format = CSV
		}
		src, err := Open(bytes.NewReader(data), format)
		if err != nil {
			if MessageKey(err, "") == "" {
				t.Fatalf("open error without a message key: %v", err)
			}
			return
		}
		m := &Mapping{Columns: map[string]string{}, Defaults: map[string]string{FieldBasis: "purpose", FieldBasisDate: "2026-01-01"}}
		h := src.Header()
		for i, c := range h {
			m.Columns[c] = Fields[i%len(Fields)]
		}
		pl := newPlan(m, h)
		for n := 0; n < 10_000; n++ {
			rec, err := src.Next()
			if err != nil {
				if err != io.EOF && MessageKey(err, "") == "" {
					t.Fatalf("error without a message key: %v", err)
				}
				return
			}
			for k, v := range rec.Values {
				if rec.Problem == "" && (!utf8Valid(k) || !utf8Valid(v)) {
					t.Fatalf("record with invalid UTF-8: %q=%q", k, v)
				}
			}
			pl.makeRow("t", rec, time.Now(), true)
		}
	})
}

func utf8Valid(s string) bool { return strings.ToValidUTF8(s, "\ufffd") == s }
