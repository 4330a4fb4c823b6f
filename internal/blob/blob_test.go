package blob_test

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"io"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
	tinkpb "github.com/tink-crypto/tink-go/v2/proto/tink_go_proto"
	"google.golang.org/protobuf/proto"

	"github.com/kandidat/kandidat/internal/blob"
	"github.com/kandidat/kandidat/internal/db"
	"github.com/kandidat/kandidat/internal/keys"
	"github.com/kandidat/kandidat/internal/tenant"
	"github.com/kandidat/kandidat/internal/testkit"
)

// fakeS3 starts an S3 server speaking the real protocol (gofakes3) on
// loopback, with one bucket.
func fakeS3(t testing.TB) *blob.S3 {
	t.Helper()
	mem := s3mem.New()
	if err := mem.CreateBucket("kandidat-files"); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(gofakes3.New(mem).Server())
	t.Cleanup(srv.Close)
	b, err := blob.NewS3(blob.S3Options{Endpoint: srv.URL, Bucket: "kandidat-files", Prefix: "files/", AccessKey: "test-access",
		SecretKey: "test-secret", PathStyle: true})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

type env struct {
	db      *db.DB
	master  *keys.MasterKey
	keys    *keys.Keyring
	tenants []string
}

func newEnv(t testing.TB) *env {
	t.Helper()
	k := testkit.New(t, testkit.Options{})
	e := &env{db: k.DB, master: k.Master, keys: k.Keys}
	for _, slug := range []string{"acme", "beta"} {
		e.tenants = append(e.tenants, k.Company(t, tenant.CreateInput{Slug: slug, Name: slug}).ID)
	}
	return e
}

func backends(t *testing.T) map[string]blob.Backend {
	dir, err := blob.NewDir(filepath.Join(t.TempDir(), "files"))
	if err != nil {
		t.Fatal(err)
	}
	return map[string]blob.Backend{"local": dir, "s3": fakeS3(t)}
}

// tamperBackend wraps a backend to flip one byte of every object read.
type tamperBackend struct {
	blob.Backend
	at int
}

func (tb tamperBackend) Get(ctx context.Context, name string) (io.ReadCloser, error) {
	rc, err := tb.Backend.Get(ctx, name)
	if err != nil {
		return nil, err
	}
	b, _ := io.ReadAll(rc)
	rc.Close()
	if tb.at < len(b) {
		b[tb.at] ^= 0x01
	} else {
		b = b[:len(b)-1] // truncate
	}
	return io.NopCloser(bytes.NewReader(b)), nil
}

func TestRoundTripRotationAndTampering(t *testing.T) {
	ctx := context.Background()
	for name, backend := range backends(t) {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t)
			acme, beta := e.tenants[0], e.tenants[1]
			store := blob.New(backend, e.keys, t.TempDir())
			// 2.5 MiB: several 1 MiB segments.
			plain := make([]byte, 5<<19)
			rand.Read(plain)
			obj, err := store.Put(ctx, acme, "0190f0e2-0000-7000-8000-00000000cv01", bytes.NewReader(plain), 10<<20)
			if err != nil {
				t.Fatal(err)
			}
			if obj.Size != int64(len(plain)) {
				t.Fatalf("object size %d", obj.Size)
			}
			got, err := store.ReadAll(ctx, acme, "0190f0e2-0000-7000-8000-00000000cv01", obj.Key)
			if err != nil || !bytes.Equal(got, plain) {
				t.Fatalf("round trip: %v (equal %v)", err, bytes.Equal(got, plain))
			}
			// The stored bytes are not the plaintext.
			rc, err := backend.Get(ctx, acme+"/0190f0e2-0000-7000-8000-00000000cv01")
			if err != nil {
				t.Fatal(err)
			}
			stored, _ := io.ReadAll(rc)
			rc.Close()
			if bytes.Contains(stored, plain[:64]) || len(stored) <= len(plain) {
				t.Fatal("the backend holds the plaintext")
			}
			// Another object's or company's key, or the key under another id, does not open it.
			if _, err := store.ReadAll(ctx, beta, "0190f0e2-0000-7000-8000-00000000cv01", obj.Key); !errors.Is(err, blob.ErrTampered) && !errors.Is(err, blob.ErrNotFound) {
				t.Fatalf("another company: %v", err)
			}
			other, err := store.Put(ctx, acme, "0190f0e2-0000-7000-8000-00000000cv02", bytes.NewReader([]byte("other")), 0)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := store.ReadAll(ctx, acme, "0190f0e2-0000-7000-8000-00000000cv01", other.Key); !errors.Is(err, blob.ErrTampered) {
				t.Fatalf("another object's key: %v", err)
			}
			// Tampered and truncated ciphertexts are refused.
			for _, at := range []int{0, 40, len(stored) / 2, len(stored) - 1, len(stored)} {
				bad := blob.New(tamperBackend{Backend: backend, at: at}, e.keys, t.TempDir())
				if _, err := bad.ReadAll(ctx, acme, "0190f0e2-0000-7000-8000-00000000cv01", obj.Key); !errors.Is(err, blob.ErrTampered) {
					t.Errorf("byte %d changed: %v", at, err)
				}
			}
			// Rotation: the company's key changes; re-wrapping the object's key
			// keeps the object readable and the stored bytes untouched.
			if err := e.keys.Rotate(ctx, acme); err != nil {
				t.Fatal(err)
			}
			rewrapped, err := store.Rewrap(ctx, acme, "0190f0e2-0000-7000-8000-00000000cv01", obj.Key)
			if err != nil {
				t.Fatal(err)
			}
			infos, err := e.keys.Tenants(ctx)
			if err != nil {
				t.Fatal(err)
			}
			var primary uint32
			for _, i := range infos {
				if i.TenantID == acme {
					primary = i.PrimaryKeyID
				}
			}
			if got, old := wrappingKeyID(t, rewrapped), wrappingKeyID(t, obj.Key); got != primary || old == primary {
				t.Fatalf("re-wrapped with key %d (before: %d), want the new primary %d", got, old, primary)
			}
			for _, k := range [][]byte{obj.Key, rewrapped} {
				if got, err := store.ReadAll(ctx, acme, "0190f0e2-0000-7000-8000-00000000cv01", k); err != nil || !bytes.Equal(got, plain) {
					t.Fatalf("after rotation: %v", err)
				}
			}
			rc, _ = backend.Get(ctx, acme+"/0190f0e2-0000-7000-8000-00000000cv01")
			after, _ := io.ReadAll(rc)
			rc.Close()
			if !bytes.Equal(after, stored) {
				t.Fatal("rotation rewrote the stored object")
			}
			// Limits, deletion, bad names.
			if _, err := store.Put(ctx, acme, "0190f0e2-0000-7000-8000-00000000cv03", bytes.NewReader(make([]byte, 1001)), 1000); !errors.Is(err, blob.ErrTooLarge) {
				t.Fatalf("too large: %v", err)
			}
			if _, err := backend.Get(ctx, acme+"/0190f0e2-0000-7000-8000-00000000cv03"); !errors.Is(err, blob.ErrNotFound) {
				t.Fatalf("a refused object was stored: %v", err)
			}
			if err := store.Delete(ctx, acme, "0190f0e2-0000-7000-8000-00000000cv01"); err != nil {
				t.Fatal(err)
			}
			if _, err := store.Open(ctx, acme, "0190f0e2-0000-7000-8000-00000000cv01", obj.Key); !errors.Is(err, blob.ErrNotFound) {
				t.Fatalf("after delete: %v", err)
			}
			if err := store.Delete(ctx, acme, "0190f0e2-0000-7000-8000-00000000cv01"); err != nil {
				t.Fatalf("deleting twice: %v", err)
			}
			for _, id := range []string{"../../etc/passwd", "", "A", "x/y"} {
				if _, err := store.Put(ctx, acme, id, bytes.NewReader(nil), 0); err == nil {
					t.Errorf("object id %q accepted", id)
				}
			}
		})
	}
}

// TestRotationByAnotherProcess: `kandidat keys rotate` runs while a server
// runs. The command has its own keyring on the same database: it adds the
// new data key, re-wraps the documents' keys with it and, like any other
// instance, writes new documents with it. The server's store, whose keyring
// cached the company's key before, opens all of them, and then writes with
// the new key too.
func TestRotationByAnotherProcess(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	acme := e.tenants[0]
	dir, err := blob.NewDir(filepath.Join(t.TempDir(), "files"))
	if err != nil {
		t.Fatal(err)
	}
	server := blob.New(dir, e.keys, t.TempDir())
	const oldID, newID, laterID = "0190f0e2-0000-7000-8000-0000000000a1", "0190f0e2-0000-7000-8000-0000000000a2", "0190f0e2-0000-7000-8000-0000000000a3"
	old, err := server.Put(ctx, acme, oldID, bytes.NewReader([]byte("written before")), 0)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := server.ReadAll(ctx, acme, oldID, old.Key); err != nil || string(got) != "written before" {
		t.Fatalf("before rotation: %q, %v", got, err)
	}

	cliKeys := keys.New(e.db, e.master)
	cli := blob.New(dir, cliKeys, t.TempDir())
	if err := cliKeys.Rotate(ctx, acme); err != nil {
		t.Fatal(err)
	}
	rewrapped, err := cli.Rewrap(ctx, acme, oldID, old.Key)
	if err != nil {
		t.Fatal(err)
	}
	fresh, err := cli.Put(ctx, acme, newID, bytes.NewReader([]byte("written after")), 0)
	if err != nil {
		t.Fatal(err)
	}
	if wrappingKeyID(t, fresh.Key) == wrappingKeyID(t, old.Key) {
		t.Fatal("the new document's key is wrapped with the old data key")
	}

	for _, c := range []struct {
		name, id string
		key      []byte
		want     string
	}{
		{"old document, re-wrapped", oldID, rewrapped, "written before"},
		{"new document", newID, fresh.Key, "written after"},
		{"old document, key as it was", oldID, old.Key, "written before"},
	} {
		if got, err := server.ReadAll(ctx, acme, c.id, c.key); err != nil || string(got) != c.want {
			t.Errorf("%s: %q, %v; want %q", c.name, got, err, c.want)
		}
	}
	later, err := server.Put(ctx, acme, laterID, bytes.NewReader([]byte("written later")), 0)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := wrappingKeyID(t, later.Key), wrappingKeyID(t, fresh.Key); got != want {
		t.Errorf("the server wraps with key %d after meeting the new key, want %d", got, want)
	}
	// A key id the company does not have is still tampering, not a reason
	// to succeed: the refresh finds nothing new.
	forged := wrappingKeyIDChanged(t, fresh.Key)
	if _, err := server.ReadAll(ctx, acme, newID, forged); !errors.Is(err, blob.ErrTampered) {
		t.Errorf("unknown key id: %v, want ErrTampered", err)
	}
}

// wrappingKeyIDChanged returns wrapped with another company key id in its
// Tink prefix.
func wrappingKeyIDChanged(t *testing.T, wrapped []byte) []byte {
	t.Helper()
	var ek tinkpb.EncryptedKeyset
	if err := proto.Unmarshal(wrapped, &ek); err != nil {
		t.Fatal(err)
	}
	ct := bytes.Clone(ek.GetEncryptedKeyset())
	binary.BigEndian.PutUint32(ct[1:5], binary.BigEndian.Uint32(ct[1:5])^0x5a5a5a5a)
	ek.EncryptedKeyset = ct
	out, err := proto.Marshal(&ek)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestDirLeavesNoPartialFiles(t *testing.T) {
	root := t.TempDir()
	d, err := blob.NewDir(root)
	if err != nil {
		t.Fatal(err)
	}
	// A reader shorter than announced: the put fails and nothing stays.
	if err := d.Put(context.Background(), "t1/obj-01", bytes.NewReader([]byte("abc")), 10); err == nil {
		t.Fatal("a short write succeeded")
	}
	var files []string
	filepath.Walk(root, func(p string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			files = append(files, p)
		}
		return nil
	})
	if len(files) != 0 {
		t.Fatalf("left behind: %v", files)
	}
}

// BenchmarkEncrypt measures the store's encryption (into a local
// directory) against raw AES-256-GCM over the same bytes in 1 MiB chunks.
func BenchmarkEncrypt(b *testing.B) {
	e := newEnv(b)
	dir, err := blob.NewDir(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	store := blob.New(discard{dir}, e.keys, b.TempDir())
	plain := make([]byte, 8<<20)
	rand.Read(plain)
	ctx := context.Background()
	b.SetBytes(int64(len(plain)))
	for b.Loop() {
		if _, err := store.Put(ctx, e.tenants[0], "0190f0e2-0000-7000-8000-0000000bench", bytes.NewReader(plain), 0); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRawAESGCM(b *testing.B) {
	key := make([]byte, 32)
	rand.Read(key)
	block, _ := aes.NewCipher(key)
	gcm, _ := cipher.NewGCM(block)
	plain := make([]byte, 8<<20)
	nonce := make([]byte, gcm.NonceSize())
	out := make([]byte, 0, 1<<20+16)
	b.SetBytes(int64(len(plain)))
	for b.Loop() {
		for off := 0; off < len(plain); off += 1 << 20 {
			out = gcm.Seal(out[:0], nonce, plain[off:off+1<<20], nil)
		}
	}
}

// discard is a backend that reads what it is given and keeps nothing, so
// the benchmark measures encryption rather than the disk.
type discard struct{ blob.Backend }

func (discard) Put(_ context.Context, _ string, r io.ReadSeeker, _ int64) error {
	_, err := io.Copy(io.Discard, r)
	return err
}

// BenchmarkEncryptStream measures the encryption step alone (object key
// and streaming AEAD), without the temporary file.
func BenchmarkEncryptStream(b *testing.B) {
	e := newEnv(b)
	store := blob.New(nil, e.keys, b.TempDir())
	plain := make([]byte, 8<<20)
	rand.Read(plain)
	ctx := context.Background()
	b.SetBytes(int64(len(plain)))
	for b.Loop() {
		if _, err := store.EncryptTo(ctx, e.tenants[0], "0190f0e2-0000-7000-8000-0000000bench", io.Discard, bytes.NewReader(plain)); err != nil {
			b.Fatal(err)
		}
	}
}

// wrappingKeyID is the id of the company key that encrypted an object's
// keyset: the 4 bytes after the version byte of Tink's output prefix.
func wrappingKeyID(t *testing.T, wrapped []byte) uint32 {
	t.Helper()
	var ek tinkpb.EncryptedKeyset
	if err := proto.Unmarshal(wrapped, &ek); err != nil || len(ek.GetEncryptedKeyset()) < 5 {
		t.Fatalf("not an encrypted keyset: %v", err)
	}
	return binary.BigEndian.Uint32(ek.GetEncryptedKeyset()[1:5])
}

// TestDirKeepsDaysNotTimes: a stored file and its directory carry the day
// it was written, not the moment.
func TestDirKeepsDaysNotTimes(t *testing.T) {
	root := t.TempDir()
	d, err := blob.NewDir(root)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Put(context.Background(), "t1/object-ab", bytes.NewReader([]byte("x")), 1); err != nil {
		t.Fatal(err)
	}
	day := time.Now().UTC().Truncate(24 * time.Hour)
	for _, p := range []string{filepath.Join(root, "t1", "ab", "object-ab"), filepath.Join(root, "t1", "ab")} {
		st, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if !st.ModTime().UTC().Equal(day) {
			t.Errorf("%s: modified %s, want the day %s", p, st.ModTime().UTC(), day)
		}
	}
}

// TestWalk lists every object of both backends with its stored size, and
// nothing else: no write under way, no stray file or key.
func TestWalk(t *testing.T) {
	ctx := context.Background()
	root := filepath.Join(t.TempDir(), "files")
	dir, err := blob.NewDir(root)
	if err != nil {
		t.Fatal(err)
	}
	for name, backend := range map[string]blob.Lister{"local": dir, "s3": fakeS3(t)} {
		t.Run(name, func(t *testing.T) {
			want := map[string]int64{
				"acme/0190f0e2-0000-7000-8000-000000000a01": 10,
				"acme/0190f0e2-0000-7000-8000-000000000a02": 0,
				"beta/0190f0e2-0000-7000-8000-000000000b01": 3000,
			}
			for n, size := range want {
				if err := backend.Put(ctx, n, bytes.NewReader(make([]byte, size)), size); err != nil {
					t.Fatal(err)
				}
			}
			if name == "local" {
				if err := os.WriteFile(filepath.Join(root, "acme", "01", ".part-123"), []byte("half"), 0o600); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(root, "stray.txt"), []byte("x"), 0o600); err != nil {
					t.Fatal(err)
				}
			} else if err := backend.Put(ctx, "not-an-object", bytes.NewReader([]byte("x")), 1); err != nil {
				t.Fatal(err)
			}
			got := map[string]int64{}
			if err := backend.Walk(ctx, func(n string, size int64) error {
				if _, dup := got[n]; dup {
					t.Errorf("%s visited twice", n)
				}
				got[n] = size
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			if len(got) != len(want) {
				t.Errorf("got %v, want %v", got, want)
			}
			for n, size := range want {
				if got[n] != size {
					t.Errorf("%s: got size %d, want %d", n, got[n], size)
				}
			}
			stop := errors.New("stop")
			calls := 0
			if err := backend.Walk(ctx, func(string, int64) error { calls++; return stop }); !errors.Is(err, stop) || calls != 1 {
				t.Errorf("an error from fn: got %v after %d calls, want it after 1", err, calls)
			}
		})
	}
}
