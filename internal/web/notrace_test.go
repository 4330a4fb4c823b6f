package web

import (
	"bytes"
	"context"
	"database/sql/driver"
	"encoding/json"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kandidat/kandidat/internal/db"
)

// syncBuffer is a log sink safe for concurrent writes.
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

// dbDump is every row of every table, each row as its values.
type dbDump map[string]map[string][]string

// dumpDatabase reads every row of every table the schema lists
// (sqlite_master, or information_schema on PostgreSQL, as the tables'
// owner so that row-level security hides nothing), each value as text:
// bytes as they are, times in RFC 3339.
func dumpDatabase(t *testing.T, d *db.DB) dbDump {
	t.Helper()
	ctx := context.Background()
	conn, err := d.Write.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	listTables := `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`
	if d.Engine == db.Postgres {
		defer conn.Raw(func(any) error { return driver.ErrBadConn }) // not back to the pool as the owner
		if _, err := conn.ExecContext(ctx, `RESET ROLE`); err != nil {
			t.Fatal(err)
		}
		listTables = `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name`
	}
	rows, err := conn.QueryContext(ctx, listTables)
	if err != nil {
		t.Fatal(err)
	}
	var tables []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		tables = append(tables, n)
	}
	rows.Close()
	if len(tables) < 50 {
		t.Fatalf("only %d tables found", len(tables))
	}
	dump := dbDump{}
	for _, table := range tables {
		rows, err := conn.QueryContext(ctx, `SELECT * FROM `+table)
		if err != nil {
			t.Fatalf("read %s: %v", table, err)
		}
		cols, _ := rows.Columns()
		dump[table] = map[string][]string{}
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatalf("scan %s: %v", table, err)
			}
			row := make([]string, len(cols))
			for i, v := range vals {
				switch v := v.(type) {
				case nil:
				case []byte:
					row[i] = string(v)
				case time.Time:
					row[i] = v.UTC().Format(time.RFC3339Nano)
				default:
					row[i] = fmt.Sprint(v)
				}
			}
			dump[table][strings.Join(row, "\x00")] = row
		}
		if err := rows.Err(); err != nil {
			t.Fatalf("read %s: %v", table, err)
		}
		rows.Close()
	}
	return dump
}

// finerThanDay matches a time of day after a date, as text stores it.
var finerThanDay = regexp.MustCompile(`\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}`)

// looksLikeNow reports whether a number is now in seconds, milliseconds,
// microseconds or nanoseconds since 1970 (within two days).
func looksLikeNow(s string) bool {
	var n int64
	if _, err := fmt.Sscan(s, &n); err != nil || fmt.Sprint(n) != s {
		return false
	}
	now := time.Now()
	for _, unit := range []int64{now.Unix(), now.UnixMilli(), now.UnixMicro(), now.UnixNano()} {
		scale := unit / now.Unix()
		if d := n - unit; d > -2*86400*scale && d < 2*86400*scale {
			return true
		}
	}
	return false
}

// TestNoTrace files a report with a file, follows it up with the receipt
// and answers, from one address and browser, and checks every place the
// server writes to: the database (every value of every table), the files,
// the audit trail, the email queue, the log, the cookies, the limiter.
func TestNoTrace(t *testing.T) {
	const (
		remote    = "203.0.113.77"
		forwarded = "198.51.100.9"
		agent     = "NoTraceAgent/9.9"
	)
	// The proxy is trusted, so the forwarded address is the client's: both reach the server.
	e := newReportEnv(t, Options{TrustedProxies: []netip.Prefix{netip.MustParsePrefix("203.0.113.0/24")}})
	var logs syncBuffer
	e.srv.Logger = slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	now := time.Now()
	var clock sync.Mutex
	e.srv.reportLimit.now = func() time.Time { clock.Lock(); defer clock.Unlock(); return now }

	before := dumpDatabase(t, e.db)
	// The dump reads times as the check below looks for them (the staff's rows have them).
	seen := false
	for _, row := range before["users"] {
		for _, v := range row {
			seen = seen || finerThanDay.MatchString(v)
		}
	}
	if !seen {
		t.Fatal("no time found in the users table: the dump does not read times as the check expects")
	}
	auditBefore := rowsOf(before, "audit_records")
	emailBefore := rowsOf(before, "email_queue")
	logStart := len(logs.String())

	var responses []*http.Response
	send := func(r reportReq) *http.Response {
		res := e.send(r)
		responses = append(responses, res)
		return res
	}
	send(reportReq{method: "GET", path: "/report/acme"})
	send(reportReq{method: "GET", path: "/report/acme/ethics"})
	b, ct := multipartBody(t, e.validReport("The warehouse scales are set 3% light."), reportFile{"files", "scales.txt", "Readings of March.\n"})
	res := send(reportReq{method: "POST", path: "/report/acme/ethics", body: b, contentType: ct})
	page := body(t, res)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("report: %d\n%s", res.StatusCode, page)
	}
	code := receiptOf(t, page)
	send(reportReq{method: "POST", path: "/report/acme/receipt.txt", form: url.Values{"receipt": {code}}})
	send(reportReq{method: "GET", path: "/report/acme/follow-up"})
	send(reportReq{method: "POST", path: "/report/acme/follow-up", form: url.Values{"receipt": {code}, "passphrase": {"wrong"}}})
	res = send(reportReq{method: "POST", path: "/report/acme/follow-up", form: url.Values{"receipt": {code}, "passphrase": {"blue heron"}}})
	c := reportCookieOf(res)
	if res.StatusCode != http.StatusSeeOther || c == nil {
		t.Fatalf("follow-up: %d, want 303 with the cookie", res.StatusCode)
	}
	envelope := c.Value
	res = send(reportReq{method: "GET", path: "/report/acme/case", envelope: envelope})
	if res.StatusCode != http.StatusOK {
		t.Fatalf("case: %d", res.StatusCode)
	}
	envelope = reportCookieOf(res).Value
	b, ct = multipartBody(t, map[string]string{"text": "The scales were checked on Monday."}, reportFile{"files", "monday.txt", "Checked.\n"})
	if res := send(reportReq{method: "POST", path: "/report/acme/case", body: b, contentType: ct, envelope: envelope}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("reply: %d", res.StatusCode)
	}
	send(reportReq{method: "POST", path: "/report/acme/case/meeting", form: url.Values{}, envelope: envelope})
	send(reportReq{method: "GET", path: "/report/acme/case/files/" + "00000000-0000-4000-8000-000000000000", envelope: envelope})
	send(reportReq{method: "POST", path: "/report/acme/case/leave", form: url.Values{}, envelope: envelope})
	send(reportReq{method: "GET", path: "/report/acme/no-such-channel"})

	// Cookies: only the reporter's envelope.
	for i, res := range responses {
		for _, c := range res.Cookies() {
			if c.Name != ReportCookie {
				t.Errorf("response %d sets cookie %q: only %s may be set", i+1, c.Name, ReportCookie)
			}
		}
	}

	// The database: no address or agent anywhere; nothing written during
	// the reporter's requests holds a time finer than the day.
	after := dumpDatabase(t, e.db)
	if n := len(after["whistle_reports"]); n != 1 {
		t.Fatalf("%d reports stored, want 1 (the walk reached the service)", n)
	}
	if len(after["whistle_attachments"]) != 2 {
		t.Fatalf("%d attachments stored, want 2", len(after["whistle_attachments"]))
	}
	for table, rows := range after {
		for key, row := range rows {
			for _, needle := range []string{remote, forwarded, agent, "NoTraceAgent"} {
				if strings.Contains(key, needle) {
					t.Errorf("table %s holds %q: %q", table, needle, row)
				}
			}
			_, old := before[table][key]
			if old {
				continue
			}
			for i, v := range row {
				if finerThanDay.MatchString(v) || looksLikeNow(v) {
					t.Errorf("table %s: a row written during the reporter's requests holds a time finer than the day (column %d: %q)", table, i, v)
				}
			}
		}
	}
	if got := rowsOf(after, "audit_records"); got != auditBefore {
		t.Errorf("the audit trail got %d records during the reporter's requests, want none", got-auditBefore)
	}
	if got := rowsOf(after, "email_queue"); got != emailBefore {
		t.Errorf("the email queue got %d emails during the reporter's requests, want none", got-emailBefore)
	}

	// The files: sealed, and nothing of the client in them.
	err := filepath.WalkDir(e.kit.FilesDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		for _, needle := range []string{remote, forwarded, agent, "Readings of March", "Checked."} {
			if bytes.Contains(data, []byte(needle)) {
				t.Errorf("stored file %s holds %q", p, needle)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	// The log: nothing of the client, and no time finer than the day.
	written := logs.String()[logStart:]
	for _, needle := range []string{remote, forwarded, agent, "NoTraceAgent", "/report/"} {
		if strings.Contains(written, needle) {
			t.Errorf("the log holds %q:\n%s", needle, written)
		}
	}
	for _, line := range strings.Split(strings.TrimSpace(written), "\n") {
		if line == "" {
			continue
		}
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		if ts, _ := rec["time"].(string); ts != "" && !strings.HasSuffix(ts, "T00:00:00Z") {
			t.Errorf("a log line of the reporter's requests has the time %s", ts)
		}
	}
	// The same server does log a staff page's request (the capture works).
	e.send(reportReq{method: "GET", path: "/signin"})
	if !strings.Contains(logs.String()[logStart:], `"route":"GET /signin"`) {
		t.Fatal("the access log did not record a staff page: the capture is broken")
	}

	// The limiter: keyed hashes only, each gone when its window ends.
	l := e.srv.reportLimit
	if l.entries() == 0 {
		t.Fatal("the limiter counted nothing: the walk did not reach it")
	}
	l.mu.Lock()
	for k := range l.counts {
		for _, needle := range []string{remote, forwarded} {
			if strings.Contains(k, needle) {
				t.Errorf("the limiter holds the address %s", needle)
			}
		}
	}
	l.mu.Unlock()
	var longest time.Duration
	for _, r := range reportRules {
		longest = max(longest, r.window)
	}
	clock.Lock()
	now = now.Add(longest)
	clock.Unlock()
	l.expire()
	if n := l.entries(); n != 0 {
		t.Fatalf("the limiter holds %d entries after their window, want 0", n)
	}
}

// rowsOf counts the rows of a table in a dump.
func rowsOf(d dbDump, table string) int { return len(d[table]) }
