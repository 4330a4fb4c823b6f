package backup_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"filippo.io/age"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/kandidat/kandidat/internal/backup"
	"github.com/kandidat/kandidat/internal/blob"
	"github.com/kandidat/kandidat/internal/db"
	"github.com/kandidat/kandidat/internal/db/dbtest"
)

// schedClock is a clock the test moves.
type schedClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *schedClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *schedClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// schedSource is a small installation to back up: a migrated database
// (SQLite, or PostgreSQL when the suite runs there) and a file store with
// two objects.
func schedSource(t *testing.T) backup.Source {
	t.Helper()
	url := dbtest.URL(t)
	dir := t.TempDir()
	d, err := db.Open(context.Background(), db.Options{URL: url, DataDir: dir, SessionScope: db.Installation})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	if _, err := d.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	files, err := blob.NewDir(filepath.Join(dir, "files"))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"t1/aa", "t1/bb"} {
		if err := files.Put(context.Background(), name, strings.NewReader("stored bytes of "+name), int64(len("stored bytes of "+name))); err != nil {
			t.Fatal(err)
		}
	}
	staging := filepath.Join(dir, "staging")
	if err := os.MkdirAll(staging, 0o700); err != nil {
		t.Fatal(err)
	}
	return backup.Source{DB: d, DatabaseURL: url, Blobs: files, Ledger: filepath.Join(dir, "erasures.jsonl"),
		Checkpoints: filepath.Join(dir, "audit-checkpoints.jsonl"), StagingDir: staging, Version: "test"}
}

func schedSpecs(t *testing.T, entries string) []backup.Spec {
	t.Helper()
	specs, err := backup.ParseSpecs(entries)
	if err != nil {
		t.Fatal(err)
	}
	return specs
}

func schedRecipient(t *testing.T) []age.Recipient {
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	return []age.Recipient{id.Recipient()}
}

func schedStatus(t *testing.T, s *backup.Scheduler, name string) backup.TargetStatus {
	t.Helper()
	for _, st := range s.Status(context.Background()).Targets {
		if st.Name == name {
			return st
		}
	}
	t.Fatalf("no status of %s", name)
	return backup.TargetStatus{}
}

// TestSchedulerTargets: a due target is written, a failing one does not
// stop it, is counted, paused and tried again; a target not yet due is
// left alone; one whose newest backup is too old is behind, in the status
// and the metric; retention keeps what the spec says.
func TestSchedulerTargets(t *testing.T) {
	ctx := context.Background()
	good := t.TempDir()
	// A regular file where the directory should be: every write fails.
	bad := filepath.Join(t.TempDir(), "not-a-directory")
	if err := os.WriteFile(bad, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	clock := &schedClock{t: time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)}
	s := &backup.Scheduler{
		Specs:      schedSpecs(t, "good="+good+"?every=1h&keep=2 bad="+bad+"?every=1h"),
		Source:     schedSource(t),
		Recipients: schedRecipient(t),
		Now:        clock.Now,
	}
	reg := prometheus.NewRegistry()
	if err := s.Register(reg); err != nil {
		t.Fatal(err)
	}

	err := s.Tick(ctx)
	if err == nil || !strings.Contains(err.Error(), "bad") {
		t.Fatalf("first tick: want the bad target's failure, got %v", err)
	}
	g := schedStatus(t, s, "good")
	if g.Newest == nil || g.Backups != 1 || g.LastError != "" || g.Behind {
		t.Fatalf("good target after the first tick: %+v", g)
	}
	b := schedStatus(t, s, "bad")
	if b.Failures != 1 || b.LastError == "" || !b.NextTry.After(clock.Now()) || !b.Behind {
		t.Fatalf("bad target after the first tick: %+v", b)
	}
	if got := testutil.ToFloat64(sRuns(t, reg, "bad", "error")); got != 1 {
		t.Errorf("runs{bad,error} = %v, want 1", got)
	}

	// Thirty seconds on: nothing is due (good is fresh, bad is paused for a minute).
	clock.Add(30 * time.Second)
	if err := s.Tick(ctx); err != nil {
		t.Fatalf("tick while nothing is due: %v", err)
	}
	if g := schedStatus(t, s, "good"); g.Backups != 1 {
		t.Fatalf("good target written again before it was due: %d backups", g.Backups)
	}
	if b := schedStatus(t, s, "bad"); b.Failures != 1 {
		t.Fatalf("bad target retried during its pause: %d failures", b.Failures)
	}

	// An hour on: good is due again, bad is tried again and fails again.
	for i := range 3 {
		clock.Add(time.Hour)
		if err := s.Tick(ctx); err == nil {
			t.Fatalf("tick %d: the bad target's failure was not reported", i)
		}
	}
	g = schedStatus(t, s, "good")
	if g.Backups != 2 {
		t.Fatalf("retention keep=2: %d complete backups remain", g.Backups)
	}
	if b := schedStatus(t, s, "bad"); b.Failures != 4 {
		t.Fatalf("bad target: %d failures in a row, want 4", b.Failures)
	}

	// Two hours without a backup: good is behind, in the page and the metric.
	clock.Add(2 * time.Hour)
	if g := schedStatus(t, s, "good"); !g.Behind {
		t.Fatalf("good target two hours late is not behind: %+v", g)
	}
	if err := testutil.CollectAndCompare(reg, strings.NewReader(`
# HELP kandidat_backup_behind 1 when the target's newest complete backup is older than its schedule and a half.
# TYPE kandidat_backup_behind gauge
kandidat_backup_behind{target="bad"} 1
kandidat_backup_behind{target="good"} 1
`), "kandidat_backup_behind"); err != nil {
		t.Error(err)
	}
	// It catches up at the next tick.
	if err := s.Tick(ctx); err == nil {
		t.Fatal("the bad target's failure was not reported")
	}
	if g := schedStatus(t, s, "good"); g.Behind || g.Newest == nil || !g.Newest.Time.Equal(clock.Now().Truncate(time.Second)) {
		t.Fatalf("good target after catching up: %+v", g)
	}
}

func sRuns(t *testing.T, reg *prometheus.Registry, target, result string) prometheus.Collector {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "kandidat_backup_runs_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["target"] == target && labels["result"] == result {
				c := prometheus.NewCounter(prometheus.CounterOpts{Name: "x"})
				c.Add(m.GetCounter().GetValue())
				return c
			}
		}
	}
	t.Fatalf("no kandidat_backup_runs_total{%s,%s}", target, result)
	return nil
}

// TestSchedulerDrill: the drill verifies each target's newest backup once
// per period and the result is what the status shows; a failed drill is
// reported and recorded.
func TestSchedulerDrill(t *testing.T) {
	ctx := context.Background()
	clock := &schedClock{t: time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)}
	var mu sync.Mutex
	drilled := map[string]int{}
	fail := false
	s := &backup.Scheduler{
		Specs:      schedSpecs(t, "a="+t.TempDir()+"?every=24h b="+t.TempDir()+"?every=24h"),
		Source:     schedSource(t),
		Recipients: schedRecipient(t),
		Now:        clock.Now,
		DrillEvery: 24 * time.Hour,
	}
	s.Verify = func(ctx context.Context, tg backup.Target, id string) error {
		mu.Lock()
		drilled[tg.Name()+"/"+id]++
		f := fail
		mu.Unlock()
		rec := backup.VerifyRecord{ID: id, At: clock.Now(), OK: !f}
		if f {
			rec.Problem = "planted failure"
		}
		if err := backup.RecordVerify(ctx, tg, rec); err != nil {
			return err
		}
		if f {
			return errors.New("planted failure")
		}
		return nil
	}
	if err := s.BackupNow(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.Drill(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.Drill(ctx); err != nil {
		t.Fatal(err)
	}
	if len(drilled) != 2 {
		t.Fatalf("drilled %v, want each target's backup once", drilled)
	}
	for k, n := range drilled {
		if n != 1 {
			t.Errorf("%s drilled %d times within a day", k, n)
		}
	}
	if v := schedStatus(t, s, "a").Verified; v == nil || !v.OK {
		t.Fatalf("status after a good drill: %+v", v)
	}
	clock.Add(25 * time.Hour)
	mu.Lock()
	fail = true
	mu.Unlock()
	if err := s.Drill(ctx); err == nil || !strings.Contains(err.Error(), "planted failure") {
		t.Fatalf("a failed drill was not reported: %v", err)
	}
	clock.Add(2 * time.Minute) // the status reads the targets again after a minute
	if v := schedStatus(t, s, "a").Verified; v == nil || v.OK || v.Problem != "planted failure" {
		t.Fatalf("status after a failed drill: %+v", v)
	}
}

// TestSchedulerConcurrentStatus reads the status while backups are
// written (run with -race).
func TestSchedulerConcurrentStatus(t *testing.T) {
	ctx := context.Background()
	clock := &schedClock{t: time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)}
	s := &backup.Scheduler{
		Specs:      schedSpecs(t, "a="+t.TempDir()+"?every=1h"),
		Source:     schedSource(t),
		Recipients: schedRecipient(t),
		Now:        clock.Now,
	}
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range 4 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
					s.Status(ctx)
				}
			}
		})
	}
	for range 3 {
		if err := s.Tick(ctx); err != nil {
			t.Error(err)
		}
		clock.Add(time.Hour)
	}
	close(stop)
	wg.Wait()
	if st := schedStatus(t, s, "a"); st.Backups != 3 {
		t.Fatalf("%d backups, want 3", st.Backups)
	}
}
