package filetype

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"slices"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Samples builds one small valid file of each type.
func samples(t testing.TB) map[Type][]byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 8, 8))
	img.Set(1, 1, color.RGBA{200, 10, 10, 255})
	var j, p bytes.Buffer
	if err := jpeg.Encode(&j, img, nil); err != nil {
		t.Fatal(err)
	}
	if err := png.Encode(&p, img); err != nil {
		t.Fatal(err)
	}
	zipOf := func(files ...[2]string) []byte {
		var b bytes.Buffer
		w := zip.NewWriter(&b)
		for _, f := range files {
			method := zip.Deflate
			if f[0] == "mimetype" {
				method = zip.Store
			}
			fw, _ := w.CreateHeader(&zip.FileHeader{Name: f[0], Method: method})
			fw.Write([]byte(f[1]))
		}
		w.Close()
		return b.Bytes()
	}
	return map[Type][]byte{
		PDF:  []byte("%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"),
		DOCX: zipOf([2]string{"[Content_Types].xml", "<Types/>"}, [2]string{"word/document.xml", "<w:document/>"}),
		ODT:  zipOf([2]string{"mimetype", "application/vnd.oasis.opendocument.text"}, [2]string{"content.xml", "<office:document-content/>"}),
		TXT:  []byte("Curriculum vitae\r\nÅsa Öberg — Göteborg\n\tSkills: Go, SQL\n"),
		JPEG: j.Bytes(),
		PNG:  p.Bytes(),
	}
}

// withJPEGExif inserts an APP1 Exif segment and a comment after SOI.
func withJPEGExif(b []byte, secret string) []byte {
	seg := func(marker byte, payload string) []byte {
		s := []byte{0xFF, marker, 0, 0}
		binary.BigEndian.PutUint16(s[2:], uint16(len(payload)+2))
		return append(s, payload...)
	}
	out := append([]byte{}, b[:2]...)
	out = append(out, seg(0xE1, "Exif\x00\x00GPS "+secret)...)
	out = append(out, seg(0xFE, "comment "+secret)...)
	return append(out, b[2:]...)
}

// withPNGText inserts a tEXt chunk after IHDR.
func withPNGText(b []byte, secret string) []byte {
	ihdrEnd := 8 + 12 + int(binary.BigEndian.Uint32(b[8:12]))
	data := []byte("Comment\x00" + secret)
	chunk := make([]byte, 8, 12+len(data))
	binary.BigEndian.PutUint32(chunk, uint32(len(data)))
	copy(chunk[4:], "tEXt")
	chunk = append(chunk, data...)
	crc := crc32.ChecksumIEEE(chunk[4:])
	chunk = binary.BigEndian.AppendUint32(chunk, crc)
	out := append([]byte{}, b[:ihdrEnd]...)
	out = append(out, chunk...)
	return append(out, b[ihdrEnd:]...)
}

func TestDetect(t *testing.T) {
	for want, b := range samples(t) {
		if got, err := Detect(b); got != want || err != nil {
			t.Errorf("%s sample: %q %v", want, got, err)
		}
	}
	s := samples(t)
	bad := []struct {
		name string
		b    []byte
		want error
	}{
		{"empty", nil, ErrEmpty},
		{"Windows executable named .pdf", append([]byte("MZ\x90\x00\x03\x00\x00\x00"), make([]byte, 64)...), ErrUnsupported},
		{"ELF executable", []byte("\x7fELF\x02\x01\x01\x00\x00\x00"), ErrUnsupported},
		{"zip that is no document", func() []byte {
			var b bytes.Buffer
			w := zip.NewWriter(&b)
			f, _ := w.Create("payload.exe")
			f.Write([]byte("MZ"))
			w.Close()
			return b.Bytes()
		}(), ErrUnsupported},
		{"truncated PDF", s[PDF][:20], ErrDamaged},
		{"PDF without version", []byte("%PDF-x.y\n%%EOF"), ErrDamaged},
		{"truncated zip", s[DOCX][:30], ErrDamaged},
		{"truncated JPEG", s[JPEG][:20], ErrDamaged},
		{"truncated PNG", s[PNG][:30], ErrDamaged},
		{"binary junk", []byte{0x00, 0x01, 0x02, 0xfe}, ErrUnsupported},
		{"invalid UTF-8", []byte("caf\xe9"), ErrUnsupported},
	}
	for _, tt := range bad {
		if _, err := Detect(tt.b); !errors.Is(err, tt.want) {
			t.Errorf("%s: %v, want %v", tt.name, err, tt.want)
		}
	}
}

func TestStripMetadata(t *testing.T) {
	s := samples(t)
	const secret = "48.1486N,17.1077E 2031-05-10"
	for _, tc := range []struct {
		typ Type
		b   []byte
	}{{JPEG, withJPEGExif(s[JPEG], secret)}, {PNG, withPNGText(s[PNG], secret)}} {
		if !bytes.Contains(tc.b, []byte(secret)) {
			t.Fatal("the sample lacks its metadata")
		}
		if typ, err := Detect(tc.b); typ != tc.typ || err != nil {
			t.Fatalf("%s with metadata: %q %v", tc.typ, typ, err)
		}
		out, err := StripMetadata(tc.typ, tc.b)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(out, []byte(secret)) {
			t.Errorf("%s: the metadata survived", tc.typ)
		}
		if _, _, err := image.Decode(bytes.NewReader(out)); err != nil {
			t.Errorf("%s: the stripped image does not decode: %v", tc.typ, err)
		}
		if again, _ := StripMetadata(tc.typ, out); !bytes.Equal(again, out) {
			t.Errorf("%s: stripping is not idempotent", tc.typ)
		}
	}
	if out, _ := StripMetadata(PDF, s[PDF]); !bytes.Equal(out, s[PDF]) {
		t.Error("a PDF was changed")
	}
}

// FuzzDetect: no input makes the parsers panic or loop; an accepted image
// strips to an image that is accepted again and strips to itself.
func FuzzDetect(f *testing.F) {
	for _, b := range samples(f) {
		f.Add(b)
	}
	s := samples(f)
	f.Add(withJPEGExif(s[JPEG], "x"))
	f.Add(withPNGText(s[PNG], "x"))
	f.Add([]byte("%PDF-1.4\n%%EOF"))
	f.Fuzz(func(t *testing.T, b []byte) {
		typ, err := Detect(b)
		if err != nil || (typ != JPEG && typ != PNG) {
			return
		}
		out, err := StripMetadata(typ, b)
		if err != nil {
			t.Fatalf("accepted %s does not strip: %v", typ, err)
		}
		if typ2, err := Detect(out); typ2 != typ || err != nil {
			t.Fatalf("stripped %s is %q %v", typ, typ2, err)
		}
		if again, err := StripMetadata(typ, out); err != nil || !bytes.Equal(again, out) {
			t.Fatal("stripping is not idempotent")
		}
	})
}

// nameCases are uploaders' names and what is stored.
var nameCases = []struct {
	in   string
	typ  Type
	want string
}{
	{"eva-cv.pdf", PDF, "eva-cv.pdf"},
	{"CV.PDF", PDF, "CV.PDF"},
	{"photo.jpeg", JPEG, "photo.jpeg"},
	{"photo", JPEG, "photo.jpg"},
	{"../../etc/passwd", TXT, "passwd.txt"},
	{`C:\Users\eva\cv.docx`, DOCX, "cv.docx"},
	{"", PDF, "document.pdf"},
	{"...", PDF, "document.pdf"},
	{".hidden.pdf", PDF, "hidden.pdf"},
	{"a\x00b\x1fc\x7f\u0085.pdf", PDF, "abc.pdf"},
	// A right-to-left override makes "cv\u202Efdp.exe" look like "cvexe.pdf".
	{"cv\u202Efdp.exe", PDF, "cvfdp.exe.pdf"},
	// Every bidi embedding, override, isolate and mark.
	{"a\u202Ab\u202Bc\u202Cd\u202De\u202Ef\u2066g\u2067h\u2068i\u2069j\u200Ek\u200Fl\u061Cm.pdf", PDF, "abcdefghijklm.pdf"},
	// Zero-width and other invisible characters.
	{"in\u200Bvoi\u200Cce\u200D\u2060\uFEFF\u00AD\u034F\u180E\u115F\u3164\uFE0F\U000E0041\uE000.pdf", PDF, "invoice.pdf"},
	{"line\u2028para\u2029.txt", TXT, "linepara.txt"},
	// Spaces of every width become one kind.
	{"my\u00A0cv\u3000final.pdf", PDF, "my cv final.pdf"},
	{"bad\xffutf8.pdf", PDF, "badutf8.pdf"},
	{"\u202E", PDF, "document.pdf"},
	// Decomposed letters are stored composed, also when an invisible character kept them apart.
	{"A\u030Asa.pdf", PDF, "Åsa.pdf"},
	{"A\u200B\u030Asa.pdf", PDF, "Åsa.pdf"},
	{strings.Repeat("x", 200) + ".pdf", PDF, strings.Repeat("x", MaxNameRunes-4) + ".pdf"},
}

func TestCleanName(t *testing.T) {
	for _, c := range nameCases {
		if got := CleanName(c.in, c.typ); got != c.want {
			t.Errorf("CleanName(%q, %s) = %q, want %q", c.in, c.typ, got, c.want)
		}
	}
}

// FuzzCleanName: whatever the uploader calls a file, the stored name is
// valid UTF-8, short, has no path, control, invisible or bidi character,
// ends in its type's extension, and cleaning it again changes nothing.
func FuzzCleanName(f *testing.F) {
	for _, c := range nameCases {
		f.Add(c.in, string(c.typ))
	}
	f.Fuzz(func(t *testing.T, name, typ string) {
		ty := Type(typ)
		if !slices.Contains(Types, ty) {
			ty = PDF
		}
		got := CleanName(name, ty)
		if !utf8.ValidString(got) || got == "" {
			t.Fatalf("%q: invalid or empty %q", name, got)
		}
		if n := utf8.RuneCountInString(got); n > MaxNameRunes {
			t.Fatalf("%q: %d characters", name, n)
		}
		for _, r := range got {
			if invisible(r) || strings.ContainsRune(`/\:*?"<>|`, r) || unicode.IsSpace(r) && r != ' ' {
				t.Fatalf("%q: kept %U in %q", name, r, got)
			}
		}
		lower := strings.ToLower(got)
		if !strings.HasSuffix(lower, ty.Extension()) && !(ty == JPEG && strings.HasSuffix(lower, ".jpeg")) {
			t.Fatalf("%q: %q lacks the extension of %s", name, got, ty)
		}
		if strings.HasPrefix(got, ".") || strings.HasPrefix(got, " ") {
			t.Fatalf("%q: %q starts with a dot or space", name, got)
		}
		if !norm.NFC.IsNormalString(got) {
			t.Fatalf("%q: %q is not NFC", name, got)
		}
		if again := CleanName(got, ty); again != got {
			t.Fatalf("%q: cleaned %q, again %q", name, got, again)
		}
	})
}
