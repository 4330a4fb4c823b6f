package backup

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// pgbrRequireToolsEnv makes a missing pgBackRest or PostgreSQL a failure
// (make test sets it) instead of a skip.
const pgbrRequireToolsEnv = "KANDIDAT_TEST_REQUIRE_TOOLS"

// pgbrInfoJSON is `pgbackrest info --output=json` of pgBackRest 2.45 for a
// stanza with two full backups and a differential one, on one repository.
const pgbrInfoJSON = `[{"archive":[{"database":{"id":1,"repo-key":1},"id":"15-1","max":"00000001000000000000000C","min":"000000010000000000000003"}],
"backup":[
 {"archive":{"start":"000000010000000000000003","stop":"000000010000000000000003"},"backrest":{"format":5,"version":"2.45"},"database":{"id":1,"repo-key":1},"error":false,"info":{"delta":23040917,"repository":{"delta":2759851,"size":2759851},"size":23040917},"label":"20261201-020000F","lsn":{"start":"0/3000028","stop":"0/3000100"},"prior":null,"reference":null,"timestamp":{"start":1764554400,"stop":1764554412},"type":"full"},
 {"archive":{"start":"000000010000000000000007","stop":"000000010000000000000007"},"backrest":{"format":5,"version":"2.45"},"database":{"id":1,"repo-key":1},"error":false,"info":{"delta":8192,"repository":{"delta":1700,"size":2759851},"size":23040917},"label":"20261201-020000F_20261202-020000D","lsn":{"start":"0/7000028","stop":"0/7000100"},"prior":"20261201-020000F","reference":["20261201-020000F"],"timestamp":{"start":1764640800,"stop":1764640805},"type":"diff"},
 {"archive":{"start":"00000001000000000000000A","stop":"00000001000000000000000A"},"backrest":{"format":5,"version":"2.45"},"database":{"id":1,"repo-key":1},"error":false,"info":{"delta":23040917,"repository":{"delta":2759851,"size":2759851},"size":23040917},"label":"20261203-020000F","lsn":{"start":"0/A000028","stop":"0/A000100"},"prior":null,"reference":null,"timestamp":{"start":1764727200,"stop":1764727230},"type":"full"}],
"cipher":"aes-256-cbc","db":[{"id":1,"repo-key":1,"system-id":7312345678901234567,"version":"15"}],"name":"kandidat",
"repo":[{"cipher":"aes-256-cbc","key":1,"status":{"code":0,"message":"ok"}}],
"status":{"code":0,"lock":{"backup":{"held":false}},"message":"ok"}}]`

func TestParsePGBackRestInfo(t *testing.T) {
	const missing = `[{"archive":[],"backup":[],"cipher":"none","db":[],"name":"kandidat","repo":[{"cipher":"none","key":1,"status":{"code":1,"message":"missing stanza path"}}],"status":{"code":1,"lock":{"backup":{"held":false}},"message":"missing stanza path"}}]`
	const empty = `[{"archive":[{"database":{"id":1,"repo-key":1},"id":"15-1","max":null,"min":null}],"backup":[],"cipher":"aes-256-cbc","db":[{"id":1,"repo-key":1,"system-id":7,"version":"15"}],"name":"kandidat","repo":[{"cipher":"aes-256-cbc","key":1,"status":{"code":2,"message":"no valid backups"}}],"status":{"code":2,"lock":{"backup":{"held":false}},"message":"no valid backups"}}]`
	// The archive retention expired the WAL of the first full backup: the
	// window opens at the end of the second.
	expired := strings.Replace(pgbrInfoJSON, `"min":"000000010000000000000003"`, `"min":"000000010000000000000009"`, 1)
	noArchive := strings.Replace(pgbrInfoJSON, `"max":"00000001000000000000000C","min":"000000010000000000000003"`, `"max":null,"min":null`, 1)
	tests := []struct {
		name     string
		json     string
		stanza   string
		want     *PGBackRestStanza
		err      string
		notFound bool
	}{
		{name: "three backups", json: pgbrInfoJSON, stanza: "kandidat", want: &PGBackRestStanza{
			From: time.Unix(1764554413, 0).UTC(), Until: time.Unix(1764727231, 0).UTC(), Backups: 3,
			ArchiveID: "15-1", ArchiveMax: "00000001000000000000000C", ArchiveRepo: 1,
		}},
		{name: "archive expired for the oldest", json: expired, stanza: "kandidat", want: &PGBackRestStanza{
			From: time.Unix(1764727231, 0).UTC(), Until: time.Unix(1764727231, 0).UTC(), Backups: 3,
			ArchiveID: "15-1", ArchiveMax: "00000001000000000000000C", ArchiveRepo: 1,
		}},
		{name: "no archive", json: noArchive, stanza: "kandidat", err: "no backup has its WAL in the archive", notFound: true},
		{name: "missing stanza", json: missing, stanza: "kandidat", err: "is not in the repository (missing stanza path)", notFound: true},
		{name: "no backup", json: empty, stanza: "kandidat", err: "has no backup yet", notFound: true},
		{name: "other stanza", json: pgbrInfoJSON, stanza: "main", err: `the output has no stanza "main"`},
		{name: "error status", json: strings.Replace(pgbrInfoJSON, `"status":{"code":0,"lock":{"backup":{"held":false}},"message":"ok"}}]`,
			`"status":{"code":99,"lock":{"backup":{"held":false}},"message":"other"}}]`, 1), stanza: "kandidat", err: "is in error (code 99: other)"},
		{name: "no status", json: `[{"name":"kandidat","archive":[],"backup":[]}]`, stanza: "kandidat", err: "has no status"},
		{name: "text output", json: "stanza: kandidat\n    status: ok\n", stanza: "kandidat", err: "is not the JSON of"},
		{name: "object", json: `{"name":"kandidat"}`, stanza: "kandidat", err: "is not the JSON of"},
		{name: "bad segment", json: strings.Replace(pgbrInfoJSON, `"max":"00000001000000000000000C"`, `"max":"../../etc/passwd"`, 1), stanza: "kandidat", err: "unexpected WAL range"},
		{name: "backup without time", json: strings.Replace(pgbrInfoJSON, `"timestamp":{"start":1764640800,"stop":1764640805}`, `"timestamp":null`, 1), stanza: "kandidat", err: "has no start or stop time"},
		{name: "backup stops before it starts", json: strings.Replace(pgbrInfoJSON, `"stop":1764640805`, `"stop":1764640000`, 1), stanza: "kandidat", err: "unexpected time span"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParsePGBackRestInfo([]byte(tt.json), tt.stanza)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("got error %v, want one saying %q", err, tt.err)
				}
				if errors.Is(err, ErrNotFound) != tt.notFound {
					t.Errorf("errors.Is(%v, ErrNotFound) = %v, want %v", err, !tt.notFound, tt.notFound)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if *got != *tt.want {
				t.Errorf("got %+v, want %+v", *got, *tt.want)
			}
		})
	}
}

func TestPGBackRestSegmentTime(t *testing.T) {
	const ls = `{".":{"type":"path"},
"000000010000000000000003-3f4d0c7a1b2e9f0c8d7e6f5a4b3c2d1e0f9a8b7c":{"size":16777216,"time":1764554413,"type":"file"},
"000000010000000000000003.00000028.backup":{"size":370,"time":1764554414,"type":"file"},
"000000010000000000000004-aa4d0c7a1b2e9f0c8d7e6f5a4b3c2d1e0f9a8b7c.gz":{"size":16400,"time":1764554999,"type":"file"}}`
	tests := []struct {
		segment string
		want    time.Time
		ok      bool
	}{
		{"000000010000000000000003", time.Unix(1764554413, 0).UTC(), true},
		{"000000010000000000000004", time.Unix(1764554999, 0).UTC(), true},
		{"000000010000000000000005", time.Time{}, false},
	}
	for _, tt := range tests {
		got, ok := pgBackRestSegmentTime([]byte(ls), tt.segment)
		if ok != tt.ok || !got.Equal(tt.want) {
			t.Errorf("segment %s: got %v, %v, want %v, %v", tt.segment, got, ok, tt.want, tt.ok)
		}
	}
	if _, ok := pgBackRestSegmentTime([]byte("not json"), "000000010000000000000003"); ok {
		t.Error("text output gave a time")
	}
}

// FuzzParsePGBackRestInfo feeds the parser changed info JSON: it never
// panics, and whatever it accepts is a window a restore could use.
func FuzzParsePGBackRestInfo(f *testing.F) {
	f.Add([]byte(pgbrInfoJSON))
	f.Add([]byte(`[{"name":"kandidat","status":{"code":1,"message":"missing stanza path"}}]`))
	f.Add([]byte(`[{"name":"kandidat","status":{"code":0,"message":"ok"},"archive":[{"database":{"id":1,"repo-key":1},"id":"15-1","max":"000000010000000000000002","min":"000000010000000000000001"}],"backup":[{"archive":{"start":"000000010000000000000001"},"database":{"id":1,"repo-key":1},"timestamp":{"start":1,"stop":2}}]}]`))
	f.Add([]byte(`[]`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := ParsePGBackRestInfo(data, "kandidat")
		if err != nil {
			if got != nil {
				t.Fatalf("got %+v with error %v", got, err)
			}
			return
		}
		if got.Backups < 1 || got.From.IsZero() || got.From.After(got.Until) {
			t.Fatalf("accepted a window that is not one: %+v", got)
		}
		if got.ArchiveMax != "" && (!walSegment.MatchString(got.ArchiveMax) || !archiveID.MatchString(got.ArchiveID) || got.ArchiveRepo < 1) {
			t.Fatalf("accepted an archive that names no WAL folder: %+v", got)
		}
	})
}

func TestPGBackRestInfoErrors(t *testing.T) {
	ctx := context.Background()
	if _, _, err := PGBackRestInfo(ctx, "--repo-path=/", ""); err == nil || !strings.Contains(err.Error(), "not a valid stanza name") {
		t.Errorf("option as stanza: got %v, want it refused", err)
	}

	t.Run("not installed", func(t *testing.T) {
		t.Setenv("PATH", t.TempDir())
		_, _, err := PGBackRestInfo(ctx, "kandidat", "")
		if err == nil || !strings.Contains(err.Error(), "pgbackrest is not installed") {
			t.Errorf("got %v, want pgbackrest is not installed", err)
		}
	})

	t.Run("unknown stanza", func(t *testing.T) {
		pgbrRequire(t, false)
		dir := t.TempDir()
		conf := filepath.Join(dir, "pgbackrest.conf")
		pgbrWriteFile(t, conf, fmt.Sprintf("[global]\nrepo1-path=%s/repo\nlock-path=%s/lock\nlog-path=%s\nlog-level-file=off\nlog-level-console=warn\n", dir, dir, dir))
		_, _, err := PGBackRestInfo(ctx, "nowhere", conf)
		if !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), `stanza "nowhere" is not in the repository`) {
			t.Errorf("got %v, want the stanza reported missing (ErrNotFound)", err)
		}
	})

	t.Run("bad configuration", func(t *testing.T) {
		pgbrRequire(t, false)
		dir := t.TempDir()
		conf := filepath.Join(dir, "pgbackrest.conf")
		pgbrWriteFile(t, conf, "[global]\nrepo1-type=tape\n")
		_, _, err := PGBackRestInfo(ctx, "kandidat", conf)
		if err == nil || !strings.Contains(err.Error(), "pgbackrest info: ") || !strings.Contains(err.Error(), "tape") {
			t.Errorf("got %v, want pgBackRest's own message about repo1-type", err)
		}
	})
}

// TestPGBackRestPointInTime is the documented set-up at work: a cluster
// archives its WAL with pgBackRest into an encrypted repository, and a
// restore to a time brings back what was committed before it and nothing
// after.
func TestPGBackRestPointInTime(t *testing.T) {
	pgBin := pgbrRequire(t, true)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	c := startPGBackRestCluster(t, pgBin)

	c.pgbackrest(t, "stanza-create")
	c.pgbackrest(t, "check")
	c.pgbackrest(t, "backup", "--type=full")
	// pgBackRest picks the backup for a target time only when the target's
	// whole second is after the backup's stop time, recorded in seconds.
	time.Sleep(1100 * time.Millisecond)

	conn := c.connect(ctx, t)
	marker := "kandidat-pitr-marker-" + pgbrRandomHex(t, 12)
	sqlExec := func(sql string, args ...any) {
		t.Helper()
		if _, err := conn.Exec(ctx, sql, args...); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	sqlExec(`CREATE TABLE pitr (name text PRIMARY KEY, note text NOT NULL)`)
	sqlExec(`INSERT INTO pitr VALUES ('A', $1)`, marker)
	sqlExec(`SELECT pg_switch_wal()`)
	var target string
	if err := conn.QueryRow(ctx, `SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') || '+00'`).Scan(&target); err != nil {
		t.Fatal(err)
	}
	targetTime, err := time.Parse("2006-01-02 15:04:05.999999-07", target)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(1100 * time.Millisecond)
	sqlExec(`INSERT INTO pitr VALUES ('B', 'after the target')`)
	var afterB time.Time
	if err := conn.QueryRow(ctx, `SELECT clock_timestamp()`).Scan(&afterB); err != nil {
		t.Fatal(err)
	}
	sqlExec(`SELECT pg_switch_wal()`)
	conn.Close(ctx)
	// check switches the WAL once more and waits until that segment, and so
	// every earlier one (B's), is in the repository.
	c.pgbackrest(t, "check")

	// The marker is in the cluster's own WAL in plain text (so the search
	// below would find it), and nowhere in the repository.
	if !pgbrDirContains(t, filepath.Join(c.dir, "data", "pg_wal"), marker) {
		t.Fatal("the marker is not in the cluster's WAL: the encryption check below proves nothing")
	}
	if pgbrDirContains(t, c.repo, marker) {
		t.Error("the marker of row A is readable in the repository: it is not encrypted")
	}

	from, to, err := PGBackRestInfo(ctx, "kandidat", c.conf)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("window %v to %v, target %v", from, to, targetTime)
	if from.After(targetTime) || to.Before(targetTime) {
		t.Errorf("window %v to %v does not contain the target %v", from, to, targetTime)
	}
	// The end is when B's WAL reached the repository, long after the
	// backup's end.
	if to.Before(afterB.Truncate(time.Second)) {
		t.Errorf("window ends at %v, before B (%v) was archived", to, afterB)
	}
	if to.Sub(from) > 5*time.Minute {
		t.Errorf("window %v to %v is longer than the test", from, to)
	}

	c.stop(t)
	c.pgbackrest(t, "restore", "--delta", "--type=time", "--target="+target, "--target-action=promote")
	c.start(t)
	conn = c.connect(ctx, t)
	defer conn.Close(ctx)
	pgbrWaitPromoted(ctx, t, conn)
	rows, err := conn.Query(ctx, `SELECT name, note FROM pitr ORDER BY name`)
	if err != nil {
		t.Fatal(err)
	}
	got, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (string, error) {
		var name, note string
		err := r.Scan(&name, &note)
		return name + "=" + note, err
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"A=" + marker}; strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("after the restore to %s: got rows %q, want %q", target, got, want)
	}
}

// pgbrRequire returns PostgreSQL's server program folder (when server) and
// checks pgBackRest is installed; it skips the test when they are not,
// failing it instead under KANDIDAT_TEST_REQUIRE_TOOLS=1.
func pgbrRequire(t *testing.T, server bool) string {
	t.Helper()
	missing := func(what string) {
		t.Helper()
		if os.Getenv(pgbrRequireToolsEnv) == "1" {
			t.Fatalf("%s is not installed and %s=1 (make test installs it)", what, pgbrRequireToolsEnv)
		}
		t.Skipf("%s is not installed (make test installs it)", what)
	}
	if _, err := exec.LookPath(pgBackRestCommand); err != nil {
		missing("pgbackrest (Debian package pgbackrest)")
	}
	if !server {
		return ""
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return pgbrVersion(dirs[i]) < pgbrVersion(dirs[j]) })
	for i := len(dirs) - 1; i >= 0; i-- {
		if pgbrExecutable(filepath.Join(dirs[i], "initdb")) && pgbrExecutable(filepath.Join(dirs[i], "pg_ctl")) {
			return dirs[i]
		}
	}
	missing("PostgreSQL's server programs (/usr/lib/postgresql/*/bin/initdb, Debian package postgresql)")
	return ""
}

func pgbrVersion(binDir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return n
}

func pgbrExecutable(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0
}

// pgbrCluster is a throwaway PostgreSQL cluster with its pgBackRest
// repository, all in one folder owned by the user the server runs as.
type pgbrCluster struct {
	bin, dir, conf, repo string
	port                 int
	log                  string
}

func startPGBackRestCluster(t *testing.T, bin string) *pgbrCluster {
	t.Helper()
	// Not t.TempDir: the postgres user must reach the folder, and a root
	// test's temporary folders are private to root.
	dir, err := os.MkdirTemp("", "kandidat-pgbackrest-")
	if err != nil {
		t.Fatal(err)
	}
	c := &pgbrCluster{bin: bin, dir: dir, conf: filepath.Join(dir, "pgbackrest.conf"), repo: filepath.Join(dir, "repo"),
		log: filepath.Join(dir, "postgres.log")}
	t.Cleanup(func() {
		if t.Failed() {
			if b, err := os.ReadFile(c.log); err == nil {
				t.Logf("server log:\n%s", pgbrTail(string(b), 40))
			}
		}
		c.stop(t)
		if err := os.RemoveAll(dir); err != nil {
			t.Errorf("remove %s: %v", dir, err)
		}
	})
	for _, d := range []string{"repo", "lock", "log", "spool"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	c.port = pgbrFreePort(t)
	pgbrWriteFile(t, c.conf, fmt.Sprintf(`[global]
repo1-path=%[1]s/repo
repo1-cipher-type=aes-256-cbc
repo1-cipher-pass=%[2]s
repo1-retention-full=2
# Uncompressed, so that only the encryption keeps the data unreadable.
compress-type=none
process-max=1
start-fast=y
archive-timeout=30
lock-path=%[1]s/lock
log-path=%[1]s/log
spool-path=%[1]s/spool
log-level-console=warn
log-level-stderr=warn
log-level-file=off

[kandidat]
pg1-path=%[1]s/data
pg1-port=%[3]d
pg1-socket-path=%[1]s
pg1-user=kandidat
`, dir, pgbrRandomHex(t, 32), c.port))
	pgbrChownToServer(t, dir)

	c.run(t, filepath.Join(bin, "initdb"), "-A", "trust", "-U", "kandidat", "-E", "UTF8", "--no-locale", "--no-sync", "-D", filepath.Join(dir, "data"))
	f, err := os.OpenFile(filepath.Join(dir, "data", "postgresql.conf"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, err = fmt.Fprintf(f, `
port = %d
listen_addresses = '127.0.0.1'
unix_socket_directories = '%s'
fsync = off
full_page_writes = off
wal_level = replica
archive_mode = on
archive_command = '%s --config=%s --stanza=kandidat archive-push %%p'
max_wal_size = 64MB
`, c.port, dir, pgBackRestPath(t), c.conf)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}
	c.start(t)
	return c
}

func pgBackRestPath(t *testing.T) string {
	p, err := exec.LookPath(pgBackRestCommand)
	if err != nil {
		t.Fatal(err)
	}
	p, err = filepath.Abs(p)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func (c *pgbrCluster) start(t *testing.T) {
	t.Helper()
	c.run(t, filepath.Join(c.bin, "pg_ctl"), "-D", filepath.Join(c.dir, "data"), "-l", c.log, "-w", "-t", "60", "start")
}

// stop stops the server, if it runs; it is also the cleanup, so it only
// reports.
func (c *pgbrCluster) stop(t *testing.T) {
	t.Helper()
	data := filepath.Join(c.dir, "data")
	if _, err := os.Stat(filepath.Join(data, "postmaster.pid")); err != nil {
		return
	}
	if out, err := c.output(filepath.Join(c.bin, "pg_ctl"), "-D", data, "-m", "fast", "-w", "-t", "30", "stop"); err != nil {
		t.Errorf("pg_ctl stop: %v\n%s", err, out)
		_, _ = c.output(filepath.Join(c.bin, "pg_ctl"), "-D", data, "-m", "immediate", "-w", "-t", "30", "stop")
	}
}

func (c *pgbrCluster) pgbackrest(t *testing.T, args ...string) {
	t.Helper()
	c.run(t, pgBackRestPath(t), append([]string{"--config=" + c.conf, "--stanza=kandidat"}, args...)...)
}

// run runs a program as the server's user and fails the test when it
// fails.
func (c *pgbrCluster) run(t *testing.T, name string, args ...string) {
	t.Helper()
	start := time.Now()
	out, err := c.output(name, args...)
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", filepath.Base(name), strings.Join(args, " "), err, pgbrTail(string(out), 30))
	}
	t.Logf("%s %s (%v)", filepath.Base(name), pgbrAction(args), time.Since(start).Round(10*time.Millisecond))
}

// output runs name as the postgres user when the test runs as root
// (initdb and pg_ctl refuse root, and the server runs archive-push as its
// own user, so every pgBackRest command runs as that user too) and
// returns what it wrote. A command still running after two minutes is
// interrupted (runuser passes the signal on), then killed.
func (c *pgbrCluster) output(name string, args ...string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var cmd *exec.Cmd
	if os.Geteuid() == 0 {
		cmd = exec.CommandContext(ctx, "runuser", append([]string{"-u", "postgres", "--", name}, args...)...)
	} else {
		cmd = exec.CommandContext(ctx, name, args...)
	}
	cmd.Dir = c.dir
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 10 * time.Second
	return cmd.CombinedOutput()
}

func (c *pgbrCluster) connect(ctx context.Context, t *testing.T) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(ctx, fmt.Sprintf("postgres://kandidat@127.0.0.1:%d/postgres?sslmode=disable", c.port))
	if err != nil {
		t.Fatal(err)
	}
	return conn
}

// pgbrWaitPromoted waits until the restored server has reached the target
// and left recovery.
func pgbrWaitPromoted(ctx context.Context, t *testing.T, conn *pgx.Conn) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		var recovering bool
		if err := conn.QueryRow(ctx, `SELECT pg_is_in_recovery()`).Scan(&recovering); err != nil {
			t.Fatal(err)
		}
		if !recovering {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the restored server is still in recovery after 60 s")
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// pgbrChownToServer gives dir and everything in it to the postgres user
// when the test runs as root.
func pgbrChownToServer(t *testing.T, dir string) {
	t.Helper()
	if os.Geteuid() != 0 {
		return
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		t.Fatalf("running as root needs the postgres user (the postgresql package makes it): %v", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	err = filepath.WalkDir(dir, func(p string, _ fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, uid, gid)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// pgbrDirContains reports whether any file under dir holds s.
func pgbrDirContains(t *testing.T, dir, s string) bool {
	t.Helper()
	found := false
	files := 0
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || found || !d.Type().IsRegular() {
			return err
		}
		files++
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		found = bytes.Contains(b, []byte(s))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files == 0 {
		t.Fatalf("%s holds no file", dir)
	}
	return found
}

func pgbrFreePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return port
}

func pgbrRandomHex(t *testing.T, n int) string {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

func pgbrWriteFile(t *testing.T, name, content string) {
	t.Helper()
	if err := os.WriteFile(name, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

func pgbrAction(args []string) string {
	var words []string
	for _, a := range args {
		if !strings.HasPrefix(a, "--config") && !strings.HasPrefix(a, "-D") && !strings.HasPrefix(a, "/") {
			words = append(words, a)
		}
	}
	return strings.Join(words, " ")
}

func pgbrTail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
