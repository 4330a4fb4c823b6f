package extract

import (
	"context"
	"fmt"
	"testing"

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
