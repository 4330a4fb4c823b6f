package cli

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/kandidat/kandidat/internal/app"
	"github.com/kandidat/kandidat/internal/config"
	"github.com/kandidat/kandidat/internal/privacy"
)

// privacySweep is "privacy sweep": the daily erasure the server runs, run
// now (or counted only, with --dry-run), with a report by reason.
func privacySweep(ctx context.Context, env *Env, args []string) error {
	f := newFlags(env, "privacy sweep", "privacy sweep [--dry-run] [--tenant SLUG|ID] [flags]  (erase candidates no basis allows keeping)", config.Installation)
	dry := f.Bool("dry-run", false, "count what would be erased, erase nothing")
	ref := f.String("tenant", "", "only this company (default: every company)")
	asOf := f.String("as-of", "", "with --dry-run: count what would go on this day (YYYY-MM-DD, UTC)")
	a, err := f.parseOpen(ctx, args)
	if err != nil {
		return err
	}
	defer a.Close()
	var at time.Time
	if *asOf != "" {
		if !*dry {
			return fmt.Errorf("--as-of: only with --dry-run (a sweep erases at the present)")
		}
		if at, err = time.Parse("2006-01-02", *asOf); err != nil {
			return fmt.Errorf("--as-of: a date as YYYY-MM-DD")
		}
	}
	tenantID := ""
	if *ref != "" {
		t, err := a.Tenants.ByRef(ctx, *ref)
		if err != nil {
			return tenantError(err)
		}
		tenantID = t.ID
	}
	start, last := time.Now(), time.Now()
	rep, err := a.Privacy.Sweep(ctx, privacy.SweepOptions{TenantID: tenantID, DryRun: *dry, AsOf: at, Progress: func(done int) {
		if time.Since(last) >= 2*time.Second {
			last = time.Now()
			fmt.Fprintf(env.Stderr, "sweep: %d erased (%.0f/s)\n", done, float64(done)/time.Since(start).Seconds())
		}
	}})
	verb := "erased"
	if *dry {
		verb = "would erase"
	}
	took := time.Since(start)
	fmt.Fprintf(env.Stdout, "%s %d candidates of %d companies in %s (%.0f/s)\n", verb, rep.Total, rep.Companies, took.Round(time.Millisecond),
		float64(rep.Total)/max(took.Seconds(), 1e-3))
	for _, r := range privacy.Reasons {
		if n := rep.Erased[r]; n > 0 {
			fmt.Fprintf(env.Stdout, "  %-18s %d\n", r, n)
		}
	}
	return err
}

// privacyLedger is "privacy apply-ledger": after a restore, erases again
// everyone the erasure ledger names whom the restored database holds.
func privacyLedger(ctx context.Context, env *Env, args []string) error {
	f := newFlags(env, "privacy apply-ledger", "privacy apply-ledger [--file PATH] [flags]  (erase again whom a restored database still holds)", config.Installation)
	file := f.String("file", "", "the erasure ledger (default: erasures.jsonl in the data directory)")
	if err := f.parse(args); err != nil {
		return err
	}
	// It finishes a restore that stopped before its ledger was applied:
	// it opens such an installation (and brings its schema up to date).
	a, err := app.Open(ctx, f.cfg, app.NewLogger(f.cfg, env.Stderr), app.OpenOptions{Out: env.Stderr, Migrate: true, Restoring: true})
	if err != nil {
		return err
	}
	defer a.Close()
	path := *file
	if path == "" {
		path = a.Config.ErasureLedger()
	}
	var rep privacy.ApplyReport
	if _, serr := os.Stat(path); *file != "" || serr == nil {
		// No ledger in the data directory: nobody was erased here.
		if rep, err = a.Privacy.ApplyLedger(ctx, path); err != nil {
			return err
		}
	}
	if rep.Erased > 0 {
		if err := a.Privacy.Forget(ctx); err != nil {
			return err
		}
	}
	fmt.Fprintf(env.Stdout, "ledger: %d entries (%d unreadable lines); erased again: %d\n", rep.Entries, rep.Bad, rep.Erased)
	if *file == "" {
		if err := os.Remove(filepath.Join(a.Config.DataDir, app.RestorePending)); err == nil {
			fmt.Fprintln(env.Stdout, "the unfinished restore is finished: the installation may be served")
		}
	}
	return nil
}
