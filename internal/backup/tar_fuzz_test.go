package backup

import (
	"archive/tar"
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// FuzzCheckTar feeds the check of a backup's files.tar hostile archives:
// it must never panic, and an archive it accepts holds only regular files
// named "tenant/object" as the file store names them, each once.
func FuzzCheckTar(f *testing.F) {
	add := func(names ...string) {
		var b bytes.Buffer
		tw := tar.NewWriter(&b)
		for _, n := range names {
			tw.WriteHeader(&tar.Header{Name: n, Mode: 0o600, Size: 3, Typeflag: tar.TypeReg, Format: tar.FormatPAX})
			tw.Write([]byte("abc"))
		}
		tw.Close()
		f.Add(b.Bytes(), len(names))
	}
	add("t1/aa", "t1/bb")
	add("../x")
	add("t1/aa/bb")
	add("t1/aa", "t1/aa")
	f.Add([]byte("not a tar"), 0)
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte, want int) {
		p := filepath.Join(dir, "files.tar")
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := checkTar(p, want); err != nil {
			return
		}
		tr := tar.NewReader(bytes.NewReader(data))
		seen := map[string]bool{}
		for {
			h, err := tr.Next()
			if err != nil {
				break
			}
			if h.Typeflag != tar.TypeReg || !blobName(h.Name) || seen[h.Name] {
				t.Fatalf("accepted an entry %q of type %c", h.Name, h.Typeflag)
			}
			seen[h.Name] = true
		}
		if len(seen) != want {
			t.Fatalf("accepted %d entries, the manifest says %d", len(seen), want)
		}
	})
}
