package audit

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Filter selects records of one company.
type Filter struct {
	Track      Track
	ActorID    string
	Action     Action
	ObjectKind string
	ObjectID   string
	From, To   time.Time // To is exclusive
	// After continues a listing from the cursor a previous page returned.
	After string
	Limit int
}

// MaxPage is the largest page List returns.
const MaxPage = 200

// List returns a company's records matching f, newest first, and the cursor
// of the next page ("" on the last page).
func (l *Log) List(ctx context.Context, tenantID string, f Filter) ([]Record, string, error) {
	limit := f.Limit
	if limit <= 0 || limit > MaxPage {
		limit = 50
	}
	q := strings.Builder{}
	q.WriteString(`SELECT a.tenant_id, a.track, a.seq, a.id, a.occurred_at, a.actor_kind, a.actor_id, a.action, a.objects, a.request_id, a.details, a.prev_hash, a.hash
FROM `)
	args := []any{tenantID}
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	if f.ObjectID != "" {
		// One object's records: found by its references' key (kind, id),
		// never by walking the company's trail.
		kinds := ObjectKinds
		if f.ObjectKind != "" {
			kinds = []string{f.ObjectKind}
		}
		in := make([]string, len(kinds))
		for i, k := range kinds {
			in[i] = arg(k)
		}
		// CROSS JOIN keeps SQLite's join order: references first.
		q.WriteString("audit_refs r CROSS JOIN audit_records a WHERE r.tenant_id = $1 AND r.object_kind IN (" + strings.Join(in, ", ") +
			") AND r.object_id = " + arg(f.ObjectID) + " AND a.tenant_id = r.tenant_id AND a.track = r.track AND a.seq = r.seq")
	} else {
		q.WriteString("audit_records a WHERE a.tenant_id = $1")
	}
	if f.Track != "" {
		q.WriteString(" AND a.track = " + arg(string(f.Track)))
	}
	if f.ActorID != "" {
		q.WriteString(" AND a.actor_id = " + arg(f.ActorID))
	}
	if f.Action != "" {
		q.WriteString(" AND a.action = " + arg(string(f.Action)))
	}
	if !f.From.IsZero() {
		q.WriteString(" AND a.occurred_at >= " + arg(f.From.UTC()))
	}
	if !f.To.IsZero() {
		q.WriteString(" AND a.occurred_at < " + arg(f.To.UTC()))
	}
	if f.After != "" {
		t, track, seq, err := parseCursor(f.After)
		if err != nil {
			return nil, "", fmt.Errorf("%w: bad cursor", ErrInvalidEvent)
		}
		// A row value, so that both engines start the index range
		// (tenant_id, occurred_at, track, seq) at the cursor.
		q.WriteString(" AND (a.occurred_at, a.track, a.seq) < (" + arg(t) + ", " + arg(string(track)) + ", " + arg(seq) + ")")
	}
	q.WriteString(" ORDER BY a.occurred_at DESC, a.track DESC, a.seq DESC LIMIT " + arg(limit+1))
	rows, err := l.db.Read.QueryContext(ctx, q.String(), args...)
	if err != nil {
		return nil, "", fmt.Errorf("list audit records: %w", err)
	}
	defer rows.Close()
	var out []Record
	for rows.Next() {
		var r Record
		var track, actorKind, action, objects, details string
		if err := rows.Scan(&r.TenantID, &track, &r.Seq, &r.ID, &r.Time, &actorKind, &r.Actor.ID, &action, &objects, &r.RequestID, &details, &r.PrevHash, &r.Hash); err != nil {
			return nil, "", err
		}
		r.Track, r.Actor.Kind, r.Action = Track(track), ActorKind(actorKind), Action(action)
		r.Objects, _ = decodeObjects(objects)
		r.Details, _ = decodeDetails(details)
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, "", err
	}
	next := ""
	if len(out) > limit {
		out = out[:limit]
		last := out[limit-1]
		next = cursor(last)
	}
	return out, next, nil
}

func cursor(r Record) string {
	return strconv.FormatInt(r.Time.UnixMicro(), 10) + "." + string(r.Track) + "." + strconv.FormatInt(r.Seq, 10)
}

// Bounds of a cursor's time, so that every engine can compare it.
var (
	minCursorTime = time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC).UnixMicro()
	maxCursorTime = time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC).UnixMicro()
)

// parseCursor reads a cursor, refusing anything cursor did not make, so a
// value the database would refuse (invalid UTF-8, a year it cannot hold)
// never reaches it.
func parseCursor(s string) (time.Time, Track, int64, error) {
	parts := strings.Split(s, ".")
	if len(parts) != 3 {
		return time.Time{}, "", 0, fmt.Errorf("bad cursor")
	}
	us, err1 := strconv.ParseInt(parts[0], 10, 64)
	seq, err2 := strconv.ParseInt(parts[2], 10, 64)
	if err1 != nil || err2 != nil || us < minCursorTime || us > maxCursorTime || !slices.Contains(Tracks, Track(parts[1])) {
		return time.Time{}, "", 0, fmt.Errorf("bad cursor")
	}
	return time.UnixMicro(us).UTC(), Track(parts[1]), seq, nil
}

// Export writes every record matching f (ignoring its page) as "csv" or
// "json", and returns how many it wrote.
func (l *Log) Export(ctx context.Context, tenantID string, f Filter, format string, w io.Writer) (int, error) {
	f.Limit, f.After = MaxPage, ""
	n := 0
	var cw *csv.Writer
	switch format {
	case "csv":
		cw = csv.NewWriter(w)
		cw.Write([]string{"time", "track", "seq", "id", "actor_kind", "actor_id", "action", "objects", "request_id", "details", "hash"})
	case "json":
		io.WriteString(w, "[")
	default:
		return 0, fmt.Errorf("%w: format %q is not csv or json", ErrInvalidEvent, format)
	}
	for {
		recs, next, err := l.List(ctx, tenantID, f)
		if err != nil {
			return n, err
		}
		for _, r := range recs {
			if cw != nil {
				objs := make([]string, len(r.Objects))
				for i, o := range r.Objects {
					objs[i] = o.Kind + ":" + o.ID
				}
				details, _ := json.Marshal(r.Details)
				row := []string{r.Time.UTC().Format(time.RFC3339Nano), string(r.Track), strconv.FormatInt(r.Seq, 10), r.ID, string(r.Actor.Kind),
					r.Actor.ID, string(r.Action), strings.Join(objs, " "), r.RequestID, string(details), r.Hash}
				for i := range row {
					row[i] = SafeCSVCell(row[i])
				}
				if err := cw.Write(row); err != nil {
					return n, err
				}
			} else {
				if n > 0 {
					io.WriteString(w, ",")
				}
				b, _ := json.Marshal(exportRecord(r))
				if _, err := w.Write(b); err != nil {
					return n, err
				}
			}
			n++
		}
		if next == "" {
			break
		}
		f.After = next
	}
	if cw != nil {
		cw.Flush()
		return n, cw.Error()
	}
	_, err := io.WriteString(w, "]\n")
	return n, err
}

type jsonRecord struct {
	Time      time.Time         `json:"time"`
	Track     Track             `json:"track"`
	Seq       int64             `json:"seq"`
	ID        string            `json:"id"`
	Actor     map[string]string `json:"actor"`
	Action    Action            `json:"action"`
	Objects   []Ref             `json:"objects"`
	RequestID string            `json:"request_id"`
	Details   map[string]string `json:"details"`
	PrevHash  string            `json:"prev_hash"`
	Hash      string            `json:"hash"`
}

func exportRecord(r Record) jsonRecord {
	return jsonRecord{Time: r.Time.UTC(), Track: r.Track, Seq: r.Seq, ID: r.ID, Actor: map[string]string{"kind": string(r.Actor.Kind), "id": r.Actor.ID},
		Action: r.Action, Objects: r.Objects, RequestID: r.RequestID, Details: r.Details, PrevHash: r.PrevHash, Hash: r.Hash}
}

// SafeCSVCell defuses a cell that a spreadsheet would run as a formula
// (starting with = + - @, a tab or a carriage return) by prefixing a quote.
func SafeCSVCell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
