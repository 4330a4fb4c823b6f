package backup_test

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kandidat/kandidat/internal/backup"
)

// hungTarget stores objects on its directory target, except the first
// object whose key ends with hangOn: of that one it reads after bytes
// (all of it when after < 0), then stops reading. With honest, it waits
// for its Put's context to end; else it waits for nothing (until the
// test is over).
type hungTarget struct {
	backup.Target
	name    string
	hangOn  string
	after   int64
	honest  bool
	release chan struct{}

	mu   sync.Mutex
	hung bool
}

func newHungTarget(t *testing.T, name, hangOn string, after int64, honest bool) *hungTarget {
	h := &hungTarget{Target: dirTarget(t, filepath.Join(t.TempDir(), name)), name: name, hangOn: hangOn, after: after, honest: honest,
		release: make(chan struct{})}
	t.Cleanup(func() { close(h.release) })
	return h
}

func (h *hungTarget) Name() string { return h.name }

func (h *hungTarget) Put(ctx context.Context, key string, r io.Reader) error {
	h.mu.Lock()
	hang := !h.hung && strings.HasSuffix(key, h.hangOn)
	h.hung = h.hung || hang
	h.mu.Unlock()
	if !hang {
		return h.Target.Put(ctx, key, r)
	}
	if h.after >= 0 {
		io.CopyN(io.Discard, r, h.after)
	} else {
		io.Copy(io.Discard, r)
	}
	if h.honest {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-h.release:
		}
	} else {
		<-h.release
	}
	return errors.New("released at the end of the test")
}

// createWithin runs Create and fails the test when it has not returned
// within limit.
func createWithin(t *testing.T, limit time.Duration, ctx context.Context, src backup.Source, o backup.CreateOptions) (*backup.Result, time.Duration, error) {
	t.Helper()
	type result struct {
		res *backup.Result
		err error
	}
	done := make(chan result, 1)
	start := time.Now()
	go func() {
		res, err := backup.Create(ctx, src, o)
		done <- result{res, err}
	}()
	select {
	case r := <-done:
		return r.res, time.Since(start), r.err
	case <-time.After(limit):
		t.Fatalf("Create has not returned after %s", limit)
		return nil, 0, nil
	}
}

// TestHungTarget: a target that stops reading (or stops storing what it
// read) is dropped after the stall timeout with an error naming it,
// whether or not its Put heeds its context; the good target beside it
// gets a complete backup that fetches whole, and Create returns within
// seconds.
func TestHungTarget(t *testing.T) {
	ctx := context.Background()
	in := newInstall(t)
	for _, tc := range []struct {
		name   string
		hangOn string
		after  int64
		honest bool
		want   string
	}{
		{"stops reading, heeds its context", ".age", 100, true, "target hung stopped accepting data for 1s"},
		{"stops reading, heeds nothing", ".age", 100, false, "target hung stopped accepting data for 1s"},
		{"stops reading in the files, heeds nothing", backup.PartFiles + ".age", 70000, false, "target hung stopped accepting data for 1s"},
		{"reads all, never stores, heeds nothing", backup.PartLedger + ".age", -1, false, "target hung did not finish storing erasures.jsonl.age"},
		{"never stores the manifest, heeds nothing", backup.ManifestObject, -1, false, "target hung did not finish storing manifest.json.age"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hung := newHungTarget(t, "hung", tc.hangOn, tc.after, tc.honest)
			good := dirTarget(t, filepath.Join(t.TempDir(), "good"))
			res, took, err := createWithin(t, 60*time.Second, ctx, in.src, backup.CreateOptions{Recipients: in.recipients(),
				Targets: []backup.Target{hung, good}, StallTimeout: time.Second})
			if err != nil {
				t.Fatalf("create: %v", err)
			}
			t.Logf("took %s", took)
			if took > 20*time.Second {
				t.Errorf("create took %s", took)
			}
			if len(res.Targets) != 2 || res.Targets[0].Target != "hung" || res.Targets[1].Err != nil {
				t.Fatalf("results %+v", res.Targets)
			}
			if e := res.Targets[0].Err; e == nil || !errors.Is(e, backup.ErrTarget) || !strings.Contains(e.Error(), tc.want) {
				t.Errorf("the hung target's error: %v, want %q", e, tc.want)
			}
			if e, err := backup.Newest(ctx, good); err != nil || e.ID != res.Manifest.ID {
				t.Fatalf("good target: %+v %v", e, err)
			}
			if _, err := backup.Fetch(ctx, good, res.Manifest.ID, in.ids(), filepath.Join(t.TempDir(), "fetched")); err != nil {
				t.Errorf("the good target's backup does not fetch: %v", err)
			}
			if _, err := backup.Newest(ctx, hung); !errors.Is(err, backup.ErrNotFound) {
				t.Errorf("the hung target holds a complete backup: %v", err)
			}
		})
	}
}

// TestSlowTargetIsNotDropped: a target that pauses for less than the
// stall timeout between reads, and after an object's end, is slow, not
// hung: it gets the backup, though each object takes it longer than the
// timeout.
func TestSlowTargetIsNotDropped(t *testing.T) {
	ctx := context.Background()
	in := newInstall(t)
	slow := &slowTarget{Target: dirTarget(t, filepath.Join(t.TempDir(), "slow")), pause: 250 * time.Millisecond}
	good := dirTarget(t, filepath.Join(t.TempDir(), "good"))
	res, _, err := createWithin(t, 90*time.Second, ctx, in.src, backup.CreateOptions{Recipients: in.recipients(),
		Targets: []backup.Target{slow, good}, StallTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if res.Targets[0].Err != nil || res.Targets[1].Err != nil {
		t.Fatalf("results %+v", res.Targets)
	}
	if _, err := backup.Fetch(ctx, slow, "", in.ids(), filepath.Join(t.TempDir(), "fetched")); err != nil {
		t.Errorf("the slow target's backup does not fetch: %v", err)
	}
}

// slowTarget pauses before each of the first six reads of an object and
// after its end, a pause each shorter than the stall timeout, more than
// it in all.
type slowTarget struct {
	backup.Target
	pause time.Duration
}

func (s *slowTarget) Name() string { return "slow" }

func (s *slowTarget) Put(ctx context.Context, key string, r io.Reader) error {
	n := 0
	pr := readerFunc(func(p []byte) (int, error) {
		if n++; n <= 6 {
			time.Sleep(s.pause)
		}
		return r.Read(p)
	})
	b, err := io.ReadAll(pr)
	if err != nil {
		return err
	}
	time.Sleep(3 * s.pause)
	return s.Target.Put(ctx, key, strings.NewReader(string(b)))
}

type readerFunc func(p []byte) (int, error)

func (f readerFunc) Read(p []byte) (int, error) { return f(p) }

// TestCancelWithHungTarget: when the context ends, Create returns within
// seconds even though a target's Put never returns, and long before the
// stall timeout; no backup lists as complete on the good target.
func TestCancelWithHungTarget(t *testing.T) {
	in := newInstall(t)
	hung := newHungTarget(t, "hung", ".age", 100, false)
	good := dirTarget(t, filepath.Join(t.TempDir(), "good"))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	timer := time.AfterFunc(time.Second, cancel)
	defer timer.Stop()
	_, took, err := createWithin(t, 60*time.Second, ctx, in.src, backup.CreateOptions{Recipients: in.recipients(),
		Targets: []backup.Target{hung, good}, StallTimeout: time.Hour})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("create: %v, want context.Canceled", err)
	}
	if took > 10*time.Second {
		t.Errorf("create took %s after a cancel at 1s", took)
	}
	if _, err := backup.Newest(context.Background(), good); !errors.Is(err, backup.ErrNotFound) {
		t.Errorf("the good target holds a complete backup after the cancel: %v", err)
	}
}

// TestFutureBackupIsNotNewest: a complete-looking backup planted with an
// id far in the future is listed as Future and never taken for the
// newest: a fetch or restore without an id takes the real newest.
func TestFutureBackupIsNotNewest(t *testing.T) {
	ctx := context.Background()
	in := newInstall(t)
	target := dirTarget(t, filepath.Join(t.TempDir(), "backups"))
	m := in.create(t, target).Manifest
	planted := "29990101T000000Z-abcdef"
	for _, o := range []string{backup.PartFiles + ".age", backup.ManifestObject} {
		if err := target.Put(ctx, planted+"/"+o, strings.NewReader("planted")); err != nil {
			t.Fatal(err)
		}
	}
	es, err := backup.List(ctx, target)
	if err != nil {
		t.Fatal(err)
	}
	if len(es) != 2 || es[0].ID != planted || !es[0].Future || !es[0].Complete || es[1].ID != m.ID || es[1].Future {
		t.Fatalf("list %+v", es)
	}
	if e, err := backup.Newest(ctx, target); err != nil || e.ID != m.ID {
		t.Errorf("newest: %+v %v, want %s", e, err, m.ID)
	}
	got, err := backup.Fetch(ctx, target, "", in.ids(), filepath.Join(t.TempDir(), "fetched"))
	if err != nil || got.ID != m.ID {
		t.Errorf("fetch of the newest: %v %v", got, err)
	}
	// With only future backups there is no newest, and the error says why.
	only := dirTarget(t, filepath.Join(t.TempDir(), "only"))
	only.Put(ctx, planted+"/"+backup.ManifestObject, strings.NewReader("planted"))
	if _, err := backup.Newest(ctx, only); !errors.Is(err, backup.ErrNotFound) || !strings.Contains(err.Error(), "future") {
		t.Errorf("newest of only a future backup: %v", err)
	}
}

// TestIDsOrderWithinOneSecond: ids carry milliseconds, so backups made in
// one second list in the order they were made, whatever their random
// digits; ids of the first form still parse.
func TestIDsOrderWithinOneSecond(t *testing.T) {
	ctx := context.Background()
	target := dirTarget(t, filepath.Join(t.TempDir(), "backups"))
	base := time.Date(2026, 12, 3, 2, 0, 0, 0, time.UTC)
	var made []string
	for i := range 10 {
		id := backup.NewID(base.Add(time.Duration(i*100+7) * time.Millisecond))
		if !regexp.MustCompile(`^20261203T020000\.\d{3}Z-[0-9a-f]{6}$`).MatchString(id) {
			t.Fatalf("id %s", id)
		}
		made = append(made, id)
		if err := target.Put(ctx, id+"/"+backup.ManifestObject, strings.NewReader("m")); err != nil {
			t.Fatal(err)
		}
	}
	es, err := backup.List(ctx, target)
	if err != nil {
		t.Fatal(err)
	}
	for i, e := range es {
		if want := made[len(made)-1-i]; e.ID != want {
			t.Errorf("entry %d is %s, want %s", i, e.ID, want)
		}
	}
	if e, err := backup.Newest(ctx, target); err != nil || e.ID != made[9] || !e.Time.Equal(base.Add(907*time.Millisecond)) {
		t.Errorf("newest %+v %v", e, err)
	}
	if at, err := backup.ParseID("20261203T020000Z-3fa9c1"); err != nil || !at.Equal(base) {
		t.Errorf("first form: %v %v", at, err)
	}
	for _, bad := range []string{"20261203T020000,123Z-3fa9c1", "20261203T020000.12Z-3fa9c1", "20261203T020000.1234Z-3fa9c1", "20261203T020000.123-3fa9c1"} {
		if _, err := backup.ParseID(bad); err == nil {
			t.Errorf("ParseID(%q) accepted", bad)
		}
	}
}

// TestPGRestoreErrorQuotesNoRows: when pg_restore fails on a row, the
// error quotes its error line, not the DETAIL and CONTEXT lines that
// carry the row's values. PostgreSQL only. The failure is real: the
// restore's database adds a check no row passes to every table made in
// the schema (an event trigger, as a superuser may).
func TestPGRestoreErrorQuotesNoRows(t *testing.T) {
	if os.Getenv("KANDIDAT_TEST_POSTGRES_URL") == "" {
		t.Skip("PostgreSQL only: set KANDIDAT_TEST_POSTGRES_URL")
	}
	ctx := context.Background()
	in := newInstall(t)
	target := dirTarget(t, filepath.Join(t.TempDir(), "backups"))
	m := in.create(t, target).Manifest
	p := newPlace(t, in)
	pg := openPG(t, p.url)
	for _, q := range []string{
		`CREATE SCHEMA trap`,
		`CREATE FUNCTION trap.no_rows() RETURNS event_trigger LANGUAGE plpgsql AS $$
		DECLARE r record;
		BEGIN
			FOR r IN SELECT * FROM pg_event_trigger_ddl_commands() WHERE command_tag = 'CREATE TABLE' AND schema_name <> 'trap' LOOP
				EXECUTE 'ALTER TABLE ' || r.object_identity || ' ADD CONSTRAINT trap_no_rows CHECK (false) NOT VALID';
			END LOOP;
		END $$`,
		`CREATE EVENT TRIGGER trap ON ddl_command_end WHEN TAG IN ('CREATE TABLE') EXECUTE FUNCTION trap.no_rows()`,
	} {
		if _, err := pg.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	_, err := backup.Restore(ctx, target, m.ID, in.ids(), p.options())
	if err == nil {
		t.Fatal("the restore succeeded past a check no row passes")
	}
	msg := err.Error()
	t.Logf("error: %s", msg)
	if !strings.Contains(msg, "trap_no_rows") || strings.Contains(msg, "DETAIL") || strings.Contains(msg, "Failing row") ||
		strings.Contains(msg, "CONTEXT") || strings.Contains(msg, "\n") || len(msg) > 500 {
		t.Errorf("the error quotes more than pg_restore's error line: %q", msg)
	}
	var tables int
	pg.QueryRow(`SELECT count(*) FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema', 'trap')`).Scan(&tables)
	if tables != 0 {
		t.Errorf("the failed restore left %d tables", tables)
	}
}
