package main

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

var binary string

// TestMain builds the real binary once; the tests below run it as a process.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "kandidat-bin-")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "kandidat")
	if out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build kandidat: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

type process struct {
	cmd  *exec.Cmd
	base string
	out  *strings.Builder
}

// start runs `kandidat serve` with args and waits for the line with its URL.
func start(t testing.TB, dataDir string, args ...string) *process {
	t.Helper()
	cmd := exec.Command(binary, append([]string{"serve", "--addr", "127.0.0.1:0", "--data-dir", dataDir, "--log-level", "warn"}, args...)...)
	// The process runs on SQLite in its own data directory, whatever the environment says.
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "KANDIDAT_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &process{cmd: cmd, out: &strings.Builder{}}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	sc := bufio.NewScanner(stdout)
	running := regexp.MustCompile(`is running at (http://\S+)`)
	for sc.Scan() {
		p.out.WriteString(sc.Text() + "\n")
		if m := running.FindStringSubmatch(sc.Text()); m != nil {
			p.base = m[1]
			go io.Copy(io.Discard, stdout)
			return p
		}
	}
	t.Fatalf("kandidat exited before it was ready:\n%s", p.out)
	return nil
}

// TestSIGTERMLetsInFlightRequestFinish sends SIGTERM to the real process
// while a request is in flight: the request completes, readiness fails
// meanwhile, and the process exits cleanly.
func TestSIGTERMLetsInFlightRequestFinish(t *testing.T) {
	p := start(t, t.TempDir(), "--demo")
	pr, pw := io.Pipe()
	type answer struct {
		status int
		err    error
	}
	answers := make(chan answer, 1)
	go func() {
		req, _ := http.NewRequest("POST", p.base+"/signin", pr)
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Sec-Fetch-Site", "same-origin")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			answers <- answer{err: err}
			return
		}
		res.Body.Close()
		answers <- answer{status: res.StatusCode}
	}()
	pw.Write([]byte("login=admin&"))
	time.Sleep(300 * time.Millisecond) // the server is now reading the body
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond) // shutdown has begun
	// New connections are refused once the listener has closed.
	if res, err := http.Get(p.base + "/readyz"); err == nil {
		res.Body.Close()
		if res.StatusCode == http.StatusOK {
			t.Error("readyz answered 200 during shutdown")
		}
	}
	pw.Write([]byte("password=wrong-password"))
	pw.Close()
	a := <-answers
	if a.err != nil || a.status != http.StatusUnauthorized {
		t.Fatalf("in-flight request: status %d err %v, want its 401 answer", a.status, a.err)
	}
	if err := p.cmd.Wait(); err != nil {
		t.Fatalf("process exit: %v, want 0", err)
	}
}

func rssKiB(pid int) (int, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	m := regexp.MustCompile(`VmRSS:\s+(\d+) kB`).FindSubmatch(b)
	if m == nil {
		return 0, fmt.Errorf("no VmRSS")
	}
	return strconv.Atoi(string(m[1]))
}

// BenchmarkStartToReady measures the time from exec to the first 200 from
// /readyz on an existing database, and the resident memory of the idle
// server a second later.
func BenchmarkStartToReady(b *testing.B) {
	dir := b.TempDir()
	first := start(b, dir, "--demo") // creates the database, key and demo company
	first.cmd.Process.Signal(syscall.SIGTERM)
	first.cmd.Wait()
	var total time.Duration
	var rss int
	client := &http.Client{Timeout: time.Second}
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		p := start(b, dir)
		for {
			res, err := client.Get(p.base + "/readyz")
			if err == nil {
				res.Body.Close()
				if res.StatusCode == http.StatusOK {
					break
				}
			}
			time.Sleep(2 * time.Millisecond)
		}
		total += time.Since(t0)
		time.Sleep(time.Second)
		if kib, err := rssKiB(p.cmd.Process.Pid); err == nil && kib > rss {
			rss = kib
		}
		p.cmd.Process.Signal(syscall.SIGTERM)
		p.cmd.Wait()
	}
	b.ReportMetric(float64(total.Milliseconds())/float64(b.N), "ms-to-ready")
	b.ReportMetric(float64(rss)/1024, "MiB-idle-RSS")
}
