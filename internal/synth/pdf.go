package synth

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// The PDF uses the standard Helvetica, not embedded, with a single-byte
// encoding: WinAnsiEncoding for ASCII and a /Differences array that gives
// the codes 128 to 255 the Adobe glyph names of the letters of the five
// languages (scaron, rcaron, uring, oslash, aring...). A ToUnicode CMap
// says the same to text extractors, and /Widths carries Helvetica's metrics
// so that every reader spaces the text alike.

// glyph is a character the PDF can show: its Adobe glyph name and its
// Helvetica advance width in thousandths of the font size.
type glyph struct {
	r     rune
	name  string
	width int
}

// extraGlyphs get the codes 128, 129... in this order.
var extraGlyphs = []glyph{
	// Latin-1 letters.
	{'À', "Agrave", 667}, {'Á', "Aacute", 667}, {'Â', "Acircumflex", 667}, {'Ã', "Atilde", 667},
	{'Ä', "Adieresis", 667}, {'Å', "Aring", 667}, {'Æ', "AE", 1000}, {'Ç', "Ccedilla", 722},
	{'È', "Egrave", 667}, {'É', "Eacute", 667}, {'Ê', "Ecircumflex", 667}, {'Ë', "Edieresis", 667},
	{'Ì', "Igrave", 278}, {'Í', "Iacute", 278}, {'Î', "Icircumflex", 278}, {'Ï', "Idieresis", 278},
	{'Ð', "Eth", 722}, {'Ñ', "Ntilde", 722}, {'Ò', "Ograve", 778}, {'Ó', "Oacute", 778},
	{'Ô', "Ocircumflex", 778}, {'Õ', "Otilde", 778}, {'Ö', "Odieresis", 778}, {'Ø', "Oslash", 778},
	{'Ù', "Ugrave", 722}, {'Ú', "Uacute", 722}, {'Û', "Ucircumflex", 722}, {'Ü', "Udieresis", 722},
	{'Ý', "Yacute", 667}, {'Þ', "Thorn", 667}, {'ß', "germandbls", 611},
	{'à', "agrave", 556}, {'á', "aacute", 556}, {'â', "acircumflex", 556}, {'ã', "atilde", 556},
	{'ä', "adieresis", 556}, {'å', "aring", 556}, {'æ', "ae", 889}, {'ç', "ccedilla", 500},
	{'è', "egrave", 556}, {'é', "eacute", 556}, {'ê', "ecircumflex", 556}, {'ë', "edieresis", 556},
	{'ì', "igrave", 278}, {'í', "iacute", 278}, {'î', "icircumflex", 278}, {'ï', "idieresis", 278},
	{'ð', "eth", 556}, {'ñ', "ntilde", 556}, {'ò', "ograve", 556}, {'ó', "oacute", 556},
	{'ô', "ocircumflex", 556}, {'õ', "otilde", 556}, {'ö', "odieresis", 556}, {'ø', "oslash", 611},
	{'ù', "ugrave", 556}, {'ú', "uacute", 556}, {'û', "ucircumflex", 556}, {'ü', "udieresis", 556},
	{'ý', "yacute", 500}, {'þ', "thorn", 556}, {'ÿ', "ydieresis", 500},
	// Czech and Slovak.
	{'Č', "Ccaron", 722}, {'č', "ccaron", 500}, {'Ď', "Dcaron", 722}, {'ď', "dcaron", 643},
	{'Ě', "Ecaron", 667}, {'ě', "ecaron", 556}, {'Ĺ', "Lacute", 556}, {'ĺ', "lacute", 222},
	{'Ľ', "Lcaron", 556}, {'ľ', "lcaron", 299}, {'Ň', "Ncaron", 722}, {'ň', "ncaron", 556},
	{'Ŕ', "Racute", 722}, {'ŕ', "racute", 333}, {'Ř', "Rcaron", 722}, {'ř', "rcaron", 333},
	{'Š', "Scaron", 667}, {'š', "scaron", 500}, {'Ť', "Tcaron", 611}, {'ť', "tcaron", 317},
	{'Ů', "Uring", 722}, {'ů', "uring", 556}, {'Ž', "Zcaron", 611}, {'ž', "zcaron", 500},
	// Hungarian and Polish, for names of neighbours.
	{'Ő', "Ohungarumlaut", 778}, {'ő', "ohungarumlaut", 556}, {'Ű', "Uhungarumlaut", 722}, {'ű', "uhungarumlaut", 556},
	{'Ł', "Lslash", 556}, {'ł', "lslash", 222}, {'Ś', "Sacute", 667}, {'ś', "sacute", 500},
	{'Ź', "Zacute", 611}, {'ź', "zacute", 500}, {'Ż', "Zdotaccent", 611}, {'ż', "zdotaccent", 500},
	{'Ć', "Cacute", 722}, {'ć', "cacute", 500}, {'Ń', "Nacute", 722}, {'ń', "nacute", 556},
	{'Ą', "Aogonek", 667}, {'ą', "aogonek", 556}, {'Ę', "Eogonek", 667}, {'ę', "eogonek", 556},
	// Punctuation and signs.
	{'–', "endash", 556}, {'—', "emdash", 1000}, {'‘', "quoteleft", 222}, {'’', "quoteright", 222},
	{'‚', "quotesinglbase", 222}, {'“', "quotedblleft", 333}, {'”', "quotedblright", 333}, {'„', "quotedblbase", 333},
	{'•', "bullet", 350}, {'…', "ellipsis", 1000}, {'£', "sterling", 556}, {'§', "section", 556},
	{'°', "degree", 400}, {'·', "periodcentered", 278}, {'×', "multiply", 584}, {'«', "guillemotleft", 556},
	{'»', "guillemotright", 556}, {'©', "copyright", 737}, {'€', "Euro", 556}, {'±', "plusminus", 584},
}

// asciiWidths are Helvetica's widths of the codes 32 to 126 in WinAnsiEncoding.
var asciiWidths = [95]int{
	278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278, // space to /
	556, 556, 556, 556, 556, 556, 556, 556, 556, 556, // digits
	278, 278, 584, 584, 584, 556, 1015, // : to @
	667, 667, 722, 722, 667, 611, 778, 722, 278, 500, 667, 556, 833, // A to M
	722, 778, 667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, // N to Z
	278, 278, 278, 469, 556, 333, // [ to `
	556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500, 222, 833, // a to m
	556, 556, 556, 556, 333, 500, 278, 556, 500, 722, 500, 500, 500, // n to z
	334, 260, 334, 584, // { to ~
}

// pdfCodeLimit bounds the runes the code table covers (up to the Euro sign).
const pdfCodeLimit = 0x2200

var (
	pdfCodes  [pdfCodeLimit]byte // rune to code; 0 for none
	pdfWidths [256]int
	lastCode  int
	// pdfFontObjects are the objects 3 to 6 (font, encoding, descriptor,
	// ToUnicode CMap), the same in every file.
	pdfFontObjects [4][]byte
)

func init() {
	if len(extraGlyphs) > 128 {
		panic("synth: more than 128 extra PDF glyphs")
	}
	for c := 32; c < 127; c++ {
		pdfCodes[c] = byte(c)
		pdfWidths[c] = asciiWidths[c-32]
	}
	for i, g := range extraGlyphs {
		code := 128 + i
		pdfCodes[g.r] = byte(code)
		pdfWidths[code] = g.width
	}
	pdfCodes[0xA0] = ' ' // no-break space
	pdfCodes['\t'] = ' '
	lastCode = 127 + len(extraGlyphs)

	var b strings.Builder
	b.WriteString("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding 4 0 R")
	fmt.Fprintf(&b, " /FirstChar 32 /LastChar %d /Widths [", lastCode)
	for c := 32; c <= lastCode; c++ {
		if c > 32 {
			b.WriteByte(' ')
		}
		b.WriteString(strconv.Itoa(pdfWidths[c]))
	}
	b.WriteString("] /FontDescriptor 5 0 R /ToUnicode 6 0 R >>")
	pdfFontObjects[0] = []byte(b.String())

	b.Reset()
	b.WriteString("<< /Type /Encoding /BaseEncoding /WinAnsiEncoding /Differences [128")
	for _, g := range extraGlyphs {
		b.WriteString(" /")
		b.WriteString(g.name)
	}
	b.WriteString("] >>")
	pdfFontObjects[1] = []byte(b.String())

	pdfFontObjects[2] = []byte("<< /Type /FontDescriptor /FontName /Helvetica /Flags 32" +
		" /FontBBox [-166 -225 1000 931] /ItalicAngle 0 /Ascent 718 /Descent -207" +
		" /CapHeight 718 /XHeight 523 /StemV 88 >>")

	b.Reset()
	b.WriteString("/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n" +
		"/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n" +
		"/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n" +
		"1 begincodespacerange\n<00> <FF>\nendcodespacerange\n" +
		"1 beginbfrange\n<20> <7E> <0020>\nendbfrange\n")
	for start := 0; start < len(extraGlyphs); start += 100 {
		block := extraGlyphs[start:min(start+100, len(extraGlyphs))]
		fmt.Fprintf(&b, "%d beginbfchar\n", len(block))
		for i, g := range block {
			fmt.Fprintf(&b, "<%02X> <%04X>\n", 128+start+i, g.r)
		}
		b.WriteString("endbfchar\n")
	}
	b.WriteString("endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n")
	cmap := b.String()
	pdfFontObjects[3] = []byte("<< /Length " + strconv.Itoa(len(cmap)) + " >>\nstream\n" + cmap + "endstream")
}

// Page layout, in points: A4 with 2 cm margins.
const (
	pdfPageW, pdfPageH = 595, 842
	pdfMargin          = 56
	pdfBodySize        = "10.5"
	pdfBodySize10      = 105 // the body size in tenths of a point
	pdfBodyLead        = 14
	pdfTitleSize       = "16"
	pdfTitleSize10     = 160
	pdfTitleLead       = 24
	pdfTextWidth       = pdfPageW - 2*pdfMargin
)

// PDF renders lines as a PDF 1.4 file of A4 pages: the first line as a
// title, the others in 10.5-point Helvetica, long lines wrapped at spaces
// and as many pages as needed; an empty line is an empty line. The letters
// of the five languages are shown and extractable; other characters are
// folded to ASCII or shown as "?". The file has no metadata (no /Info, no
// /ID), and the same lines always give the same bytes.
func PDF(lines []string) []byte {
	var pages [][]byte
	var content []byte
	y := pdfPageH - pdfMargin
	size := 0 // the font size set in content, in tenths
	var codes []byte

	newPage := func() {
		if content != nil {
			content = append(content, "ET\n"...)
			pages = append(pages, content)
		}
		content = make([]byte, 0, 4096)
		content = append(content, "BT\n"...)
		y = pdfPageH - pdfMargin
		size = 0
	}
	newPage()

	for i, line := range lines {
		size10, lead, sizeText := pdfBodySize10, pdfBodyLead, pdfBodySize
		if i == 0 {
			size10, lead, sizeText = pdfTitleSize10, pdfTitleLead, pdfTitleSize
		}
		codes = pdfEncode(codes[:0], line)
		maxUnits := pdfTextWidth * 10000 / size10 // in 1/1000 of the font size
		start := 0
		for first := true; first || start < len(codes); first = false {
			end, next := pdfBreak(codes, start, maxUnits)
			if y-lead < pdfMargin {
				newPage()
			}
			y -= lead
			if end > start {
				if size != size10 {
					content = append(content, "/F1 "...)
					content = append(content, sizeText...)
					content = append(content, " Tf\n"...)
					size = size10
				}
				content = append(content, "1 0 0 1 "...)
				content = strconv.AppendInt(content, pdfMargin, 10)
				content = append(content, ' ')
				content = strconv.AppendInt(content, int64(y), 10)
				content = append(content, " Tm ("...)
				for _, c := range codes[start:end] {
					if c == '(' || c == ')' || c == '\\' {
						content = append(content, '\\')
					}
					content = append(content, c)
				}
				content = append(content, ") Tj\n"...)
			}
			start = next
		}
	}
	content = append(content, "ET\n"...)
	pages = append(pages, content)

	// Objects: 1 catalog, 2 page tree, 3-6 font, then page i is 7+2i and
	// its content 8+2i.
	n := 6 + 2*len(pages)
	capacity := 1024 + 20*(n+1)
	for _, p := range pages {
		capacity += len(p) + 200
	}
	for _, o := range pdfFontObjects {
		capacity += len(o) + 20
	}
	out := make([]byte, 0, capacity)
	offsets := make([]int, n+1)
	out = append(out, "%PDF-1.4\n%\xE2\xE3\xCF\xD3\n"...)
	obj := func(num int) {
		offsets[num] = len(out)
		out = strconv.AppendInt(out, int64(num), 10)
		out = append(out, " 0 obj\n"...)
	}
	endobj := func() { out = append(out, "\nendobj\n"...) }

	obj(1)
	out = append(out, "<< /Type /Catalog /Pages 2 0 R >>"...)
	endobj()
	obj(2)
	out = append(out, "<< /Type /Pages /Kids ["...)
	for i := range pages {
		if i > 0 {
			out = append(out, ' ')
		}
		out = strconv.AppendInt(out, int64(7+2*i), 10)
		out = append(out, " 0 R"...)
	}
	out = append(out, "] /Count "...)
	out = strconv.AppendInt(out, int64(len(pages)), 10)
	out = append(out, " >>"...)
	endobj()
	for i, o := range pdfFontObjects {
		obj(3 + i)
		out = append(out, o...)
		endobj()
	}
	for i, p := range pages {
		obj(7 + 2*i)
		out = append(out, "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842]"+
			" /Resources << /Font << /F1 3 0 R >> >> /Contents "...)
		out = strconv.AppendInt(out, int64(8+2*i), 10)
		out = append(out, " 0 R >>"...)
		endobj()
		obj(8 + 2*i)
		out = append(out, "<< /Length "...)
		out = strconv.AppendInt(out, int64(len(p)), 10)
		out = append(out, " >>\nstream\n"...)
		out = append(out, p...)
		out = append(out, "endstream"...)
		endobj()
	}

	xref := len(out)
	out = append(out, "xref\n0 "...)
	out = strconv.AppendInt(out, int64(n+1), 10)
	out = append(out, "\n0000000000 65535 f \n"...)
	for _, off := range offsets[1:] {
		out = appendPadded(out, off)
		out = append(out, " 00000 n \n"...)
	}
	out = append(out, "trailer\n<< /Size "...)
	out = strconv.AppendInt(out, int64(n+1), 10)
	out = append(out, " /Root 1 0 R >>\nstartxref\n"...)
	out = strconv.AppendInt(out, int64(xref), 10)
	out = append(out, "\n%%EOF\n"...)
	return out
}

// appendPadded appends n as ten digits.
func appendPadded(b []byte, n int) []byte {
	var d [10]byte
	for i := 9; i >= 0; i-- {
		d[i] = byte('0' + n%10)
		n /= 10
	}
	return append(b, d[:]...)
}

// pdfEncode appends the codes of s to b: the glyph's code, or the ASCII
// folding of a letter it lacks, or "?"; control characters are dropped.
func pdfEncode(b []byte, s string) []byte {
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 32 && c < 127 {
			b = append(b, c)
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		i += n
		switch {
		case r < pdfCodeLimit && pdfCodes[r] != 0:
			b = append(b, pdfCodes[r])
		case r < 32 || r == 127 || r == 0xAD || r >= 0x200B && r <= 0x200F || r == 0xFEFF:
			// control, soft hyphen, zero-width and direction marks
		case fold[r] != "":
			b = append(b, fold[r]...)
		default:
			b = append(b, '?')
		}
	}
	return b
}

// pdfBreak finds where the output line that starts at codes[start] ends:
// at the last space that lets it fit in maxUnits (thousandths of the font
// size), or in the middle of a word longer than a line. It returns the end
// of the text to show and the start of the next line (after the spaces).
func pdfBreak(codes []byte, start, maxUnits int) (end, next int) {
	w, space := 0, -1
	i := start
	for ; i < len(codes); i++ {
		c := codes[i]
		if c == ' ' {
			space = i
		}
		w += pdfWidths[c]
		if w > maxUnits && i > start {
			break
		}
	}
	if i == len(codes) {
		return i, i
	}
	end = i
	if space > start {
		end = space
	}
	next = end
	for next < len(codes) && codes[next] == ' ' {
		next++
	}
	// Trailing spaces before the break are not shown.
	for end > start && codes[end-1] == ' ' {
		end--
	}
	return end, next
}
