package cli

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"filippo.io/age"
)

// backupPage is the operator page's JSON.
type backupPage struct {
	Targets []struct {
		Name      string `json:"name"`
		Newest    string `json:"newest_backup"`
		Backups   int    `json:"backups"`
		Behind    bool   `json:"behind"`
		LastError string `json:"last_error"`
	} `json:"targets"`
	PITR *struct {
		From  time.Time `json:"from"`
		To    time.Time `json:"to"`
		Error string    `json:"error"`
	} `json:"pitr"`
}

func readBackupPage(t *testing.T, base, token string) backupPage {
	t.Helper()
	req, _ := http.NewRequest("GET", base+"/operator/backups?format=json", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("backup page: %d", res.StatusCode)
	}
	var p backupPage
	if err := json.NewDecoder(res.Body).Decode(&p); err != nil {
		t.Fatal(err)
	}
	return p
}

// startServe runs serve with args until the test ends and returns its base URL.
func startServe(t *testing.T, args []string) (base string, stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var out, errb syncBuffer
	ready := make(chan string, 1)
	done := make(chan int, 1)
	go func() {
		done <- Run(ctx, append([]string{"serve", "--addr", "127.0.0.1:0"}, args...), &Env{
			Stdout: &out, Stderr: &errb, Getenv: func(string) string { return "" }, Ready: func(u string) { ready <- u },
		})
	}()
	select {
	case base = <-ready:
	case code := <-done:
		cancel()
		t.Fatalf("serve exited %d: %s", code, errb.String())
	case <-time.After(60 * time.Second):
		cancel()
		t.Fatal("serve did not become ready")
	}
	stopped := false
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("serve exited %d: %s", code, errb.String())
		}
	}
	t.Cleanup(stop)
	return base, stop
}

// TestServeBackupsAndPointInTime: serve with a backup target writes a
// backup on its own soon after start and shows it on the operator page;
// on SQLite with a point-in-time replica, a company created after a
// moment T is absent when the database is restored to T and present when
// restored to the end of the window.
func TestServeBackupsAndPointInTime(t *testing.T) {
	inst := installation(t)
	sqlite := !slices.Contains(inst, "--database-url")
	id, _ := age.GenerateX25519Identity()
	target := filepath.Join(t.TempDir(), "backups")
	replica := filepath.Join(t.TempDir(), "replica")
	const token = "backup-page-token-0123456789"
	args := append([]string{"--demo", "--metrics-token", token,
		"--backup-targets", "hourly=" + target + "?every=1h&keep=3",
		"--backup-recipients", id.Recipient().String()}, inst...)
	if sqlite {
		args = append(args, "--pitr-replica", replica)
	}
	base, stop := startServe(t, args)

	// The first backup comes within seconds of the start.
	var page backupPage
	deadline := time.Now().Add(60 * time.Second)
	for {
		page = readBackupPage(t, base, token)
		if len(page.Targets) == 1 && page.Targets[0].Newest != "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no scheduled backup after a minute: %+v", page)
		}
		time.Sleep(500 * time.Millisecond)
	}
	if tg := page.Targets[0]; tg.Name != "hourly" || tg.Backups != 1 || tg.Behind || tg.LastError != "" {
		t.Fatalf("target after the first backup: %+v", tg)
	}
	// No restore under a running server.
	idFile := filepath.Join(t.TempDir(), "id.key")
	os.WriteFile(idFile, []byte(id.String()+"\n"), 0o600)
	if r := run(t, nil, append([]string{"restore", "--from", target, "--identity", idFile, "--force"}, inst...)...); r.code != 1 || !strings.Contains(r.stderr, "a server (or another restore) is running") {
		t.Fatalf("restore under a running server: %d %q %q", r.code, r.stdout, r.stderr)
	}
	if !sqlite {
		if page.PITR != nil {
			t.Fatalf("PostgreSQL without pgBackRest configured shows a window: %+v", page.PITR)
		}
		return
	}

	// Point in time: T is after the demo's set-up; a company created later.
	waitWindow := func(after time.Time) {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for {
			p := readBackupPage(t, base, token)
			if p.PITR != nil && p.PITR.Error == "" && p.PITR.To.After(after) {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("the point-in-time window does not reach %s: %+v", after, p.PITR)
			}
			time.Sleep(time.Second)
		}
	}
	time.Sleep(1500 * time.Millisecond)
	mark := time.Now().UTC()
	time.Sleep(1500 * time.Millisecond)
	if r := run(t, nil, append([]string{"tenant", "create", "--slug", "after-the-mark", "--name", "After The Mark"}, inst...)...); r.code != 0 {
		t.Fatalf("tenant create: %d %q", r.code, r.stderr)
	}
	time.Sleep(1500 * time.Millisecond)
	end := time.Now().UTC()
	waitWindow(end)
	stop()

	key, err := os.ReadFile(filepath.Join(inst[1], "master.key"))
	if err != nil {
		t.Fatal(err)
	}
	restoreAt := func(at time.Time) string {
		t.Helper()
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, "master.key"), key, 0o600)
		r := run(t, nil, "restore", "--to-time", at.Format(time.RFC3339Nano), "--from", replica, "--data-dir", dir, "--log-level", "warn")
		if r.code != 0 {
			t.Fatalf("restore --to-time %s: %d %q %q", at, r.code, r.stdout, r.stderr)
		}
		list := run(t, nil, "tenant", "list", "--data-dir", dir, "--log-level", "warn")
		if list.code != 0 {
			t.Fatalf("tenant list: %d %q", list.code, list.stderr)
		}
		return list.stdout
	}
	if got := restoreAt(mark); strings.Contains(got, "after-the-mark") || !strings.Contains(got, "demo") {
		t.Fatalf("restored to the mark, the companies are:\n%s", got)
	}
	if got := restoreAt(end); !strings.Contains(got, "after-the-mark") {
		t.Fatalf("restored to the end, the companies are:\n%s", got)
	}
}
