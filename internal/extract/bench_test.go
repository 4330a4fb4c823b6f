package extract

import (
	"context"
	"fmt"
	"html"
	"strings"
	"testing"
	"time"

	"github.com/kandidat/kandidat/internal/filetype"
)

// BenchmarkPDF reads a ten-page CV; pages/s is the figure to watch.
func BenchmarkPDF(b *testing.B) {
	const pages = 10
	data := buildPDF(pdfPages(pages))
	x := New(DefaultLimits())
	defer x.Close()
	ctx := context.Background()
	if _, err := x.Text(ctx, filetype.PDF, data); err != nil { // compiles the engine
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := x.Text(ctx, filetype.PDF, data); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(pages*b.N)/b.Elapsed().Seconds(), "pages/s")
}

// BenchmarkDOCX reads a DOCX of 500 paragraphs in the five languages
// (about ten pages).
func BenchmarkDOCX(b *testing.B) {
	body := ""
	for i := range 100 {
		for _, l := range allLanguages {
			body += docxPara(fmt.Sprintf("%d %s", i, l))
		}
	}
	data := buildDOCX(b, docxXML(body))
	x := New(DefaultLimits())
	defer x.Close()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := x.Text(context.Background(), filetype.DOCX, data); err != nil {
			b.Fatal(err)
		}
	}
}

// cvPageLines is a full page of a CV: 50 lines of about 80 characters,
// the five languages' letters in turn (the fixture font's 11 pt lines
// fill an A4 page at 14 pt leading).
const cvPageLines = 50

// cvPages are n full pages of lines, each line numbered by page and line.
func cvPages(n int) [][]string {
	pages := make([][]string, n)
	for p := range pages {
		for l := range cvPageLines {
			line := fmt.Sprintf("%d.%02d %s", p+1, l+1, allLanguages[(p+l)%len(allLanguages)])
			if rs := []rune(line); len(rs) > 80 {
				line = string(rs[:80])
			}
			pages[p] = append(pages[p], line)
		}
	}
	return pages
}

// pagesOf runs x on data for the benchmark and reports pages/s and the
// time of one document; the text must end with the last page's last line.
func pagesOf(b *testing.B, typ filetype.Type, data []byte, pages [][]string) {
	x := New(DefaultLimits())
	defer x.Close()
	ctx := context.Background()
	last := pages[len(pages)-1][cvPageLines-1]
	check := func(r Result) {
		if !strings.HasSuffix(strings.TrimSpace(r.Text), strings.TrimSpace(last)) || r.Truncated ||
			(typ == filetype.PDF && r.Pages != len(pages)) {
			b.Fatalf("%s of %d pages: %d pages read, truncated %v, text ends %q, want %q", typ, len(pages), r.Pages, r.Truncated,
				r.Text[max(0, len(r.Text)-100):], last)
		}
	}
	r, err := x.Text(ctx, typ, data) // compiles the PDF engine, checks the text
	if err != nil {
		b.Fatal(err)
	}
	check(r)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := x.Text(ctx, typ, data); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(pages)*b.N)/b.Elapsed().Seconds(), "pages/s")
	b.ReportMetric(float64(b.Elapsed())/float64(time.Millisecond)/float64(b.N), "ms/doc")
}

// BenchmarkPDFPages is the extraction throughput of full CV pages in one
// PDF of 1, 2, 10 and 50 pages, one document at a time as the
// documents.text job reads them: pages/s, and the time of a document (a
// new sandbox per document is most of a short one's).
//
//	go test -run '^$' -bench 'Pages$' ./internal/extract/
func BenchmarkPDFPages(b *testing.B) {
	for _, n := range []int{1, 2, 10, 50} {
		pages := cvPages(n)
		data := buildPDF(pages)
		b.Run(fmt.Sprintf("pages=%d", n), func(b *testing.B) { pagesOf(b, filetype.PDF, data, pages) })
	}
}

// BenchmarkDOCXPages and BenchmarkODTPages read the same text as the PDF
// pages, a paragraph a line, so that their pages/s compare.
func BenchmarkDOCXPages(b *testing.B) {
	for _, n := range []int{1, 10} {
		pages := cvPages(n)
		var body strings.Builder
		for _, p := range pages {
			for _, l := range p {
				body.WriteString(docxPara(l))
			}
		}
		data := buildDOCX(b, docxXML(body.String()))
		b.Run(fmt.Sprintf("pages=%d", n), func(b *testing.B) { pagesOf(b, filetype.DOCX, data, pages) })
	}
}

func BenchmarkODTPages(b *testing.B) {
	for _, n := range []int{1, 10} {
		pages := cvPages(n)
		var body strings.Builder
		for _, p := range pages {
			for _, l := range p {
				body.WriteString(`<text:p>` + html.EscapeString(l) + `</text:p>`)
			}
		}
		data := buildODT(b, odtXML(body.String()))
		b.Run(fmt.Sprintf("pages=%d", n), func(b *testing.B) { pagesOf(b, filetype.ODT, data, pages) })
	}
}
