package cli

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/app"
	"github.com/kandidat/kandidat/internal/config"
	"github.com/kandidat/kandidat/internal/importer"
)

// errProblems marks a run whose rows had problems: the report said which,
// and the exit code says so to a script.
var errProblems = errors.New("rows had problems")

// runImport is "kandidat import": candidates (and their positions and
// applications) from another ATS's CSV or JSON Lines export, checked
// first (--dry-run: only checked), then written in batches. A second run
// of the same file adds nothing; an interrupted one continues.
func runImport(ctx context.Context, env *Env, args []string) error {
	f := newFlags(env, "import", "import --company SLUG --file FILE [--format csv|jsonl] [--mapping NAME | --map 'Column=field,...'] [--documents DIR|ZIP] [--dry-run] [--as LOGIN] [flags]  (candidates from another ATS)", config.Installation)
	company := f.String("company", "", "the company (slug or id) the candidates join")
	tenantRef := f.String("tenant", "", "same as --company")
	file := f.String("file", "", "the CSV or JSON Lines file")
	format := f.String("format", "", "csv or jsonl (default: from the file's name)")
	mapping := f.String("mapping", "", "a mapping saved by the company, or built in: "+strings.Join(importer.BuiltinNames(), ", "))
	mapSpec := f.String("map", "", "the mapping typed: 'Column=field,...' (fields: "+strings.Join(importer.Fields, ", ")+"; 'stage:Value=kind' maps a stage, 'default:basis=purpose' sets a value for every row)")
	var sets multiFlag
	f.Var(&sets, "set", "a value for every row that has none, as field=value (repeatable; e.g. --set basis=purpose --set basis_date=2026-01-31)")
	docs := f.String("documents", "", "a directory or zip holding the documents the rows name")
	dry := f.Bool("dry-run", false, "check every row and report, write nothing")
	as := f.String("as", "", "the login of the user the import acts as (needed to add positions or comments; the trail names them)")
	batch := f.Int("batch", 500, "people per transaction")
	if err := f.parse(args); err != nil {
		return err
	}
	ref := *company
	if ref == "" {
		ref = *tenantRef
	}
	switch {
	case ref == "":
		return fmt.Errorf("--company: name the company (kandidat tenant list)")
	case *file == "":
		return fmt.Errorf("--file: name the file to import")
	case *mapping != "" && *mapSpec != "":
		return fmt.Errorf("--mapping and --map: give one of them")
	}
	if *format == "" {
		*format = importer.FormatOf(*file)
	}
	a, t, err := f.openTenant(ctx, ref)
	if err != nil {
		return err
	}
	defer a.Close()
	actor := access.Operator(t.ID, importer.Permissions...)
	if *as != "" {
		u, err := a.Accounts.UserByLogin(ctx, t.ID, *as)
		if err != nil {
			return fmt.Errorf("--as: no user of this company with that login")
		}
		p, err := a.Accounts.Principal(ctx, t.ID, u.ID)
		if err != nil {
			return err
		}
		actor = p.Actor()
	}
	a.Importer = importer.NewService(a.DB, importer.Options{Recruit: a.Recruit, Audit: a.Audit, Blobs: a.Blobs, Logger: a.Logger, BatchSize: *batch})
	var m *importer.Mapping
	switch {
	case *mapSpec != "":
		if m, err = importer.ParseMap(*mapSpec); m == nil || (err != nil && len(sets) == 0) {
			return importError(a, "--map", err)
		}
	default:
		name := *mapping
		if name == "" {
			name = "spreadsheet"
		}
		if m, err = a.Importer.MappingByName(ctx, actor, name); err != nil {
			return importError(a, "--mapping", err)
		}
	}
	if m.Defaults == nil {
		m.Defaults = map[string]string{}
	}
	for _, s := range sets {
		k, v, ok := strings.Cut(s, "=")
		if !ok {
			return fmt.Errorf("--set: give field=value")
		}
		m.Defaults[strings.TrimSpace(k)] = strings.TrimSpace(v)
	}
	if err := m.Check(); err != nil {
		return importError(a, "--map", err)
	}
	sum, err := fileHash(*file)
	if err != nil {
		return fmt.Errorf("--file: %v", err)
	}
	in := importer.Input{Format: *format, Mapping: m, Open: func() (io.ReadCloser, error) { return os.Open(*file) }}
	if *docs != "" {
		if in.Documents, err = importer.OpenDocuments(*docs); err != nil {
			return importError(a, "--documents", err)
		}
		defer in.Documents.Close()
	}
	start := time.Now()
	if *dry {
		rep, err := a.Importer.Check(ctx, actor, in)
		if err != nil {
			return importError(a, "--file", err)
		}
		printReport(env.Stdout, a, rep, true)
		fmt.Fprintf(env.Stdout, "dry run: nothing was written (%s)\n", time.Since(start).Round(time.Millisecond))
		if rep.HasProblems() {
			return errProblems
		}
		return nil
	}
	bar := newImportProgress(env.Stderr)
	run, rep, err := a.Importer.Import(ctx, actor, importer.FileRun{Input: in, FileName: filepath.Base(*file), SHA256: sum, Progress: bar.set})
	bar.finish()
	if rep != nil {
		printReport(env.Stdout, a, rep, false)
	}
	if run != nil {
		took := time.Since(start)
		fmt.Fprintf(env.Stdout, "import %s: %s; %d rows written of %d: %d candidates added, %d merged, %d imported before, %d left out (%s, %.0f rows/s)\n",
			run.ID, run.Status, run.RowsDone, run.TotalRows, run.Created, run.Merged, run.Skipped, run.Problems, took.Round(time.Millisecond),
			float64(run.RowsDone)/max(took.Seconds(), 1e-3))
	}
	if err != nil {
		if ctx.Err() != nil {
			fmt.Fprintln(env.Stderr, "interrupted: the rows written stay; run the same command again to continue")
		}
		return importError(a, "--file", err)
	}
	if rep != nil && rep.HasProblems() {
		return errProblems
	}
	return nil
}

// importError turns a refusal into a line naming the flag and the message.
func importError(a *app.App, flag string, err error) error {
	if key := importer.MessageKey(err, ""); key != "" {
		return fmt.Errorf("%s: %s", flag, a.I18n.T("en", key))
	}
	return err
}

func printReport(w io.Writer, a *app.App, rep *importer.Report, dry bool) {
	verb := "would add"
	if !dry {
		verb = "to add"
	}
	fmt.Fprintf(w, "%d rows: %d accepted (%s %d candidates, %d merged into known ones, %d imported before), %d with problems\n",
		rep.Rows, rep.Accepted, verb, rep.New, rep.Merged, rep.Skipped, rep.Rejected)
	if len(rep.Positions) > 0 {
		fmt.Fprintf(w, "positions to add (closed): %s\n", strings.Join(rep.Positions, ", "))
	}
	for _, p := range rep.Problems {
		if p.Note {
			continue
		}
		where := "file"
		if p.Line > 0 {
			where = fmt.Sprintf("line %d", p.Line)
		}
		field := ""
		if p.Field != "" {
			field = " " + p.Field + ":"
		}
		fmt.Fprintf(w, "  %s:%s %s [%s]\n", where, field, a.I18n.T("en", p.Key), p.Key)
	}
	if rep.More > 0 {
		fmt.Fprintf(w, "  (%d more not listed)\n", rep.More)
	}
}

func fileHash(name string) (string, error) {
	f, err := os.Open(name)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// multiFlag collects a repeated flag.
type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

// importProgress draws a bar on a terminal, a line every 10% otherwise.
type importProgress struct {
	w     io.Writer
	bar   *progressbar.ProgressBar
	term  bool
	next  int
	start time.Time
}

func newImportProgress(w io.Writer) *importProgress {
	p := &importProgress{w: w, start: time.Now()}
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		p.term = true
	}
	return p
}

func (p *importProgress) set(done, total int) {
	if p.term {
		if p.bar == nil {
			p.bar = progressbar.NewOptions(total, progressbar.OptionSetWriter(p.w), progressbar.OptionSetDescription("rows"),
				progressbar.OptionShowCount(), progressbar.OptionShowIts(), progressbar.OptionSetItsString("rows"),
				progressbar.OptionThrottle(200*time.Millisecond), progressbar.OptionSetPredictTime(true), progressbar.OptionFullWidth())
		}
		_ = p.bar.Set(done)
		return
	}
	if total <= 0 {
		return
	}
	if pct := done * 100 / total; pct >= p.next {
		fmt.Fprintf(p.w, "import: %d%% (%d of %d rows, %.0f/s)\n", pct, done, total, float64(done)/max(time.Since(p.start).Seconds(), 1e-3))
		p.next = pct - pct%10 + 10
	}
}

func (p *importProgress) finish() {
	if p.bar != nil {
		_ = p.bar.Finish()
		fmt.Fprintln(p.w)
	}
}
