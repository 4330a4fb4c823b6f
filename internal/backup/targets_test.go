package backup

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
)

const (
	testAccess = "test-access"
	testSecret = "s3cr3t+Value/xyz"
	testBucket = "kandidat-backups"
)

// fakeS3Server starts an S3 server speaking the real protocol (gofakes3)
// on loopback with one bucket. gofakes3 checks no signatures, so a small
// handler in front refuses requests signed with another access key the
// way S3 does (403 InvalidAccessKeyId).
func fakeS3Server(t *testing.T) *httptest.Server {
	t.Helper()
	t.Setenv("AWS_CA_BUNDLE", "")
	mem := s3mem.New()
	if err := mem.CreateBucket(testBucket); err != nil {
		t.Fatal(err)
	}
	s3h := gofakes3.New(mem).Server()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.Contains(r.Header.Get("Authorization"), "Credential="+testAccess+"/") {
			w.Header().Set("Content-Type", "application/xml")
			w.WriteHeader(http.StatusForbidden)
			fmt.Fprint(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>InvalidAccessKeyId</Code>`+
				`<Message>The AWS Access Key Id you provided does not exist in our records.</Message></Error>`)
			return
		}
		s3h.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// s3URL is a target URL on srv with the given credentials and bucket.
func s3URL(endpoint, access, secret, bucket string) string {
	return fmt.Sprintf("s3://%s@%s/backups?endpoint=%s&path-style=true",
		url.UserPassword(access, secret).String(), bucket, url.QueryEscape(endpoint))
}

func openTarget(t *testing.T, name, loc string, o OpenOptions) Target {
	t.Helper()
	tg, err := Open(Spec{Name: name, URL: loc}, o)
	if err != nil {
		t.Fatal(err)
	}
	return tg
}

type targetCase struct {
	target Target
	tmpDir string // where S3 spools; must be empty after every Put
	root   string // the directory target's root ("" for S3)
}

// targets returns a directory target and an S3 target, each fresh.
func targets(t *testing.T) map[string]targetCase {
	dirRoot := filepath.Join(t.TempDir(), "backups")
	srv := fakeS3Server(t)
	tmp := t.TempDir()
	return map[string]targetCase{
		"dir": {target: openTarget(t, "local", dirRoot, OpenOptions{}), root: dirRoot},
		"s3":  {target: openTarget(t, "offsite", s3URL(srv.URL, testAccess, testSecret, testBucket), OpenOptions{TmpDir: tmp}), tmpDir: tmp},
	}
}

func get(t *testing.T, tg Target, key string) []byte {
	t.Helper()
	rc, err := tg.Get(context.Background(), key)
	if err != nil {
		t.Fatalf("get %s: %v", key, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func keys(t *testing.T, tg Target, prefix string) []string {
	t.Helper()
	objs, err := tg.List(context.Background(), prefix)
	if err != nil {
		t.Fatalf("list %q: %v", prefix, err)
	}
	var ks []string
	for _, o := range objs {
		ks = append(ks, o.Key)
	}
	return ks
}

// checkNoLeftovers fails when a temp file survived a Put.
func checkNoLeftovers(t *testing.T, c targetCase) {
	t.Helper()
	if c.tmpDir != "" {
		if ents, _ := os.ReadDir(c.tmpDir); len(ents) != 0 {
			t.Errorf("spooled upload left in the temp dir: %v", ents[0].Name())
		}
	}
	if c.root != "" {
		filepath.WalkDir(c.root, func(p string, d fs.DirEntry, err error) error {
			if err == nil && strings.HasPrefix(d.Name(), tmpPrefix) {
				t.Errorf("temp file left: %s", p)
			}
			return nil
		})
	}
}

// failingReader yields n random bytes, then fails.
type failingReader struct {
	n   int
	err error
}

func (f *failingReader) Read(p []byte) (int, error) {
	if f.n == 0 {
		return 0, f.err
	}
	k := min(len(p), f.n)
	rand.Read(p[:k])
	f.n -= k
	return k, nil
}

const key1 = "20261203T100000Z-abcdef/files.tar.age"

func TestTargets(t *testing.T) {
	ctx := context.Background()
	for _, kind := range []string{"dir", "s3"} {
		t.Run(kind, func(t *testing.T) {
			t.Run("put get list delete", func(t *testing.T) {
				c := targets(t)[kind]
				tg := c.target
				data := make([]byte, 3<<20+17)
				rand.Read(data)
				if err := tg.Put(ctx, key1, bytes.NewReader(data)); err != nil {
					t.Fatal(err)
				}
				if err := tg.Put(ctx, "20261203T100000Z-abcdef/manifest.json.age", strings.NewReader("m")); err != nil {
					t.Fatal(err)
				}
				if err := tg.Put(ctx, "20261204T100000Z-012345/files.tar.age", strings.NewReader("")); err != nil {
					t.Fatal(err)
				}
				if got := get(t, tg, key1); !bytes.Equal(got, data) {
					t.Fatalf("got %d bytes back, want the %d put", len(got), len(data))
				}
				objs, err := tg.List(ctx, "")
				if err != nil {
					t.Fatal(err)
				}
				want := []string{key1, "20261203T100000Z-abcdef/manifest.json.age", "20261204T100000Z-012345/files.tar.age"}
				if len(objs) != len(want) {
					t.Fatalf("listed %v, want %v", objs, want)
				}
				for i, o := range objs {
					if o.Key != want[i] {
						t.Errorf("object %d is %s, want %s", i, o.Key, want[i])
					}
					if o.Modified.IsZero() || time.Since(o.Modified) > time.Hour {
						t.Errorf("object %s modified %v", o.Key, o.Modified)
					}
				}
				if objs[0].Size != int64(len(data)) || objs[2].Size != 0 {
					t.Errorf("sizes %d and %d, want %d and 0", objs[0].Size, objs[2].Size, len(data))
				}
				for prefix, n := range map[string]int{"20261203T100000Z-abcdef/": 2, "2026120": 3, "20261204": 1, "2025": 0,
					"20261203T100000Z-abcdef/files": 1, "nothing/here/": 0} {
					if got := keys(t, tg, prefix); len(got) != n {
						t.Errorf("list %q: got %v, want %d objects", prefix, got, n)
					}
				}
				if _, err := tg.Get(ctx, key1+"/below-an-object"); !errors.Is(err, ErrNotFound) {
					t.Fatalf("get below an object: got %v, want ErrNotFound", err)
				}
				if err := tg.Delete(ctx, key1); err != nil {
					t.Fatal(err)
				}
				if _, err := tg.Get(ctx, key1); !errors.Is(err, ErrNotFound) {
					t.Fatalf("get after delete: got %v, want ErrNotFound", err)
				}
				if err := tg.Delete(ctx, key1); err != nil {
					t.Fatalf("deleting an absent object: %v", err)
				}
				if _, err := tg.Get(ctx, "20261203T100000Z-abcdef"); !errors.Is(err, ErrNotFound) {
					t.Fatalf("get of a folder: got %v, want ErrNotFound", err)
				}
				for _, k := range []string{"20261203T100000Z-abcdef/manifest.json.age", "20261204T100000Z-012345/files.tar.age"} {
					if err := tg.Delete(ctx, k); err != nil {
						t.Fatal(err)
					}
				}
				if got := keys(t, tg, ""); len(got) != 0 {
					t.Fatalf("after deleting all: %v", got)
				}
				if c.root != "" {
					// The emptied backup folders went too; the root stays.
					ents, err := os.ReadDir(c.root)
					if err != nil || len(ents) != 0 {
						t.Fatalf("root after deleting all: %v %v", ents, err)
					}
				}
				checkNoLeftovers(t, c)
			})

			t.Run("overwrite", func(t *testing.T) {
				c := targets(t)[kind]
				for _, s := range []string{"first version", "second"} {
					if err := c.target.Put(ctx, key1, strings.NewReader(s)); err != nil {
						t.Fatal(err)
					}
				}
				if got := string(get(t, c.target, key1)); got != "second" {
					t.Fatalf("got %q, want %q", got, "second")
				}
				if got := keys(t, c.target, ""); len(got) != 1 {
					t.Fatalf("listed %v, want one object", got)
				}
				checkNoLeftovers(t, c)
			})

			t.Run("a failing reader stores nothing", func(t *testing.T) {
				c := targets(t)[kind]
				boom := errors.New("source broke")
				err := c.target.Put(ctx, key1, &failingReader{n: 1 << 20, err: boom})
				if !errors.Is(err, boom) {
					t.Fatalf("got %v, want the reader's error", err)
				}
				if errors.Is(err, ErrTarget) {
					t.Errorf("a failing source is blamed on the target: %v", err)
				}
				if got := keys(t, c.target, ""); len(got) != 0 {
					t.Fatalf("listed %v after a failed put", got)
				}
				if _, err := c.target.Get(ctx, key1); !errors.Is(err, ErrNotFound) {
					t.Fatalf("get after a failed put: %v", err)
				}
				// A failed overwrite keeps the old object whole.
				if err := c.target.Put(ctx, key1, strings.NewReader("old")); err != nil {
					t.Fatal(err)
				}
				if err := c.target.Put(ctx, key1, &failingReader{n: 1 << 20, err: boom}); !errors.Is(err, boom) {
					t.Fatalf("got %v", err)
				}
				if got := string(get(t, c.target, key1)); got != "old" {
					t.Fatalf("after a failed overwrite got %d bytes, want %q", len(got), "old")
				}
				checkNoLeftovers(t, c)
			})

			t.Run("a put in progress is invisible", func(t *testing.T) {
				c := targets(t)[kind]
				pr, pw := io.Pipe()
				done := make(chan error, 1)
				go func() { done <- c.target.Put(ctx, key1, pr) }()
				half := make([]byte, 1<<20)
				rand.Read(half)
				if _, err := pw.Write(half); err != nil {
					t.Fatal(err)
				}
				// The first half is with the target (or its spool); nothing is visible.
				if got := keys(t, c.target, ""); len(got) != 0 {
					t.Fatalf("listed %v while the put runs", got)
				}
				if _, err := c.target.Get(ctx, key1); !errors.Is(err, ErrNotFound) {
					t.Fatalf("get while the put runs: %v", err)
				}
				if _, err := pw.Write(half); err != nil {
					t.Fatal(err)
				}
				pw.Close()
				if err := <-done; err != nil {
					t.Fatal(err)
				}
				if got := get(t, c.target, key1); len(got) != 2<<20 {
					t.Fatalf("got %d bytes, want %d", len(got), 2<<20)
				}
			})

			t.Run("cancelled context", func(t *testing.T) {
				c := targets(t)[kind]
				cctx, cancel := context.WithCancel(ctx)
				cancel()
				if err := c.target.Put(cctx, key1, strings.NewReader("x")); !errors.Is(err, context.Canceled) {
					t.Fatalf("put with a cancelled context: got %v, want context.Canceled", err)
				}
				// Cancelled half-way through the data.
				cctx, cancel = context.WithCancel(ctx)
				r := io.MultiReader(bytes.NewReader(make([]byte, 1<<20)), readerFunc(func(p []byte) (int, error) {
					cancel()
					return copy(p, "more"), nil
				}), bytes.NewReader(make([]byte, 1<<20)))
				if err := c.target.Put(cctx, key1, r); !errors.Is(err, context.Canceled) {
					t.Fatalf("put cancelled half-way: got %v, want context.Canceled", err)
				}
				if got := keys(t, c.target, ""); len(got) != 0 {
					t.Fatalf("listed %v after a cancelled put", got)
				}
				if _, err := c.target.List(cctx, ""); !errors.Is(err, context.Canceled) {
					t.Errorf("list with a cancelled context: %v", err)
				}
				checkNoLeftovers(t, c)
			})

			t.Run("keys that could escape are refused", func(t *testing.T) {
				c := targets(t)[kind]
				for _, k := range []string{"", "../escape", "a/../../escape", "/etc/passwd", `a\b`, "a//b", "a/./b", "a/", "a/..",
					".tmp-x", "a/.tmp-1234", "a\x00b", "a\nb", strings.Repeat("k", 1025)} {
					if err := c.target.Put(ctx, k, strings.NewReader("x")); err == nil {
						t.Errorf("put %q accepted", k)
					}
					if _, err := c.target.Get(ctx, k); err == nil || errors.Is(err, ErrNotFound) {
						t.Errorf("get %q: got %v, want a refusal", k, err)
					}
					if err := c.target.Delete(ctx, k); err == nil {
						t.Errorf("delete %q accepted", k)
					}
				}
				for _, p := range []string{"../", "/abs", "a/../../"} {
					if _, err := c.target.List(ctx, p); err == nil {
						t.Errorf("list %q accepted", p)
					}
				}
				if got := keys(t, c.target, ""); len(got) != 0 {
					t.Fatalf("listed %v", got)
				}
				if c.root != "" {
					if _, err := os.Stat(filepath.Join(filepath.Dir(c.root), "escape")); !errors.Is(err, fs.ErrNotExist) {
						t.Fatalf("a file was written outside the root: %v", err)
					}
				}
			})
		})
	}
}

type readerFunc func(p []byte) (int, error)

func (f readerFunc) Read(p []byte) (int, error) { return f(p) }

func TestTargetFailures(t *testing.T) {
	ctx := context.Background()
	srv := fakeS3Server(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + l.Addr().String()
	l.Close()
	cases := []struct {
		name, url string
		want      string
	}{
		{"unreachable", s3URL(closed, testAccess, testSecret, testBucket), "cannot reach the S3 endpoint " + closed},
		{"wrong-credentials", s3URL(srv.URL, "someone-else", testSecret, testBucket), "access denied"},
		{"missing-bucket", s3URL(srv.URL, testAccess, testSecret, "no-such-bucket"), `the bucket "no-such-bucket" does not exist`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tg := openTarget(t, c.name, c.url, OpenOptions{TmpDir: t.TempDir()})
			cctx, cancel := context.WithTimeout(ctx, time.Minute)
			defer cancel()
			_, getErr := tg.Get(cctx, key1)
			_, listErr := tg.List(cctx, "")
			for op, err := range map[string]error{
				"put":    tg.Put(cctx, key1, strings.NewReader("x")),
				"get":    getErr,
				"list":   listErr,
				"delete": tg.Delete(cctx, key1),
			} {
				if !errors.Is(err, ErrTarget) {
					t.Errorf("%s: got %v, want ErrTarget", op, err)
					continue
				}
				msg := err.Error()
				t.Logf("%s: %s", op, msg)
				if !strings.Contains(msg, c.want) {
					t.Errorf("%s: %q does not say %q", op, msg, c.want)
				}
				if !strings.HasPrefix(msg, "target "+c.name+" (s3://"+testBucket) && !strings.HasPrefix(msg, "target "+c.name+" (s3://no-such-bucket") {
					t.Errorf("%s: %q does not name the target by name and location", op, msg)
				}
				if strings.Contains(msg, testSecret) || strings.Contains(msg, url.QueryEscape(testSecret)) || strings.Contains(msg, url.PathEscape(testSecret)) {
					t.Errorf("%s: the message holds the secret: %q", op, msg)
				}
			}
		})
	}
}

func TestS3CredentialsFromEnvironment(t *testing.T) {
	srv := fakeS3Server(t)
	loc := "s3://" + testBucket + "?endpoint=" + srv.URL + "&path-style=true"
	t.Setenv("AWS_ACCESS_KEY_ID", "")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "")
	if _, err := Open(Spec{Name: "env", URL: loc}, OpenOptions{}); err == nil || !strings.Contains(err.Error(), "AWS_ACCESS_KEY_ID") {
		t.Fatalf("no credentials anywhere: got %v, want an error naming AWS_ACCESS_KEY_ID", err)
	}
	t.Setenv("AWS_ACCESS_KEY_ID", testAccess)
	t.Setenv("AWS_SECRET_ACCESS_KEY", testSecret)
	tg := openTarget(t, "env", loc, OpenOptions{TmpDir: t.TempDir()})
	if err := tg.Put(context.Background(), key1, strings.NewReader("from env")); err != nil {
		t.Fatal(err)
	}
	if got := string(get(t, tg, key1)); got != "from env" {
		t.Fatalf("got %q", got)
	}
	// Credentials in the URL win over the environment.
	t.Setenv("AWS_ACCESS_KEY_ID", "someone-else")
	tg = openTarget(t, "url", s3URL(srv.URL, testAccess, testSecret, testBucket), OpenOptions{TmpDir: t.TempDir()})
	if _, err := tg.List(context.Background(), ""); err != nil {
		t.Fatal(err)
	}
}

func TestS3Multipart(t *testing.T) {
	ctx := context.Background()
	srv := fakeS3Server(t)
	var parts atomic.Int32
	var cancelAt atomic.Int32
	var cancel context.CancelFunc
	client := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		if r.URL.Query().Has("partNumber") {
			if n := parts.Add(1); n == cancelAt.Load() {
				cancel()
			}
		}
		return http.DefaultTransport.RoundTrip(r)
	})}
	tmp := t.TempDir()
	tg := openTarget(t, "big", s3URL(srv.URL, testAccess, testSecret, testBucket), OpenOptions{TmpDir: tmp, HTTPClient: client}).(*s3Target)
	// Lower S3's limits so a 12 MiB object goes in three parts.
	tg.putLimit, tg.partSize = 6<<20, 5<<20
	data := make([]byte, 12<<20)
	rand.Read(data)
	if err := tg.Put(ctx, key1, bytes.NewReader(data)); err != nil {
		t.Fatal(err)
	}
	if parts.Load() != 3 {
		t.Fatalf("uploaded %d parts, want 3", parts.Load())
	}
	if got := get(t, tg, key1); !bytes.Equal(got, data) {
		t.Fatalf("got %d bytes back, want the %d put", len(got), len(data))
	}
	// A regular file goes as it is, from its current offset, without a
	// spooled copy (the spool directory does not even exist).
	fileTarget := openTarget(t, "big", s3URL(srv.URL, testAccess, testSecret, testBucket),
		OpenOptions{TmpDir: filepath.Join(tmp, "missing"), HTTPClient: client}).(*s3Target)
	fileTarget.putLimit, fileTarget.partSize = 6<<20, 5<<20
	path := filepath.Join(t.TempDir(), "part")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, skip := range []int{100, 7 << 20} { // multipart, then one PutObject
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.Seek(int64(skip), io.SeekStart); err != nil {
			t.Fatal(err)
		}
		parts.Store(0)
		err = fileTarget.Put(ctx, key1, f)
		f.Close()
		if err != nil {
			t.Fatalf("put of a file from offset %d: %v", skip, err)
		}
		if got := get(t, tg, key1); !bytes.Equal(got, data[skip:]) {
			t.Fatalf("from offset %d: got %d bytes back, want %d", skip, len(got), len(data)-skip)
		}
		if wantParts := map[int]int32{100: 3, 7 << 20: 0}[skip]; parts.Load() != wantParts {
			t.Fatalf("from offset %d: %d parts, want %d", skip, parts.Load(), wantParts)
		}
	}
	// Anything else is spooled: with no spool directory it fails, clearly.
	if err := fileTarget.Put(ctx, key1, bytes.NewReader(data)); err == nil || !strings.Contains(err.Error(), "spool") {
		t.Fatalf("put without a spool directory: %v", err)
	}

	// Cancelled during the second part: the upload is aborted, nothing appears.
	parts.Store(0)
	cancelAt.Store(2)
	cctx, c := context.WithCancel(ctx)
	cancel = c
	key2 := "20261203T100000Z-abcdef/database.sqlite.age"
	if err := tg.Put(cctx, key2, bytes.NewReader(data)); !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
	if _, err := tg.Get(ctx, key2); !errors.Is(err, ErrNotFound) {
		t.Fatalf("get after a cancelled upload: %v", err)
	}
	ups, err := tg.client.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: aws.String(testBucket)})
	if err != nil {
		t.Fatal(err)
	}
	if len(ups.Uploads) != 0 {
		t.Fatalf("%d multipart uploads left, want the cancelled one aborted", len(ups.Uploads))
	}
	if ents, _ := os.ReadDir(tmp); len(ents) != 0 {
		t.Fatalf("spool left: %s", ents[0].Name())
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestDirectoryTargetPermissionsAndErrors(t *testing.T) {
	ctx := context.Background()
	root := filepath.Join(t.TempDir(), "new", "backups")
	tg := openTarget(t, "local", root, OpenOptions{})
	if err := tg.Put(ctx, key1, strings.NewReader("x")); err != nil {
		t.Fatal(err)
	}
	for p, want := range map[string]fs.FileMode{root: 0o700, filepath.Join(root, "20261203T100000Z-abcdef"): 0o700,
		filepath.Join(root, filepath.FromSlash(key1)): 0o600} {
		st, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if got := st.Mode().Perm(); got&^want != 0 {
			t.Errorf("%s has mode %v, want at most %v", p, got, want)
		}
	}

	// A directory the process may not write to.
	ro := filepath.Join(t.TempDir(), "read-only")
	if os.Geteuid() == 0 {
		// root writes anywhere chmod allows; sysfs refuses new directories even to root.
		ro = "/sys/kandidat-backup-test"
	} else {
		if err := os.Mkdir(ro, 0o500); err != nil {
			t.Fatal(err)
		}
	}
	tg = openTarget(t, "readonly", ro, OpenOptions{})
	err := tg.Put(ctx, key1, strings.NewReader("x"))
	if !errors.Is(err, ErrTarget) {
		t.Fatalf("put into a read-only directory: got %v, want ErrTarget", err)
	}
	msg := err.Error()
	if !strings.HasPrefix(msg, "target readonly ("+ro+"): ") || !(strings.Contains(msg, "permission denied") || strings.Contains(msg, "read-only")) {
		t.Fatalf("put into a read-only directory: %q does not name the target and say it is not writable", msg)
	}

	// The sentences for each failure of the file system.
	label := targetLabel{name: "local", loc: "/var/backups/kandidat"}
	for _, c := range []struct {
		errno syscall.Errno
		want  string
	}{
		{syscall.ENOSPC, "the target is full"},
		{syscall.EDQUOT, "the target is full"},
		{syscall.EROFS, "read-only file system"},
		{syscall.EACCES, "permission denied"},
		{syscall.EPERM, "permission denied"},
		{syscall.EIO, "cannot write " + key1},
	} {
		err := fsError(label, "write "+key1, &fs.PathError{Op: "write", Path: "/var/backups/kandidat/x", Err: c.errno})
		if !errors.Is(err, ErrTarget) || !errors.Is(err, c.errno) {
			t.Errorf("%v: %v does not wrap ErrTarget and the cause", c.errno, err)
		}
		if msg := err.Error(); !strings.HasPrefix(msg, "target local (/var/backups/kandidat): ") || !strings.Contains(msg, c.want) {
			t.Errorf("%v: got %q, want the target named and %q", c.errno, msg, c.want)
		}
	}
	// An ad-hoc target is named once.
	if msg := fsError(targetLabel{name: "/b", loc: "/b"}, "write x", syscall.ENOSPC).Error(); !strings.HasPrefix(msg, "target /b: the target is full") {
		t.Errorf("ad-hoc target: %q", msg)
	}
}

func TestParseSpecs(t *testing.T) {
	specs, err := ParseSpecs(`
		local=/var/backups/kandidat?every=1h&keep=14&max-age=30d
		nas=file:///mnt/nas/kandidat%20backups?every=24h
		offsite=s3://AKIA123:` + url.PathEscape(testSecret) + `@kandidat-backups/prod/db?endpoint=https://s3.eu-north-1.amazonaws.com&region=eu-north-1&every=7d&keep=4
		minio=s3://bucket-1?endpoint=http://127.0.0.1:9000&path-style=true
		lan=s3://bucket-2?endpoint=http://minio.lan:9000&insecure=true`)
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		name, loc string
		every     time.Duration
		keep      int
		maxAge    time.Duration
	}{
		{"local", "/var/backups/kandidat", time.Hour, 14, 30 * 24 * time.Hour},
		{"nas", "/mnt/nas/kandidat backups", 24 * time.Hour, 0, 0},
		{"offsite", "s3://kandidat-backups/prod/db?endpoint=https://s3.eu-north-1.amazonaws.com&region=eu-north-1", 7 * 24 * time.Hour, 4, 0},
		{"minio", "s3://bucket-1?endpoint=http://127.0.0.1:9000&region=us-east-1&path-style=true", 0, 0, 0},
		{"lan", "s3://bucket-2?endpoint=http://minio.lan:9000&region=us-east-1&insecure=true", 0, 0, 0},
	}
	if len(specs) != len(want) {
		t.Fatalf("got %d specs, want %d", len(specs), len(want))
	}
	for i, w := range want {
		s := specs[i]
		if s.Name != w.name || s.Location() != w.loc || s.Every != w.every || s.Keep != w.keep || s.MaxAge != w.maxAge {
			t.Errorf("spec %d: got %s %s every=%v keep=%d max-age=%v, want %s %s every=%v keep=%d max-age=%v", i,
				s.Name, s.Location(), s.Every, s.Keep, s.MaxAge, w.name, w.loc, w.every, w.keep, w.maxAge)
		}
		if strings.Contains(s.Location(), "AKIA123") || strings.Contains(s.Location(), "Value") {
			t.Errorf("spec %d: Location holds the credentials: %s", i, s.Location())
		}
	}
	if specs, err := ParseSpecs(" \n\t"); err != nil || len(specs) != 0 {
		t.Fatalf("empty setting: got %v %v, want none", specs, err)
	}

	bad := []struct{ in, want string }{
		{"local", "want NAME=LOCATION"},
		{"Local=/x", "lowercase"},
		{"=/x", "lowercase"},
		{strings.Repeat("a", 33) + "=/x", "lowercase"},
		{"a=/x b=/y a=/z", `"a": the name is used twice`},
		{"a=relative/path", "absolute path"},
		{"a=", "empty"},
		{"a=/", "directory of its own"},
		{"a=/x?keep=-1", "keep must be"},
		{"a=/x?keep=many", "keep must be"},
		{"a=/x?every=often", "every: want a duration"},
		{"a=/x?every=-1h", "every: may not be negative"},
		{"a=/x?max-age=-3d", "max-age: want a duration"},
		{"a=/x?max-age=1w", "max-age: want a duration"},
		{"a=/x?keep=1&keep=2", `"keep" is given twice`},
		{"a=/x?colour=red", `unknown option "colour"`},
		{"a=/x?endpoint=https://s3", `unknown option "endpoint"`},
		{"a=/x?a=%zz", "not a valid query"},
		{"a=file://host/x", "on this machine"},
		{"a=sftp://backup@host/x", "sftp targets are not supported; mount the remote directory (sshfs) and use a directory target"},
		{"a=ftp://host/x", "unknown kind"},
		{"a=s3://bucket", "needs ?endpoint=URL"},
		{"a=s3://b?endpoint=https://s3.example.com", "bucket name"},
		{"a=s3://bucket?endpoint=ftp://s3.example.com", "endpoint must be"},
		{"a=s3://bucket?endpoint=s3.example.com", "endpoint must be"},
		{"a=s3://bucket?endpoint=https://key:pw@s3.example.com", "endpoint may not hold credentials"},
		{"a=s3://bucket?endpoint=http://s3.example.com", "plain http://"},
		{"a=s3://bucket?endpoint=http://10.0.0.5:9000&insecure=false", "plain http://"},
		{"a=s3://bucket?endpoint=https://s3.example.com&path-style=yes", "path-style must be true or false"},
		{"a=s3://bucket?endpoint=https://s3.example.com&keep=3&bogus=1", `unknown option "bogus"`},
		{"a=s3://bucket/../x?endpoint=https://s3.example.com", "prefix"},
		{"a=s3://onlykey@bucket?endpoint=https://s3.example.com", "ACCESS:SECRET@"},
		{"a=s3://bucket:99?endpoint=https://s3.example.com", "bucket name"},
		{"a=s3://AK:" + url.PathEscape(testSecret) + "@bucket?endpoint=ftp://s3.example.com", "endpoint must be"},
		{"a=s3://AK:" + url.PathEscape(testSecret) + "@bucket?endpoint=https://s3.example.com&bogus=1", `unknown option "bogus"`},
		{"a=s3://AK:" + url.PathEscape(testSecret) + "@bucket?endpoint=https://s3.example.com&keep=-1", "keep must be"},
		{"a=s3://AK:" + url.PathEscape(testSecret) + "@b?endpoint=https://s3.example.com", "bucket name"},
		{"a=s3://AK:" + testSecret + "@bucket?endpoint=https://s3.example.com", "not a valid s3:// URL"},
		{"a=s3://AK:" + testSecret + "%zz@bucket?endpoint=https://s3.example.com", "not a valid s3:// URL"},
	}
	for _, c := range bad {
		_, err := ParseSpecs(c.in)
		if err == nil {
			t.Errorf("%q accepted", c.in)
			continue
		}
		if !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: got %q, want it to say %q", c.in, err, c.want)
		}
		if strings.Contains(err.Error(), testSecret) || strings.Contains(err.Error(), url.PathEscape(testSecret)) || strings.Contains(err.Error(), "Value") {
			t.Errorf("%q: the error repeats the secret: %q", c.in, err)
		}
	}
	// An error names the entry.
	if _, err := ParseSpecs("a=/x b=/y?keep=x"); err == nil || !strings.HasPrefix(err.Error(), `backup target "b": `) {
		t.Errorf("error does not name the entry: %v", err)
	}
	if _, err := ParseSpecs("a=/x nonsense"); err == nil || !strings.HasPrefix(err.Error(), "backup target 2: ") {
		t.Errorf("error does not number the entry: %v", err)
	}
}

func TestParseLocation(t *testing.T) {
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for in, name := range map[string]string{
		"/var/backups/kandidat/": "/var/backups/kandidat",
		"file:///srv/b?keep=3":   "/srv/b",
		"./backups":              filepath.Join(wd, "backups"),
		"s3://K:S@bucket/p?endpoint=https://s3.example.com": "s3://bucket/p?endpoint=https://s3.example.com&region=us-east-1",
	} {
		s, err := ParseLocation(in)
		if err != nil {
			t.Errorf("%q: %v", in, err)
			continue
		}
		if s.Name != name || s.Location() != name {
			t.Errorf("%q: got name %q location %q, want %q", in, s.Name, s.Location(), name)
		}
	}
	for in, want := range map[string]string{
		"offsite":        "absolute path",
		"sftp://h/x":     "sftp targets are not supported",
		"s3://bucket?x=": "needs ?endpoint",
	} {
		if _, err := ParseLocation(in); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: got %v, want an error saying %q", in, err, want)
		}
	}
	if got := (Spec{Name: "x", URL: "s3://K:" + testSecret + "@"}).Location(); strings.Contains(got, testSecret) {
		t.Errorf("an invalid spec's Location holds the secret: %q", got)
	}
	if _, err := Open(Spec{Name: "x", URL: "sftp://u:" + testSecret + "@host/x"}, OpenOptions{}); err == nil ||
		strings.Contains(err.Error(), testSecret) || !strings.Contains(err.Error(), "sshfs") {
		t.Errorf("open sftp: %v", err)
	}
}

// FuzzParseSpecs: ParseSpecs never panics; an accepted spec's Location
// holds no credentials and reads back as the same location; an error
// does not repeat a secret of the input.
func FuzzParseSpecs(f *testing.F) {
	for _, s := range []string{
		"local=/var/backups?every=1h&keep=14&max-age=30d",
		"a=file:///x%20y?keep=2 b=/z",
		"o=s3://AK:S%2Fcret@bucket/pre/fix?endpoint=https://s3.example.com&region=eu&path-style=true",
		"m=s3://b-1.x?endpoint=http://127.0.0.1:9000/minio&insecure=true&every=7d",
		"x=s3://AK:SECRET@bkt?endpoint=http://[::1]:9000",
		"o=s3://AK:abcdefghijkl12@bkt?endpoint=ftp://x", "o=s3://AK:abcdefghijkl12@bkt?endpoint=https://x&abcdefghijkl13=1",
		"bad", "a=sftp://u:p@h/x", "a=/x?keep=1&keep=2", "a=s3://a:b@c?endpoint=%",
	} {
		f.Add(s)
	}
	userinfo := regexp.MustCompile(`s3://[^:@/?#\s]*:([A-Za-z0-9]{12,})@`)
	f.Fuzz(func(t *testing.T, in string) {
		specs, err := ParseSpecs(in)
		if err != nil {
			if m := userinfo.FindStringSubmatch(in); m != nil && strings.Count(in, m[1]) == 1 && strings.Contains(err.Error(), m[1]) {
				t.Fatalf("the error repeats the secret: %v", err)
			}
			return
		}
		for _, s := range specs {
			l, err := parseLocation(s.URL)
			if err != nil {
				t.Fatalf("accepted %q but cannot parse its URL again: %v", s.Name, err)
			}
			loc := s.Location()
			back, err := ParseLocation(loc)
			if err != nil {
				t.Fatalf("Location %q does not read back: %v", loc, err)
			}
			if back.Location() != loc || back.Name != loc {
				t.Fatalf("Location %q reads back as %q", loc, back.Location())
			}
			l2, _ := parseLocation(loc)
			if l2.access != "" || l2.secret != "" {
				t.Fatalf("Location %q holds credentials", loc)
			}
			l.access, l.secret = "", ""
			l.every, l.keep, l.maxAge = 0, 0, 0
			if l2 != l {
				t.Fatalf("Location %q reads back as %+v, want %+v", loc, l2, l)
			}
			if l.kind == "s3" {
				if u, err := url.Parse(loc); err != nil || u.User != nil {
					t.Fatalf("Location %q has user info", loc)
				}
			}
		}
	})
}
