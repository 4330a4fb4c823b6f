package extract

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// archive is a zip file read under the limits: its directory holds at most
// MaxEntries entries and all the entries read together decompress to at
// most MaxUnpacked bytes, counted as they are read.
type archive struct {
	zr   *zip.Reader
	left int64 // decompressed bytes that may still be read
}

func openArchive(data []byte, lim Limits) (*archive, error) {
	// The end record tells the entries before the directory is read, so
	// a directory of a million entries is refused without building it.
	if n, ok := declaredEntries(data); ok && n > lim.MaxEntries {
		return nil, fmt.Errorf("%w: %d entries, at most %d", ErrTooLarge, n, lim.MaxEntries)
	}
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrDamaged, err)
	}
	if len(zr.File) > lim.MaxEntries {
		return nil, fmt.Errorf("%w: %d entries, at most %d", ErrTooLarge, len(zr.File), lim.MaxEntries)
	}
	return &archive{zr: zr, left: lim.MaxUnpacked}, nil
}

// declaredEntries reads the entry count of the end of central directory
// record (not of a ZIP64 one: archive/zip counts those and the caller
// checks what it built).
func declaredEntries(data []byte) (int, bool) {
	const endLen = 22
	tail := data[max(0, len(data)-endLen-0xFFFF):]
	i := bytes.LastIndex(tail, []byte("PK\x05\x06"))
	if i < 0 || len(tail)-i < endLen {
		return 0, false
	}
	return int(binary.LittleEndian.Uint16(tail[i+10:])), true
}

// open returns the decompressed content of the entry name, or ok false
// when the archive has none.
func (a *archive) open(name string) (r io.ReadCloser, ok bool, err error) {
	for _, f := range a.zr.File {
		if f.Name != name {
			continue
		}
		rc, err := f.Open()
		if err != nil {
			return nil, true, fmt.Errorf("%w: %s: %w", ErrDamaged, name, err)
		}
		return &budgetReader{rc: rc, left: &a.left}, true, nil
	}
	return nil, false, nil
}

// names returns the names of the entries in the order of the directory.
func (a *archive) names() []string {
	out := make([]string, len(a.zr.File))
	for i, f := range a.zr.File {
		out[i] = f.Name
	}
	return out
}

// budgetReader reads an entry while the archive's budget of decompressed
// bytes lasts, whatever sizes the entry declares.
type budgetReader struct {
	rc   io.ReadCloser
	left *int64
}

func (b *budgetReader) Read(p []byte) (int, error) {
	if int64(len(p)) > *b.left+1 {
		p = p[:*b.left+1]
	}
	n, err := b.rc.Read(p)
	*b.left -= int64(n)
	if *b.left < 0 {
		return n, fmt.Errorf("%w: more decompressed bytes than allowed", ErrTooLarge)
	}
	if err != nil && !errors.Is(err, io.EOF) {
		return n, fmt.Errorf("%w: %w", ErrDamaged, err)
	}
	return n, err
}

func (b *budgetReader) Close() error { return b.rc.Close() }
