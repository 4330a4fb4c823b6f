package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/kandidat/kandidat/internal/app"
	"github.com/kandidat/kandidat/internal/audit"
	"github.com/kandidat/kandidat/internal/config"
)

// auditVerify is "audit verify": walks the chains and checks them against
// the signed checkpoints. A broken chain is an error (exit 1).
func auditVerify(ctx context.Context, env *Env, args []string) error {
	f := newFlags(env, "audit verify", "audit verify [--tenant SLUG|ID] [--checkpoints FILE]... [flags]", config.Installation)
	ref := f.String("tenant", "", "only this company (default: every company and the installation)")
	var files pathList
	f.Var(&files, "checkpoints", "exported checkpoints to check the database against, e.g. a copy of the --audit-checkpoint-export file; repeat for several (default: --audit-checkpoint-file and --audit-checkpoint-export)")
	a, err := f.parseOpen(ctx, args)
	if err != nil {
		return err
	}
	defer a.Close()
	if a.Signer == nil {
		return fmt.Errorf("--audit-signing-key-file: no signing key at %s; verification needs the key that signed the checkpoints", f.cfg.AuditSigningKeyPath())
	}
	tenantID, err := optionalTenant(ctx, a, *ref)
	if err != nil {
		return err
	}
	extra, read, err := readCheckpointFiles(files, f.cfg)
	if err != nil {
		return err
	}
	res, err := a.Audit.Verify(ctx, tenantID, a.Signer.PublicKey(), extra)
	if err != nil {
		return err
	}
	return reportVerify(env.Stdout, res, read)
}

// optionalTenant is the id of the company ref names, nil for none.
func optionalTenant(ctx context.Context, a *app.App, ref string) (*string, error) {
	if ref == "" {
		return nil, nil
	}
	t, err := a.Tenants.ByRef(ctx, ref)
	if err != nil {
		return nil, tenantError(err)
	}
	return &t.ID, nil
}

// reportVerify prints what verify checked and each problem it found, and
// returns an error when it found any.
func reportVerify(w io.Writer, res audit.VerifyResult, read []checkpointFile) error {
	rate := float64(res.Records) / max(res.Duration.Seconds(), 1e-9)
	fmt.Fprintf(w, "verified %d chains, %d records, %d references, %d alerts, %d checkpoints in %s (%.0f records/s)\n",
		res.Chains, res.Records, res.References, res.Alerts, res.Checkpoints, res.Duration.Round(time.Millisecond), rate)
	for _, r := range read {
		fmt.Fprintf(w, "against %d exported checkpoints in %s\n", r.n, r.path)
	}
	if len(res.Problems) == 0 {
		fmt.Fprintln(w, "the audit trail is intact")
		return nil
	}
	for _, p := range res.Problems {
		fmt.Fprintf(w, "BROKEN %s\n", p)
	}
	return fmt.Errorf("%d problems found in the audit trail", len(res.Problems))
}

// exportRequest is what the flags of audit export ask for.
type exportRequest struct {
	track, action, actor, object, since, until, format, output string
}

// filter checks the request and returns the filter of its records.
func (r exportRequest) filter() (audit.Filter, error) {
	filter := audit.Filter{Track: audit.Track(r.track), Action: audit.Action(r.action), ActorID: r.actor}
	filter.ObjectKind, filter.ObjectID = audit.ParseObject(r.object)
	var err error
	if filter.From, err = parseWhen(r.since); err != nil {
		return filter, fmt.Errorf("--since: %v", err)
	}
	if filter.To, err = parseWhen(r.until); err != nil {
		return filter, fmt.Errorf("--until: %v", err)
	}
	if r.track != "" && !validTrack(r.track) {
		return filter, fmt.Errorf("--track: %q is not one of history, business, security, gdpr, consent, admin", r.track)
	}
	if r.format != "csv" && r.format != "json" {
		return filter, fmt.Errorf("--format: %q is not csv or json", r.format)
	}
	return filter, nil
}

// auditExport is "audit export": a company's records (or the
// installation's) as CSV or JSON, to standard output or a file.
func auditExport(ctx context.Context, env *Env, args []string) error {
	f := newFlags(env, "audit export", "audit export --tenant SLUG|ID [--track T] [--since 2026-01-02] [--format csv|json] [--output FILE] [flags]", config.Installation)
	ref := f.String("tenant", "", "company slug or id; \"-\" for installation-level records")
	var r exportRequest
	f.StringVar(&r.track, "track", "", "history, business, security, gdpr, consent or admin (default: all)")
	f.StringVar(&r.action, "action", "", "only this action, e.g. auth.sign_in_failed")
	f.StringVar(&r.actor, "actor", "", "only records by this actor id")
	f.StringVar(&r.object, "object", "", "only records about this object: kind:id (e.g. application:0190…) or an id")
	f.StringVar(&r.since, "since", "", "from this date or time (2026-01-02 or RFC 3339)")
	f.StringVar(&r.until, "until", "", "before this date or time")
	f.StringVar(&r.format, "format", "csv", "csv or json")
	f.StringVar(&r.output, "output", "", "file to write (default: standard output)")
	if err := f.parse(args); err != nil {
		return err
	}
	filter, err := r.filter()
	if err != nil {
		return err
	}
	a, err := f.open(ctx)
	if err != nil {
		return err
	}
	defer a.Close()
	tenantID := ""
	if *ref != "-" {
		t, err := a.Tenants.ByRef(ctx, *ref)
		if err != nil {
			return tenantError(err)
		}
		tenantID = t.ID
	}
	return writeExport(ctx, env, a, tenantID, filter, r)
}

// writeExport records the export and writes it. The record is committed
// before a byte of the export is written: if it fails, there is no export.
func writeExport(ctx context.Context, env *Env, a *app.App, tenantID string, filter audit.Filter, r exportRequest) error {
	var w io.Writer = env.Stdout
	if r.output != "" {
		file, err := os.OpenFile(r.output, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
		if err != nil {
			return fmt.Errorf("--output: %v", err)
		}
		defer file.Close()
		w = file
	}
	exp, err := a.Audit.StartExport(ctx, audit.Operator, tenantID, filter, r.format)
	if err != nil {
		if r.output != "" {
			os.Remove(r.output)
		}
		return err
	}
	bw := bufio.NewWriter(w)
	n, err := exp.WriteTo(ctx, bw)
	if err != nil {
		return err
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	if r.output != "" {
		fmt.Fprintf(env.Stderr, "exported %d records to %s\n", n, r.output)
	}
	return nil
}

// auditCheckpoint is "audit checkpoint": signs every chain's head now and
// exports the checkpoints.
func auditCheckpoint(ctx context.Context, env *Env, args []string) error {
	f := newFlags(env, "audit checkpoint", "audit checkpoint [flags]  (sign and export every chain's head now)", config.Installation)
	a, err := f.parseOpen(ctx, args)
	if err != nil {
		return err
	}
	defer a.Close()
	if a.Signer == nil {
		return fmt.Errorf("--audit-signing-key-file: no signing key at %s (kandidat serve creates it)", f.cfg.AuditSigningKeyPath())
	}
	cps, err := a.Audit.Checkpoint(ctx, "manual")
	if err != nil {
		return err
	}
	to := f.cfg.AuditCheckpointPath()
	if p := f.cfg.AuditCheckpointExportPath(); p != "" {
		to += " and " + p
	}
	fmt.Fprintf(env.Stdout, "signed %d checkpoints; exported to %s\n", len(cps), to)
	return nil
}

// auditPrune is "audit prune": deletes records past their retention behind
// a checkpoint signed for the prune.
func auditPrune(ctx context.Context, env *Env, args []string) error {
	f := newFlags(env, "audit prune", "audit prune [flags]  (delete records past their retention, keeping the chains verifiable)", config.Installation)
	batch := f.Int("batch", 1000, "records per transaction")
	a, err := f.parseOpen(ctx, args)
	if err != nil {
		return err
	}
	defer a.Close()
	if a.Signer == nil {
		return fmt.Errorf("--audit-signing-key-file: no signing key at %s (kandidat serve creates it)", f.cfg.AuditSigningKeyPath())
	}
	n, err := a.Audit.Prune(ctx, a.Retention, *batch)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "pruned %d records\n", n)
	return nil
}

// auditRetention is "audit retention": shows a company's retention per
// track, after setting those --set gives.
func auditRetention(ctx context.Context, env *Env, args []string) error {
	f := newFlags(env, "audit retention", "audit retention --tenant SLUG|ID [--set track=days,...] [flags]", config.Installation)
	ref := f.String("tenant", "", "company slug or id")
	set := f.String("set", "", "new retention per track in days, e.g. security=365,history=730")
	a, t, err := f.openCompany(ctx, args, ref)
	if err != nil {
		return err
	}
	defer a.Close()
	if *set != "" {
		if err := setRetention(ctx, a, t.ID, *set); err != nil {
			return err
		}
	}
	ret, err := a.Audit.RetentionOf(ctx, t.ID, a.Retention)
	if err != nil {
		return err
	}
	var tracks []string
	for tr := range ret {
		tracks = append(tracks, string(tr))
	}
	sort.Strings(tracks)
	for _, tr := range tracks {
		fmt.Fprintf(env.Stdout, "%-9s %5d days (minimum %d)\n", tr, int(ret[audit.Track(tr)].Hours()/24), int(audit.MinRetention[audit.Track(tr)].Hours()/24))
	}
	return nil
}

// setRetention sets the retention of each track=days of spec, in order,
// stopping at the first it cannot set.
func setRetention(ctx context.Context, a *app.App, tenantID, spec string) error {
	for _, part := range strings.Split(spec, ",") {
		track, days, ok := strings.Cut(strings.TrimSpace(part), "=")
		n, err := strconv.Atoi(days)
		if !ok || err != nil || !validTrack(track) {
			return fmt.Errorf("--set: %q is not track=days", part)
		}
		if err := a.Audit.SetRetention(ctx, tenantID, audit.Track(track), n); err != nil {
			return fmt.Errorf("--set: %s", strings.TrimPrefix(err.Error(), audit.ErrRetentionTooShort.Error()+": "))
		}
	}
	return nil
}

func validTrack(s string) bool {
	for _, t := range audit.Tracks {
		if string(t) == s {
			return true
		}
	}
	return false
}

func parseWhen(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	t, err := time.Parse("2006-01-02", s)
	if err != nil {
		return time.Time{}, errors.New("give a date like 2026-01-02 or a time like 2026-01-02T15:04:05Z")
	}
	return t, nil
}

// pathList is a flag that may be given several times.
type pathList []string

func (p *pathList) String() string { return strings.Join(*p, ",") }

func (p *pathList) Set(v string) error {
	if v == "" {
		return errors.New("give a file")
	}
	*p = append(*p, v)
	return nil
}

type checkpointFile struct {
	path string
	n    int
}

// readCheckpointFiles reads the exported checkpoints verify checks against:
// the files named with --checkpoints, each of which must exist, or else
// the installation's checkpoint file and its export, where they exist.
func readCheckpointFiles(files []string, cfg *config.Config) ([]audit.Checkpoint, []checkpointFile, error) {
	explicit := len(files) > 0
	if !explicit {
		files = []string{cfg.AuditCheckpointPath()}
		if p := cfg.AuditCheckpointExportPath(); p != "" {
			files = append(files, p)
		}
	}
	var all []audit.Checkpoint
	var read []checkpointFile
	for _, path := range files {
		if _, err := os.Stat(path); err != nil {
			if !explicit && errors.Is(err, os.ErrNotExist) {
				continue
			}
			return nil, nil, fmt.Errorf("--checkpoints: %v", err)
		}
		cps, err := audit.ReadCheckpointFile(path)
		if err != nil {
			return nil, nil, fmt.Errorf("--checkpoints: %s: %v", path, err)
		}
		all = append(all, cps...)
		read = append(read, checkpointFile{path, len(cps)})
	}
	return all, read, nil
}
