package backup

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"filippo.io/age"
	"github.com/prometheus/client_golang/prometheus"
)

// Scheduler writes backups to the configured targets on their schedules
// while the server runs, prunes each target by its retention, runs the
// restore drill when it has an identity, and keeps the status the
// operator page and the metrics show.
//
// A target falls due when its newest complete backup (read from the
// target itself, so every instance and a restarted server agree) is as old
// as its schedule. The targets due together share one snapshot. A target
// that fails does not stop the others; it is tried again after a pause
// that doubles from a minute up to its schedule's quarter (at most an
// hour), and it is behind once its newest good backup is older than its
// schedule and a half.
type Scheduler struct {
	Specs      []Spec
	Source     Source
	Recipients []age.Recipient
	// Open connects a target (nil: Open with OpenOptions{TmpDir: Source.StagingDir}).
	Open   func(Spec) (Target, error)
	Logger *slog.Logger
	Now    func() time.Time
	// Verify proves that backup id on t restores (the restore drill); nil
	// when the server holds no identity to read its backups.
	Verify     func(ctx context.Context, t Target, id string) error
	DrillEvery time.Duration
	// Window reports the point-in-time recovery window (nil: none configured).
	Window func(ctx context.Context) (from, to time.Time, err error)

	mu      sync.Mutex
	targets map[string]Target
	status  map[string]*TargetStatus
	pitr    PITRStatus
	runs    *prometheus.CounterVec
}

// TargetStatus is what the operator sees of one target.
type TargetStatus struct {
	Name, Location string
	Every          time.Duration
	Keep           int
	MaxAge         time.Duration
	// Newest is the newest complete backup (nil: none yet).
	Newest *Entry
	// Backups counts the complete backups the target keeps.
	Backups int
	// Incomplete counts the leftovers of killed or failed creates.
	Incomplete int
	// Verified is the newest restore drill or verify of any backup here.
	Verified *VerifyRecord
	// LastError is the newest failure ("" after a success); Failures how
	// many in a row; NextTry when a failed target is tried again.
	LastError string
	LastTry   time.Time
	Failures  int
	NextTry   time.Time
	// Behind: the newest good backup is older than the schedule allows.
	Behind bool
	// Listed is when the target was last read.
	Listed time.Time
}

// PITRStatus is the point-in-time recovery window.
type PITRStatus struct {
	Configured bool
	From, To   time.Time
	Error      string
	Checked    time.Time
}

// Status is the installation's backup state.
type Status struct {
	Targets []TargetStatus
	PITR    PITRStatus
	// Recipients counts the age recipients backups are encrypted to.
	Recipients int
	// Drill says whether the server runs the restore drill.
	Drill bool
	// At is when the status was taken (ages are counted to it).
	At time.Time
}

// listEvery bounds how often Status reads a target, pitrEvery how often
// it reads the point-in-time window (its end moves every second).
const (
	listEvery = time.Minute
	pitrEvery = 5 * time.Second
)

func (s *Scheduler) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Scheduler) logger() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.New(slog.DiscardHandler)
}

func (s *Scheduler) init() {
	if s.status != nil {
		return
	}
	s.status = map[string]*TargetStatus{}
	s.targets = map[string]Target{}
	for _, sp := range s.Specs {
		s.status[sp.Name] = &TargetStatus{Name: sp.Name, Location: sp.Location(), Every: sp.Every, Keep: sp.Keep, MaxAge: sp.MaxAge}
	}
}

// target returns the connected target of spec, connecting on first use.
func (s *Scheduler) target(sp Spec) (Target, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.init()
	if t := s.targets[sp.Name]; t != nil {
		return t, nil
	}
	open := s.Open
	if open == nil {
		open = func(sp Spec) (Target, error) { return Open(sp, OpenOptions{TmpDir: s.Source.StagingDir}) }
	}
	t, err := open(sp)
	if err != nil {
		return nil, err
	}
	s.targets[sp.Name] = t
	return t, nil
}

// refresh reads what target sp holds into its status.
func (s *Scheduler) refresh(ctx context.Context, sp Spec) error {
	t, err := s.target(sp)
	if err != nil {
		s.update(sp.Name, func(st *TargetStatus) { st.LastError = err.Error() })
		return err
	}
	entries, err := List(ctx, t)
	now := s.now()
	if err != nil {
		s.update(sp.Name, func(st *TargetStatus) { st.LastError = err.Error(); st.Listed = now })
		return err
	}
	var newest *Entry
	var verified *VerifyRecord
	complete, incomplete := 0, 0
	for i := range entries {
		e := entries[i]
		if e.Complete && !e.Future {
			complete++
			if newest == nil {
				newest = &e
			}
		} else {
			incomplete++
		}
		if e.Verified != nil && (verified == nil || e.Verified.At.After(verified.At)) {
			verified = e.Verified
		}
	}
	late := false
	s.update(sp.Name, func(st *TargetStatus) {
		was := st.Behind
		st.Newest, st.Verified, st.Backups, st.Incomplete, st.Listed = newest, verified, complete, incomplete, now
		st.Behind = behind(sp, newest, now)
		late = st.Behind && !was
	})
	if late {
		// The alert: once, when the target falls behind (the metric
		// kandidat_backup_behind stays 1 until it catches up).
		args := []any{"target", sp.Name, "schedule", sp.Every.String()}
		if newest != nil {
			args = append(args, "newest_backup", newest.ID)
		}
		s.logger().Error("backup target is behind its schedule", args...)
	}
	return nil
}

// behind reports whether a target with this newest backup is late: older
// than its schedule and a half (an hour's schedule allows 90 minutes).
func behind(sp Spec, newest *Entry, now time.Time) bool {
	if sp.Every <= 0 {
		return false
	}
	if newest == nil {
		return true
	}
	return now.Sub(newest.Time) > sp.Every+sp.Every/2
}

func (s *Scheduler) update(name string, fn func(st *TargetStatus)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.init()
	if st := s.status[name]; st != nil {
		fn(st)
	}
}

func (s *Scheduler) get(name string) TargetStatus {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.init()
	return *s.status[name]
}

// retryAfter is the pause after the n-th failure in a row.
func retryAfter(sp Spec, n int) time.Duration {
	limit := min(max(sp.Every/4, time.Minute), time.Hour)
	d := time.Minute
	for i := 1; i < n && d < limit; i++ {
		d *= 2
	}
	return min(d, limit)
}

// Tick makes a backup for every target that is due, then prunes those it
// wrote to. It returns the failures joined (nil when every due target
// succeeded or none was due).
func (s *Scheduler) Tick(ctx context.Context) error {
	now := s.now()
	var due []Spec
	var errs []error
	for _, sp := range s.Specs {
		if sp.Every <= 0 {
			continue
		}
		st := s.get(sp.Name)
		if now.Before(st.NextTry) {
			continue
		}
		if err := s.refresh(ctx, sp); err != nil {
			s.failed(sp, now, err)
			errs = append(errs, fmt.Errorf("target %s: %w", sp.Name, err))
			continue
		}
		st = s.get(sp.Name)
		if st.Newest == nil || now.Sub(st.Newest.Time) >= sp.Every {
			due = append(due, sp)
		}
	}
	if len(due) > 0 {
		errs = append(errs, s.backup(ctx, due))
	}
	return errors.Join(errs...)
}

// BackupNow makes one backup to the named targets (all when names is
// empty), whatever their schedule.
func (s *Scheduler) BackupNow(ctx context.Context, names ...string) error {
	var specs []Spec
	for _, sp := range s.Specs {
		if len(names) == 0 || slices.Contains(names, sp.Name) {
			specs = append(specs, sp)
		}
	}
	if len(specs) == 0 {
		return errors.New("no backup target is configured (--backup-targets)")
	}
	return s.backup(ctx, specs)
}

func (s *Scheduler) backup(ctx context.Context, specs []Spec) error {
	now := s.now()
	var targets []Target
	var open []Spec
	var errs []error
	for _, sp := range specs {
		t, err := s.target(sp)
		if err != nil {
			s.failed(sp, now, err)
			errs = append(errs, fmt.Errorf("target %s: %w", sp.Name, err))
			continue
		}
		targets = append(targets, t)
		open = append(open, sp)
	}
	if len(targets) == 0 {
		return errors.Join(errs...)
	}
	res, err := Create(ctx, s.Source, CreateOptions{Recipients: s.Recipients, Targets: targets, Now: s.Now})
	if res == nil {
		// The snapshot itself failed: every target is behind for the same reason.
		for _, sp := range open {
			s.failed(sp, now, err)
		}
		return errors.Join(append(errs, err)...)
	}
	for i, sp := range open {
		var terr error
		if i < len(res.Targets) {
			terr = res.Targets[i].Err
		}
		if terr != nil {
			s.failed(sp, now, terr)
			errs = append(errs, fmt.Errorf("target %s: %w", sp.Name, terr))
			continue
		}
		s.logger().Info("backup written", "target", sp.Name, "backup_id", res.Manifest.ID)
		if s.runs != nil {
			s.runs.WithLabelValues(sp.Name, "ok").Inc()
		}
		s.update(sp.Name, func(st *TargetStatus) { st.LastError, st.Failures, st.NextTry, st.LastTry = "", 0, time.Time{}, now })
		if deleted, err := Prune(ctx, targets[i], sp, s.now()); err != nil {
			s.logger().Warn("backup retention failed", "target", sp.Name, "error", err.Error())
		} else if len(deleted) > 0 {
			s.logger().Info("backups deleted by retention", "target", sp.Name, "count", len(deleted))
		}
		if err := s.refresh(ctx, sp); err != nil {
			s.logger().Warn("backup target not listed", "target", sp.Name, "error", err.Error())
		}
	}
	return errors.Join(errs...)
}

func (s *Scheduler) failed(sp Spec, now time.Time, err error) {
	s.logger().Error("backup failed", "target", sp.Name, "error", err.Error())
	if s.runs != nil {
		s.runs.WithLabelValues(sp.Name, "error").Inc()
	}
	s.update(sp.Name, func(st *TargetStatus) {
		st.Failures++
		st.LastError, st.LastTry = err.Error(), now
		st.NextTry = now.Add(retryAfter(sp, st.Failures))
		st.Behind = behind(sp, st.Newest, now)
	})
}

// Drill restores the newest backup of every target not verified within
// DrillEvery (the restore drill) and records the result on the target.
func (s *Scheduler) Drill(ctx context.Context) error {
	if s.Verify == nil {
		return nil
	}
	every := s.DrillEvery
	if every <= 0 {
		every = 24 * time.Hour
	}
	var errs []error
	for _, sp := range s.Specs {
		if err := s.refresh(ctx, sp); err != nil {
			errs = append(errs, fmt.Errorf("target %s: %w", sp.Name, err))
			continue
		}
		st := s.get(sp.Name)
		if st.Newest == nil || (st.Newest.Verified != nil && s.now().Sub(st.Newest.Verified.At) < every) {
			continue
		}
		t, err := s.target(sp)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if err := s.Verify(ctx, t, st.Newest.ID); err != nil {
			s.logger().Error("restore drill failed", "target", sp.Name, "backup_id", st.Newest.ID, "error", err.Error())
			errs = append(errs, fmt.Errorf("target %s: restore drill of %s: %w", sp.Name, st.Newest.ID, err))
		} else {
			s.logger().Info("restore drill passed", "target", sp.Name, "backup_id", st.Newest.ID)
		}
		if err := s.refresh(ctx, sp); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Status returns the state of every target (each read again when its
// listing is older than a minute) and the point-in-time window.
func (s *Scheduler) Status(ctx context.Context) Status {
	// A page request that ends must not leave "context canceled" as a
	// target's error: the targets are read on a context of their own.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 20*time.Second)
	defer cancel()
	now := s.now()
	for _, sp := range s.Specs {
		if st := s.get(sp.Name); now.Sub(st.Listed) >= listEvery {
			_ = s.refresh(ctx, sp) // the error is in the status
		}
	}
	out := Status{Recipients: len(s.Recipients), Drill: s.Verify != nil, At: now}
	s.mu.Lock()
	s.init()
	for _, sp := range s.Specs {
		st := *s.status[sp.Name]
		st.Behind = behind(sp, st.Newest, now)
		out.Targets = append(out.Targets, st)
	}
	pitr := s.pitr
	s.mu.Unlock()
	if s.Window != nil && (now.Sub(pitr.Checked) >= pitrEvery || pitr.Error != "") {
		pitr = PITRStatus{Configured: true, Checked: now}
		from, to, err := s.Window(ctx)
		if err != nil {
			pitr.Error = err.Error()
		} else {
			pitr.From, pitr.To = from, to
		}
		s.mu.Lock()
		s.pitr = pitr
		s.mu.Unlock()
	}
	out.PITR = pitr
	return out
}

// Register adds the scheduler's metrics to reg: runs by target and result,
// and, read from the status at each scrape, the age of each target's
// newest good backup, whether it is behind, its failures in a row, its
// newest verify, and the point-in-time window.
func (s *Scheduler) Register(reg prometheus.Registerer) error {
	s.runs = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "kandidat_backup_runs_total", Help: "Backups written by the server's schedule, by target and result.",
	}, []string{"target", "result"})
	for _, sp := range s.Specs {
		s.runs.WithLabelValues(sp.Name, "ok")
		s.runs.WithLabelValues(sp.Name, "error")
	}
	if err := reg.Register(s.runs); err != nil {
		return err
	}
	return reg.Register(statusCollector{s})
}

var (
	descAge = prometheus.NewDesc("kandidat_backup_newest_age_seconds",
		"Age of the newest complete backup on the target (absent when it has none).", []string{"target"}, nil)
	descBehind = prometheus.NewDesc("kandidat_backup_behind",
		"1 when the target's newest complete backup is older than its schedule and a half.", []string{"target"}, nil)
	descFailures = prometheus.NewDesc("kandidat_backup_failures",
		"Failed backup attempts in a row on the target.", []string{"target"}, nil)
	descVerifyTime = prometheus.NewDesc("kandidat_backup_last_verify_timestamp_seconds",
		"When a backup on the target was last verified by restoring it.", []string{"target"}, nil)
	descVerifyOK = prometheus.NewDesc("kandidat_backup_last_verify_ok",
		"1 when the newest verify on the target passed, 0 when it failed.", []string{"target"}, nil)
	descPITR = prometheus.NewDesc("kandidat_pitr_window_seconds",
		"Length of the point-in-time recovery window.", nil, nil)
	descPITRLag = prometheus.NewDesc("kandidat_pitr_lag_seconds",
		"Time since the newest point the database can be recovered to.", nil, nil)
)

type statusCollector struct{ s *Scheduler }

func (c statusCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descAge, descBehind, descFailures, descVerifyTime, descVerifyOK, descPITR, descPITRLag} {
		ch <- d
	}
}

func (c statusCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	st := c.s.Status(ctx)
	now := c.s.now()
	for _, t := range st.Targets {
		if t.Newest != nil {
			ch <- prometheus.MustNewConstMetric(descAge, prometheus.GaugeValue, now.Sub(t.Newest.Time).Seconds(), t.Name)
		}
		ch <- prometheus.MustNewConstMetric(descBehind, prometheus.GaugeValue, b2f(t.Behind), t.Name)
		ch <- prometheus.MustNewConstMetric(descFailures, prometheus.GaugeValue, float64(t.Failures), t.Name)
		if t.Verified != nil {
			ch <- prometheus.MustNewConstMetric(descVerifyTime, prometheus.GaugeValue, float64(t.Verified.At.Unix()), t.Name)
			ch <- prometheus.MustNewConstMetric(descVerifyOK, prometheus.GaugeValue, b2f(t.Verified.OK), t.Name)
		}
	}
	if st.PITR.Configured && st.PITR.Error == "" && !st.PITR.To.IsZero() {
		ch <- prometheus.MustNewConstMetric(descPITR, prometheus.GaugeValue, st.PITR.To.Sub(st.PITR.From).Seconds())
		ch <- prometheus.MustNewConstMetric(descPITRLag, prometheus.GaugeValue, now.Sub(st.PITR.To).Seconds())
	}
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
