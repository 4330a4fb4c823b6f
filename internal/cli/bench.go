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
exits 1 when any request failed.`

// runBench is `kandidat bench`. It takes no installation flags: it needs
// only the server's address and a user.
func runBench(ctx context.Context, env *Env, args []string) error {
	fs := flag.NewFlagSet("kandidat bench", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	mode := fs.String("mode", "pages", "what to measure; only pages exists yet")
	baseURL := fs.String("base-url", "http://127.0.0.1:8080", "address of the running server")
	login := fs.String("login", "", "user to sign in as (required)")
	password := fs.String("password", "", "the user's password (visible to other users of this machine: prefer --password-file)")
	passwordFile := fs.String("password-file", "", "file holding the user's password on its first line")
	clients := fs.String("clients", "1,8", "comma-separated numbers of concurrent clients to time each page with")
	duration := fs.Duration("duration", 10*time.Second, "time measured per page and number of clients")
	warmup := fs.Duration("warmup", time.Second, "time of requests before each measurement, not counted")
	deep := fs.Int("deep-pages", 5, `"next" links the deep candidate page is behind the first`)
	out := fs.String("out", "", "also write the output to this file")
	asJSON := fs.Bool("json", false, "print JSON instead of the Markdown table")
	if err := parseBenchFlags(env, fs, args); err != nil {
		return err
	}

	if *mode != "pages" {
		return fmt.Errorf("--mode: %q is not a mode; only pages exists yet", *mode)
	}
	if u, err := url.Parse(*baseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("--base-url: %q is not an absolute http(s) URL such as http://127.0.0.1:8080", *baseURL)
	}
	if *login == "" {
		return errors.New("--login: required: the user to sign in as")
	}
	pw, err := benchPassword(*password, *passwordFile)
	if err != nil {
		return err
	}
	counts, err := parseClients(*clients)
	if err != nil {
		return err
	}
	if *duration <= 0 {
		return fmt.Errorf("--duration: %s is not positive", *duration)
	}
	if *warmup < 0 {
		return fmt.Errorf("--warmup: %s is negative", *warmup)
	}
	if *deep < 1 || *deep > 1000 {
		return fmt.Errorf("--deep-pages: %d is out of range 1..1000", *deep)
	}

	res, err := bench.RunPages(ctx, bench.Options{
		BaseURL: *baseURL, Login: *login, Password: pw, Clients: counts,
		Duration: *duration, Warmup: *warmup, DeepPages: *deep, Log: env.Stderr,
	})
	if err != nil {
		return err
	}
	var b strings.Builder
	if *asJSON {
		err = res.JSON(&b)
	} else {
		err = res.Markdown(&b)
	}
	if err != nil {
		return err
	}
	fmt.Fprint(env.Stdout, b.String())
	if *out != "" {
		if err := os.WriteFile(*out, []byte(b.String()), 0o644); err != nil {
			return fmt.Errorf("--out: %v", err)
		}
	}
	if n := res.Errors(); n > 0 {
		return fmt.Errorf("%d request(s) failed; see the errors column and the server's log", n)
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
