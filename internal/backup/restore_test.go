package backup_test

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"filippo.io/age"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/kandidat/kandidat/internal/backup"
)

// TestAgeCLIDecrypts: the age command (the Debian package) decrypts a part
// with the identity file, and the output is what the manifest describes.
func TestAgeCLIDecrypts(t *testing.T) {
	ageBin, err := exec.LookPath("age")
	if err != nil {
		if os.Getenv("KANDIDAT_TEST_REQUIRE_TOOLS") == "1" {
			t.Fatalf("the age command is missing (apt-get install age): %v", err)
		}
		t.Skip("the age command is not installed (apt-get install age); KANDIDAT_TEST_REQUIRE_TOOLS=1 makes this a failure")
	}
	in := newInstall(t)
	root := filepath.Join(t.TempDir(), "backups")
	m := in.create(t, dirTarget(t, root)).Manifest
	for _, name := range []string{m.Parts[0].Name, backup.PartFiles} {
		p := m.Part(name)
		out, err := exec.Command(ageBin, "-d", "-i", in.idFile, filepath.Join(root, m.ID, p.Object)).Output()
		if err != nil {
			t.Fatalf("age -d %s: %v", p.Object, err)
		}
		sum := sha256.Sum256(out)
		if hex.EncodeToString(sum[:]) != p.SHA256 || int64(len(out)) != p.Size {
			t.Errorf("%s: age gave %d bytes %x, manifest says %d %s", p.Object, len(out), sum, p.Size, p.SHA256)
		}
	}
	// The manifest too, as JSON.
	out, err := exec.Command(ageBin, "-d", "-i", in.idFile, filepath.Join(root, m.ID, backup.ManifestObject)).Output()
	if err != nil {
		t.Fatal(err)
	}
	var got backup.Manifest
	if err := json.Unmarshal(out, &got); err != nil || got.ID != m.ID {
		t.Errorf("manifest through age: %v %+v", err, got.ID)
	}
}

// TestS3RoundTrip: a backup through an S3 target (gofakes3 over real
// HTTP) fetches back whole, and restores.
func TestS3RoundTrip(t *testing.T) {
	t.Setenv("AWS_CA_BUNDLE", "")
	mem := s3mem.New()
	if err := mem.CreateBucket("kandidat-backups"); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(gofakes3.New(mem).Server())
	t.Cleanup(srv.Close)
	spec, err := backup.ParseLocation("s3://" + url.UserPassword("ak", "sk").String() + "@kandidat-backups/site1?endpoint=" +
		url.QueryEscape(srv.URL) + "&path-style=true")
	if err != nil {
		t.Fatal(err)
	}
	target, err := backup.Open(spec, backup.OpenOptions{TmpDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	in := newInstall(t)
	m := in.create(t, target).Manifest
	dir := filepath.Join(t.TempDir(), "fetched")
	got, err := backup.Fetch(context.Background(), target, m.ID, in.ids(), dir)
	if err != nil {
		t.Fatalf("fetch: %v", err)
	}
	for _, p := range got.Parts {
		b, err := os.ReadFile(filepath.Join(dir, p.Name))
		if err != nil {
			t.Fatal(err)
		}
		if sum := sha256.Sum256(b); hex.EncodeToString(sum[:]) != p.SHA256 {
			t.Errorf("%s differs", p.Name)
		}
	}
	p := newPlace(t, in)
	if _, err := backup.Restore(context.Background(), target, "", in.ids(), p.options()); err != nil {
		t.Fatalf("restore: %v", err)
	}
	if fmt.Sprint(tableSums(t, in.kit.DB)) != fmt.Sprint(tableSums(t, p.open(t))) {
		t.Error("the restored database differs")
	}
	if fmt.Sprint(blobSums(t, in.files)) != fmt.Sprint(blobSums(t, p.files)) {
		t.Error("the restored files differ")
	}
}

// dirState lists every file under dir with its content's hash, to prove
// that a refused restore changed nothing.
func dirState(t *testing.T, dir string) string {
	t.Helper()
	var b strings.Builder
	filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return nil
		}
		if info.Mode().IsRegular() {
			data, _ := os.ReadFile(p)
			fmt.Fprintf(&b, "%s %x\n", strings.TrimPrefix(p, dir), sha256.Sum256(data))
		} else {
			fmt.Fprintf(&b, "%s/\n", strings.TrimPrefix(p, dir))
		}
		return nil
	})
	return b.String()
}

// reseal replaces what the target holds under the backup: a part's
// plaintext (with the manifest updated to match, as an attacker holding
// the public key could) or the manifest itself.
func reseal(t *testing.T, root string, in *install, m backup.Manifest, part string, plain []byte) {
	t.Helper()
	if part != "" {
		var ct bytes.Buffer
		w, err := age.Encrypt(&ct, in.recipients()...)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(plain)
		w.Close()
		if err := os.WriteFile(filepath.Join(root, m.ID, part+".age"), ct.Bytes(), 0o600); err != nil {
			t.Fatal(err)
		}
		p := m.Part(part)
		ps, cs := sha256.Sum256(plain), sha256.Sum256(ct.Bytes())
		p.Size, p.SHA256, p.StoredSize, p.StoredSHA256 = int64(len(plain)), hex.EncodeToString(ps[:]), int64(ct.Len()), hex.EncodeToString(cs[:])
	}
	js, _ := json.Marshal(m)
	var ct bytes.Buffer
	w, _ := age.Encrypt(&ct, in.recipients()...)
	w.Write(js)
	w.Close()
	if err := os.WriteFile(filepath.Join(root, m.ID, backup.ManifestObject), ct.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestFaults: every damaged or mismatched backup gives its error, and a
// refused restore changes nothing where it was to go.
func TestFaults(t *testing.T) {
	ctx := context.Background()
	in := newInstall(t)
	root := filepath.Join(t.TempDir(), "backups")
	target := dirTarget(t, root)
	m := in.create(t, target).Manifest
	// Each case works on a copy of the backup.
	fresh := func(t *testing.T) (string, backup.Target) {
		dst := filepath.Join(t.TempDir(), "copy")
		if err := os.CopyFS(dst, os.DirFS(root)); err != nil {
			t.Fatal(err)
		}
		return dst, dirTarget(t, dst)
	}
	object := func(root, part string) string { return filepath.Join(root, m.ID, part+".age") }
	other, _ := age.GenerateX25519Identity()

	for _, tc := range []struct {
		name   string
		break_ func(t *testing.T, root string)
		ids    []age.Identity
		want   error
	}{
		{"a changed byte in files.tar", func(t *testing.T, root string) {
			b, _ := os.ReadFile(object(root, backup.PartFiles))
			b[len(b)/2] ^= 0x40
			os.WriteFile(object(root, backup.PartFiles), b, 0o600)
		}, nil, backup.ErrCorrupt},
		{"a truncated database part", func(t *testing.T, root string) {
			p := object(root, m.Parts[0].Name)
			info, _ := os.Stat(p)
			os.Truncate(p, info.Size()-70000)
		}, nil, backup.ErrCorrupt},
		{"a truncated part whose manifest was made to match", func(t *testing.T, root string) {
			// The stored hash matches; age itself notices the missing end.
			p := object(root, m.Parts[0].Name)
			b, _ := os.ReadFile(p)
			b = b[:len(b)-1000]
			os.WriteFile(p, b, 0o600)
			mm := m
			mm.Parts = append([]backup.Part(nil), m.Parts...)
			sum := sha256.Sum256(b)
			mm.Parts[0].StoredSize, mm.Parts[0].StoredSHA256 = int64(len(b)), hex.EncodeToString(sum[:])
			reseal(t, root, in, mm, "", nil)
		}, nil, backup.ErrCorrupt},
		{"a missing part", func(t *testing.T, root string) { os.Remove(object(root, backup.PartLedger)) }, nil, backup.ErrCorrupt},
		{"a corrupted manifest", func(t *testing.T, root string) {
			os.WriteFile(filepath.Join(root, m.ID, backup.ManifestObject), []byte("age-encryption.org/v1\n-> X25519 garbage\n"), 0o600)
		}, nil, backup.ErrCorrupt},
		{"no manifest", func(t *testing.T, root string) { os.Remove(filepath.Join(root, m.ID, backup.ManifestObject)) }, nil, backup.ErrIncomplete},
		{"the wrong identity", func(t *testing.T, root string) {}, []age.Identity{other}, backup.ErrWrongIdentity},
		{"a newer schema", func(t *testing.T, root string) {
			mm := m
			mm.SchemaVersion = 9999
			reseal(t, root, in, mm, "", nil)
		}, nil, backup.ErrNewerSchema},
		{"a hostile tar entry", func(t *testing.T, root string) { reseal(t, root, in, m, backup.PartFiles, hostileTar(t, "../x")) }, nil, backup.ErrCorrupt},
		{"a tar entry in a subfolder", func(t *testing.T, root string) {
			reseal(t, root, in, m, backup.PartFiles, hostileTar(t, "0190f0e2-0000-7000-8000-000000000001/a/b"))
		}, nil, backup.ErrCorrupt},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dst, tg := fresh(t)
			tc.break_(t, dst)
			ids := tc.ids
			if ids == nil {
				ids = in.ids()
			}
			p := newPlace(t, in)
			before := dirState(t, p.dataDir)
			_, err := backup.Restore(ctx, tg, m.ID, ids, p.options())
			if !errors.Is(err, tc.want) {
				t.Fatalf("restore: got %v, want %v", err, tc.want)
			}
			if after := dirState(t, p.dataDir); after != before {
				t.Errorf("a refused restore left:\n%s\nwas:\n%s", after, before)
			}
			if p.url != "" {
				if n := pgTables(t, p.url); n != 0 {
					t.Errorf("a refused restore left %d tables", n)
				}
			}
			// Fetch alone reports the same, and leaves nothing where it wrote.
			// (The archive's entries are checked by the restore, which stores files.)
			if tc.want != backup.ErrNewerSchema && !strings.Contains(tc.name, "tar entry") {
				dir := filepath.Join(t.TempDir(), "fetch")
				if _, err := backup.Fetch(ctx, tg, m.ID, ids, dir); !errors.Is(err, tc.want) {
					t.Errorf("fetch: got %v, want %v", err, tc.want)
				}
				if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
					t.Errorf("fetch left %s: %v", dir, err)
				}
			}
		})
	}

	t.Run("unknown id", func(t *testing.T) {
		if _, err := backup.Fetch(ctx, target, "20200101T000000Z-abcdef", in.ids(), t.TempDir()); !errors.Is(err, backup.ErrNotFound) {
			t.Errorf("got %v, want ErrNotFound", err)
		}
		if _, err := backup.Fetch(ctx, target, "../etc", in.ids(), t.TempDir()); !errors.Is(err, backup.ErrNotFound) {
			t.Errorf("got %v, want ErrNotFound", err)
		}
	})

	t.Run("restore into a non-empty place", func(t *testing.T) {
		p := newPlace(t, in)
		if _, err := backup.Restore(ctx, target, m.ID, in.ids(), p.options()); err != nil {
			t.Fatal(err)
		}
		sums := fmt.Sprint(tableSums(t, p.open(t)))
		before := dirState(t, p.dataDir)
		if _, err := backup.Restore(ctx, target, m.ID, in.ids(), p.options()); !errors.Is(err, backup.ErrNotEmpty) {
			t.Fatalf("got %v, want ErrNotEmpty", err)
		}
		if after := dirState(t, p.dataDir); after != before {
			t.Errorf("a refused restore changed the data directory")
		}
		if fmt.Sprint(tableSums(t, p.open(t))) != sums {
			t.Errorf("a refused restore changed the database")
		}
	})

	t.Run("force", func(t *testing.T) {
		p := newPlace(t, in)
		o := p.options()
		if _, err := backup.Restore(ctx, target, m.ID, in.ids(), o); err != nil {
			t.Fatal(err)
		}
		o.Force = true
		if _, err := backup.Restore(ctx, target, m.ID, in.ids(), o); err != nil {
			t.Fatalf("forced restore: %v", err)
		}
		if fmt.Sprint(tableSums(t, in.kit.DB)) != fmt.Sprint(tableSums(t, p.open(t))) {
			t.Error("the forced restore differs from the source")
		}
		if p.url == "" {
			aside, _ := filepath.Glob(filepath.Join(p.dataDir, "kandidat.db.before-restore-*"))
			if len(aside) == 0 {
				t.Error("the old database was not moved aside")
			}
		}
	})

	t.Run("engine mismatch", func(t *testing.T) {
		p := newPlace(t, in)
		o := p.options()
		if in.url == "" {
			o.DatabaseURL = "postgres://nobody@127.0.0.1:1/x?search_path=s"
		} else {
			o.DatabaseURL = ""
		}
		_, err := backup.Restore(ctx, target, m.ID, in.ids(), o)
		if err == nil || !strings.Contains(err.Error(), "cannot be restored into") {
			t.Errorf("got %v, want the engine mismatch", err)
		}
	})
}

func pgTables(t *testing.T, u string) int {
	t.Helper()
	p, _ := url.Parse(u)
	d := openPG(t, u)
	var n int
	if err := d.QueryRow(`SELECT count(*) FROM pg_tables WHERE schemaname = $1`, p.Query().Get("search_path")).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// hostileTar is an archive with one entry named name.
func hostileTar(t *testing.T, name string) []byte {
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Size: 3, Mode: 0o600})
	tw.Write([]byte("bad"))
	tw.Close()
	return b.Bytes()
}

// failingTarget refuses every Put.
type failingTarget struct{ backup.Target }

func (failingTarget) Name() string { return "broken" }
func (failingTarget) Put(ctx context.Context, key string, r io.Reader) error {
	io.Copy(io.Discard, io.LimitReader(r, 100))
	return errors.New("disk on fire")
}

// TestTargetsFailAlone: a target that fails does not stop the others, and
// the result names it; a create reaching no target is an error.
func TestTargetsFailAlone(t *testing.T) {
	ctx := context.Background()
	in := newInstall(t)
	good := dirTarget(t, filepath.Join(t.TempDir(), "good"))
	bad := failingTarget{dirTarget(t, filepath.Join(t.TempDir(), "bad"))}
	res, err := backup.Create(ctx, in.src, backup.CreateOptions{Recipients: in.recipients(), Targets: []backup.Target{bad, good}})
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	if len(res.Targets) != 2 || res.Targets[0].Err == nil || !errors.Is(res.Targets[0].Err, backup.ErrTarget) || res.Targets[1].Err != nil {
		t.Fatalf("results %+v", res.Targets)
	}
	if !strings.Contains(res.Targets[0].Err.Error(), "disk on fire") || res.Targets[0].Target != "broken" {
		t.Errorf("error of the failed target: %v", res.Targets[0].Err)
	}
	if e, err := backup.Newest(ctx, good); err != nil || e.ID != res.Manifest.ID {
		t.Errorf("good target: %+v %v", e, err)
	}
	if es, _ := backup.List(ctx, bad); len(es) != 0 {
		t.Errorf("the failed target holds %+v", es)
	}
	if _, err := backup.Create(ctx, in.src, backup.CreateOptions{Recipients: in.recipients(), Targets: []backup.Target{bad}}); !errors.Is(err, backup.ErrTarget) {
		t.Errorf("create to only a failing target: got %v", err)
	}
	if _, err := backup.Create(ctx, in.src, backup.CreateOptions{Targets: []backup.Target{good}}); err == nil {
		t.Error("create without a recipient succeeded")
	}
}

// TestCancelledCreate: a create cancelled half-way leaves no backup that
// lists as complete; the previous one stays the newest; staging is empty.
func TestCancelledCreate(t *testing.T) {
	ctx := context.Background()
	in := newInstall(t)
	target := dirTarget(t, filepath.Join(t.TempDir(), "backups"))
	first := in.create(t, target).Manifest
	for _, at := range []string{first.Parts[0].Name, backup.PartFiles} {
		t.Run(at, func(t *testing.T) {
			cctx, cancel := context.WithCancel(ctx)
			defer cancel()
			n := 0
			_, err := backup.Create(cctx, in.src, backup.CreateOptions{Recipients: in.recipients(), Targets: []backup.Target{target},
				Now: func() time.Time { return time.Now().Add(time.Hour) },
				Progress: func(part string, done, total int64) {
					if strings.HasPrefix(part, at) && done > 0 {
						if n++; n == 2 {
							cancel()
						}
					}
				}})
			if err == nil {
				t.Fatal("a cancelled create succeeded")
			}
			es, err := backup.List(ctx, target)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range es {
				if e.ID != first.ID && e.Complete {
					t.Errorf("the cancelled backup %s lists as complete", e.ID)
				}
			}
			if e, err := backup.Newest(ctx, target); err != nil || e.ID != first.ID {
				t.Errorf("newest: %+v %v, want %s", e, err, first.ID)
			}
			if entries, _ := os.ReadDir(in.src.StagingDir); len(entries) != 0 {
				t.Errorf("staging holds %d entries", len(entries))
			}
		})
	}
}

// TestListAndVerifyRecord: List orders newest first, marks incomplete
// backups, sums sizes and reads the verify record.
func TestListAndVerifyRecord(t *testing.T) {
	ctx := context.Background()
	target := dirTarget(t, filepath.Join(t.TempDir(), "backups"))
	if _, err := backup.Newest(ctx, target); !errors.Is(err, backup.ErrNotFound) {
		t.Errorf("newest of an empty target: %v", err)
	}
	put := func(key, s string) {
		if err := target.Put(ctx, key, strings.NewReader(s)); err != nil {
			t.Fatal(err)
		}
	}
	put("20260101T000000Z-aaaaaa/manifest.json.age", "12345")
	put("20260101T000000Z-aaaaaa/files.tar.age", "123")
	put("20260301T000000Z-bbbbbb/files.tar.age", "1") // newer, incomplete
	put("not-a-backup/x", "1")
	if err := backup.RecordVerify(ctx, target, backup.VerifyRecord{ID: "20260101T000000Z-aaaaaa", At: time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC), OK: true, Host: "h"}); err != nil {
		t.Fatal(err)
	}
	es, err := backup.List(ctx, target)
	if err != nil {
		t.Fatal(err)
	}
	if len(es) != 2 || es[0].ID != "20260301T000000Z-bbbbbb" || es[0].Complete || !es[1].Complete || es[1].Objects != 3 {
		t.Fatalf("list: %+v", es)
	}
	if es[1].Size < 8 || es[1].Verified == nil || !es[1].Verified.OK || es[1].Verified.Host != "h" || es[0].Verified != nil {
		t.Errorf("entry: %+v", es[1])
	}
	if !es[1].Time.Equal(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("time %v", es[1].Time)
	}
	e, err := backup.Newest(ctx, target)
	if err != nil || e.ID != "20260101T000000Z-aaaaaa" {
		t.Errorf("newest: %+v %v", e, err)
	}
	if err := backup.RecordVerify(ctx, target, backup.VerifyRecord{ID: "../x"}); err == nil {
		t.Error("a verify record with a bad id was written")
	}
}

func TestIDs(t *testing.T) {
	at := time.Date(2026, 12, 3, 16, 4, 5, 999, time.FixedZone("X", 3600))
	id := backup.NewID(at)
	if len(id) != 27 || !strings.HasPrefix(id, "20261203T150405.000Z-") {
		t.Errorf("NewID = %s", id)
	}
	got, err := backup.ParseID(id)
	if err != nil || !got.Equal(at.Truncate(time.Millisecond)) {
		t.Errorf("ParseID(%s) = %v %v", id, got, err)
	}
	if backup.NewID(at) == id {
		t.Error("two ids of the same second are equal")
	}
	for _, bad := range []string{"", "20261203T150405Z", "20261203T150405Z-ABCDEF", "20261303T150405Z-abcdef", "20261203T150405Z-abcde",
		"2026120T150405Z-abcdef", "20261203T150405Z-abcdefa", "../20261203T150405Z-abcdef"} {
		if _, err := backup.ParseID(bad); err == nil {
			t.Errorf("ParseID(%q) accepted", bad)
		}
	}
}

func TestMergeLedgers(t *testing.T) {
	dir := t.TempDir()
	dst := filepath.Join(dir, "sub", "erasures.jsonl")
	a := filepath.Join(dir, "a")
	b := filepath.Join(dir, "b")
	os.WriteFile(a, []byte("1\n2\n"), 0o600)
	os.WriteFile(b, []byte("2\n3\n3\n\n4"), 0o600)
	n, err := backup.MergeLedgers(dst, a, b, filepath.Join(dir, "missing"))
	if err != nil || n != 4 {
		t.Fatalf("merge: %d %v", n, err)
	}
	os.WriteFile(a, []byte("5"), 0o600)
	// The existing file ends without a newline (an append cut short).
	f, _ := os.OpenFile(dst, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString("6")
	f.Close()
	if n, err = backup.MergeLedgers(dst, a, b); err != nil || n != 1 {
		t.Fatalf("second merge: %d %v", n, err)
	}
	got, _ := os.ReadFile(dst)
	if string(got) != "1\n2\n3\n4\n6\n5\n" {
		t.Errorf("merged %q", got)
	}
	if info, _ := os.Stat(dst); info.Mode().Perm() != 0o600 {
		t.Errorf("mode %v", info.Mode())
	}
}

func TestParseRecipients(t *testing.T) {
	a, _ := age.GenerateX25519Identity()
	b, _ := age.GenerateX25519Identity()
	rs, err := backup.ParseRecipients([]string{a.Recipient().String(), "# ops\n" + b.Recipient().String() + "\n\n"})
	if err != nil || len(rs) != 2 {
		t.Fatalf("got %d, %v", len(rs), err)
	}
	for _, bad := range [][]string{nil, {""}, {"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHk x@y"}, {a.String()}, {"age1nope"}} {
		if _, err := backup.ParseRecipients(bad); err == nil {
			t.Errorf("ParseRecipients(%q) accepted", bad)
		} else if len(bad) == 1 && strings.HasPrefix(bad[0], "AGE-SECRET") && strings.Contains(err.Error(), bad[0][20:]) {
			t.Errorf("the error quotes the secret key: %v", err)
		}
	}
	file := filepath.Join(t.TempDir(), "id")
	os.WriteFile(file, []byte("# created\n"+a.String()+"\n"), 0o600)
	ids, err := backup.ReadIdentities(file)
	if err != nil || len(ids) != 1 {
		t.Fatalf("ReadIdentities: %d %v", len(ids), err)
	}
	os.WriteFile(file, []byte(a.Recipient().String()+"\n"), 0o600)
	if _, err := backup.ReadIdentities(file); err == nil {
		t.Error("a public key read as an identity")
	}
}
