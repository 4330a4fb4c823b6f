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
	"strconv"
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

// runFunc is what a command, or one action of it, does with the arguments
// that follow its name.
type runFunc func(ctx context.Context, env *Env, args []string) error

type command struct {
	name    string
	summary string
	run     runFunc  // a command without actions
	actions []action // the actions of a command that has some, in help order
}

// action is one action of a command such as "tenant create".
type action struct {
	name    string
	summary string
	run     runFunc
	alias   bool // an earlier name kept for scripts: accepted, not listed
}

// commands is the one table of the command line: the top-level help, each
// command's help and the dispatch all read it, so an action cannot be
// listed without a function or run without being listed.
func commands() []command {
	return []command{
		{"serve", "run the web server", runServe, nil},
		{"migrate", "", nil, []action{
			{"up", "apply pending database migrations", migrateUp, false},
			{"status", "list the migrations and which are applied", migrateStatus, false},
		}},
		{"tenant", "", nil, []action{
			{"create", "create a company", tenantCreate, false},
			{"list", "list the companies", tenantList, false},
			{"show", "show a company", tenantShow, false},
			{"settings", "show or set a company's password, two-factor and publication settings", tenantSettings, false},
			{"modules", "show, enable or disable a company's modules", tenantModules, false},
		}},
		{"user", "", nil, []action{
			{"create", "create a user of a company (or import one with a password hash)", userCreate, false},
			{"list", "list a company's users", userList, false},
			{"disable", "stop a user from signing in", userDisable, false},
			{"enable", "let a disabled user sign in again", userEnable, false},
			{"unlock", "lift a lockout after failed sign-ins", userUnlock, false},
		}},
		{"keys", "", nil, []action{
			{"status", "show the data keys", keysStatus, false},
			{"rotate", "make a new primary data key; old data stays readable", keysRotate, false},
			{"rewrap", "re-wrap every data key under a new master key", keysRewrap, false},
		}},
		{"credits", "", nil, []action{
			{"add", "add credits to a company", creditsAdd, false},
			{name: "grant", run: creditsGrant, alias: true},
			{"refund", "return a spending's credits, once", creditsRefund, false},
			{"show", "a company's balance and newest ledger entries", creditsShow, false},
		}},
		{"audit", "", nil, []action{
			{"verify", "verify the audit chains against the signed checkpoints", auditVerify, false},
			{"export", "export a company's audit trail as CSV or JSON", auditExport, false},
			{"checkpoint", "sign and export every chain's head now", auditCheckpoint, false},
			{"prune", "delete records past their retention, keeping the chains verifiable", auditPrune, false},
			{"retention", "show or set a company's audit retention", auditRetention, false},
		}},
		{"token", "", nil, []action{
			{"create", "make an API token acting as a service user; prints its secret once", tokenCreate, false},
			{"list", "list a company's API tokens", tokenList, false},
			{"revoke", "stop an API token at once", tokenRevoke, false},
			{"service-user", "make a service user (never signs in) for tokens to act as", tokenServiceUser, false},
		}},
		{"search", "", nil, []action{
			{"reindex", "rebuild the search index of one company or all, online", searchReindex, false},
		}},
		{"case", "", nil, []action{
			{"archives", "list a company's archive bundles of closed whistleblowing cases", caseArchives, false},
			{"archive", "write a closed case's archive bundle (age-encrypted, signed) to a file", caseArchive, false},
			{"signing-key", "print the public key that verifies archive bundles", caseSigningKey, false},
		}},
		{"backup", "", nil, []action{
			{"create", "an encrypted backup of the database, files and erasure ledger, to the targets", backupCreate, false},
			{"list", "list a target's backups, newest first", backupList, false},
			{"verify", "decrypt a backup, check its hashes, restore it aside and check the copy", backupVerify, false},
			{"prune", "delete what the targets' retention no longer keeps", backupPrune, false},
		}},
		{"restore", "restore a backup or a point in time into an empty installation", runRestore, nil},
		{"privacy", "", nil, []action{
			{"sweep", "erase the candidates no processing basis allows keeping (or count them)", privacySweep, false},
			{"apply-ledger", "after a restore, erase again everyone the erasure ledger names", privacyLedger, false},
		}},
		{"config", "print the effective configuration, secrets masked", runConfig, nil},
		{"seed", "fill an installation with synthetic data (small, medium, large)", runSeed, nil},
		{"import", "import candidates from another ATS's CSV or JSON Lines export", runImport, nil},
		{"bench", "time the pages of a running server (p50/p95/p99, req/s)", runBench, nil},
		{"version", "print the version", runVersion, nil},
	}
}

func lookup(name string) (command, bool) {
	for _, c := range commands() {
		if c.name == name {
			return c, true
		}
	}
	return command{}, false
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
		switch {
		case len(args) > 1 && args[1] == "settings":
			settingsHelp(env.Stdout, config.Server)
			return 0
		case len(args) > 1:
			// "help user create" is "user create --help".
			return Run(ctx, append(append([]string{}, args[1:]...), "--help"), env)
		}
		usage(env.Stdout)
		return 0
	case "-version", "--version":
		name = "version"
	}
	if c, ok := lookup(name); ok {
		err := c.exec(ctx, env, args[1:])
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
	fmt.Fprintln(w, "\nUsage: kandidat <command> [<action>] [flags]")
	fmt.Fprintln(w, "\nCommands:")
	for _, c := range commands() {
		if c.actions == nil {
			fmt.Fprintf(w, "  %-17s %s\n", c.name, c.summary)
		}
		for _, a := range c.actions {
			if !a.alias {
				fmt.Fprintf(w, "  %-17s %s\n", c.name+" "+a.name, a.summary)
			}
		}
	}
	fmt.Fprintln(w, "\nRun 'kandidat <command> [<action>] --help' for its flags, and 'kandidat help settings'")
	fmt.Fprintln(w, "for the installation settings (data directory, database, keys...) every command shares.")
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
		fmt.Fprintf(w, "Usage: kandidat %s\n", synopsis)
		own := printFlags(w, fs, func(name string) bool { return !config.IsSetting(name) })
		switch {
		case scope >= config.Server:
			// serve and config take nothing but the settings: all of them, grouped.
			fmt.Fprintln(w)
			settingsHelp(w, scope)
		case scope == config.Installation:
			if own > 0 {
				fmt.Fprintln(w)
			} else {
				fmt.Fprintln(w, "\nThis command has no flags of its own.")
			}
			fmt.Fprintln(w, "Installation settings, shared by every command: --data-dir, --database-url, --master-key-file")
			fmt.Fprintln(w, "and more (each also from KANDIDAT_*); 'kandidat help settings' lists them all.")
		}
	}
	return f
}

// printFlags prints the flags of fs that keep selects, one line each, and
// returns how many it printed.
func printFlags(w io.Writer, fs *flag.FlagSet, keep func(name string) bool) int {
	var rows [][2]string
	fs.VisitAll(func(fl *flag.Flag) {
		if !keep(fl.Name) {
			return
		}
		kind, usage := flag.UnquoteUsage(fl)
		name := "--" + fl.Name
		if kind != "" {
			name += " " + kind
		}
		if def := fl.DefValue; def != "" && def != "0" && def != "false" && !strings.Contains(usage, "default") {
			if kind == "string" {
				def = strconv.Quote(def)
			}
			usage += " (default " + def + ")"
		}
		rows = append(rows, [2]string{name, usage})
	})
	if len(rows) > 0 {
		fmt.Fprintln(w, "\nFlags:")
		printRows(w, rows)
	}
	return len(rows)
}

// printRows prints name and description columns, the description wrapped
// at 100 characters under itself.
func printRows(w io.Writer, rows [][2]string) {
	width := 0
	for _, r := range rows {
		width = max(width, len(r[0]))
	}
	width = min(width, 28)
	indent := strings.Repeat(" ", 2+width+2)
	for _, r := range rows {
		line := fmt.Sprintf("  %-*s  ", width, r[0])
		if len(line) > len(indent) {
			fmt.Fprintln(w, strings.TrimRight(line, " "))
			line = indent
		}
		col := len(line)
		for i, word := range strings.Fields(r[1]) {
			if i > 0 && col+1+len(word) > 100 {
				fmt.Fprintln(w, line)
				line, col = indent+word, len(indent)+len(word)
				continue
			}
			if i > 0 {
				line += " "
				col++
			}
			line += word
			col += len(word)
		}
		fmt.Fprintln(w, line)
	}
}

// settingsHelp prints the settings of scope, grouped: the full list that
// each command's help points to.
func settingsHelp(w io.Writer, scope config.Scope) {
	fmt.Fprintln(w, "Installation settings: every command that works on an installation takes them; serve and")
	fmt.Fprintln(w, "config also take the ones marked (serve). Each is a flag or its KANDIDAT_* environment")
	fmt.Fprintln(w, "variable (--data-dir or KANDIDAT_DATA_DIR); a (secret) also from the file KANDIDAT_*_FILE names.")
	var rows [][2]string
	flush := func() {
		printRows(w, rows)
		rows = nil
	}
	all := config.Settings(scope)
	// A group of server settings only says so once, in its heading.
	serveOnly := map[config.Group]bool{}
	for _, s := range all {
		if _, seen := serveOnly[s.Group]; !seen {
			serveOnly[s.Group] = true
		}
		serveOnly[s.Group] = serveOnly[s.Group] && s.Scope == config.Server
	}
	group := config.Group(-1)
	for _, s := range all {
		if s.Group != group {
			flush()
			group = s.Group
			heading := group.String()
			if serveOnly[group] {
				heading += " (serve)"
			}
			fmt.Fprintf(w, "\n%s:\n", heading)
		}
		usage := s.Usage
		if s.Default != "" {
			usage += " (default " + s.Default + ")"
		}
		if s.Secret {
			usage += " (secret)"
		}
		if s.Scope == config.Server && !serveOnly[group] {
			usage += " (serve)"
		}
		rows = append(rows, [2]string{"--" + s.Name, usage})
	}
	flush()
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
	return f.open(ctx)
}

// openCompany parses args, opens the installation and finds the company of
// --tenant (a slug or id), read through ref once the flags are parsed. The
// caller closes the App.
func (f *flags) openCompany(ctx context.Context, args []string, ref *string) (*app.App, *tenant.Tenant, error) {
	if err := f.parse(args); err != nil {
		return nil, nil, err
	}
	return f.openTenant(ctx, *ref)
}

// openTenant opens the installation and finds the company ref names, for a
// command that checks its flags between parsing and opening. The caller
// closes the App.
func (f *flags) openTenant(ctx context.Context, ref string) (*app.App, *tenant.Tenant, error) {
	a, err := f.open(ctx)
	if err != nil {
		return nil, nil, err
	}
	t, err := a.Tenants.ByRef(ctx, ref)
	if err != nil {
		a.Close()
		return nil, nil, tenantError(err)
	}
	return a, t, nil
}

// open opens the installation for a command that works on it.
// It does not migrate: that is migrate up's decision, or serve's.
func (f *flags) open(ctx context.Context) (*app.App, error) {
	logger := app.NewLogger(f.cfg, f.env.Stderr)
	return app.Open(ctx, f.cfg, logger, app.OpenOptions{Out: f.env.Stderr})
}

// exec runs the command, or for a command with actions the action args
// begins with.
func (c command) exec(ctx context.Context, env *Env, args []string) error {
	if c.actions == nil {
		return c.run(ctx, env, args)
	}
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		return c.help(env, len(args) == 0)
	}
	for _, a := range c.actions {
		if a.name == args[0] {
			return a.run(ctx, env, args[1:])
		}
	}
	names := c.listed()
	fmt.Fprintf(env.Stderr, "kandidat %s: unknown action %q.%s Actions: %s.\n", c.name, args[0], suggest(args[0], names), strings.Join(names, ", "))
	return errUsage
}

// listed returns the names of the actions the help lists: all but aliases.
func (c command) listed() []string {
	var names []string
	for _, a := range c.actions {
		if !a.alias {
			names = append(names, a.name)
		}
	}
	return names
}

// help prints the actions of c: on stdout when asked for, and on stderr
// as a usage error when the action is missing.
func (c command) help(env *Env, missing bool) error {
	w := env.Stdout
	if missing {
		w = env.Stderr
	}
	var rows [][2]string
	for _, a := range c.actions {
		if !a.alias {
			rows = append(rows, [2]string{a.name, a.summary})
		}
	}
	fmt.Fprintf(w, "Usage: kandidat %s %s [flags]\n\nActions:\n", c.name, strings.Join(c.listed(), "|"))
	printRows(w, rows)
	fmt.Fprintf(w, "\nRun 'kandidat %s <action> --help' for the flags of an action.\n", c.name)
	if missing {
		return errUsage
	}
	return flag.ErrHelp
}
