package extract

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"

	"github.com/klippa-app/go-pdfium"
	pdfiumerrors "github.com/klippa-app/go-pdfium/errors"
	"github.com/klippa-app/go-pdfium/references"
	"github.com/klippa-app/go-pdfium/requests"
	"github.com/klippa-app/go-pdfium/webassembly"
	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/experimental"
)

// pdfWorkers is how many PDFs are read at once; each sandbox may take
// Limits.MaxMemory.
const pdfWorkers = 2

// pdfChunk is how many characters are copied out of the sandbox at a time,
// so that a page of millions of characters is not copied past the text
// limit.
const pdfChunk = 16 << 10

// errClosed: Text was called after Close.
var errClosed = errors.New("extract: extractor closed")

// compiled keeps PDFium's native code for the life of the process, so
// that an extractor started after another (new limits, a restart after
// Close) starts in milliseconds instead of seconds.
var (
	compiledMu sync.Mutex
	compiled   = wazero.NewCompilationCache()
)

// UseCacheDir keeps PDFium's native code in dir as well, so that the next
// process (a restart, another instance on the machine) loads it in a
// fraction of a second instead of compiling it for seconds. dir must be
// private to the user running Kandidat: what is in it is run as code. Call
// it before New.
func UseCacheDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	c, err := wazero.NewCompilationCacheWithDir(dir)
	if err != nil {
		return err
	}
	compiledMu.Lock()
	compiled = c
	compiledMu.Unlock()
	return nil
}

func compilationCache() wazero.CompilationCache {
	compiledMu.Lock()
	defer compiledMu.Unlock()
	return compiled
}

// pdfEngine is PDFium compiled once to native code by wazero, with a pool
// of sandboxes. Each document gets a fresh sandbox (instantiating takes a
// few milliseconds), so nothing a hostile PDF did to one survives it.
type pdfEngine struct {
	ready chan struct{} // closed when pool or err is set
	pool  pdfium.Pool
	err   error
}

// startPDF compiles the engine in the background: compiling takes seconds
// and must not count against a document's timeout.
func startPDF(lim Limits) *pdfEngine {
	eng := &pdfEngine{ready: make(chan struct{})}
	go func() {
		defer close(eng.ready)
		runtime := wazero.NewRuntimeConfig().
			// The module lowers setjmp/longjmp to exception handling.
			WithCoreFeatures(api.CoreFeaturesV2 | experimental.CoreFeaturesExceptionHandling).
			WithCloseOnContextDone(true).
			WithCompilationCache(compilationCache()).
			WithMemoryLimitPages(uint32(lim.MaxMemory >> 16))
		eng.pool, eng.err = webassembly.Init(webassembly.Config{
			MaxIdle:       pdfWorkers,
			MaxTotal:      pdfWorkers,
			RuntimeConfig: runtime,
			FSConfig:      wazero.NewFSConfig(), // no directory: a PDF reaches no file
			Stdout:        io.Discard,
			Stderr:        io.Discard,
		})
	}()
	return eng
}

func (eng *pdfEngine) close() error {
	<-eng.ready
	if eng.err != nil {
		return nil
	}
	return eng.pool.Close()
}

// pdfText waits for the engine and a sandbox under the caller's context;
// the document's timeout starts once the sandbox is there.
func (e *Extractor) pdfText(ctx context.Context, data []byte) (Result, error) {
	if e.closed.Load() {
		return Result{}, errClosed
	}
	e.pdfOnce.Do(func() { e.pdf = startPDF(e.lim) })
	eng := e.pdf
	if eng == nil {
		return Result{}, errClosed
	}
	select {
	case <-eng.ready:
	case <-ctx.Done():
		return Result{}, ctx.Err()
	}
	if eng.err != nil {
		return Result{}, fmt.Errorf("extract: start the PDF engine: %w", eng.err)
	}
	inst, err := eng.pool.GetInstanceWithContext(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return Result{}, ctx.Err()
		}
		return Result{}, fmt.Errorf("extract: PDF sandbox: %w", err)
	}
	return e.run(ctx, func(ctx context.Context, tb *textBuilder) (int, error) {
		return readPDF(ctx, inst, data, e.lim, tb)
	})
}

// readPDF reads the text of the first Limits.MaxPages pages. When ctx ends
// the sandbox is killed, which stops PDFium wherever it is.
func readPDF(ctx context.Context, inst pdfium.Pdfium, data []byte, lim Limits, tb *textBuilder) (pages int, err error) {
	stop := context.AfterFunc(ctx, func() { _ = inst.Kill() })
	defer func() {
		if stop() {
			_ = inst.Close()
		}
	}()
	doc, err := inst.OpenDocument(&requests.OpenDocument{File: &data})
	if err != nil {
		return 0, pdfError(ctx, err)
	}
	defer func() {
		if ctx.Err() == nil {
			_, _ = inst.FPDF_CloseDocument(&requests.FPDF_CloseDocument{Document: doc.Document})
		}
	}()
	count, err := inst.FPDF_GetPageCount(&requests.FPDF_GetPageCount{Document: doc.Document})
	if err != nil {
		return 0, pdfError(ctx, err)
	}
	pages = count.PageCount
	if pages > lim.MaxPages {
		tb.truncated = true
	}
	for i := range min(pages, lim.MaxPages) {
		if err := readPage(inst, doc.Document, i, tb); err != nil {
			return pages, pdfError(ctx, err)
		}
		tb.newline() // an empty line between pages
		tb.newline()
	}
	return pages, nil
}

// readPage copies the text of page i out of the sandbox in chunks, until
// the page ends or the text is full.
func readPage(inst pdfium.Pdfium, doc references.FPDF_DOCUMENT, i int, tb *textBuilder) error {
	page, err := inst.FPDF_LoadPage(&requests.FPDF_LoadPage{Document: doc, Index: i})
	if err != nil {
		return fmt.Errorf("page %d: %w", i+1, err)
	}
	defer inst.FPDF_ClosePage(&requests.FPDF_ClosePage{Page: page.Page})
	text, err := inst.FPDFText_LoadPage(&requests.FPDFText_LoadPage{Page: requests.Page{ByReference: &page.Page}})
	if err != nil {
		return fmt.Errorf("page %d: %w", i+1, err)
	}
	defer inst.FPDFText_ClosePage(&requests.FPDFText_ClosePage{TextPage: text.TextPage})
	chars, err := inst.FPDFText_CountChars(&requests.FPDFText_CountChars{TextPage: text.TextPage})
	if err != nil {
		return fmt.Errorf("page %d: %w", i+1, err)
	}
	for start := 0; start < chars.Count; start += pdfChunk {
		part, err := inst.FPDFText_GetText(&requests.FPDFText_GetText{
			TextPage: text.TextPage, StartIndex: start, Count: min(pdfChunk, chars.Count-start),
		})
		if err != nil {
			return fmt.Errorf("page %d: %w", i+1, err)
		}
		if err := tb.write(part.Text); err != nil {
			return err
		}
	}
	return nil
}

// pdfError maps PDFium's errors to the package's; after the sandbox was
// killed any error is the context's.
func pdfError(ctx context.Context, err error) error {
	switch {
	case ctx.Err() != nil:
		return ctx.Err()
	case errors.Is(err, errFull):
		return err
	case errors.Is(err, pdfiumerrors.ErrPassword), errors.Is(err, pdfiumerrors.ErrSecurity):
		return fmt.Errorf("%w: %w", ErrEncrypted, err)
	}
	return fmt.Errorf("%w: %w", ErrDamaged, err)
}
