// Package cli is the kandidat command line: one file per subcommand, each
// with its own flag.FlagSet. Run returns the process exit code.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/kandidat/kandidat/internal/app"
	"github.com/kandidat/kandidat/internal/config"
	"github.com/kandidat/kandidat/internal/tenant"
)

// Env is what a command may touch of the outside world.
type Env struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	Getenv         func(string) string
	// Ready, when set, is called by serve with its base URL (tests).
	Ready func(baseURL string)
}

type command struct {
	name    string
	summary string
	run     func(ctx context.Context, env *Env, args []string) error
}

func commands() []command {
	return []command{
		{"serve", "run the web server", runServe},
		{"migrate", "apply or show database migrations (up, status)", runMigrate},
		{"tenant", "manage companies (create, list, show, modules)", runTenant},
		{"user", "manage users of a company (create, list, disable, enable)", runUser},
		{"keys", "manage data keys (status, rotate, rewrap)", runKeys},
		{"credits", "a company's credits (add, refund, show)", runCredits},
		{"audit", "verify, export, checkpoint and prune the audit trail; set retention", runAudit},
		{"config", "print the effective configuration, secrets masked", runConfig},
		{"seed", "fill an installation with synthetic data (small, medium, large)", runSeed},
		{"bench", "time the pages of a running server (p50/p95/p99, req/s)", runBench},
		{"version", "print the version", runVersion},
	}
}

// errUsage marks an error already explained to the user with usage text.
var errUsage = errors.New("usage")

// Run runs the kandidat command line and returns the exit code.
func Run(ctx context.Context, args []string, env *Env) int {
	if env.Getenv == nil {
		env.Getenv = os.Getenv
	}
	if env.Stdin == nil {
		env.Stdin = strings.NewReader("")
	}
	if len(args) == 0 {
		usage(env.Stderr)
		return 2
	}
	name := args[0]
	switch name {
	case "help", "-h", "-help", "--help":
		if len(args) > 1 {
			return Run(ctx, []string{args[1], "--help"}, env)
		}
		usage(env.Stdout)
		return 0
	case "-version", "--version":
		name = "version"
	}
	for _, c := range commands() {
		if c.name != name {
			continue
		}
		err := c.run(ctx, env, args[1:])
		switch {
		case err == nil:
			return 0
		case errors.Is(err, flag.ErrHelp):
			return 0
		case errors.Is(err, errUsage):
			return 2
		default:
			fmt.Fprintf(env.Stderr, "kandidat %s: %v\n", name, err)
			return 1
		}
	}
	fmt.Fprintf(env.Stderr, "kandidat: unknown command %q.%s Run 'kandidat help' for the list of commands.\n", name, suggest(name, commandNames()))
	return 2
}

func commandNames() []string {
	var out []string
	for _, c := range commands() {
		out = append(out, c.name)
	}
	return out
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "Kandidat: recruitment and whistleblowing, self-hosted.")
	fmt.Fprintln(w, "\nUsage: kandidat <command> [flags]")
	fmt.Fprintln(w, "\nCommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-9s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nRun 'kandidat <command> --help' for the flags of a command.")
	fmt.Fprintln(w, "Start here: kandidat serve --demo")
}

// suggest returns " Did you mean "x"?" for the closest candidate, or "".
func suggest(got string, candidates []string) string {
	best, bestD := "", 3
	for _, c := range candidates {
		if d := distance(got, c); d < bestD || (strings.HasPrefix(c, got) && got != "" && bestD > 1) {
			best, bestD = c, min(d, 1)
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" Did you mean %q?", best)
}

// distance is the Levenshtein distance.
func distance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}

// flags makes the flag set of a command. Parse errors and --help print the
// usage; a wrong flag says what to type instead.
type flags struct {
	*flag.FlagSet
	cmd   string
	env   *Env
	cfg   *config.Config
	scope config.Scope
}

func newFlags(env *Env, cmd, synopsis string, scope config.Scope) *flags {
	fs := flag.NewFlagSet("kandidat "+cmd, flag.ContinueOnError)
	f := &flags{FlagSet: fs, cmd: cmd, env: env, scope: scope}
	f.cfg = config.Register(fs, scope)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	f.Usage = func() {
		w := env.Stdout
		fmt.Fprintf(w, "Usage: kandidat %s\n\n", synopsis)
		fmt.Fprintln(w, "Flags (each also from its KANDIDAT_* environment variable):")
		fs.SetOutput(w)
		fs.PrintDefaults()
		fs.SetOutput(io.Discard)
	}
	return f
}

// parse parses args, applies the environment and validates the configuration.
func (f *flags) parse(args []string) error {
	if err := f.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return flag.ErrHelp // Parse has printed the usage
		}
		msg := err.Error()
		if strings.HasPrefix(msg, "flag provided but not defined: ") {
			name := strings.TrimLeft(strings.TrimPrefix(msg, "flag provided but not defined: "), "-")
			var names []string
			f.VisitAll(func(fl *flag.Flag) { names = append(names, fl.Name) })
			sort.Strings(names)
			msg = "unknown flag --" + name + "."
			if sug := suggest(name, names); sug != "" {
				msg += strings.Replace(sug, `"`, `"--`, 1)
			}
		}
		fmt.Fprintf(f.env.Stderr, "kandidat %s: %s Run 'kandidat %s --help' for the flags.\n", f.cmd, msg, f.cmd)
		return errUsage
	}
	if err := config.ApplyEnv(f.FlagSet, f.cfg, f.env.Getenv); err != nil {
		return err
	}
	return f.cfg.Validate(f.scope)
}

// parseOpen parses args and opens the installation: the start of most
// commands. The caller closes the App.
func (f *flags) parseOpen(ctx context.Context, args []string) (*app.App, error) {
	if err := f.parse(args); err != nil {
		return nil, err
	}
	return f.open(ctx, false)
}

// openCompany parses args, opens the installation and finds the company of
// --tenant (a slug or id), read through ref once the flags are parsed. The
// caller closes the App.
func (f *flags) openCompany(ctx context.Context, args []string, ref *string) (*app.App, *tenant.Tenant, error) {
	a, err := f.parseOpen(ctx, args)
	if err != nil {
		return nil, nil, err
	}
	t, err := a.Tenants.ByRef(ctx, *ref)
	if err != nil {
		a.Close()
		return nil, nil, tenantError(err)
	}
	return a, t, nil
}

// open opens the installation for a command that works on it.
func (f *flags) open(ctx context.Context, migrate bool) (*app.App, error) {
	logger := app.NewLogger(f.cfg, f.env.Stderr)
	return app.Open(ctx, f.cfg, logger, app.OpenOptions{Migrate: migrate, Out: f.env.Stderr})
}

// subcommand splits "tenant create ..." into the action and its arguments.
func subcommand(env *Env, cmd string, args []string, actions map[string]func([]string) error, synopsis string) error {
	var names []string
	for n := range actions {
		names = append(names, n)
	}
	sort.Strings(names)
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		w := env.Stdout
		if len(args) == 0 {
			w = env.Stderr
		}
		fmt.Fprintf(w, "Usage: kandidat %s %s\n\nActions: %s\nRun 'kandidat %s <action> --help' for the flags of an action.\n", cmd, synopsis, strings.Join(names, ", "), cmd)
		if len(args) == 0 {
			return errUsage
		}
		return flag.ErrHelp
	}
	act, ok := actions[args[0]]
	if !ok {
		fmt.Fprintf(env.Stderr, "kandidat %s: unknown action %q.%s Actions: %s.\n", cmd, args[0], suggest(args[0], names), strings.Join(names, ", "))
		return errUsage
	}
	return act(args[1:])
}
