package backup

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// idAt is the id of a backup made at t.
func idAt(t time.Time, n int) string {
	return t.UTC().Format(idTimeLayout) + fmt.Sprintf("-%06x", n)
}

// putBackup stores the objects of a backup on tg: its parts, and the
// manifest when complete.
func putBackup(t *testing.T, tg Target, id string, complete bool) {
	t.Helper()
	objs := []string{"database.sqlite.age", "files.tar.age", "erasures.jsonl.age"}
	if complete {
		objs = append(objs, ManifestObject, "verified.json")
	}
	for _, o := range objs {
		if err := tg.Put(context.Background(), id+"/"+o, strings.NewReader(o)); err != nil {
			t.Fatal(err)
		}
	}
}

// backupIDs lists the backups on tg and whether each is complete.
func backupIDs(t *testing.T, tg Target) map[string]bool {
	t.Helper()
	ids := map[string]bool{}
	for _, k := range keys(t, tg, "") {
		id, rest, ok := strings.Cut(k, "/")
		if _, isID := parseIDTime(id); !ok || !isID {
			continue
		}
		ids[id] = ids[id] || rest == ManifestObject
	}
	return ids
}

func TestParseIDTime(t *testing.T) {
	want := time.Date(2026, 12, 3, 10, 4, 5, 0, time.UTC)
	if got, ok := parseIDTime("20261203T100405Z-0a1b2c"); !ok || !got.Equal(want) {
		t.Fatalf("got %v %v, want %v", got, ok, want)
	}
	for _, id := range []string{"", "20261203T100405Z", "20261203T100405Z-0A1B2C", "20261203T100405Z-0a1b2", "20261203T100405Z-0a1b2c3",
		"20261303T100405Z-0a1b2c", "20261203T250405Z-0a1b2c", "2026-12-03T10:04:05Z-0a1b2c", "20261203T100405-0a1b2cd", "x0261203T100405Z-0a1b2c",
		"20261203T100405Z-0a1b2g", "20261203T100405Z_0a1b2c"} {
		if _, ok := parseIDTime(id); ok {
			t.Errorf("%q taken for a backup id", id)
		}
	}
}

func TestPrune(t *testing.T) {
	now := time.Date(2030, 1, 31, 12, 0, 0, 0, time.UTC)
	days := func(ds ...float64) []float64 {
		for i := range ds {
			ds[i] *= 24
		}
		return ds
	}
	daily := func(from, to int) []float64 { // ages in days from..to, as hours
		var hs []float64
		for d := from; d <= to; d++ {
			hs = append(hs, float64(d)*24)
		}
		return hs
	}
	cases := []struct {
		name       string
		keep       int
		maxAge     time.Duration
		complete   []float64 // ages in hours
		incomplete []float64
		deleted    []float64 // the ages that go
	}{
		{name: "count only", keep: 3, complete: daily(0, 5), deleted: days(3, 4, 5)},
		{name: "age only", maxAge: 48 * time.Hour, complete: days(0, 1, 2, 2.5, 3, 5), deleted: days(2.5, 3, 5)},
		{name: "count and age: 14 and 30 days", keep: 14, maxAge: 30 * 24 * time.Hour,
			complete: append(daily(0, 19), days(31, 40, 60)...), deleted: days(31, 40, 60)},
		{name: "count protects old backups", keep: 2, maxAge: 30 * 24 * time.Hour, complete: days(40, 50, 60), deleted: days(60)},
		{name: "age never takes the newest", maxAge: 24 * time.Hour, complete: days(5, 6, 7), deleted: days(6, 7)},
		{name: "no retention keeps every complete backup", complete: days(1, 100, 1000)},
		{name: "incomplete leftovers after a day", complete: days(3), incomplete: []float64{2, 23.5, 25, 240},
			deleted: []float64{25, 240}},
		{name: "incomplete never count as the newest", keep: 1, complete: days(10, 20), incomplete: days(0, 0.5),
			deleted: days(20)},
		{name: "only incomplete", keep: 1, maxAge: time.Hour, incomplete: []float64{1, 48}, deleted: []float64{48}},
		{name: "one backup stays", keep: 1, maxAge: time.Hour, complete: days(300)},
		{name: "nothing there", keep: 3, maxAge: time.Hour},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tg := openTarget(t, "local", filepath.Join(t.TempDir(), "b"), OpenOptions{})
			idOf := map[float64]string{}
			n := 0
			for _, set := range []struct {
				ages     []float64
				complete bool
			}{{c.complete, true}, {c.incomplete, false}} {
				for _, age := range set.ages {
					n++
					id := idAt(now.Add(-time.Duration(age*float64(time.Hour))), n)
					idOf[age] = id
					putBackup(t, tg, id, set.complete)
				}
			}
			// Objects that are not backups are never touched.
			for _, k := range []string{"README.txt", "notes/keep.txt", "2020-not-an-id/files.tar.age"} {
				if err := tg.Put(context.Background(), k, strings.NewReader("x")); err != nil {
					t.Fatal(err)
				}
			}
			before := backupIDs(t, tg)
			got, err := Prune(context.Background(), tg, Spec{Name: "local", Keep: c.keep, MaxAge: c.maxAge}, now)
			if err != nil {
				t.Fatal(err)
			}
			var want []string
			for _, age := range c.deleted {
				want = append(want, idOf[age])
			}
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Fatalf("deleted %v, want %v", got, want)
			}
			after := backupIDs(t, tg)
			for id, complete := range before {
				gone := slices.Contains(want, id)
				if _, left := after[id]; left == gone {
					t.Errorf("backup %s: left %v, want left %v", id, left, !gone)
				}
				if !gone && after[id] != complete {
					t.Errorf("backup %s: complete %v after prune, was %v", id, after[id], complete)
				}
			}
			for _, k := range []string{"README.txt", "notes/keep.txt", "2020-not-an-id/files.tar.age"} {
				if _, err := tg.Get(context.Background(), k); err != nil {
					t.Errorf("%s: %v", k, err)
				}
			}
			// Pruning again deletes nothing more.
			if again, err := Prune(context.Background(), tg, Spec{Keep: c.keep, MaxAge: c.maxAge}, now); err != nil || len(again) != 0 {
				t.Errorf("second prune: deleted %v, %v", again, err)
			}
		})
	}
}

// TestPruneLeavesBackupsBeingWritten: an incomplete backup started more
// than a day ago whose objects are still being written stays.
func TestPruneLeavesBackupsBeingWritten(t *testing.T) {
	tg := openTarget(t, "local", filepath.Join(t.TempDir(), "b"), OpenOptions{})
	now := time.Now()
	slow := idAt(now.Add(-30*time.Hour), 1)
	putBackup(t, tg, slow, false)
	got, err := Prune(context.Background(), tg, Spec{Keep: 1}, now)
	if err != nil || len(got) != 0 {
		t.Fatalf("deleted %v, %v; want the backup still being written left alone", got, err)
	}
	// A day after its last write it goes.
	got, err = Prune(context.Background(), tg, Spec{Keep: 1}, now.Add(25*time.Hour))
	if err != nil || !slices.Equal(got, []string{slow}) {
		t.Fatalf("deleted %v, %v; want %s", got, err, slow)
	}
}

// recordingTarget records deletions and fails the failAt-th one.
type recordingTarget struct {
	Target
	deletes []string
	failAt  int
}

var errInjected = errors.New("injected delete failure")

func (r *recordingTarget) Delete(ctx context.Context, key string) error {
	r.deletes = append(r.deletes, key)
	if len(r.deletes) == r.failAt {
		return errInjected
	}
	return r.Target.Delete(ctx, key)
}

// TestPruneDeletesManifestFirst: a backup being deleted stops listing
// as complete with its first deletion, so an interrupted prune leaves
// an incomplete backup, never a complete-looking broken one.
func TestPruneDeletesManifestFirst(t *testing.T) {
	now := time.Date(2030, 1, 31, 12, 0, 0, 0, time.UTC)
	for _, kind := range []string{"dir", "s3"} {
		t.Run(kind, func(t *testing.T) {
			tg := targets(t)[kind].target
			newest, old1, old2 := idAt(now.Add(-time.Hour), 1), idAt(now.Add(-48*time.Hour), 2), idAt(now.Add(-72*time.Hour), 3)
			for _, id := range []string{newest, old1, old2} {
				putBackup(t, tg, id, true)
			}
			rec := &recordingTarget{Target: tg}
			got, err := Prune(context.Background(), rec, Spec{Keep: 1}, now)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, []string{old2, old1}) {
				t.Fatalf("deleted %v, want %v", got, []string{old2, old1})
			}
			// Per backup, the manifest is the first object deleted.
			seen := map[string]bool{}
			for _, k := range rec.deletes {
				id, rest, _ := strings.Cut(k, "/")
				if !seen[id] && rest != ManifestObject {
					t.Errorf("backup %s: first deleted %s, want the manifest", id, rest)
				}
				seen[id] = true
			}
			if n := len(rec.deletes); n != 10 {
				t.Errorf("%d deletions, want 10 (five objects of two backups)", n)
			}
			if ids := backupIDs(t, tg); len(ids) != 1 || !ids[newest] {
				t.Fatalf("left %v, want only %s", ids, newest)
			}

			// Interrupted after the manifest: the backup no longer lists as complete.
			for _, id := range []string{old1, old2} {
				putBackup(t, tg, id, true)
			}
			rec = &recordingTarget{Target: tg, failAt: 2}
			got, err = Prune(context.Background(), rec, Spec{Keep: 1}, now)
			if !errors.Is(err, errInjected) || len(got) != 0 {
				t.Fatalf("got %v, %v; want the injected failure and nothing reported deleted", got, err)
			}
			if !strings.Contains(err.Error(), old2) {
				t.Errorf("error %q does not name the backup %s", err, old2)
			}
			ids := backupIDs(t, tg)
			if complete, ok := ids[old2]; !ok || complete {
				t.Fatalf("interrupted deletion of %s: present %v, complete %v; want present and incomplete", old2, ok, complete)
			}
			if !ids[old1] || !ids[newest] {
				t.Fatalf("the other backups changed: %v", ids)
			}
		})
	}
}

// TestPruneRemovesStaleTempFiles: the temp file of a Put killed with its
// process is invisible to List; deleting the backup's last object takes
// it (when stale) and the folder along, but never a fresh one.
func TestPruneRemovesStaleTempFiles(t *testing.T) {
	root := filepath.Join(t.TempDir(), "b")
	tg := openTarget(t, "local", root, OpenOptions{})
	now := time.Now()
	killed, writing := idAt(now.Add(-48*time.Hour), 1), idAt(now.Add(-47*time.Hour), 2)
	for _, id := range []string{killed, writing} {
		putBackup(t, tg, id, false)
		tmp := filepath.Join(root, id, tmpPrefix+"123456")
		if err := os.WriteFile(tmp, []byte("half a part"), 0o600); err != nil {
			t.Fatal(err)
		}
		if id == killed {
			old := now.Add(-2 * time.Hour)
			if err := os.Chtimes(tmp, old, old); err != nil {
				t.Fatal(err)
			}
		}
	}
	// Prune as if a day later, so that both count as leftovers.
	got, err := Prune(context.Background(), tg, Spec{Keep: 1}, now.Add(25*time.Hour))
	if err != nil || !slices.Equal(got, []string{killed, writing}) {
		t.Fatalf("deleted %v, %v; want both incomplete backups", got, err)
	}
	if _, err := os.Stat(filepath.Join(root, killed)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the folder of %s with a stale temp file stays: %v", killed, err)
	}
	if _, err := os.Stat(filepath.Join(root, writing, tmpPrefix+"123456")); err != nil {
		t.Errorf("a fresh temp file was removed: %v", err)
	}
}
