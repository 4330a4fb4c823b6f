package synth

import (
	"archive/zip"
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unicode"

	"github.com/kandidat/kandidat/internal/filetype"
)

// requireToolsEnv makes a missing independent tool a failure instead of a
// skip (scripts/test.sh sets it when it has installed the tools).
const requireToolsEnv = "KANDIDAT_TEST_REQUIRE_TOOLS"

func newRand(seed, k uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, k)) }

// bundle is everything the package invents from one random source.
type bundle struct {
	Person      Person
	Position    PositionText
	CV          []string
	Letter      string
	Comment     string
	PDF, DOCX   []byte
	Email, Lang string
}

func makeBundle(seed uint64, country string) bundle {
	r := newRand(seed, 7)
	p := NewPerson(r, country)
	pos := Position(r, p.Language)
	cv := CV(r, p, pos.Title)
	return bundle{
		Person:   p,
		Position: pos,
		CV:       cv,
		Letter:   CoverLetter(r, p, pos.Title),
		Comment:  Comment(r, p.Language),
		PDF:      PDF(cv),
		DOCX:     DOCX(cv),
		Email:    EmailLocal(p),
		Lang:     LanguageOf(country),
	}
}

func TestSameSeedSameData(t *testing.T) {
	for _, c := range Countries {
		for seed := uint64(1); seed <= 20; seed++ {
			a, b := makeBundle(seed, c), makeBundle(seed, c)
			if !reflect.DeepEqual(a, b) {
				t.Fatalf("%s seed %d: two runs differ:\n%+v\n%+v", c, seed, a.Person, b.Person)
			}
		}
	}
}

func TestDifferentSeedDifferentData(t *testing.T) {
	for _, c := range Countries {
		a, b := makeBundle(1, c), makeBundle(2, c)
		switch {
		case a.Person == b.Person:
			t.Errorf("%s: seeds 1 and 2 give the same person %+v", c, a.Person)
		case reflect.DeepEqual(a.CV, b.CV):
			t.Errorf("%s: seeds 1 and 2 give the same CV", c)
		case bytes.Equal(a.PDF, b.PDF):
			t.Errorf("%s: seeds 1 and 2 give the same PDF", c)
		case bytes.Equal(a.DOCX, b.DOCX):
			t.Errorf("%s: seeds 1 and 2 give the same DOCX", c)
		}
		seen := map[string]bool{}
		for seed := range uint64(50) {
			seen[makeBundle(seed, c).Position.Title] = true
		}
		if len(seen) < 15 {
			t.Errorf("%s: 50 seeds give only %d job titles", c, len(seen))
		}
	}
}

func TestLanguageOf(t *testing.T) {
	want := map[string]string{"SE": "sv", "NO": "nb", "SK": "sk", "CZ": "cs", "GB": "en", "XX": "en"}
	for c, l := range want {
		if got := LanguageOf(c); got != l {
			t.Errorf("LanguageOf(%q) = %q, want %q", c, got, l)
		}
	}
}

var (
	phoneChars = regexp.MustCompile(`^\+[0-9 ()\-./]+$`)
	emailLocal = regexp.MustCompile(`^[a-z0-9]+([.-][a-z0-9]+)*$`)
	postal     = map[string]*regexp.Regexp{
		"SE": regexp.MustCompile(`^[1-9]\d\d \d\d$`),
		"NO": regexp.MustCompile(`^\d{4}$`),
		"SK": regexp.MustCompile(`^\d{3} \d\d$`),
		"CZ": regexp.MustCompile(`^[1-7]\d\d \d\d$`),
		"GB": regexp.MustCompile(`^[A-Z]{1,2}\d{1,2}[A-Z]? \d[ABDEFGHJLNPQRSTUWXYZ]{2}$`),
	}
	dialCode = map[string]string{"SE": "+46 ", "NO": "+47 ", "SK": "+421 ", "CZ": "+420 ", "GB": "+44 "}
	// nameLetters must each occur in the names of a sample of the country.
	nameLetters = map[string]string{
		"SE": "åäöÅÖ",
		"NO": "øæåØÅ",
		"SK": "ľčšžďťňáéíóúýĽŠČĎ",
		"CZ": "řěůčšžťňáéíýŘŠČŽÚ",
		"GB": "éáóíë",
	}
)

func TestPeople(t *testing.T) {
	for k, code := range Countries {
		c := countryOf(code)
		if n := len(c.male) + len(c.female); n < 60 {
			t.Errorf("%s: only %d given names", code, n)
		}
		if len(c.family) < 60 {
			t.Errorf("%s: only %d family names", code, len(c.family))
		}
		r := newRand(42, uint64(k))
		given, family := map[string]bool{}, map[string]bool{}
		var names strings.Builder
		for range 1000 {
			p := NewPerson(r, code)
			given[p.GivenName] = true
			family[p.FamilyName] = true
			names.WriteString(p.Name + " ")
			if p.Country != code || p.Language != LanguageOf(code) {
				t.Fatalf("%+v: wrong country or language", p)
			}
			if p.Name != p.GivenName+" "+p.FamilyName || p.Street == "" || p.City == "" {
				t.Fatalf("%+v: incomplete", p)
			}
			if !postal[code].MatchString(p.PostalCode) {
				t.Fatalf("%+v: postal code %q is not of %s", p, p.PostalCode, code)
			}
			if !phoneChars.MatchString(p.Phone) || !strings.HasPrefix(p.Phone, dialCode[code]) {
				t.Fatalf("%+v: phone %q is not a %s number", p, p.Phone, code)
			}
			if digits := countDigits(p.Phone); digits < 10 || digits > 13 {
				t.Fatalf("%+v: phone %q has %d digits", p, p.Phone, digits)
			}
			if e := EmailLocal(p); !emailLocal.MatchString(e) || !strings.Contains(e, ".") {
				t.Fatalf("%+v: email local part %q", p, e)
			}
			if code == "SK" || code == "CZ" {
				// Women's family names take -ová or the feminine adjective.
				female := contains(c.female, p.GivenName)
				if female != isFemaleFamily(c, p.FamilyName) {
					t.Fatalf("%+v: family name does not agree with the given name", p)
				}
			}
		}
		if len(given) < 50 || len(family) < 50 {
			t.Errorf("%s: 1000 people have only %d given and %d family names", code, len(given), len(family))
		}
		for _, l := range nameLetters[code] {
			if !strings.ContainsRune(names.String(), l) {
				t.Errorf("%s: no name of 1000 contains %q", code, l)
			}
		}
	}
}

// isFemaleFamily tells a female form of a Slovak or Czech family name:
// -ová, or the feminine of an adjective (Novotný, Novotná; Čierny, Čierna).
func isFemaleFamily(c *country, name string) bool {
	for _, f := range c.family {
		adjective := strings.HasSuffix(f[0], "ý") || strings.HasSuffix(f[0], "y")
		if !strings.HasSuffix(f[1], "ová") && !(adjective && (strings.HasSuffix(f[1], "á") || strings.HasSuffix(f[1], "a"))) {
			panic("not a female form: " + f[1])
		}
		if name == f[1] {
			return true
		}
	}
	return false
}

func countDigits(s string) int {
	n := 0
	for _, c := range s {
		if unicode.IsDigit(c) {
			n++
		}
	}
	return n
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func TestEmailLocal(t *testing.T) {
	for _, c := range []struct{ given, family, want string }{
		{"Øyvind", "Sørensen", "oyvind.sorensen"},
		{"Åse", "Dæhli", "ase.daehli"},
		{"Britt-Marie", "Brännström", "britt-marie.brannstrom"},
		{"Jiří", "Dvořák", "jiri.dvorak"},
		{"Ľubica", "Kováčová", "lubica.kovacova"},
		{"Šárka", "Jarošová", "sarka.jarosova"},
		{"Seán", "O'Brien", "sean.obrien"},
		{"Zoë", "Ťažký", "zoe.tazky"},
		{"Ægir", "", "aegir"},
	} {
		if got := EmailLocal(Person{GivenName: c.given, FamilyName: c.family}); got != c.want {
			t.Errorf("EmailLocal(%s %s) = %q, want %q", c.given, c.family, got, c.want)
		}
	}
}

// langLetters must each occur in the texts of a sample of CVs, cover
// letters and positions of the language.
var langLetters = map[string]string{
	"sv": "åäöÅÖ",
	"nb": "øæåØÅ",
	"sk": "ôäľčšžťďňáéíóúýŠČĽŽ",
	"cs": "řěůčšžňáéíúýŘŠČŽÚ",
	"en": "",
}

func TestTexts(t *testing.T) {
	for k, code := range Countries {
		lang := LanguageOf(code)
		lt := textOf(lang)
		if lt.lang != lang {
			t.Fatalf("no texts for %s", lang)
		}
		n := 0
		for cat, ts := range lt.titles {
			n += len(ts)
			if len(ts) == 0 || len(lt.duties[cat]) < 3 || len(lt.reqs[cat]) == 0 || len(lt.skills[cat]) < 3 ||
				lt.depts[cat] == "" || lt.fields[cat] == "" || lt.degrees[cat][0] == "" || lt.degrees[cat][1] == "" {
				t.Errorf("%s: category %d lacks texts", lang, cat)
			}
		}
		if n < 30 {
			t.Errorf("%s: only %d job titles", lang, n)
		}

		r := newRand(5, uint64(k))
		var all strings.Builder
		for range 60 {
			p := NewPerson(r, code)
			pos := Position(r, lang)
			checkPosition(t, lang, pos)
			cv := CV(r, p, pos.Title)
			checkCV(t, p, cv)
			letter := CoverLetter(r, p, pos.Title)
			checkLetter(t, p, letter)
			comment := Comment(r, lang)
			if comment == "" || strings.Count(comment, ".") != 1 || !strings.HasSuffix(comment, ".") {
				t.Errorf("%s: comment %q is not one sentence", lang, comment)
			}
			for _, s := range append(cv, pos.Title, pos.Description, letter, comment) {
				all.WriteString(s + "\n")
				if strings.ContainsAny(s, "{}") {
					t.Errorf("%s: placeholder left in %q", lang, s)
				}
			}
		}
		for _, l := range langLetters[lang] {
			if !strings.ContainsRune(all.String(), l) {
				t.Errorf("%s: the texts never contain %q", lang, l)
			}
		}
	}
	// A candidate may apply for a position in another language, or with a
	// title of the caller's own.
	r := newRand(9, 9)
	p := NewPerson(r, "CZ")
	for _, title := range []string{"Warehouse Operative", "Astronaut"} {
		checkCV(t, p, CV(r, p, title))
		checkLetter(t, p, CoverLetter(r, p, title))
	}
}

var bullet = regexp.MustCompile(`(?m)^- \S`)

func checkPosition(t *testing.T, lang string, pos PositionText) {
	t.Helper()
	if pos.Title == "" || pos.Department == "" || pos.Location == "" {
		t.Fatalf("%s: incomplete position %+v", lang, pos)
	}
	if categoryOf(pos.Title) < 0 {
		t.Errorf("%s: unknown title %q", lang, pos.Title)
	}
	found := false
	for _, c := range countryOfLanguage(lang).cities {
		found = found || c.name == pos.Location
	}
	if !found {
		t.Errorf("%s: location %q is not a city of the language", lang, pos.Location)
	}
	var paragraphs, bullets int
	for _, block := range strings.Split(pos.Description, "\n\n") {
		switch {
		case strings.HasPrefix(block, "### "):
		case strings.HasPrefix(block, "- "):
			bullets += len(bullet.FindAllString(block, -1))
		default:
			paragraphs++
		}
	}
	if n := paragraphs + bullets; n < 3 || n > 6 || bullets < 2 {
		t.Errorf("%s: description has %d paragraphs and %d bullets:\n%s", lang, paragraphs, bullets, pos.Description)
	}
}

var jobLine = regexp.MustCompile(`^(19|20)\d\d - (\S+): \S.*, \S.*$`)

func checkCV(t *testing.T, p Person, cv []string) {
	t.Helper()
	lt := textOf(p.Language)
	text := strings.Join(cv, "\n")
	if cv[0] != p.Name || !strings.Contains(text, p.Phone) || !strings.Contains(text, p.City) {
		t.Fatalf("CV lacks the name, phone or city of %+v:\n%s", p, text)
	}
	jobs := 0
	for _, l := range cv {
		if m := jobLine.FindStringSubmatch(l); m != nil && (m[2] == lt.present || m[2][0] == '1' || m[2][0] == '2') {
			jobs++
		}
	}
	// The education line has the same shape as a job line.
	if jobs < 3 || jobs > 5 {
		t.Errorf("CV has %d dated lines, want 2 to 4 jobs and an education:\n%s", jobs, text)
	}
	for _, h := range []string{lt.profileHead, lt.experienceHead, lt.educationHead, lt.skillsHead, lt.languagesHead, lt.native} {
		if !strings.Contains(text, h) {
			t.Errorf("CV lacks %q:\n%s", h, text)
		}
	}
}

func checkLetter(t *testing.T, p Person, letter string) {
	t.Helper()
	parts := strings.Split(letter, "\n\n")
	if len(parts) != 3 || !strings.HasSuffix(parts[2], "\n"+p.Name) {
		t.Fatalf("cover letter is not greeting, body, sign-off:\n%s", letter)
	}
	n := len(regexp.MustCompile(`[.!?]( |$)`).FindAllString(parts[1], -1))
	if n < 3 || n > 5 {
		t.Errorf("cover letter body has %d sentences:\n%s", n, parts[1])
	}
}

// requireTool returns the path of an independent tool, or skips the test
// (fails it under KANDIDAT_TEST_REQUIRE_TOOLS=1) when it is not installed.
func requireTool(t *testing.T, name, pkg string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv(requireToolsEnv) == "1" {
			t.Fatalf("%s is not installed (Debian package %s) and %s=1", name, pkg, requireToolsEnv)
		}
		t.Skipf("%s is not installed: install Debian's %s package (make test does)", name, pkg)
	}
	return path
}

// sampleLines are CVs of every country, pangrams with every letter of the
// five languages, a paragraph long enough to wrap, and enough lines for
// several pages.
func sampleLines() []string {
	var lines []string
	for k, c := range Countries {
		r := newRand(11, uint64(k))
		p := NewPerson(r, c)
		lines = append(lines, CV(r, p, Position(r, p.Language).Title)...)
		lines = append(lines, "")
	}
	lines = append(lines,
		"Příliš žluťoučký kůň úpěl ďábelské ódy",
		"PŘÍLIŠ ŽLUŤOUČKÝ KŮŇ ÚPĚL ĎÁBELSKÉ ÓDY Ě Š Č Ř Ž Ý Á Í É Ú Ů Ď Ť Ň",
		"Kŕdeľ šťastných ďatľov učí pri ústí Váhu mĺkveho koňa obhrýzať kôru a žrať čerstvé mäso",
		"KŔDEĽ ŠŤASTNÝCH ĎATĽOV Ĺ Ľ Ŕ Ô Ä",
		"Flygande bäckasiner söka hwila på mjuka tuvor ÅÄÖ åäö",
		"Vår sære Zulu fra badeøya spilte jo whist og quickstep i min taxi ÆØÅ æøå",
		"Seán Ó Ceallaigh, Zoë, Chloë, Renée, Siân, Siobhán, Róisín, Éamonn, Ciarán",
		"Brackets (and) back\\slashes & <angle> \"quotes\" 'apostrophes' 100% #1 $5 *stars* @home",
		strings.Repeat("Dlouhý řádek, který se musí zalomit, protože je širší než stránka; ", 12),
	)
	for i := range 120 {
		lines = append(lines, "Řádek číslo "+strconv.Itoa(i+1)+" na další stránce: Øyvind Brännström Dvořák Kováčová")
	}
	return lines
}

// collapse joins whitespace runs into single spaces.
func collapse(s string) string { return strings.Join(strings.Fields(s), " ") }

func checkExtracted(t *testing.T, tool, text string, lines []string) {
	t.Helper()
	got := collapse(text)
	missing := 0
	for _, l := range lines {
		if c := collapse(l); c != "" && !strings.Contains(got, c) {
			t.Errorf("%s output lacks %q", tool, c)
			if missing++; missing > 5 {
				break
			}
		}
	}
	if t.Failed() {
		t.Logf("%s output:\n%s", tool, text)
	}
}

func TestPDFExtractedByPdftotext(t *testing.T) {
	tool := requireTool(t, "pdftotext", "poppler-utils")
	lines := sampleLines()
	file := filepath.Join(t.TempDir(), "cv.pdf")
	if err := os.WriteFile(file, PDF(lines), 0o600); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(tool, "-enc", "UTF-8", file, "-")
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("pdftotext: %v\n%s", err, stderr.String())
	}
	// Poppler complains on stderr about a damaged cross-reference table.
	if stderr.Len() > 0 {
		t.Errorf("pdftotext warns:\n%s", stderr.String())
	}
	if pages := strings.Count(stdout.String(), "\f"); pages < 3 {
		t.Errorf("pdftotext found %d pages, want several", pages)
	}
	checkExtracted(t, "pdftotext", stdout.String(), lines)
}

func TestDOCXExtractedByDocx2txt(t *testing.T) {
	tool := requireTool(t, "docx2txt", "docx2txt")
	lines := sampleLines()
	file := filepath.Join(t.TempDir(), "cv.docx")
	if err := os.WriteFile(file, DOCX(lines), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(tool, file, "-").CombinedOutput()
	if err != nil {
		t.Fatalf("docx2txt: %v\n%s", err, out)
	}
	checkExtracted(t, "docx2txt", string(out), lines)
	// One paragraph a line: the name is a line of its own.
	if !strings.HasPrefix(string(out), lines[0]+"\n") {
		t.Errorf("docx2txt output does not start with the line %q:\n%.200s", lines[0], out)
	}
}

func TestFiletypeRecognisesFiles(t *testing.T) {
	for _, lines := range [][]string{nil, {""}, {"Jiří Dvořák"}, sampleLines()} {
		if typ, err := filetype.Detect(PDF(lines)); typ != filetype.PDF || err != nil {
			t.Errorf("PDF of %d lines detected as %q, %v", len(lines), typ, err)
		}
		if typ, err := filetype.Detect(DOCX(lines)); typ != filetype.DOCX || err != nil {
			t.Errorf("DOCX of %d lines detected as %q, %v", len(lines), typ, err)
		}
	}
}

// TestPDFStructure checks what needs no outside tool: the cross-reference
// table points at the objects, there is no metadata, and the text shows
// the diacritics with the codes of the /Differences array.
func TestPDFStructure(t *testing.T) {
	for _, lines := range [][]string{nil, {"Åsa Brännström"}, sampleLines()} {
		b := PDF(lines)
		if !bytes.HasPrefix(b, []byte("%PDF-1.4\n")) || !bytes.HasSuffix(b, []byte("%%EOF\n")) {
			t.Fatalf("no PDF 1.4 header or no %%%%EOF")
		}
		for _, meta := range []string{"/Info", "/Title", "/Author", "/Metadata", "/ID"} {
			if bytes.Contains(b, []byte(meta)) {
				t.Errorf("PDF contains %s", meta)
			}
		}
		sx := bytes.LastIndex(b, []byte("startxref\n"))
		xref, err := strconv.Atoi(strings.Fields(string(b[sx+len("startxref\n"):]))[0])
		if err != nil || !bytes.HasPrefix(b[xref:], []byte("xref\n0 ")) {
			t.Fatalf("startxref %d does not point at the xref table (%v)", xref, err)
		}
		fields := strings.Fields(string(b[xref+len("xref\n"):]))
		count, _ := strconv.Atoi(fields[1])
		if count < 7 || !strings.Contains(string(b), fmt.Sprintf("/Size %d ", count)) {
			t.Fatalf("xref has %d entries, the trailer says otherwise", count)
		}
		entries := b[xref+len("xref\n0 \n")+len(fields[1]):]
		for i := 1; i < count; i++ {
			e := string(entries[20*i : 20*i+20])
			off, err := strconv.Atoi(e[:10])
			if err != nil || e[10:] != " 00000 n \n" {
				t.Fatalf("xref entry %d is %q", i, e)
			}
			if want := strconv.Itoa(i) + " 0 obj\n"; !bytes.HasPrefix(b[off:], []byte(want)) {
				t.Fatalf("xref entry %d points at %q", i, b[off:min(off+12, len(b))])
			}
		}
	}
	b := PDF([]string{"x", "ř ø"})
	if !bytes.Contains(b, []byte("/rcaron")) || !bytes.Contains(b, []byte("/oslash")) ||
		!bytes.Contains(b, []byte{'(', pdfCodes['ř'], ' ', pdfCodes['ø'], ')'}) {
		t.Errorf("ř and ø are not shown with their glyph codes")
	}
}

func TestPDFWraps(t *testing.T) {
	long := strings.Repeat("word ", 200)
	codes := pdfEncode(nil, long)
	maxUnits := pdfTextWidth * 10000 / pdfBodySize10
	start, rows := 0, 0
	var rebuilt []string
	for start < len(codes) {
		end, next := pdfBreak(codes, start, maxUnits)
		w := 0
		for _, c := range codes[start:end] {
			w += pdfWidths[c]
		}
		if w > maxUnits {
			t.Fatalf("row %d is %d units wide, more than %d", rows, w, maxUnits)
		}
		rebuilt = append(rebuilt, string(codes[start:end]))
		start, rows = next, rows+1
	}
	if rows < 5 || collapse(strings.Join(rebuilt, " ")) != collapse(long) {
		t.Errorf("wrapping %d words gave %d rows", 200, rows)
	}
	// A word longer than a row is cut.
	word := strings.Repeat("W", 300)
	if end, _ := pdfBreak(pdfEncode(nil, word), 0, maxUnits); end <= 0 || end >= 300 {
		t.Errorf("a 300-letter word breaks at %d", end)
	}
}

func TestDOCXContents(t *testing.T) {
	b := DOCX([]string{"Marlow & Price <Ltd>", "", "Kováčová\x01\tØ"})
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range zr.File {
		names = append(names, f.Name)
		if !f.Modified.Equal(docxTime) {
			t.Errorf("%s modified %v", f.Name, f.Modified)
		}
		if f.Name != "word/document.xml" {
			continue
		}
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		var doc bytes.Buffer
		if _, err := doc.ReadFrom(rc); err != nil {
			t.Fatal(err)
		}
		rc.Close()
		s := doc.String()
		for _, want := range []string{"Marlow &amp; Price &lt;Ltd&gt;", "Kováčová Ø", "</w:body></w:document>"} {
			if !strings.Contains(s, want) {
				t.Errorf("document.xml lacks %q:\n%s", want, s)
			}
		}
		if strings.Count(s, "<w:p>") != 3 || strings.ContainsRune(s, '\x01') {
			t.Errorf("document.xml is not three clean paragraphs:\n%s", s)
		}
	}
	if want := []string{"[Content_Types].xml", "_rels/.rels", "word/document.xml"}; !reflect.DeepEqual(names, want) {
		t.Errorf("entries %v, want %v", names, want)
	}
}

func TestPDFFoldsUnknownCharacters(t *testing.T) {
	got := string(pdfEncode(nil, "Łódź ş\u200b中\x07"))
	want := string([]byte{pdfCodes['Ł'], pdfCodes['ó'], 'd', pdfCodes['ź'], ' ', '?', '?'})
	if got != want {
		t.Errorf("pdfEncode = %q, want %q", got, want)
	}
	for _, g := range extraGlyphs {
		if g.width <= 0 || !unicode.IsPrint(g.r) {
			t.Errorf("glyph %q %s", g.r, g.name)
		}
	}
}

// typicalCV is the CV the benchmarks render.
func typicalCV() []string {
	r := newRand(3, 3)
	p := NewPerson(r, "CZ")
	return CV(r, p, Position(r, "cs").Title)
}

func BenchmarkPDF(b *testing.B) {
	lines := typicalCV()
	b.ReportAllocs()
	for b.Loop() {
		PDF(lines)
	}
}

func BenchmarkDOCX(b *testing.B) {
	lines := typicalCV()
	b.ReportAllocs()
	for b.Loop() {
		DOCX(lines)
	}
}

func BenchmarkCV(b *testing.B) {
	r := newRand(3, 3)
	p := NewPerson(r, "SE")
	b.ReportAllocs()
	for b.Loop() {
		CV(r, p, "Sjuksköterska")
	}
}
