package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/app"
	"github.com/kandidat/kandidat/internal/config"
	"github.com/kandidat/kandidat/internal/db"
	"github.com/kandidat/kandidat/internal/seed"
)

// runSeed is "kandidat seed": synthetic companies and their history, in a
// new installation or (--append) beside the companies it has.
func runSeed(ctx context.Context, env *Env, args []string) error {
	var names []string
	for _, s := range seed.Scales {
		names = append(names, s.Name)
	}
	f := newFlags(env, "seed", "seed [--scale small|medium|large] [--seed N] [--append] [flags]  (synthetic companies, candidates and their history)", config.Installation)
	scale := f.String("scale", "small", "size: "+strings.Join(names, ", ")+" (large: 1,000 companies, 1,000,000 candidates, 3,000,000 applications)")
	var opts seed.Options
	f.Uint64Var(&opts.Seed, "seed", 1, "the same seed makes the same data")
	f.BoolVar(&opts.Append, "append", false, "add companies to an installation that has some already")
	f.IntVar(&opts.BatchSize, "batch", 500, "applications per transaction")
	docs := f.Float64("documents", -1, "share of candidates with a CV file, 0 to 1 (default: the scale's)")
	f.IntVar(&opts.Workers, "workers", 0, "companies written at once (default: 1 on SQLite, which has one writer; 2 on PostgreSQL)")
	if err := f.parse(args); err != nil {
		return err
	}
	var ok bool
	if opts.Scale, ok = seed.ScaleByName(*scale); !ok {
		fmt.Fprintf(env.Stderr, "kandidat seed: unknown scale %q.%s Scales: %s.\n", *scale, suggest(*scale, names), strings.Join(names, ", "))
		return errUsage
	}
	if *docs >= 0 {
		opts.Scale.DocumentShare = min(*docs, 1)
	}
	// Seeding is a way to set up a new installation: like serve, it makes
	// the master key (and the audit signing key) when they are absent.
	a, err := app.Open(ctx, f.cfg, app.NewLogger(f.cfg, env.Stderr), app.OpenOptions{Migrate: true, CreateMasterKey: true, Out: env.Stderr})
	if err != nil {
		return err
	}
	defer a.Close()
	if opts.Workers <= 0 {
		opts.Workers = 1
		if a.DB.Engine == db.Postgres {
			opts.Workers = 2
		}
	}
	opts.Progress = newProgress(env.Stderr)
	res, err := seed.Run(ctx, depsOf(a), opts)
	if errors.Is(err, seed.ErrNotEmpty) {
		fmt.Fprintf(env.Stderr, "kandidat seed: %v.\n", err)
		return errUsage
	}
	if err := finishSeed(ctx, env, a, res, err); err != nil {
		return err
	}
	rows, err := a.DB.CountRows(ctx)
	if err != nil {
		return err
	}
	reportSeed(env.Stdout, res, rows)
	return nil
}

// finishSeed gathers the planner's statistics of whatever the seed wrote,
// even when it was interrupted, and returns the seed's error (or the
// statistics'). An interrupted seed says how far it came.
func finishSeed(ctx context.Context, env *Env, a *app.App, res *seed.Result, err error) error {
	if res != nil && res.Applications > 0 {
		if aerr := a.DB.Analyze(context.WithoutCancel(ctx)); aerr != nil && err == nil {
			err = aerr
		}
	}
	if err != nil && res != nil && ctx.Err() != nil {
		fmt.Fprintf(env.Stderr, "interrupted: %d applications of %d candidates were written, in whole batches\n", res.Applications, res.Candidates)
	}
	return err
}

// reportSeed prints what the seed wrote and how fast, and how to sign in to
// the largest company.
func reportSeed(w io.Writer, res *seed.Result, rows int64) {
	secs := res.Elapsed.Seconds()
	fmt.Fprintf(w, "Seeded %d companies, %d candidates, %d applications, %d documents in %s: %.0f applications/s, %.0f rows/s (%d rows).\n",
		len(res.Companies), res.Candidates, res.Applications, res.Documents, res.Elapsed.Round(time.Second), float64(res.Applications)/secs, float64(rows)/secs, rows)
	if len(res.Companies) == 0 {
		return
	}
	c := res.Companies[0]
	fmt.Fprintf(w, "Largest company: %s (%s), %d candidates, %d positions; career page /careers/%s\n",
		c.Name, c.Slug, c.Candidates, c.Positions, c.Slug)
	for _, r := range []struct{ key, role string }{{"admin", access.Administrator}, {"hr", access.HRManager}, {"recruiter", access.Recruiter},
		{"recruiter-nc", access.RecruiterWithoutCredits}, {"linemanager", access.LineManager}, {"casehandler", access.CaseHandler}} {
		if l, ok := c.Logins[r.role]; ok {
			fmt.Fprintf(w, "  %s-login: %s\n", r.key, l)
		}
	}
	fmt.Fprintf(w, "  password: %s\n  (one-time, for every user of this company: each chooses their own at the first sign-in;\n   users of the other companies have no password until one is reset)\n", res.Password)
}

// depsOf gives the seed the installation's services.
func depsOf(a *app.App) seed.Deps {
	return seed.Deps{DB: a.DB, Tenants: a.Tenants, Accounts: a.Accounts, Recruit: a.Recruit, Credits: a.Credits, Audit: a.Audit}
}

// newProgress draws a progress bar on a terminal and prints plain lines
// (one every 5%) otherwise, so logs of a scripted run stay readable.
func newProgress(w io.Writer) seed.Progress {
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		return &barProgress{w: w}
	}
	return &lineProgress{w: w}
}

type barProgress struct {
	w   io.Writer
	bar *progressbar.ProgressBar
}

func (p *barProgress) Start(total int) {
	p.bar = progressbar.NewOptions(total, progressbar.OptionSetWriter(p.w), progressbar.OptionSetDescription("applications"),
		progressbar.OptionShowCount(), progressbar.OptionShowIts(), progressbar.OptionSetItsString("applications"),
		progressbar.OptionThrottle(200*time.Millisecond), progressbar.OptionSetPredictTime(true), progressbar.OptionFullWidth())
}
func (p *barProgress) Add(n int) { _ = p.bar.Add(n) }
func (p *barProgress) Finish()   { _ = p.bar.Finish(); fmt.Fprintln(p.w) }

type lineProgress struct {
	w           io.Writer
	total, done int
	next        int
	start       time.Time
}

func (p *lineProgress) Start(total int) { p.total, p.start = max(total, 1), time.Now() }
func (p *lineProgress) Add(n int) {
	p.done += n
	if pct := p.done * 100 / p.total; pct >= p.next {
		fmt.Fprintf(p.w, "seed: %d%% (%d applications, %.0f/s)\n", pct, p.done, float64(p.done)/time.Since(p.start).Seconds())
		p.next = pct - pct%5 + 5
	}
}
func (p *lineProgress) Finish() {}
