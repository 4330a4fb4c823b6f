package audit

import (
	"context"
	"database/sql"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Filter selects records of one company.
type Filter struct {
	Track   Track
	ActorID string
	Action  Action
	// ObjectKind and ObjectID: the records about one object. Without the
	// kind, List finds it from the references (see ParseObject).
	ObjectKind string
	ObjectID   string
	From, To   time.Time // To is exclusive
	// After continues a listing from the cursor a previous page returned.
	After string
	Limit int
}

// MaxPage is the largest page List returns.
const MaxPage = 200

// ErrAmbiguousObject is returned by List for an object id without a kind
// that objects of several kinds have.
var ErrAmbiguousObject = errors.New("the object id names objects of several kinds")

// ParseObject reads the object filter of the trail's page: "kind:id", the
// form its links carry (the key of the references), or a bare id.
func ParseObject(s string) (kind, id string) {
	if k, rest, ok := strings.Cut(s, ":"); ok && rest != "" && slices.Contains(ObjectKinds, k) {
		return k, rest
	}
	return "", s
}

// Every filter reads an index that holds the page order after the
// filter's own key (migration 0026), so that a page is read from its
// cursor and stops after the page, however large the company's trail:
//
//	no filter, time only   audit_records_time   (tenant_id, occurred_at, track, seq)
//	track                  audit_records_track  (tenant_id, track, occurred_at, seq)
//	action                 audit_records_action (tenant_id, action, occurred_at, track, seq)
//	actor                  audit_records_actor  (tenant_id, actor_id, occurred_at, track, seq)
//	object                 audit_refs key       (tenant_id, object_kind, object_id, occurred_at, track, seq)
//
// A time range is a range of any of them. When filters combine, the
// database picks the most selective of these indexes and checks the
// others on the rows it reads; an action fixes the track (the catalogue
// gives each action one), so a track that contradicts it reads nothing.

// resolve completes f before a query: the kind of a bare object id, and
// whether f can match anything at all.
func (l *Log) resolve(ctx context.Context, tenantID string, f *Filter) (bool, error) {
	if f.Action != "" && f.Track != "" {
		if spec, ok := Catalogue[f.Action]; ok && spec.Track != f.Track {
			return false, nil
		}
	}
	if f.ObjectID == "" || f.ObjectKind != "" {
		return true, nil
	}
	kinds, err := l.objectKinds(ctx, tenantID, f.ObjectID)
	if err != nil {
		return false, err
	}
	switch len(kinds) {
	case 0:
		return false, nil
	case 1:
		f.ObjectKind = kinds[0]
		return true, nil
	}
	return false, fmt.Errorf("%w: %s", ErrAmbiguousObject, strings.Join(kinds, ", "))
}

// objectKinds returns the kinds of object that have references with id:
// one probe of the references' key per kind, in one statement.
func (l *Log) objectKinds(ctx context.Context, tenantID, id string) ([]string, error) {
	args := []any{tenantID, id}
	values := make([]string, len(ObjectKinds))
	for i, k := range ObjectKinds {
		args = append(args, k)
		values[i] = "($" + strconv.Itoa(len(args)) + ")"
	}
	var out []string
	err := l.each(ctx, scopeOf(tenantID), `SELECT k.column1 FROM (VALUES `+strings.Join(values, ", ")+`) AS k
WHERE EXISTS (SELECT 1 FROM audit_refs r WHERE r.tenant_id = $1 AND r.object_kind = k.column1 AND r.object_id = $2)`, args, func(rows *sql.Rows) error {
		var k string
		if err := rows.Scan(&k); err != nil {
			return err
		}
		out = append(out, k)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("find the object's kind: %w", err)
	}
	slices.Sort(out)
	return out, nil
}

// where builds the FROM and WHERE of a listing of f (resolved), with its
// arguments, and names the table alias whose columns hold the page order.
func where(tenantID string, f Filter) (from string, args []any, order string, err error) {
	var q strings.Builder
	args = []any{tenantID}
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	order = "a"
	if f.ObjectID != "" {
		// One object's records: read from its references' key, newest
		// first (it holds the time), never by walking the company's trail.
		// CROSS JOIN keeps SQLite's join order: references first.
		order = "r"
		q.WriteString("audit_refs r CROSS JOIN audit_records a WHERE r.tenant_id = $1 AND r.object_kind = " + arg(f.ObjectKind) +
			" AND r.object_id = " + arg(f.ObjectID) + " AND a.tenant_id = r.tenant_id AND a.track = r.track AND a.seq = r.seq")
	} else {
		q.WriteString("audit_records a WHERE a.tenant_id = $1")
	}
	// An action fixes the track (resolve checked that they agree): the
	// track is left out, so that the planner reads the action's index,
	// not the far larger range of its track's.
	if _, fixed := Catalogue[f.Action]; f.Track != "" && !fixed {
		q.WriteString(" AND " + order + ".track = " + arg(string(f.Track)))
	}
	if f.ActorID != "" {
		q.WriteString(" AND a.actor_id = " + arg(f.ActorID))
	}
	if f.Action != "" {
		q.WriteString(" AND a.action = " + arg(string(f.Action)))
	}
	if !f.From.IsZero() {
		q.WriteString(" AND " + order + ".occurred_at >= " + arg(f.From.UTC()))
	}
	if !f.To.IsZero() {
		q.WriteString(" AND " + order + ".occurred_at < " + arg(f.To.UTC()))
	}
	if f.After != "" {
		t, track, seq, perr := parseCursor(f.After)
		if perr != nil {
			return "", nil, "", fmt.Errorf("%w: bad cursor", ErrInvalidEvent)
		}
		// A row value, so that both engines start the range of the
		// filter's index at the cursor (on the track's index, which holds
		// no track after the time, at the cursor's time).
		q.WriteString(" AND (" + order + ".occurred_at, " + order + ".track, " + order + ".seq) < (" +
			arg(t) + ", " + arg(string(track)) + ", " + arg(seq) + ")")
	}
	return q.String(), args, order, nil
}

// List returns a company's records matching f, newest first, and the cursor
// of the next page ("" on the last page).
func (l *Log) List(ctx context.Context, tenantID string, f Filter) ([]Record, string, error) {
	limit := f.Limit
	if limit <= 0 || limit > MaxPage {
		limit = 50
	}
	if f.After != "" {
		if _, _, _, err := parseCursor(f.After); err != nil {
			return nil, "", fmt.Errorf("%w: bad cursor", ErrInvalidEvent)
		}
	}
	if ok, err := l.resolve(ctx, tenantID, &f); !ok || err != nil {
		return nil, "", err
	}
	from, args, o, err := where(tenantID, f)
	if err != nil {
		return nil, "", err
	}
	args = append(args, limit+1)
	q := `SELECT a.tenant_id, a.track, a.seq, a.id, a.occurred_at, a.actor_kind, a.actor_id, a.action, a.objects, a.request_id, a.details, a.prev_hash, a.hash
FROM ` + from + " ORDER BY " + o + ".occurred_at DESC, " + o + ".track DESC, " + o + ".seq DESC LIMIT $" + strconv.Itoa(len(args))
	var out []Record
	err = l.each(ctx, scopeOf(tenantID), q, args, func(rows *sql.Rows) error {
		var r Record
		var track, actorKind, action, objects, details string
		if err := rows.Scan(&r.TenantID, &track, &r.Seq, &r.ID, &r.Time, &actorKind, &r.Actor.ID, &action, &objects, &r.RequestID, &details, &r.PrevHash, &r.Hash); err != nil {
			return err
		}
		r.Track, r.Actor.Kind, r.Action = Track(track), ActorKind(actorKind), Action(action)
		r.Objects, _ = decodeObjects(objects)
		r.Details, _ = decodeDetails(details)
		out = append(out, r)
		return nil
	})
	if err != nil {
		return nil, "", fmt.Errorf("list audit records: %w", err)
	}
	next := ""
	if len(out) > limit {
		out = out[:limit]
		last := out[limit-1]
		next = cursor(last)
	}
	return out, next, nil
}

// Count returns how many of a company's records match f (its page ignored),
// counted on the filter's index.
func (l *Log) Count(ctx context.Context, tenantID string, f Filter) (int, error) {
	f.After = ""
	if ok, err := l.resolve(ctx, tenantID, &f); !ok || err != nil {
		return 0, err
	}
	from, args, _, err := where(tenantID, f)
	if err != nil {
		return 0, err
	}
	var n int
	if err := l.db.ReadTx(ctx, scopeOf(tenantID), func(tx *sql.Tx) error {
		return tx.QueryRowContext(ctx, `SELECT count(*) FROM `+from, args...).Scan(&n)
	}); err != nil {
		return 0, fmt.Errorf("count audit records: %w", err)
	}
	return n, nil
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

// Export is an export of the trail that has been recorded: StartExport
// committed its record before any of it is written.
type Export struct {
	l        *Log
	tenantID string
	filter   Filter
	format   string
	// Count is the number of records the export holds, as recorded.
	Count int
}

// StartExport records that actor exports a company's records matching f as
// "csv" or "json", and returns the export to write. The record is committed
// in the security track (raising the mass-export alert if it is large)
// before a byte of the export exists: when it cannot be written, there is
// no export. The export holds the records before the moment it was
// recorded, and the record says how many.
func (l *Log) StartExport(ctx context.Context, actor Actor, tenantID string, f Filter, format string) (*Export, error) {
	if format != "csv" && format != "json" {
		return nil, fmt.Errorf("%w: format %q is not csv or json", ErrInvalidEvent, format)
	}
	if f.Track != "" && !slices.Contains(Tracks, f.Track) {
		return nil, fmt.Errorf("%w: track %q", ErrInvalidEvent, f.Track)
	}
	f.Limit, f.After = MaxPage, ""
	at := l.now()
	if f.To.IsZero() || f.To.After(at) {
		f.To = at // records appended from now on are not in it
	}
	n, err := l.Count(ctx, tenantID, f)
	if err != nil {
		return nil, err
	}
	if err := l.RecordStandalone(ctx, Event{TenantID: tenantID, Action: AuditExported, Actor: actor, Time: at,
		Details: map[string]string{"format": format, "count": strconv.Itoa(n), "track": string(f.Track)}}); err != nil {
		return nil, fmt.Errorf("record the export: %w", err)
	}
	return &Export{l: l, tenantID: tenantID, filter: f, format: format, Count: n}, nil
}

// WriteTo writes the export to w, page by page, and returns how many
// records it wrote.
func (e *Export) WriteTo(ctx context.Context, w io.Writer) (int, error) {
	f := e.filter
	n := 0
	var cw *csv.Writer
	if e.format == "csv" {
		cw = csv.NewWriter(w)
		cw.Write([]string{"time", "track", "seq", "id", "actor_kind", "actor_id", "action", "objects", "request_id", "details", "hash"})
	} else if _, err := io.WriteString(w, "["); err != nil {
		return 0, err
	}
	for {
		recs, next, err := e.l.List(ctx, e.tenantID, f)
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
