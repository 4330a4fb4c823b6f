package importer

import (
	"archive/zip"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/kandidat/kandidat/internal/fault"
	"github.com/kandidat/kandidat/internal/recruit"
)

// Documents are the files a file's rows name: a directory or a zip.
type Documents interface {
	// Read returns a document by the name a row gives, or an error whose
	// message key says why not (ErrDocumentMissing, ErrDocumentTooLarge).
	Read(name string) ([]byte, error)
	Close() error
}

// Bounds of a zip of documents: a zip bomb (many entries, an entry or a
// whole that unpacks far beyond its size) is refused when it is opened,
// from its directory, before a byte is unpacked; each entry is also read
// through a limit.
const (
	MaxZipEntries    = 100_000
	MaxZipTotalBytes = 8 << 30
	MaxZipRatio      = 100
)

// The refusals of documents.
var (
	ErrDocumentMissing  = fault.New(fault.ErrInvalid, "document missing", "import.document_missing")
	ErrDocumentTooLarge = fault.New(fault.ErrInvalid, "document too large", "import.document_too_large")
	ErrDocumentPath     = fault.New(fault.ErrInvalid, "document path", "import.document_path")
	ErrZipBomb          = fault.New(fault.ErrInvalid, "zip bomb", "import.error_zip_bomb")
	ErrZip              = fault.New(fault.ErrInvalid, "not a zip", "import.error_zip")
	ErrDocumentsDir     = fault.New(fault.ErrInvalid, "documents directory", "import.error_documents")
)

// safeName reports whether a row's document name is a relative path
// inside the documents: no "..", no absolute path or drive, no backslash,
// no control character.
func safeName(name string) bool {
	if name == "" || strings.ContainsAny(name, "\\\x00:") || strings.ContainsFunc(name, func(r rune) bool { return r < ' ' || r == 0x7f }) {
		return false
	}
	return filepath.IsLocal(name) && path.Clean(name) == name && !strings.HasPrefix(name, "/")
}

// dirDocuments reads from a directory through os.Root: no name, link or
// ".." escapes it.
type dirDocuments struct{ root *os.Root }

// OpenDir opens a directory of documents.
func OpenDir(dir string) (Documents, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrDocumentsDir, err)
	}
	return &dirDocuments{root: root}, nil
}

func (d *dirDocuments) Read(name string) ([]byte, error) {
	if !safeName(name) {
		return nil, ErrDocumentPath
	}
	f, err := d.root.Open(name)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, ErrDocumentMissing
	}
	if err != nil {
		return nil, ErrDocumentPath // outside the directory, or not readable
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil || !st.Mode().IsRegular() {
		return nil, ErrDocumentMissing
	}
	return readLimited(f)
}

func (d *dirDocuments) Close() error { return d.root.Close() }

func readLimited(r io.Reader) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, recruit.MaxFileBytes+1))
	if err != nil {
		return nil, err
	}
	if len(b) > recruit.MaxFileBytes {
		return nil, ErrDocumentTooLarge
	}
	return b, nil
}

// zipDocuments reads from a zip whose directory was checked.
type zipDocuments struct {
	files  map[string]*zip.File
	closer io.Closer
}

// OpenZip opens a zip of documents from a file.
func OpenZip(file string) (Documents, error) {
	r, err := zip.OpenReader(file)
	if err != nil {
		return nil, ErrZip
	}
	d, err := checkZip(&r.Reader)
	if err != nil {
		r.Close()
		return nil, err
	}
	d.closer = r
	return d, nil
}

// ZipBytes opens a zip of documents held in memory (an upload).
func ZipBytes(b []byte) (Documents, error) {
	r, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		return nil, ErrZip
	}
	return checkZip(r)
}

func checkZip(r *zip.Reader) (*zipDocuments, error) {
	if len(r.File) > MaxZipEntries {
		return nil, ErrZipBomb
	}
	d := &zipDocuments{files: map[string]*zip.File{}}
	var total uint64
	for _, f := range r.File {
		if f.FileInfo().IsDir() {
			continue
		}
		total += f.UncompressedSize64
		if total > MaxZipTotalBytes {
			return nil, ErrZipBomb
		}
		if f.UncompressedSize64 > 1<<20 && f.UncompressedSize64 > MaxZipRatio*max(f.CompressedSize64, 1) {
			return nil, ErrZipBomb
		}
		if !safeName(f.Name) {
			continue // never reachable by a row's name
		}
		d.files[f.Name] = f
	}
	return d, nil
}

func (d *zipDocuments) Read(name string) ([]byte, error) {
	if !safeName(name) {
		return nil, ErrDocumentPath
	}
	f, ok := d.files[name]
	if !ok {
		return nil, ErrDocumentMissing
	}
	if f.UncompressedSize64 > recruit.MaxFileBytes {
		return nil, ErrDocumentTooLarge
	}
	rc, err := f.Open()
	if err != nil {
		return nil, ErrZip
	}
	defer rc.Close()
	b, err := readLimited(rc)
	if errors.Is(err, ErrDocumentTooLarge) {
		return nil, err
	}
	if err != nil {
		return nil, ErrZip // e.g. an entry that unpacks beyond its declared size
	}
	return b, nil
}

func (d *zipDocuments) Close() error {
	if d.closer != nil {
		return d.closer.Close()
	}
	return nil
}

// OpenDocuments opens a directory or a zip file, by what the path is.
func OpenDocuments(p string) (Documents, error) {
	st, err := os.Stat(p)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrDocumentsDir, err)
	}
	if st.IsDir() {
		return OpenDir(p)
	}
	return OpenZip(p)
}
