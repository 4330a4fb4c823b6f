package bench_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kandidat/kandidat/internal/bench"
	"github.com/kandidat/kandidat/internal/cli"
	"github.com/kandidat/kandidat/internal/db/dbtest"
)

// syncBuffer is a bytes.Buffer safe for the server writing and the test reading.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startDemo runs `kandidat serve --demo` on a free port, as a newcomer does,
// and returns its base URL and the one-time password it printed.
func startDemo(t *testing.T) (base, password string) {
	t.Helper()
	args := []string{"serve", "--demo", "--addr", "127.0.0.1:0", "--data-dir", t.TempDir(), "--log-level", "error"}
	if u := dbtest.URL(t); u != "" {
		args = append(args, "--database-url", u)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var out, errb syncBuffer
	ready := make(chan string, 1)
	done := make(chan int, 1)
	go func() {
		done <- cli.Run(ctx, args, &cli.Env{Stdout: &out, Stderr: &errb, Getenv: func(string) string { return "" },
			Ready: func(u string) { ready <- u }})
	}()
	t.Cleanup(func() { cancel(); <-done })
	select {
	case base = <-ready:
	case code := <-done:
		t.Fatalf("serve exited %d: %s", code, errb.String())
	}
	m := regexp.MustCompile(`password: (\S+)`).FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("no password printed:\n%s", out.String())
	}
	return base, m[1]
}

// TestPagesAgainstTheDemo runs the whole page benchmark against the real
// application: first sign-in with the forced password change, discovery,
// timing with two numbers of clients, then again with the new password
// through the command line.
func TestPagesAgainstTheDemo(t *testing.T) {
	base, password := startDemo(t)
	ctx := context.Background()
	var log syncBuffer
	res, err := bench.RunPages(ctx, bench.Options{BaseURL: base, Login: "hrmanager", Password: password,
		Clients: []int{1, 3}, Duration: 200 * time.Millisecond, Warmup: 20 * time.Millisecond, Log: &log})
	if err != nil {
		t.Fatalf("RunPages: %v\n%s", err, log.String())
	}
	if res.NewPassword == "" || res.NewPassword == password {
		t.Fatalf("new password %q: want a new one set at the forced change", res.NewPassword)
	}
	if !strings.Contains(log.String(), res.NewPassword) {
		t.Fatalf("the new password is not reported:\n%s", log.String())
	}

	rows := map[string][]bench.Row{}
	for _, r := range res.Rows {
		rows[r.Page] = append(rows[r.Page], r)
		if r.Errors != 0 || r.Requests == 0 || r.RPS <= 0 || r.P50 <= 0 || r.P50 > r.P95 || r.P95 > r.P99 || r.MeanBytes == 0 {
			t.Errorf("row %+v: want requests, no errors and ordered percentiles", r)
		}
	}
	// The demo's HR manager has every optional right but not the audit trail.
	for _, page := range []string{"/dashboard", "/positions", "/positions/{id}", "/applications/{id}", "/candidates",
		"/candidates?q={surname}", "/candidates?q=stage:{stage} {surname}", "/pool", "/credits", "/users"} {
		if got := rows[page]; len(got) != 2 || got[0].Clients != 1 || got[1].Clients != 3 {
			t.Errorf("%s: rows %+v, want one with 1 client and one with 3", page, got)
		}
	}
	skipped := map[string]string{}
	for _, s := range res.Skipped {
		skipped[s.Page] = s.Reason
	}
	if r := skipped["/audit"]; !strings.Contains(r, "not allowed for this user (403)") {
		t.Errorf("/audit: skipped as %q, want not allowed (403); rows %v", r, rows["/audit"])
	}
	// The demo's CVs may still wait for their text: two CV words are then
	// said to be skipped, with the cards looked at.
	if got := rows["/candidates?q={two CV words}"]; len(got) != 2 && !strings.Contains(skipped["/candidates?q={two CV words}"], "cards of /candidates") {
		t.Errorf("two CV words: rows %+v, skipped as %q; want timed or a reason", got, skipped["/candidates?q={two CV words}"])
	}
	// The deep page is timed once the list pages, and said to be skipped before.
	deep := false
	for page := range rows {
		deep = deep || strings.HasPrefix(page, "/candidates (page ")
	}
	if !deep && skipped["/candidates (deep page)"] == "" {
		t.Errorf("the deep candidate page is neither timed nor skipped: %+v", res.Skipped)
	}

	var md bytes.Buffer
	if err := res.Markdown(&md); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"| page | clients | requests | req/s | p50 | p95 | p99 | errors |\n", "| /dashboard | 1 | ", "| /users | 3 | ", "- /audit: not allowed"} {
		if !strings.Contains(md.String(), want) {
			t.Errorf("Markdown lacks %q:\n%s", want, md.String())
		}
	}
	if strings.Contains(md.String(), res.NewPassword) {
		t.Error("the Markdown output holds the password")
	}

	var js bytes.Buffer
	if err := res.JSON(&js); err != nil {
		t.Fatal(err)
	}
	var decoded struct {
		Rows    []map[string]any `json:"rows"`
		Skipped []bench.Skipped  `json:"skipped"`
	}
	if err := json.Unmarshal(js.Bytes(), &decoded); err != nil || len(decoded.Rows) != len(res.Rows) || decoded.Rows[0]["p95_ms"] == nil {
		t.Fatalf("JSON (%v):\n%s", err, js.String())
	}
	if strings.Contains(js.String(), res.NewPassword) {
		t.Error("the JSON output holds the password")
	}

	// Again through the command line, with the password chosen above:
	// no change demanded this time, and the table also in --out.
	dir := t.TempDir()
	pwFile, outFile := filepath.Join(dir, "password"), filepath.Join(dir, "pages.md")
	if err := os.WriteFile(pwFile, []byte(res.NewPassword+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr syncBuffer
	code := cli.Run(ctx, []string{"bench", "--base-url", base, "--login", "hrmanager", "--password-file", pwFile,
		"--clients", "2", "--duration", "100ms", "--warmup", "0s", "--out", outFile}, &cli.Env{Stdout: &stdout, Stderr: &stderr})
	if code != 0 {
		t.Fatalf("kandidat bench: exit %d\n%s", code, stderr.String())
	}
	if strings.Contains(stderr.String(), "new password") {
		t.Errorf("a second change was demanded:\n%s", stderr.String())
	}
	file, err := os.ReadFile(outFile)
	if err != nil {
		t.Fatal(err)
	}
	if string(file) != stdout.String() || !strings.Contains(string(file), "| /positions/{id} | 2 | ") {
		t.Fatalf("--out file:\n%s\nstdout:\n%s", file, stdout.String())
	}
}

// TestPagesRefuses: a wrong password and a user who must set up a second
// factor stop the benchmark with the reason; the password set on the way is
// still reported.
func TestPagesRefuses(t *testing.T) {
	base, password := startDemo(t)
	ctx := context.Background()
	opts := bench.Options{BaseURL: base, Login: "nobody", Password: password, Duration: 100 * time.Millisecond}
	if _, err := bench.RunPages(ctx, opts); !errors.Is(err, bench.ErrSignIn) {
		t.Fatalf("unknown user: %v, want ErrSignIn", err)
	}
	opts.Login = "casehandler"
	res, err := bench.RunPages(ctx, opts)
	if !errors.Is(err, bench.ErrSecondFactor) {
		t.Fatalf("case handler: %v, want ErrSecondFactor", err)
	}
	if res == nil || res.NewPassword == "" {
		t.Fatalf("case handler: the password set before the refusal is lost: %+v", res)
	}
	var stderr bytes.Buffer
	code := cli.Run(ctx, []string{"bench", "--base-url", base, "--login", "casehandler", "--password", res.NewPassword},
		&cli.Env{Stdout: &bytes.Buffer{}, Stderr: &stderr})
	if code != 1 || !strings.Contains(stderr.String(), "second factor") {
		t.Fatalf("kandidat bench as the case handler: exit %d %q, want 1 and the second factor named", code, stderr.String())
	}
}

func TestBenchHelp(t *testing.T) {
	var stdout bytes.Buffer
	code := cli.Run(context.Background(), []string{"bench", "--help"}, &cli.Env{Stdout: &stdout, Stderr: &bytes.Buffer{}})
	for _, want := range []string{"Usage: kandidat bench", "never opens a database", "-base-url", "-password-file", "-clients", "-duration", "-warmup", "-out", "-json"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("bench --help lacks %q", want)
		}
	}
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
}
