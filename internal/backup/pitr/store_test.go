package pitr

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// TestObjects runs the replica stores through what the client asks of
// them, with an object big enough to be spooled to disk and, on S3, sent
// in parts.
func TestObjects(t *testing.T) {
	multipartAbove, partSize = 10<<20, 5<<20
	t.Cleanup(func() { multipartAbove, partSize = 4<<30, 64<<20 })
	for _, rc := range replicaCases() {
		t.Run(rc.name, func(t *testing.T) {
			ctx := context.Background()
			spool := t.TempDir()
			o, err := openObjects(rc.location(t), spool)
			if err != nil {
				t.Fatal(err)
			}
			big := make([]byte, 23<<20) // five parts of 5 MiB, the last one shorter
			rand.Read(big)
			small := []byte("small object")
			if err := o.put(ctx, "ltx/9/b", bytes.NewReader(big)); err != nil {
				t.Fatal(err)
			}
			if err := o.put(ctx, "ltx/9/a", bytes.NewReader(small)); err != nil {
				t.Fatal(err)
			}
			if err := o.put(ctx, "ltx/1/c", bytes.NewReader(small)); err != nil {
				t.Fatal(err)
			}
			objs, err := o.list(ctx, "ltx/9/")
			if err != nil {
				t.Fatal(err)
			}
			if len(objs) != 2 || objs[0] != (object{"ltx/9/a", int64(len(small))}) || objs[1] != (object{"ltx/9/b", int64(len(big))}) {
				t.Fatalf("list ltx/9/: %+v", objs)
			}
			if objs, err := o.list(ctx, "ltx/9/b"); err != nil || len(objs) != 1 {
				t.Fatalf("list by name prefix: %+v, %v", objs, err)
			}
			for _, rg := range [][2]int64{{0, 0}, {0, 100}, {5<<20 - 1, 2}, {int64(len(big)) - 10, 0}, {12345, 6 << 20}} {
				rc, err := o.get(ctx, "ltx/9/b", rg[0], rg[1])
				if err != nil {
					t.Fatal(err)
				}
				got, err := io.ReadAll(rc)
				rc.Close()
				want := big[rg[0]:]
				if rg[1] > 0 {
					want = want[:rg[1]]
				}
				if err != nil || !bytes.Equal(got, want) {
					t.Fatalf("get %d+%d: %d bytes, %v; want %d", rg[0], rg[1], len(got), err, len(want))
				}
			}
			if _, err := o.get(ctx, "ltx/9/none", 0, 0); !errors.Is(err, os.ErrNotExist) {
				t.Fatalf("get of a missing object: %v, want os.ErrNotExist", err)
			}
			if err := o.remove(ctx, "ltx/9/b"); err != nil {
				t.Fatal(err)
			}
			if err := o.remove(ctx, "ltx/9/b"); err != nil {
				t.Fatalf("remove of a missing object: %v", err)
			}
			if objs, err := o.list(ctx, "ltx/9/"); err != nil || len(objs) != 1 {
				t.Fatalf("after remove: %+v, %v", objs, err)
			}
			// Nothing is left in the spool directory, nor temp files in a
			// replica directory.
			if left, _ := os.ReadDir(spool); len(left) != 0 {
				t.Fatalf("spool directory holds %d files", len(left))
			}
			if d, ok := o.(*dirObjects); ok {
				left, _ := filepath.Glob(filepath.Join(d.root, "ltx", "*", ".tmp-*"))
				if len(left) != 0 {
					t.Fatalf("temp files left: %v", left)
				}
			}
		})
	}
}
