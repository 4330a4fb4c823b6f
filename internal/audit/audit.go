// Package audit is Kandidat's trail of what people and jobs do: layered
// tracks (history, business, security, GDPR, consent, admin), each record
// written in the same transaction as the change it records, hash-chained per
// company and track so that any edit, deletion, insertion, reordering or
// truncation is detected, with signed checkpoints, retention and alerts.
//
// Records refer to people by id only and carry details of a closed set of
// non-personal kinds, so erasing a person leaves the trail intact.
package audit

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/fnv"
	"net/netip"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/db"
	"github.com/kandidat/kandidat/internal/fault"
)

// Actor is who acted, by kind and id.
type Actor struct {
	Kind ActorKind
	ID   string
}

// User returns the actor of a signed-in user.
func User(id string) Actor { return Actor{Kind: ActorUser, ID: id} }

// System returns the actor of a background job, named by the job.
func System(job string) Actor { return Actor{Kind: ActorSystem, ID: job} }

// Operator is the person at the command line of the installation.
var Operator = Actor{Kind: ActorOperator, ID: "cli"}

// Anonymous is an unidentified actor.
var Anonymous = Actor{Kind: ActorAnonymous, ID: "-"}

// ActorOf is the audit actor of a service's caller: the user, the operator,
// or the named job, so that the trail tells an operator's or a job's action
// from a user's.
func ActorOf(a access.Actor) Actor {
	switch a.Kind {
	case access.KindOperator:
		return Operator
	case access.KindSystem:
		return System(a.Job)
	case access.KindToken:
		return Actor{Kind: ActorAPIToken, ID: a.TokenID}
	}
	return User(a.UserID)
}

// Ref names an object a record is about, by kind and id.
type Ref struct {
	Kind string `json:"kind"`
	ID   string `json:"id"`
}

// Event is what a service records.
type Event struct {
	// TenantID is the company; "" for installation-level events.
	TenantID string
	Action   Action
	Actor    Actor
	Objects  []Ref
	Details  map[string]string
	// Time defaults to now.
	Time time.Time
}

// Record is a stored event with its place in the chain.
type Record struct {
	TenantID  string
	Track     Track
	Seq       int64
	ID        string
	Time      time.Time
	Actor     Actor
	Action    Action
	Objects   []Ref
	RequestID string
	Details   map[string]string
	PrevHash  string
	Hash      string
}

// Errors of this package.
var (
	// ErrInvalidEvent is returned (wrapped) for an event the catalogue does not allow.
	ErrInvalidEvent = errors.New("invalid audit event")
	ErrNotFound     = fault.New(fault.ErrNotFound, "audit record not found", "")
)

type requestIDKey struct{}

// WithRequestID returns ctx carrying the request id that records will hold.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey{}, id)
}

// RequestID returns the request id carried by ctx, or "".
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

var idPattern = regexp.MustCompile(`^[A-Za-z0-9._:@-]{1,100}$`)

// Validate checks an event against the catalogue.
func (e *Event) Validate() error {
	spec, ok := Catalogue[e.Action]
	if !ok {
		return fmt.Errorf("%w: unknown action %q", ErrInvalidEvent, e.Action)
	}
	if !slices.Contains(ActorKinds, e.Actor.Kind) || !idPattern.MatchString(e.Actor.ID) {
		return fmt.Errorf("%w: actor %q/%q", ErrInvalidEvent, e.Actor.Kind, e.Actor.ID)
	}
	if e.TenantID != "" && !idPattern.MatchString(e.TenantID) {
		return fmt.Errorf("%w: tenant id", ErrInvalidEvent)
	}
	for _, o := range e.Objects {
		if !slices.Contains(ObjectKinds, o.Kind) || !idPattern.MatchString(o.ID) {
			return fmt.Errorf("%w: object %q/%q", ErrInvalidEvent, o.Kind, o.ID)
		}
	}
	for name, value := range e.Details {
		i := slices.IndexFunc(spec.Details, func(d Detail) bool { return d.Name == name })
		if i < 0 {
			return fmt.Errorf("%w: %s has no detail %q", ErrInvalidEvent, e.Action, name)
		}
		if err := checkDetail(spec.Details[i], value); err != nil {
			return fmt.Errorf("%w: %s detail %s: %v", ErrInvalidEvent, e.Action, name, err)
		}
	}
	return nil
}

func checkDetail(d Detail, v string) error {
	switch d.Kind {
	case Enum:
		if !slices.Contains(d.Values, v) {
			return fmt.Errorf("%q is not one of %v", v, d.Values)
		}
	case EnumList:
		if v == "" {
			return nil
		}
		for _, part := range strings.Split(v, ",") {
			if !slices.Contains(d.Values, part) {
				return fmt.Errorf("%q is not one of %v", part, d.Values)
			}
		}
	case Int:
		if _, err := strconv.ParseInt(v, 10, 64); err != nil {
			return fmt.Errorf("%q is not an integer", v)
		}
	case ID:
		if !idPattern.MatchString(v) {
			return fmt.Errorf("not an identifier")
		}
	case Bool:
		if v != "true" && v != "false" {
			return fmt.Errorf("%q is not true or false", v)
		}
	case IP:
		if v == "" {
			return nil
		}
		if _, err := netip.ParseAddr(v); err != nil {
			return fmt.Errorf("not an IP address")
		}
	default:
		return fmt.Errorf("unknown kind")
	}
	return nil
}

// GenesisHash is the predecessor of a chain's first record.
var GenesisHash = strings.Repeat("0", 64)

// timeFormat is the canonical time: UTC, fixed width, microseconds.
const timeFormat = "2006-01-02T15:04:05.000000Z"

// canonical appends to buf the hashed fields of r: a version tag, then each
// field length-prefixed, objects in their order, details sorted by key. The
// sequence number is not hashed: the chain of hashes, not the numbering,
// fixes the order, so a renumbered record shows as a broken link.
func canonical(buf []byte, r *Record) []byte {
	buf = append(buf, "kandidat-audit/v1"...)
	put := func(s string) {
		buf = binary.AppendUvarint(buf, uint64(len(s)))
		buf = append(buf, s...)
	}
	put(r.TenantID)
	put(string(r.Track))
	put(r.ID)
	var tb [32]byte
	ts := r.Time.UTC().AppendFormat(tb[:0], timeFormat)
	buf = binary.AppendUvarint(buf, uint64(len(ts)))
	buf = append(buf, ts...)
	put(string(r.Actor.Kind))
	put(r.Actor.ID)
	put(string(r.Action))
	buf = binary.AppendUvarint(buf, uint64(len(r.Objects)))
	for _, o := range r.Objects {
		put(o.Kind)
		put(o.ID)
	}
	put(r.RequestID)
	var kb [8]string
	keys := kb[:0]
	for k := range r.Details {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	buf = binary.AppendUvarint(buf, uint64(len(keys)))
	for _, k := range keys {
		put(k)
		put(r.Details[k])
	}
	return buf
}

// ComputeHash returns the hash of r given its predecessor's hash:
// SHA-256 over the predecessor's 32 bytes and r's canonical encoding.
func ComputeHash(prevHash string, r *Record) string {
	var stack [512]byte
	buf := stack[:0]
	var prev [sha256.Size]byte
	if len(prevHash) == 2*sha256.Size {
		if _, err := hex.Decode(prev[:], []byte(prevHash)); err == nil {
			buf = append(buf, prev[:]...)
		} else {
			buf = append(buf, prevHash...) // a malformed stored value still hashes, and breaks the chain visibly
		}
	} else {
		buf = append(buf, prevHash...)
	}
	buf = canonical(buf, r)
	sum := sha256.Sum256(buf)
	return hex.EncodeToString(sum[:])
}

// Log writes and reads the trail.
type Log struct {
	db    *db.DB
	rules Rules
	// installRetention is the installation's retention (SetInstallationRetention).
	installRetention Retention
	signer           *Signer
	checkpointFile   string
	// checkpointExport is a second, append-only copy of the checkpoint file (off the host).
	checkpointExport string
	now              func() time.Time

	stmts *statements // nil: unprepared
}

// statements are prepared once on the write pool: appending a record is the
// hottest write path, and preparing each statement anew costs more than
// running it.
type statements struct {
	head, insert, ref *sql.Stmt
}

const selectHead = `SELECT seq, hash FROM audit_records WHERE tenant_id = $1 AND track = $2 ORDER BY seq DESC LIMIT 1`

// insertRef indexes a record under one of its objects. The key holds the
// record's time before its place in the chain, so an object's records are
// read newest first from the key (List). The references are derived from
// the record's hashed object list, and Verify checks them against it.
const insertRef = `INSERT INTO audit_refs (tenant_id, object_kind, object_id, occurred_at, track, seq) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING`

// prepare prepares the statements on the write pool. It must run outside
// any transaction (SQLite has one write connection, which a transaction
// holds); when it fails, for example before the migrations ran, records are
// written with unprepared statements.
func (l *Log) prepare() {
	ctx := context.Background()
	var st statements
	var err error
	if st.head, err = l.db.Write.PrepareContext(ctx, selectHead); err != nil {
		return
	}
	if st.insert, err = l.db.Write.PrepareContext(ctx, insertRecord); err != nil {
		return
	}
	if st.ref, err = l.db.Write.PrepareContext(ctx, insertRef); err != nil {
		return
	}
	l.stmts = &st
}

// head returns the kept head of a chain, if the batch has it.
func (b *Batch) head(key string) (chainHead, bool) {
	if b == nil {
		return chainHead{}, false
	}
	h, ok := b.heads[key]
	return h, ok
}

func execStmt(ctx context.Context, tx *sql.Tx, st *sql.Stmt, query string, args ...any) error {
	var err error
	if st != nil {
		_, err = tx.StmtContext(ctx, st).ExecContext(ctx, args...)
	} else {
		_, err = tx.ExecContext(ctx, query, args...)
	}
	return err
}

// NewLog returns a Log. signer may be nil for read-only use.
func NewLog(d *db.DB, signer *Signer, rules Rules) *Log {
	l := &Log{db: d, signer: signer, rules: rules, now: db.Now}
	l.prepare()
	return l
}

// SetClock replaces the clock, for tests.
func (l *Log) SetClock(now func() time.Time) { l.now = func() time.Time { return db.Time(now()) } }

// DB returns the database the log writes to.
func (l *Log) DB() *db.DB { return l.db }

const insertRecord = `INSERT INTO audit_records (tenant_id, track, seq, id, occurred_at, actor_kind, actor_id, action,
	objects, request_id, details, prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`

// Record appends e to its track's chain inside tx, the transaction of the
// change it records: both commit, or neither. An invalid event or a failed
// write is an error, and the caller's transaction must roll back.
func (l *Log) Record(ctx context.Context, tx *sql.Tx, e Event) error {
	_, err := l.record(ctx, tx, e)
	return err
}

// Batch appends many records inside one transaction (an import, the
// seed): it reads the head of each chain once, then keeps it, and runs its
// statements prepared on the transaction. The transaction holds every
// chain it writes (SQLite's one writer; PostgreSQL's advisory lock per
// chain, taken at the first record), so the kept heads stay true.
type Batch struct {
	l     *Log
	tx    *sql.Tx
	heads map[string]chainHead
	st    *statements
}

type chainHead struct {
	seq  int64
	hash string
}

// Batch starts a batch of records in tx.
func (l *Log) Batch(tx *sql.Tx) *Batch {
	return &Batch{l: l, tx: tx, heads: map[string]chainHead{}}
}

// Record appends e, as Log.Record does.
func (b *Batch) Record(ctx context.Context, e Event) error {
	if b.st == nil {
		b.st = &statements{}
		var err error
		if b.st.insert, err = b.tx.PrepareContext(ctx, insertRecord); err != nil {
			return err
		}
		if b.st.ref, err = b.tx.PrepareContext(ctx, insertRef); err != nil {
			return err
		}
	}
	_, err := b.l.write(ctx, b.tx, e, b)
	return err
}

func (l *Log) record(ctx context.Context, tx *sql.Tx, e Event) (*Record, error) {
	return l.write(ctx, tx, e, nil)
}

func (l *Log) write(ctx context.Context, tx *sql.Tx, e Event, batch *Batch) (*Record, error) {
	if err := e.Validate(); err != nil {
		return nil, err
	}
	spec := Catalogue[e.Action]
	r := &Record{
		TenantID: e.TenantID, Track: spec.Track, ID: uuid.Must(uuid.NewV7()).String(),
		Time: e.Time, Actor: e.Actor, Action: e.Action, Objects: e.Objects, RequestID: RequestID(ctx), Details: e.Details,
	}
	if r.Time.IsZero() {
		r.Time = l.now()
	}
	r.Time = db.Time(r.Time)
	if r.Objects == nil {
		r.Objects = []Ref{}
	}
	if r.Details == nil {
		r.Details = map[string]string{}
	}
	if len(r.RequestID) > 64 || !utf8Safe(r.RequestID) {
		r.RequestID = ""
	}
	st := l.stmts
	if st == nil {
		st = &statements{}
	}
	var seq int64
	var prev string
	key := r.TenantID + "|" + string(r.Track)
	if h, ok := batch.head(key); ok {
		seq, prev = h.seq, h.hash
	} else {
		var err error
		if seq, prev, err = l.head(ctx, tx, st, r.TenantID, r.Track); err != nil {
			return nil, err
		}
	}
	exec := func(stmt *sql.Stmt, query string, args ...any) error { return execStmt(ctx, tx, stmt, query, args...) }
	if batch != nil {
		st = batch.st
		// Prepared on the transaction itself: run as they are.
		exec = func(stmt *sql.Stmt, _ string, args ...any) error {
			_, err := stmt.ExecContext(ctx, args...)
			return err
		}
	}
	r.Seq, r.PrevHash = seq+1, prev
	r.Hash = ComputeHash(prev, r)
	objects, details := encodeObjects(r.Objects), encodeDetails(r.Details)
	if err := exec(st.insert, insertRecord, r.TenantID, string(r.Track), r.Seq, r.ID, r.Time, string(r.Actor.Kind), r.Actor.ID,
		string(r.Action), objects, r.RequestID, details, r.PrevHash, r.Hash); err != nil {
		return nil, fmt.Errorf("write audit record: %w", db.MapError(err))
	}
	for _, o := range r.Objects {
		if err := exec(st.ref, insertRef, r.TenantID, o.Kind, o.ID, r.Time, string(r.Track), r.Seq); err != nil {
			return nil, fmt.Errorf("write audit reference: %w", err)
		}
	}
	if batch != nil {
		batch.heads[key] = chainHead{r.Seq, r.Hash}
	}
	if e.Action != AlertRaised && e.Action != AlertAcknowledged {
		if err := l.evaluate(ctx, tx, r); err != nil {
			return nil, err
		}
	}
	return r, nil
}

func utf8Safe(s string) bool {
	for _, c := range s {
		if c < 0x21 || c > 0x7e {
			return false
		}
	}
	return true
}

// head returns the last sequence number and hash of a chain, locking the
// chain for this transaction. On SQLite the write transaction already holds
// the database's one write lock; on PostgreSQL a transaction-scoped advisory
// lock per chain serialises writers of the same chain only.
func (l *Log) head(ctx context.Context, tx *sql.Tx, st *statements, tenantID string, track Track) (int64, string, error) {
	if l.db.Engine == db.Postgres {
		h := fnv.New64a()
		h.Write([]byte(tenantID + "|" + string(track)))
		if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(h.Sum64())); err != nil {
			return 0, "", fmt.Errorf("lock audit chain: %w", err)
		}
	}
	var seq int64
	var hash string
	var row *sql.Row
	if st.head != nil {
		row = tx.StmtContext(ctx, st.head).QueryRowContext(ctx, tenantID, string(track))
	} else {
		row = tx.QueryRowContext(ctx, selectHead, tenantID, string(track))
	}
	err := row.Scan(&seq, &hash)
	if errors.Is(err, sql.ErrNoRows) {
		// An empty chain continues from its last checkpoint (after pruning) or from genesis.
		err = tx.QueryRowContext(ctx, `SELECT seq, hash FROM audit_checkpoints WHERE tenant_id = $1 AND track = $2 ORDER BY seq DESC LIMIT 1`,
			tenantID, string(track)).Scan(&seq, &hash)
		if errors.Is(err, sql.ErrNoRows) {
			return 0, GenesisHash, nil
		}
	}
	if err != nil {
		return 0, "", fmt.Errorf("read audit chain head: %w", err)
	}
	return seq, hash, nil
}

// RecordStandalone records an event that is a change of its own (a read
// worth noting, such as an export) in a transaction of its own.
func (l *Log) RecordStandalone(ctx context.Context, e Event) error {
	return l.db.InTx(ctx, scopeOf(e.TenantID), func(tx *sql.Tx) error { return l.Record(ctx, tx, e) })
}
