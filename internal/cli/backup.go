package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"filippo.io/age"

	"github.com/kandidat/kandidat/internal/app"
	"github.com/kandidat/kandidat/internal/backup"
	"github.com/kandidat/kandidat/internal/config"
)

// backupCreate is "backup create": a consistent snapshot of the database,
// the files and the erasure ledger, encrypted to the recipients and
// written to each target, the manifest last.
func backupCreate(ctx context.Context, env *Env, args []string) error {
	f := newFlags(env, "backup create", "backup create [--to TARGET]... [--recipient AGE_PUBLIC_KEY]... [flags]", config.Installation)
	var to, recipients pathList
	f.Var(&to, "to", "a configured target's name, a directory, or an s3:// URL; repeat for several (default: every configured target)")
	f.Var(&recipients, "recipient", "an age public key (age1...) to encrypt to, added to --backup-recipients; repeat for several")
	quiet := f.Bool("quiet", false, "print only the backup's id")
	if err := f.parse(args); err != nil {
		return err
	}
	specs, err := app.ResolveTargets(f.cfg, to)
	if err != nil {
		return err
	}
	rs, err := app.BackupRecipients(f.cfg, recipients)
	if err != nil {
		return err
	}
	a, err := f.open(ctx)
	if err != nil {
		return err
	}
	defer a.Close()
	src, err := a.BackupSource()
	if err != nil {
		return err
	}
	var targets []backup.Target
	for _, sp := range specs {
		t, err := app.OpenTarget(f.cfg, sp)
		if err != nil {
			return fmt.Errorf("target %s: %w", sp.Name, err)
		}
		targets = append(targets, t)
	}
	start := time.Now()
	last := time.Now()
	opts := backup.CreateOptions{Recipients: rs, Targets: targets}
	if !*quiet {
		opts.Progress = func(part string, done, total int64) {
			if time.Since(last) >= 2*time.Second {
				last = time.Now()
				fmt.Fprintf(env.Stderr, "backup: %s %s\n", part, progressOf(done, total))
			}
		}
	}
	res, err := backup.Create(ctx, src, opts)
	if res != nil {
		m := res.Manifest
		if *quiet {
			if err == nil {
				fmt.Fprintln(env.Stdout, m.ID)
			}
		} else {
			var size int64
			for _, p := range m.Parts {
				size += p.StoredSize
			}
			took := time.Since(start)
			fmt.Fprintf(env.Stdout, "backup %s: %s, %d files, schema %d, %s in %s (%.0f MB/s)\n", m.ID, m.Engine, m.Files, m.SchemaVersion,
				humanBytes(size), took.Round(time.Millisecond), float64(size)/1e6/max(took.Seconds(), 1e-3))
			for _, tr := range res.Targets {
				if tr.Err != nil {
					fmt.Fprintf(env.Stdout, "  %-12s FAILED: %v\n", tr.Target, tr.Err)
				} else {
					fmt.Fprintf(env.Stdout, "  %-12s ok\n", tr.Target)
				}
			}
		}
		if err == nil {
			for i, sp := range specs {
				if res.Targets[i].Err != nil {
					continue
				}
				// Also without a retention: leftovers of killed backups go after a day.
				if deleted, perr := backup.Prune(ctx, targets[i], sp, time.Now()); perr != nil {
					fmt.Fprintf(env.Stderr, "warning: retention on %s: %v\n", sp.Name, perr)
				} else if len(deleted) > 0 && !*quiet {
					fmt.Fprintf(env.Stdout, "  %-12s retention deleted %d old backups\n", sp.Name, len(deleted))
				}
			}
			for _, tr := range res.Targets {
				if tr.Err != nil {
					return fmt.Errorf("the backup was not written to every target")
				}
			}
		}
	}
	return err
}

// backupList is "backup list": the backups a target holds, newest first.
func backupList(ctx context.Context, env *Env, args []string) error {
	f := newFlags(env, "backup list", "backup list --from TARGET [flags]", config.Installation)
	from := f.String("from", "", "a configured target's name, a directory, or an s3:// URL (default: every configured target)")
	if err := f.parse(args); err != nil {
		return err
	}
	var refs []string
	if *from != "" {
		refs = []string{*from}
	}
	specs, err := app.ResolveTargets(f.cfg, refs)
	if err != nil {
		return err
	}
	for _, sp := range specs {
		t, err := app.OpenTarget(f.cfg, sp)
		if err != nil {
			return fmt.Errorf("target %s: %w", sp.Name, err)
		}
		entries, err := backup.List(ctx, t)
		if err != nil {
			return err
		}
		fmt.Fprintf(env.Stdout, "%s (%s): %d backups\n", sp.Name, sp.Location(), len(entries))
		tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "  ID\tTIME (UTC)\tSTATE\tSIZE\tVERIFIED")
		for _, e := range entries {
			state := "complete"
			switch {
			case e.Future:
				state = "FUTURE (ignored)"
			case !e.Complete:
				state = "INCOMPLETE"
			}
			verified := "-"
			if v := e.Verified; v != nil {
				verified = "ok " + v.At.UTC().Format("2006-01-02 15:04")
				if !v.OK {
					verified = "FAILED " + v.At.UTC().Format("2006-01-02 15:04")
				}
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\n", e.ID, e.Time.UTC().Format("2006-01-02 15:04:05"), state, humanBytes(e.Size), verified)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	return nil
}

// backupVerify is "backup verify": downloads a backup, decrypts it with
// the identity, checks every hash, restores it into a scratch place and
// runs the integrity check and the audit verification; the result is
// recorded on the target.
func backupVerify(ctx context.Context, env *Env, args []string) error {
	f := newFlags(env, "backup verify", "backup verify --from TARGET --identity FILE [--id BACKUP] [flags]", config.Installation)
	from := f.String("from", "", "a configured target's name, a directory, or an s3:// URL")
	identity := f.String("identity", "", "the age identity file (age-keygen's output) that opens the backups")
	id := f.String("id", "", "the backup to verify (default: the newest complete one)")
	if err := f.parse(args); err != nil {
		return err
	}
	t, ids, err := targetAndIdentity(f.cfg, *from, *identity)
	if err != nil {
		return err
	}
	logger := app.NewLogger(f.cfg, env.Stderr)
	rep, err := app.VerifyBackup(ctx, f.cfg, logger, t, *id, ids)
	if err != nil {
		return fmt.Errorf("backup does not verify: %w", err)
	}
	m := rep.Manifest
	fmt.Fprintf(env.Stdout, "backup %s from %s (%s, schema %d, %d files)\n", m.ID, t.Location(), m.Engine, m.SchemaVersion, m.Files)
	fmt.Fprintf(env.Stdout, "  hashes           ok (%d parts)\n", len(m.Parts))
	fmt.Fprintf(env.Stdout, "  restore          ok (%d migrations applied to reach this version)\n", rep.Migrated)
	if rep.Integrity == "" {
		fmt.Fprintln(env.Stdout, "  integrity check  ok")
	} else {
		fmt.Fprintf(env.Stdout, "  integrity check  FAILED: %s\n", rep.Integrity)
	}
	switch {
	case rep.Audit == nil:
		fmt.Fprintf(env.Stdout, "  audit trail      not checked: no signing key at %s\n", f.cfg.AuditSigningKeyPath())
	case len(rep.Audit.Problems) == 0:
		fmt.Fprintf(env.Stdout, "  audit trail      ok (%d chains, %d records, %d checkpoints)\n", rep.Audit.Chains, rep.Audit.Records, rep.Audit.Checkpoints)
	default:
		fmt.Fprintf(env.Stdout, "  audit trail      FAILED: %d problems\n", len(rep.Audit.Problems))
		for _, p := range rep.Audit.Problems {
			fmt.Fprintf(env.Stdout, "    %s\n", p.String())
		}
	}
	fmt.Fprintf(env.Stdout, "  erasure ledger   %d entries", rep.LedgerEntries)
	if rep.LedgerBad > 0 {
		fmt.Fprintf(env.Stdout, ", %d damaged lines", rep.LedgerBad)
	}
	fmt.Fprintf(env.Stdout, "\n  took             %s\n", rep.Took.Round(time.Millisecond))
	if !rep.OK() {
		return errors.New("backup does not verify: " + rep.Problem())
	}
	fmt.Fprintln(env.Stdout, "verified")
	return nil
}

// backupPrune is "backup prune": applies a target's retention now.
func backupPrune(ctx context.Context, env *Env, args []string) error {
	f := newFlags(env, "backup prune", "backup prune [--from TARGET]... [flags]", config.Installation)
	var from pathList
	f.Var(&from, "from", "a configured target's name (default: every configured target)")
	if err := f.parse(args); err != nil {
		return err
	}
	specs, err := app.ResolveTargets(f.cfg, from)
	if err != nil {
		return err
	}
	for _, sp := range specs {
		t, err := app.OpenTarget(f.cfg, sp)
		if err != nil {
			return fmt.Errorf("target %s: %w", sp.Name, err)
		}
		deleted, err := backup.Prune(ctx, t, sp, time.Now())
		if err != nil {
			return err
		}
		fmt.Fprintf(env.Stdout, "%s: deleted %d backups%s\n", sp.Name, len(deleted), listSuffix(deleted))
	}
	return nil
}

// runRestore is "restore": brings a backup (or a point in time) into an
// empty data directory or database, then applies every erasure ledger it
// finds.
func runRestore(ctx context.Context, env *Env, args []string) error {
	f := newFlags(env, "restore", "restore --from TARGET --identity FILE [--id BACKUP | --to-time TIME] [--force] --data-dir DIR | --database-url URL", config.Installation)
	from := f.String("from", "", "a configured target's name, a directory, or an s3:// URL; with --to-time, the point-in-time replica (default --pitr-replica)")
	identity := f.String("identity", "", "the age identity file that opens the backups (also reads the targets' erasure ledgers)")
	id := f.String("id", "", "the backup to restore (default: the newest complete one)")
	toTime := f.String("to-time", "", "SQLite: restore the database as it was at this time (RFC 3339, e.g. 2026-12-03T14:05:00Z) from the point-in-time replica")
	force := f.Bool("force", false, "replace an existing installation (stop its server first; a SQLite database is kept aside)")
	ignore := f.Bool("ignore-unreadable-ledgers", false, "restore even when the erasure ledger of a backup on a target cannot be read (people erased since may come back)")
	if err := f.parse(args); err != nil {
		return err
	}
	o := app.RestoreOptions{ID: *id, Force: *force, IgnoreUnreadableLedgers: *ignore, Out: env.Stdout}
	if *toTime != "" {
		if *id != "" {
			return errors.New("--id and --to-time: give one")
		}
		t, err := time.Parse(time.RFC3339, *toTime)
		if err != nil {
			return fmt.Errorf("--to-time: %q is not a time such as 2026-12-03T14:05:00Z", *toTime)
		}
		o.ToTime, o.Replica = t, *from
		if *identity != "" {
			if o.Identities, err = backup.ReadIdentities(*identity); err != nil {
				return fmt.Errorf("--identity: %w", err)
			}
		}
	} else {
		t, ids, err := targetAndIdentity(f.cfg, *from, *identity)
		if err != nil {
			return err
		}
		o.From, o.Identities = t, ids
	}
	logger := app.NewLogger(f.cfg, env.Stderr)
	start := time.Now()
	rep, err := app.Restore(ctx, f.cfg, logger, o)
	if err != nil {
		return err
	}
	if !rep.ToTime.IsZero() {
		fmt.Fprintf(env.Stdout, "restored the database as of %s\n", rep.ToTime.UTC().Format(time.RFC3339))
	}
	fmt.Fprintf(env.Stdout, "erasure ledgers read: %d (%s)\n", len(rep.Ledgers), strings.Join(rep.Ledgers, ", "))
	for _, s := range rep.Skipped {
		fmt.Fprintf(env.Stdout, "WARNING: erasure ledger not read: %s\n", s)
	}
	fmt.Fprintf(env.Stdout, "erased again: %d of %d ledger entries", rep.Ledger.Erased, rep.Ledger.Entries)
	if rep.Ledger.Bad > 0 {
		fmt.Fprintf(env.Stdout, " (%d damaged lines skipped)", rep.Ledger.Bad)
	}
	fmt.Fprintf(env.Stdout, "\nrestore done in %s; start the server.\n", time.Since(start).Round(time.Millisecond))
	if rep.Aside != "" {
		fmt.Fprintf(env.Stdout, "The replaced database is kept at %s: it still holds everyone erased since; delete it once the restore is checked.\n", rep.Aside)
	}
	return nil
}

// targetAndIdentity opens the target ref names and reads the identity file.
func targetAndIdentity(cfg *config.Config, ref, identity string) (backup.Target, []age.Identity, error) {
	if ref == "" {
		return nil, nil, errors.New("--from: name the target (a configured target, a directory or an s3:// URL)")
	}
	if identity == "" {
		return nil, nil, errors.New("--identity: give the age identity file that opens the backups")
	}
	ids, err := backup.ReadIdentities(identity)
	if err != nil {
		return nil, nil, fmt.Errorf("--identity: %w", err)
	}
	specs, err := app.ResolveTargets(cfg, []string{ref})
	if err != nil {
		return nil, nil, err
	}
	t, err := app.OpenTarget(cfg, specs[0])
	if err != nil {
		return nil, nil, fmt.Errorf("target %s: %w", specs[0].Name, err)
	}
	return t, ids, nil
}

func progressOf(done, total int64) string {
	if total > 0 {
		return fmt.Sprintf("%s of %s", humanBytes(done), humanBytes(total))
	}
	return humanBytes(done)
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

func listSuffix(ids []string) string {
	if len(ids) == 0 {
		return ""
	}
	return ": " + strings.Join(ids, ", ")
}
