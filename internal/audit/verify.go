package audit

import (
	"cmp"
	"context"
	"crypto/ed25519"
	"database/sql"
	"errors"
	"fmt"
	"github.com/kandidat/kandidat/internal/db"
	"slices"
	"strings"
	"time"
)

// Problem kinds reported by Verify.
const (
	Changed          = "changed"   // a record's content no longer matches its hash, or a signed checkpoint
	Deleted          = "deleted"   // records are missing from the chain
	Inserted         = "inserted"  // a record that was not appended in order sits in the chain
	Reordered        = "reordered" // records were swapped
	Truncated        = "truncated" // the newest records are gone, behind a signed checkpoint
	ForgedCheckpoint = "forged_checkpoint"
	// RefsChanged: the index of objects (audit_refs) no longer says what the
	// records' own, hashed object lists say: a reference deleted, altered or
	// added, so that a record would be missing from (or wrongly in) an
	// object's listing.
	RefsChanged = "refs_changed"
	// AlertChanged: an alert row no longer matches the records of its
	// raising and acknowledgement, or its row was deleted.
	AlertChanged = "alert_changed"
)

// Problem is the first broken link found in one chain, or one alert that
// does not match the trail.
type Problem struct {
	TenantID string
	Track    Track
	Seq      int64
	Kind     string
	Message  string
}

func (p Problem) String() string {
	tenant := p.TenantID
	if tenant == "" {
		tenant = "(installation)"
	}
	return fmt.Sprintf("%s %s #%d: %s: %s", tenant, p.Track, p.Seq, p.Kind, p.Message)
}

// VerifyResult summarises a verification.
type VerifyResult struct {
	Chains      int
	Records     int64
	References  int64
	Alerts      int
	Checkpoints int
	Problems    []Problem
	Duration    time.Duration
}

// Verify walks every chain (of one company when tenantID is non-nil),
// recomputing each hash and link and checking them against the signed
// checkpoints stored in the database and those in extra (the exported
// files). It checks each record's references in audit_refs against the
// record, and each alert row against the records that raised and
// acknowledged it. It reports the first broken link of each chain (or,
// when the chain is whole, the first reference that does not match it)
// and every alert that does not match.
func (l *Log) Verify(ctx context.Context, tenantID *string, pub ed25519.PublicKey, extra []Checkpoint) (VerifyResult, error) {
	start := time.Now()
	var res VerifyResult
	chains, err := l.chains(ctx, tenantID)
	if err != nil {
		return res, err
	}
	known := map[chain]bool{}
	for _, c := range chains {
		known[c] = true
	}
	for _, cp := range extra {
		c := chain{cp.TenantID, cp.Track}
		if (tenantID == nil || *tenantID == cp.TenantID) && !known[c] {
			known[c] = true
			chains = append(chains, c) // every record of it is gone
		}
	}
	trails := map[string]*alertTrail{}
	for _, c := range chains {
		stored, err := l.storedCheckpoints(ctx, c)
		if err != nil {
			return res, err
		}
		cps, p := mergeCheckpoints(c, stored, extra, pub)
		res.Checkpoints += len(cps)
		var trail *alertTrail
		if c.track == Security {
			trail = newAlertTrail()
			trails[c.tenantID] = trail
		}
		if p == nil {
			var w chainWalk
			w, err = l.verifyChain(ctx, c, cps, trail)
			if err != nil {
				return res, err
			}
			res.Records += w.records
			res.References += w.refs
			p = w.problem
		}
		if p != nil && trail != nil {
			trail.broken = true // the alerts of a broken chain cannot be checked against it
		}
		res.Chains++
		if p != nil {
			res.Problems = append(res.Problems, *p)
		}
	}
	alertProblems, n, err := l.verifyAlerts(ctx, tenantID, trails)
	if err != nil {
		return res, err
	}
	res.Alerts = n
	res.Problems = append(res.Problems, alertProblems...)
	res.Duration = time.Since(start)
	return res, nil
}

// signedHead is what the signed checkpoints say of one record: its hash,
// and whether one of them was signed for a prune through it.
type signedHead struct {
	hash  string
	prune bool
}

// mergeCheckpoints joins the stored and exported checkpoints of chain c by
// sequence number, checking signatures and agreement.
func mergeCheckpoints(c chain, stored, extra []Checkpoint, pub ed25519.PublicKey) (map[int64]signedHead, *Problem) {
	out := map[int64]signedHead{}
	all := append([]Checkpoint{}, stored...)
	for _, cp := range extra {
		if cp.TenantID == c.tenantID && cp.Track == c.track {
			all = append(all, cp)
		}
	}
	for _, cp := range all {
		if !cp.Valid(pub) {
			return nil, &Problem{c.tenantID, c.track, cp.Seq, ForgedCheckpoint, "the checkpoint's signature does not verify"}
		}
		if cp.Prune() && cp.PrunedBefore != nil && cp.PrunedBefore.After(cp.CreatedAt.Add(-MinRetention[c.track])) {
			return nil, &Problem{c.tenantID, c.track, cp.Seq, ForgedCheckpoint,
				"a signed prune checkpoint claims records younger than the track's minimum retention were deleted"}
		}
		prev, ok := out[cp.Seq]
		if ok && prev.hash != cp.Hash {
			return nil, &Problem{c.tenantID, c.track, cp.Seq, Changed, "two signed checkpoints disagree about this record"}
		}
		out[cp.Seq] = signedHead{hash: cp.Hash, prune: prev.prune || cp.Prune()}
	}
	return out, nil
}

const selectChain = `SELECT seq, id, occurred_at, actor_kind, actor_id, action, objects, request_id, details, prev_hash, hash
FROM audit_records WHERE tenant_id = $1 AND track = $2 AND seq <= $3 ORDER BY seq`

// chainWalk is what verifying one chain found.
type chainWalk struct {
	records, refs int64
	problem       *Problem
}

// verifyChain walks a chain and its references side by side, each read by
// a transaction of its own (two ordered streams), with a third for the
// probes that name a broken link. Verification is the installation's check:
// its statements name the chain's company themselves.
func (l *Log) verifyChain(ctx context.Context, c chain, cps map[int64]signedHead, trail *alertTrail) (w chainWalk, err error) {
	err = l.db.ReadTx(ctx, db.Installation, func(chainTx *sql.Tx) error {
		return l.db.ReadTx(ctx, db.Installation, func(refTx *sql.Tx) error {
			return l.db.ReadTx(ctx, db.Installation, func(probeTx *sql.Tx) error {
				var err error
				w, err = l.walkChain(ctx, chainTx, refTx, probeTx, c, cps, trail)
				return err
			})
		})
	})
	return w, err
}

func (l *Log) walkChain(ctx context.Context, chainTx, refTx, probeTx *sql.Tx, c chain, cps map[int64]signedHead, trail *alertTrail) (chainWalk, error) {
	var w chainWalk
	// The chain as far as its head now: records appended during the walk
	// (and their references) are left to the next verification.
	var head int64
	err := chainTx.QueryRowContext(ctx, `SELECT seq FROM audit_records WHERE tenant_id = $1 AND track = $2 ORDER BY seq DESC LIMIT 1`,
		c.tenantID, string(c.track)).Scan(&head)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return w, fmt.Errorf("read chain head: %w", err)
	}
	rows, err := chainTx.QueryContext(ctx, selectChain, c.tenantID, string(c.track), head)
	if err != nil {
		return w, fmt.Errorf("read chain: %w", err)
	}
	defer rows.Close()
	refs, err := openRefs(ctx, refTx, c, head)
	if err != nil {
		return w, err
	}
	defer refs.close()
	var (
		expected                            int64 = 1
		prevHash                                  = GenesisHash
		first                                     = true
		r                                         = Record{TenantID: c.tenantID, Track: c.track}
		objects, details, actorKind, action string
		// The first reference that does not match its record: reported
		// when the chain itself is whole (a broken chain is the graver
		// finding, and renumbered records misplace their references too).
		refsProblem *Problem
	)
	problem := func(seq int64, kind, msg string) *Problem {
		return &Problem{c.tenantID, c.track, seq, kind, msg}
	}
	for rows.Next() {
		if err := rows.Scan(&r.Seq, &r.ID, &r.Time, &actorKind, &r.Actor.ID, &action, &objects, &r.RequestID, &details, &r.PrevHash, &r.Hash); err != nil {
			return w, err
		}
		w.records++
		r.Actor.Kind, r.Action = ActorKind(actorKind), Action(action)
		var err1, err2 error
		r.Objects, err1 = decodeObjects(objects)
		r.Details, err2 = decodeDetails(details)
		if err1 != nil || err2 != nil {
			w.problem = problem(r.Seq, Changed, "the record's objects or details are not readable")
			return w, nil
		}
		if first && r.Seq > 1 {
			// The chain starts after pruning: only a checkpoint signed for
			// that prune, at the record just before, vouches for the
			// records that are gone. An ordinary checkpoint says what the
			// chain was, not that any of it may go.
			cp, ok := cps[r.Seq-1]
			if !ok || !cp.prune {
				w.problem = problem(1, Deleted, fmt.Sprintf("records 1 to %d are missing and no checkpoint signed for a prune vouches for their removal", r.Seq-1))
				return w, nil
			}
			expected, prevHash = r.Seq, cp.hash
			trail.startsAt(r.Time)
		}
		first = false
		if r.Seq != expected {
			w.problem = problem(expected, Deleted, fmt.Sprintf("records %d to %d are missing", expected, r.Seq-1))
			return w, nil
		}
		if ComputeHash(r.PrevHash, &r) != r.Hash {
			w.problem = problem(r.Seq, Changed, "the record's content does not match its hash")
			return w, nil
		}
		if r.PrevHash != prevHash {
			rows.Close()
			kind, seq, msg, err := classifyLink(ctx, probeTx, c, r.Seq, r.PrevHash)
			if err != nil {
				return w, err
			}
			w.problem = problem(seq, kind, msg)
			return w, nil
		}
		if cp, ok := cps[r.Seq]; ok && cp.hash != r.Hash {
			w.problem = problem(r.Seq, Changed, "the chain up to this record was rewritten: it differs from the signed checkpoint")
			return w, nil
		}
		n, msg, err := refs.check(&r)
		if err != nil {
			return w, err
		}
		w.refs += n
		if msg != "" && refsProblem == nil {
			refsProblem = problem(r.Seq, RefsChanged, msg)
		}
		trail.note(&r)
		prevHash = r.Hash
		expected++
	}
	if err := rows.Err(); err != nil {
		return w, err
	}
	if w.records == 0 {
		// Every record is gone: rightly so up to the last prune checkpoint.
		for seq, cp := range cps {
			if cp.prune && seq >= expected {
				expected = seq + 1
			}
		}
		trail.startsAt(endOfTime) // nothing left to check alerts against
	}
	var last int64
	for seq := range cps {
		last = max(last, seq)
	}
	if last >= expected {
		w.problem = problem(expected, Truncated, fmt.Sprintf("records %d to %d are gone; a signed checkpoint counts %d", expected, last, last))
		return w, nil
	}
	if refsProblem == nil {
		seq, msg, err := refs.rest()
		if err != nil {
			return w, err
		}
		if msg != "" {
			refsProblem = problem(seq, RefsChanged, msg)
		}
	}
	trail.complete()
	w.problem = refsProblem
	return w, nil
}

// classifyLink names a broken link at seq whose record names prev as its
// predecessor: the predecessor appears later in the chain (reordered),
// earlier (a record was inserted before seq), or nowhere (deleted).
func classifyLink(ctx context.Context, tx *sql.Tx, c chain, seq int64, prev string) (string, int64, string, error) {
	var other int64
	err := tx.QueryRowContext(ctx, `SELECT seq FROM audit_records WHERE tenant_id = $1 AND track = $2 AND hash = $3`,
		c.tenantID, string(c.track), prev).Scan(&other)
	switch {
	case err != nil && prev == GenesisHash:
		return Inserted, seq - 1, "records were inserted before the chain's first record", nil
	case err != nil:
		return Deleted, seq, "the record before this one is missing", nil
	case other > seq:
		return Reordered, seq, fmt.Sprintf("this record follows record %d in the chain: records were swapped", other), nil
	default:
		return Inserted, seq - 1, fmt.Sprintf("this record was inserted: the next record links to record %d", other), nil
	}
}

// refRow is one row of audit_refs of a chain.
type refRow struct {
	seq      int64
	kind, id string
	at       time.Time
}

// refStream reads a chain's references in the order of the chain, to be
// compared with each record's own object list as the chain is walked (a
// merge of two ordered streams: no reference is looked up one by one).
type refStream struct {
	rows *sql.Rows
	next *refRow // read ahead, not yet compared
	at   []refRow
}

func openRefs(ctx context.Context, tx *sql.Tx, c chain, head int64) (*refStream, error) {
	// Ordered by record only: the order of one record's references is the
	// engine's collation's, so they are sorted here.
	rows, err := tx.QueryContext(ctx, `SELECT seq, object_kind, object_id, occurred_at FROM audit_refs
		WHERE tenant_id = $1 AND track = $2 AND seq <= $3 ORDER BY seq`, c.tenantID, string(c.track), head)
	if err != nil {
		return nil, fmt.Errorf("read audit references: %w", err)
	}
	s := &refStream{rows: rows}
	return s, s.advance()
}

func (s *refStream) close() { s.rows.Close() }

func (s *refStream) advance() error {
	s.next = nil
	if !s.rows.Next() {
		if err := s.rows.Err(); err != nil {
			return fmt.Errorf("read audit references: %w", err)
		}
		return nil
	}
	var row refRow
	if err := s.rows.Scan(&row.seq, &row.kind, &row.id, &row.at); err != nil {
		return fmt.Errorf("read audit references: %w", err)
	}
	s.next = &row
	return nil
}

// check compares the references filed under r with r's objects, after
// passing the ones filed under records before it (which the chain does not
// hold). It returns how many it read and what is wrong ("" when nothing).
func (s *refStream) check(r *Record) (int64, string, error) {
	var n int64
	msg := ""
	for s.next != nil && s.next.seq < r.Seq {
		if msg == "" {
			msg = fmt.Sprintf("a %s reference is filed under record %d, which the chain does not hold", s.next.kind, s.next.seq)
		}
		n++
		if err := s.advance(); err != nil {
			return n, "", err
		}
	}
	s.at = s.at[:0]
	for s.next != nil && s.next.seq == r.Seq {
		s.at = append(s.at, *s.next)
		n++
		if err := s.advance(); err != nil {
			return n, "", err
		}
	}
	if msg != "" {
		return n, msg, nil
	}
	return n, compareRefs(r, s.at), nil
}

// rest reports references filed under records after the chain's last.
func (s *refStream) rest() (int64, string, error) {
	if s.next == nil {
		return 0, "", nil
	}
	return s.next.seq, fmt.Sprintf("a %s reference is filed under record %d, which the chain does not hold", s.next.kind, s.next.seq), nil
}

// compareRefs says how the references filed under r differ from r's own
// objects (each object once, at the record's time), or "".
func compareRefs(r *Record, got []refRow) string {
	want := make([]refRow, 0, len(r.Objects))
	for _, o := range r.Objects {
		row := refRow{seq: r.Seq, kind: o.Kind, id: o.ID, at: r.Time}
		if !slices.ContainsFunc(want, func(w refRow) bool { return w.kind == row.kind && w.id == row.id }) {
			want = append(want, row)
		}
	}
	byObject := func(a, b refRow) int {
		if c := strings.Compare(a.kind, b.kind); c != 0 {
			return c
		}
		return strings.Compare(a.id, b.id)
	}
	slices.SortFunc(want, byObject)
	slices.SortFunc(got, byObject)
	for i := 0; i < max(len(want), len(got)); i++ {
		switch {
		case i >= len(got) || i < len(want) && byObject(want[i], got[i]) < 0:
			return fmt.Sprintf("the record's %s is missing from the index of objects", want[i].kind)
		case i >= len(want) || byObject(want[i], got[i]) > 0:
			return fmt.Sprintf("the index of objects files this record under a %s it does not name", got[i].kind)
		case !want[i].at.Equal(got[i].at):
			return fmt.Sprintf("the index of objects files this record's %s at another time", want[i].kind)
		}
	}
	return ""
}

// endOfTime is later than any record.
var endOfTime = time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)

// alertTrail collects, while a company's security chain is walked, the
// records that raised and acknowledged its alerts.
type alertTrail struct {
	raised, acked map[string]alertEvent
	// from: alerts raised before this time were raised by records that
	// pruning removed, and cannot be checked.
	from time.Time
	// done: the chain was walked to its end; broken: it was not whole.
	done, broken bool
}

type alertEvent struct {
	seq          int64
	at           time.Time
	actor        string
	rule, count  string
	triggeringID string
}

func newAlertTrail() *alertTrail {
	return &alertTrail{raised: map[string]alertEvent{}, acked: map[string]alertEvent{}}
}

func (t *alertTrail) startsAt(at time.Time) {
	if t != nil {
		t.from = at
	}
}

func (t *alertTrail) complete() {
	if t != nil {
		t.done = true
	}
}

func (t *alertTrail) note(r *Record) {
	if t == nil || (r.Action != AlertRaised && r.Action != AlertAcknowledged) {
		return
	}
	ev := alertEvent{seq: r.Seq, at: r.Time, actor: r.Actor.ID, rule: r.Details["rule"], count: r.Details["count"]}
	id := ""
	for _, o := range r.Objects {
		switch o.Kind {
		case "alert":
			id = o.ID
		case "audit_record":
			ev.triggeringID = o.ID
		}
	}
	if r.Action == AlertRaised {
		t.raised[id] = ev
	} else {
		t.acked[id] = ev
	}
}

// verifyAlerts checks every alert row (of one company when tenantID is
// non-nil) against the records that raised and acknowledged it, collected
// in trails by company. Only when the notification email went out
// (notified_at) is not recorded: it is the jobs runner's bookkeeping.
func (l *Log) verifyAlerts(ctx context.Context, tenantID *string, trails map[string]*alertTrail) ([]Problem, int, error) {
	q := `SELECT tenant_id, id, rule, count, created_at, record_track, record_seq, acknowledged_at, acknowledged_by FROM audit_alerts`
	var args []any
	if tenantID != nil {
		q += ` WHERE tenant_id = $1`
		args = append(args, *tenantID)
	}
	type alertRow struct {
		Alert
		count string
	}
	var alerts []alertRow
	err := l.each(ctx, db.Installation, q+` ORDER BY tenant_id, created_at, id`, args, func(rows *sql.Rows) error {
		var a alertRow
		var rule, track string
		var acked sql.NullTime
		if err := rows.Scan(&a.TenantID, &a.ID, &rule, &a.Count, &a.CreatedAt, &track, &a.RecordSeq, &acked, &a.AcknowledgedBy); err != nil {
			return err
		}
		a.Rule, a.RecordTrack, a.count = Rule(rule), Track(track), fmt.Sprint(a.Count)
		if acked.Valid {
			a.AcknowledgedAt = &acked.Time
		}
		alerts = append(alerts, a)
		return nil
	})
	if err != nil {
		return nil, 0, fmt.Errorf("read alerts: %w", err)
	}
	var out []Problem
	problem := func(tenant string, seq int64, msg string) {
		out = append(out, Problem{TenantID: tenant, Track: Security, Seq: seq, Kind: AlertChanged, Message: msg})
	}
	for _, a := range alerts {
		t := trails[a.TenantID]
		if t == nil {
			t = newAlertTrail() // no security chain: nothing raised it
			t.done = true
			trails[a.TenantID] = t
		}
		if t.broken || !t.done || a.CreatedAt.Before(t.from) {
			continue
		}
		ev, ok := t.raised[a.ID]
		if !ok {
			problem(a.TenantID, 0, fmt.Sprintf("alert %s is not in the trail: no record raised it", a.ID))
			continue
		}
		delete(t.raised, a.ID)
		if string(a.Rule) != ev.rule || a.count != ev.count || !a.CreatedAt.Equal(ev.at) {
			problem(a.TenantID, ev.seq, fmt.Sprintf("alert %s differs from the record that raised it (rule, count or time)", a.ID))
			continue
		}
		var triggering string
		err := l.db.ReadTx(ctx, db.Installation, func(tx *sql.Tx) error {
			return tx.QueryRowContext(ctx, `SELECT id FROM audit_records WHERE tenant_id = $1 AND track = $2 AND seq = $3`,
				a.TenantID, string(a.RecordTrack), a.RecordSeq).Scan(&triggering)
		})
		switch {
		case errors.Is(err, sql.ErrNoRows):
			// The triggering record was pruned (its track may keep less long).
		case err != nil:
			return nil, 0, fmt.Errorf("read alert's record: %w", err)
		case triggering != ev.triggeringID:
			problem(a.TenantID, ev.seq, fmt.Sprintf("alert %s points to another record than the one that raised it", a.ID))
			continue
		}
		ack, acked := t.acked[a.ID]
		switch {
		case a.AcknowledgedAt == nil && acked:
			problem(a.TenantID, ack.seq, fmt.Sprintf("alert %s was acknowledged, but its row says it is open", a.ID))
		case a.AcknowledgedAt != nil && !acked:
			problem(a.TenantID, ev.seq, fmt.Sprintf("alert %s is marked acknowledged, but no record says anyone acknowledged it", a.ID))
		case a.AcknowledgedAt != nil && (a.AcknowledgedBy != ack.actor || !sameMoment(*a.AcknowledgedAt, ack.at)):
			problem(a.TenantID, ack.seq, fmt.Sprintf("alert %s's acknowledgement differs from its record (who or when)", a.ID))
		}
	}
	// Raised alerts whose rows are gone.
	for tenant, t := range trails {
		if t.broken || !t.done {
			continue
		}
		for id, ev := range t.raised {
			problem(tenant, ev.seq, fmt.Sprintf("alert %s was raised, but its row is gone", id))
		}
	}
	slices.SortFunc(out, func(a, b Problem) int {
		if c := strings.Compare(a.TenantID, b.TenantID); c != 0 {
			return c
		}
		if c := cmp.Compare(a.Seq, b.Seq); c != 0 {
			return c
		}
		return strings.Compare(a.Message, b.Message)
	})
	return out, len(alerts), nil
}

// sameMoment compares an acknowledgement's row and record times. They are
// one value since the record carries the row's time; before that, each
// took the clock on its own, microseconds apart.
func sameMoment(a, b time.Time) bool {
	d := a.Sub(b)
	return d < time.Second && d > -time.Second
}
