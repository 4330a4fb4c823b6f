// Package extract takes the plain text out of a candidate's documents (PDF,
// DOCX, ODT, plain text) so that it can be searched and shown on the card.
//
// Every document is untrusted, so every extraction is bounded: the size of
// the file, the bytes decompressed from an archive (counted as read, never
// taken from the archive's directory), the entries of an archive, the
// nesting of XML, the pages of a PDF, the text kept, the time and, for PDF,
// the memory. PDF is read by PDFium compiled to WebAssembly and run by
// wazero: a hostile PDF can corrupt only the sandbox's own memory, which is
// bounded and thrown away after each document, and a timeout stops the
// sandbox mid-instruction.
//
// Errors tell a permanent failure (ErrUnsupported, ErrDamaged, ErrEncrypted,
// ErrTooLarge, ErrTimeout: the same bytes will fail again, so the caller
// marks the document and never retries it) from the cancellation of the
// caller's own context (context.Canceled or DeadlineExceeded, not wrapped
// in any of these: try again later). ErrTimeout also wraps
// context.DeadlineExceeded, so test for the package's errors first.
package extract

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kandidat/kandidat/internal/filetype"
)

// Permanent errors of Text: the document is marked with one of them.
var (
	// ErrUnsupported: the type has no text to extract (an image) or is unknown.
	ErrUnsupported = errors.New("extract: unsupported type")
	// ErrDamaged: the content is malformed.
	ErrDamaged = errors.New("extract: damaged document")
	// ErrEncrypted: the PDF needs a password.
	ErrEncrypted = errors.New("extract: document is encrypted")
	// ErrTooLarge: the document exceeds a limit (size, decompressed size,
	// entries, nesting, memory); a zip bomb ends here.
	ErrTooLarge = errors.New("extract: document exceeds a limit")
	// ErrTimeout: the extraction took longer than Limits.Timeout.
	ErrTimeout = errors.New("extract: timed out")
)

// Limits bound the work done on one document.
type Limits struct {
	MaxInput    int64         // bytes of the file
	MaxUnpacked int64         // bytes decompressed from an archive, all entries read together
	MaxEntries  int           // entries in an archive's directory
	MaxDepth    int           // nesting of XML elements
	MaxText     int           // bytes of text kept; more sets Result.Truncated
	MaxPages    int           // pages of a PDF read; more sets Result.Truncated
	MaxMemory   int64         // memory of a PDF sandbox, a multiple of 64 KiB
	Timeout     time.Duration // time of one extraction, once a PDF sandbox is ready
}

// DefaultLimits fit CVs and cover letters with a wide margin: a CV has a
// few pages and a few kilobytes of text.
func DefaultLimits() Limits {
	return Limits{
		MaxInput:    20 << 20,
		MaxUnpacked: 32 << 20,
		MaxEntries:  10_000,
		MaxDepth:    256,
		MaxText:     1 << 20,
		MaxPages:    200,
		MaxMemory:   256 << 20,
		Timeout:     30 * time.Second,
	}
}

// Result is the text of a document.
type Result struct {
	Text      string // NFC, valid UTF-8, no control characters but newlines
	Pages     int    // the pages of a PDF (all of them, not only those read); 0 for other types
	Truncated bool   // the text or the pages read were cut at a limit
}

// Extractor extracts text under fixed limits. It is safe for concurrent
// use; PDFs are read by at most pdfWorkers sandboxes at a time, the others
// wait. The PDF engine is compiled on the first PDF (a few seconds, once).
type Extractor struct {
	lim Limits

	closed  atomic.Bool
	pdfOnce sync.Once
	pdf     *pdfEngine
}

// New returns an extractor that applies lim to every document.
func New(lim Limits) *Extractor {
	return &Extractor{lim: lim}
}

// Close releases the PDF engine, if one was started. Extractions in flight
// fail.
func (e *Extractor) Close() error {
	if e.closed.Swap(true) {
		return nil
	}
	e.pdfOnce.Do(func() {}) // no engine may start after Close
	if e.pdf == nil {
		return nil
	}
	return e.pdf.close()
}

// Text extracts the text of a document of type t (as told by
// filetype.Detect). A permanent failure wraps one of the package's errors;
// the cancellation of ctx is returned as ctx's error.
func (e *Extractor) Text(ctx context.Context, t filetype.Type, data []byte) (Result, error) {
	if err := ctx.Err(); err != nil {
		return Result{}, err
	}
	if int64(len(data)) > e.lim.MaxInput {
		return Result{}, fmt.Errorf("%w: %d bytes, at most %d", ErrTooLarge, len(data), e.lim.MaxInput)
	}
	switch t {
	case filetype.TXT:
		return e.run(ctx, func(_ context.Context, tb *textBuilder) (int, error) {
			return 0, readTXT(data, tb)
		})
	case filetype.DOCX:
		return e.run(ctx, func(ctx context.Context, tb *textBuilder) (int, error) {
			return 0, readDOCX(ctx, data, e.lim, tb)
		})
	case filetype.ODT:
		return e.run(ctx, func(ctx context.Context, tb *textBuilder) (int, error) {
			return 0, readODT(ctx, data, e.lim, tb)
		})
	case filetype.PDF:
		return e.pdfText(ctx, data)
	}
	return Result{}, fmt.Errorf("%w: %q", ErrUnsupported, t)
}

// reader extracts into tb and returns the pages of the document.
type reader func(ctx context.Context, tb *textBuilder) (pages int, err error)

// run gives read the time of Limits.Timeout and tells the caller's
// cancellation (retry later) from the timeout (permanent).
func (e *Extractor) run(ctx context.Context, read reader) (Result, error) {
	tctx, cancel := context.WithTimeoutCause(ctx, e.lim.Timeout, ErrTimeout)
	defer cancel()
	tb := newTextBuilder(e.lim.MaxText)
	pages, err := read(tctx, tb)
	if errors.Is(err, errFull) {
		err = nil
	}
	switch {
	case err == nil:
		text := tb.String() // may cut, and so set truncated
		return Result{Text: text, Pages: pages, Truncated: tb.truncated}, nil
	case ctx.Err() != nil:
		return Result{}, ctx.Err()
	case tctx.Err() != nil && errors.Is(context.Cause(tctx), ErrTimeout):
		return Result{}, fmt.Errorf("%w after %v: %w", ErrTimeout, e.lim.Timeout, tctx.Err())
	}
	return Result{}, err
}

// checkEvery is how many XML tokens a parser reads between two looks at
// its context.
const checkEvery = 256

// damaged wraps a parser's error as ErrDamaged unless it already is one of
// the package's errors or a context's.
func damaged(err error) error {
	for _, known := range []error{ErrDamaged, ErrTooLarge, ErrTimeout, ErrEncrypted, errFull, context.Canceled, context.DeadlineExceeded} {
		if errors.Is(err, known) {
			return err
		}
	}
	return fmt.Errorf("%w: %w", ErrDamaged, err)
}
