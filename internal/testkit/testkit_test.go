package testkit_test

import (
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestOnlyTestsImportTheKit: the program never builds its services with
// the kit's cheap password hashing and temporary file store.
func TestOnlyTestsImportTheKit(t *testing.T) {
	const kit = "github.com/kandidat/kandidat/internal/testkit"
	fset := token.NewFileSet()
	seen := 0
	err := filepath.WalkDir("../..", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
			return err
		}
		f, err := parser.ParseFile(fset, p, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		seen++
		for _, imp := range f.Imports {
			if path, _ := strconv.Unquote(imp.Path.Value); path == kit {
				t.Errorf("%s imports the test kit; only _test.go files may", p)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if seen < 100 {
		t.Fatalf("read only %d files; the walk is broken", seen)
	}
}
