package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/kandidat/kandidat/internal/bench"
)

const benchSynopsis = `bench [--mode pages] --login LOGIN --password-file FILE [flags]
       bench --mode api --token-file FILE [flags]

Times a running Kandidat server from the outside, as a browser uses it. It
talks to the server over HTTP only and never opens a database.

Mode pages: signs in (when the server demands a new password at the first
sign-in, sets a random one and prints it on stderr; refuses to go on when a
second factor is demanded), finds the staff pages from the application's own
links (dashboard, positions, the position with the most candidates, a
candidate card, the candidate list, a deep page of it, a search by surname,
shared pool, audit trail, credits, users), and times each with every number
of --clients, all sharing the session. Pages the user may not open are
listed as not timed. Prints a Markdown table of requests, requests per
second, p50, p95 and p99 in milliseconds and errors (answers other than 2xx);
exits 1 when any request failed.

Mode api: with an API token of the company (scopes positions.view and
applications.view; read from --token-file), finds the position with the most
applications and times GET /api/v1/positions/{id}/applications (50 per page)
and GET /api/v1/candidates?q= against a bare net/http handler that this
process starts on loopback and that marshals the same page of JSON, all in
the same run. Serve with --api-rate-limit 0 --api-ip-rate-limit 0, or the
limits answer 429.`

// runBench is `kandidat bench`. It takes no installation flags: it needs
// only the server's address and a user.
func runBench(ctx context.Context, env *Env, args []string) error {
	fs := flag.NewFlagSet("kandidat bench", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	var b benchFlags
	fs.StringVar(&b.mode, "mode", "pages", "what to measure: pages or api")
	tokenFile := fs.String("token-file", "", "mode api: file holding the API token on its first line")
	query := fs.String("query", "", "mode api: the candidate search (default: a word of the largest position's title)")
	fs.StringVar(&b.baseURL, "base-url", "http://127.0.0.1:8080", "address of the running server")
	fs.StringVar(&b.login, "login", "", "user to sign in as (required)")
	fs.StringVar(&b.password, "password", "", "the user's password (visible to other users of this machine: prefer --password-file)")
	fs.StringVar(&b.passwordFile, "password-file", "", "file holding the user's password on its first line")
	fs.StringVar(&b.clients, "clients", "1,8", "comma-separated numbers of concurrent clients to time each page with")
	fs.DurationVar(&b.duration, "duration", 10*time.Second, "time measured per page and number of clients")
	fs.DurationVar(&b.warmup, "warmup", time.Second, "time of requests before each measurement, not counted")
	fs.IntVar(&b.deep, "deep-pages", 5, `"next" links the deep candidate page is behind the first`)
	out := fs.String("out", "", "also write the output to this file")
	asJSON := fs.Bool("json", false, "print JSON instead of the Markdown table")
	if err := parseBenchFlags(env, fs, args); err != nil {
		return err
	}
	if b.mode == "api" {
		return runBenchAPI(ctx, env, b, *tokenFile, *query, *asJSON, *out)
	}
	opts, err := b.options()
	if err != nil {
		return err
	}
	opts.Log = env.Stderr
	res, err := bench.RunPages(ctx, opts)
	if err != nil {
		return err
	}
	if err := writeBenchResult(env.Stdout, res, *asJSON, *out); err != nil {
		return err
	}
	if n := res.Errors(); n > 0 {
		return fmt.Errorf("%d request(s) failed; see the errors column and the server's log", n)
	}
	return nil
}

// benchFlags are the flags of bench that say what to measure.
type benchFlags struct {
	mode, baseURL, login, password, passwordFile, clients string
	duration, warmup                                      time.Duration
	deep                                                  int
}

// options checks the flags and returns the run they ask for.
func (b benchFlags) options() (bench.Options, error) {
	if b.mode != "pages" {
		return bench.Options{}, fmt.Errorf("--mode: %q is not a mode; pages or api", b.mode)
	}
	if u, err := url.Parse(b.baseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return bench.Options{}, fmt.Errorf("--base-url: %q is not an absolute http(s) URL such as http://127.0.0.1:8080", b.baseURL)
	}
	if b.login == "" {
		return bench.Options{}, errors.New("--login: required: the user to sign in as")
	}
	pw, err := benchPassword(b.password, b.passwordFile)
	if err != nil {
		return bench.Options{}, err
	}
	counts, err := parseClients(b.clients)
	if err != nil {
		return bench.Options{}, err
	}
	switch {
	case b.duration <= 0:
		return bench.Options{}, fmt.Errorf("--duration: %s is not positive", b.duration)
	case b.warmup < 0:
		return bench.Options{}, fmt.Errorf("--warmup: %s is negative", b.warmup)
	case b.deep < 1 || b.deep > 1000:
		return bench.Options{}, fmt.Errorf("--deep-pages: %d is out of range 1..1000", b.deep)
	}
	return bench.Options{
		BaseURL: b.baseURL, Login: b.login, Password: pw, Clients: counts,
		Duration: b.duration, Warmup: b.warmup, DeepPages: b.deep,
	}, nil
}

// runBenchAPI is `kandidat bench --mode api`.
func runBenchAPI(ctx context.Context, env *Env, b benchFlags, tokenFile, query string, asJSON bool, out string) error {
	if tokenFile == "" {
		return errors.New("--token-file: required in mode api: a file holding an API token of the company")
	}
	raw, err := os.ReadFile(tokenFile)
	if err != nil {
		return fmt.Errorf("--token-file: %v", err)
	}
	token, _, _ := strings.Cut(strings.TrimSpace(string(raw)), "\n")
	counts, err := parseClients(b.clients)
	if err != nil {
		return err
	}
	if b.duration <= 0 || b.warmup < 0 {
		return fmt.Errorf("--duration, --warmup: %s and %s: want a positive duration and a warm-up of zero or more", b.duration, b.warmup)
	}
	res, err := bench.RunAPI(ctx, bench.APIOptions{BaseURL: b.baseURL, Token: strings.TrimSpace(token), Clients: counts,
		Duration: b.duration, Warmup: b.warmup, Query: query, Log: env.Stderr})
	if err != nil {
		return err
	}
	if err := writeBenchResult(env.Stdout, res, asJSON, out); err != nil {
		return err
	}
	if n := res.Errors(); n > 0 {
		return fmt.Errorf("%d request(s) failed; see the errors column and the server's log", n)
	}
	return nil
}

// writeBenchResult prints the result as a Markdown table or JSON, and
// writes the same text to the file out names, if any.
func writeBenchResult(w io.Writer, res *bench.Result, asJSON bool, out string) error {
	var b strings.Builder
	var err error
	if asJSON {
		err = res.JSON(&b)
	} else {
		err = res.Markdown(&b)
	}
	if err != nil {
		return err
	}
	fmt.Fprint(w, b.String())
	if out != "" {
		if err := os.WriteFile(out, []byte(b.String()), 0o644); err != nil {
			return fmt.Errorf("--out: %v", err)
		}
	}
	return nil
}

// parseBenchFlags parses like the other commands: --help prints the usage,
// an unknown flag names the closest one.
func parseBenchFlags(env *Env, fs *flag.FlagSet, args []string) error {
	err := fs.Parse(args)
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprintf(env.Stdout, "Usage: kandidat %s\n", benchSynopsis)
		printFlags(env.Stdout, fs, func(string) bool { return true })
		return flag.ErrHelp
	}
	if err == nil && fs.NArg() == 0 {
		return nil
	}
	var msg string
	if err == nil {
		msg = fmt.Sprintf("unexpected argument %q.", fs.Arg(0))
	} else {
		msg = err.Error()
	}
	if name, ok := strings.CutPrefix(msg, "flag provided but not defined: "); ok {
		name = strings.TrimLeft(name, "-")
		var names []string
		fs.VisitAll(func(fl *flag.Flag) { names = append(names, fl.Name) })
		sort.Strings(names)
		msg = "unknown flag --" + name + "."
		if sug := suggest(name, names); sug != "" {
			msg += strings.Replace(sug, `"`, `"--`, 1)
		}
	}
	fmt.Fprintf(env.Stderr, "kandidat bench: %s Run 'kandidat bench --help' for the flags.\n", msg)
	return errUsage
}

func benchPassword(password, file string) (string, error) {
	switch {
	case password != "" && file != "":
		return "", errors.New("--password and --password-file: give one, not both")
	case file != "":
		b, err := os.ReadFile(file)
		if err != nil {
			return "", fmt.Errorf("--password-file: %v", unwrapPath(err))
		}
		first, _, _ := strings.Cut(string(b), "\n")
		if first = strings.TrimRight(first, "\r"); first == "" {
			return "", fmt.Errorf("--password-file: %s has no password on its first line", file)
		}
		return first, nil
	case password != "":
		return password, nil
	}
	return "", errors.New("--password-file or --password: required: the password of --login")
}

func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return fmt.Errorf("cannot read %s: %v", pe.Path, pe.Err)
	}
	return err
}

// parseClients reads "1,8" into [1 8].
func parseClients(s string) ([]int, error) {
	var out []int
	for part := range strings.SplitSeq(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		n, err := strconv.Atoi(part)
		if err != nil || n < 1 || n > 1000 {
			return nil, fmt.Errorf("--clients: %q is not a number of clients from 1 to 1000", part)
		}
		out = append(out, n)
	}
	if len(out) == 0 {
		return nil, errors.New("--clients: give at least one number, e.g. 1,8")
	}
	return out, nil
}
