// Package db opens Kandidat's database, SQLite (embedded, the default) or
// PostgreSQL, and hides the few differences between the two engines behind
// one DB value: the transaction helper, the migration runner and the mapping
// of driver errors to the sentinels below.
package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// Engine names a database engine.
type Engine string

// The engines Kandidat runs on.
const (
	SQLite   Engine = "sqlite"
	Postgres Engine = "postgres"
)

// Sentinel errors that stores translate into their own domain errors.
var (
	// ErrUniqueViolation is returned (wrapped) when an insert or update breaks a unique constraint.
	ErrUniqueViolation = errors.New("unique constraint violated")
	// ErrForeignKeyViolation is returned (wrapped) when a foreign key constraint fails.
	ErrForeignKeyViolation = errors.New("foreign key constraint violated")
)

// DB is an open database. Writes go through Write, which on SQLite is a
// single connection (SQLite allows one writer at a time, and queueing in Go
// is cheaper than spinning on SQLITE_BUSY); reads go through Read, a pool.
// On PostgreSQL both are the same pool.
type DB struct {
	Engine Engine
	Write  *sql.DB
	Read   *sql.DB
	// Path is the SQLite database file; empty on PostgreSQL.
	Path string
	// appRole reports, on PostgreSQL, whether the connections run as the
	// application role, which does not own the tables (row-level security).
	appRole atomic.Bool
	// statementTimeout bounds each statement of a company's transaction.
	statementTimeout time.Duration
	// checkpoint replaces SQLite's own checkpoint in Reclaim while a
	// point-in-time replicator owns the write-ahead log (nil: none).
	checkpoint atomic.Pointer[func(context.Context) error]
}

// SetCheckpoint makes Reclaim checkpoint SQLite's write-ahead log through
// fn (the point-in-time replicator, which holds a read transaction on the
// log and must copy it before it is truncated); nil restores the default.
func (d *DB) SetCheckpoint(fn func(context.Context) error) {
	if fn == nil {
		d.checkpoint.Store(nil)
		return
	}
	d.checkpoint.Store(&fn)
}

// AppRole is the PostgreSQL role the application's connections assume
// once migrations have created it: it may read and write rows, owns no
// table, and is therefore subject to row-level security (DESIGN §3). The
// login role of the database URL owns the tables and runs migrations.
const AppRole = "kandidat_app"

// RunsAsAppRole reports whether the connections run as AppRole (PostgreSQL
// after migration 0010; false on SQLite, which has no roles).
func (d *DB) RunsAsAppRole() bool { return d.appRole.Load() }

// Installation is the scope of work that belongs to no one company: jobs
// that sweep every company, the command line, and the lookups that find a
// company from a login or an emailed link. Its transactions see every
// company's rows; everything else declares the one company it acts in.
const Installation = "*"

// ErrNoScope is returned when a transaction is begun without declaring
// whom it acts for: a programming error, refused on both engines.
var ErrNoScope = errors.New("db: transaction declares no company (pass a company id or db.Installation)")

// DefaultStatementTimeout bounds every statement of a company's
// transaction on PostgreSQL (Options.StatementTimeout), so that one
// company's slow page cannot hold connections other users wait for.
const DefaultStatementTimeout = 30 * time.Second

// declare checks the scope of a transaction and, on PostgreSQL, declares it
// to row-level security (SET LOCAL), with the statement timeout of a
// company's transaction: a statement that forgets its company's filter
// still sees no other company's rows, and a transaction that declares
// nothing sees no company row at all.
func (d *DB) declare(ctx context.Context, tx *sql.Tx, scope string) error {
	if scope == "" {
		return ErrNoScope
	}
	if d.Engine != Postgres {
		return nil
	}
	timeout := "0"
	if scope != Installation && d.statementTimeout > 0 {
		timeout = strconv.FormatInt(d.statementTimeout.Milliseconds(), 10)
	}
	if _, err := tx.ExecContext(ctx, `SELECT set_config('kandidat.tenant_id', $1, true), set_config('statement_timeout', $2, true)`, scope, timeout); err != nil {
		return fmt.Errorf("declare the company of the transaction: %w", err)
	}
	return nil
}

// Options says which database to open.
type Options struct {
	// URL is empty for SQLite in DataDir, or a postgres:// URL.
	URL string
	// DataDir holds the SQLite file when URL is empty.
	DataDir string
	// ConnectRetries bounds the attempts to reach PostgreSQL at start-up.
	ConnectRetries int
	// RetryDelay is the pause between two attempts.
	RetryDelay time.Duration
	// Trace is for tests: called with every statement run, before it runs
	// (direct or prepared, with its arguments), on both pools.
	Trace func(query string, args []any)
	// StatementTimeout bounds each statement of a company's transaction on
	// PostgreSQL: 0 is DefaultStatementTimeout, negative is none.
	StatementTimeout time.Duration
	// SessionScope is for tests: the scope of statements run straight on a
	// pool, outside InTx and ReadTx, so that a test can set up and
	// inspect data directly. Kandidat itself leaves it empty: such a
	// statement then sees no company row (and a test in the app package
	// refuses them in its code).
	SessionScope string
}

// SQLiteFileName is the name of the database file inside the data directory.
const SQLiteFileName = "kandidat.db"

// Open opens (and for SQLite creates) the database described by opts and
// checks that it answers.
func Open(ctx context.Context, opts Options) (*DB, error) {
	if opts.URL == "" {
		return openSQLite(ctx, filepath.Join(opts.DataDir, SQLiteFileName), opts.Trace)
	}
	u, err := url.Parse(opts.URL)
	if err != nil {
		return nil, fmt.Errorf("database URL is not a valid URL")
	}
	switch u.Scheme {
	case "postgres", "postgresql":
		return openPostgres(ctx, opts)
	case "sqlite", "file":
		p := u.Path
		if u.Opaque != "" {
			p = u.Opaque
		}
		return openSQLite(ctx, p, opts.Trace)
	default:
		return nil, fmt.Errorf("database URL has unknown scheme %q (use postgres:// or leave it empty for SQLite)", u.Scheme)
	}
}

// sqlitePragmas are set on every SQLite connection. secure_delete makes
// erased personal data overwritten instead of left in free pages.
var sqlitePragmas = []string{
	"busy_timeout(10000)",
	"foreign_keys(ON)",
	"secure_delete(ON)",
	"synchronous(NORMAL)",
}

func sqliteDSN(path string, txlock string) string {
	q := url.Values{}
	for _, p := range sqlitePragmas {
		q.Add("_pragma", p)
	}
	// Times are written as "2006-01-02 15:04:05.999999999+00:00" in UTC, a
	// form that sorts correctly as text, so comparisons work in SQL.
	q.Set("_time_format", "sqlite")
	q.Set("_timezone", "UTC")
	if txlock != "" {
		q.Set("_txlock", txlock)
	}
	return "file:" + path + "?" + q.Encode()
}

// openSQLitePool opens a pool on dsn, through the tracing connector when
// trace is set.
func openSQLitePool(dsn string, trace func(string, []any)) (*sql.DB, error) {
	c, err := sqlite.NewConnector(dsn)
	if err != nil {
		return nil, err
	}
	if trace == nil {
		return sql.OpenDB(cacheConnector{inner: c}), nil
	}
	return sql.OpenDB(traceConnector{inner: cacheConnector{inner: c}, trace: trace}), nil
}

func openSQLite(ctx context.Context, path string, trace func(string, []any)) (*DB, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("create database directory: %w", err)
	}
	// WAL is a property of the file, set once with the writer.
	// The writer keeps a larger page cache (64 MiB): a transaction that
	// writes many rows (an import, the seed) then writes its pages at commit,
	// instead of spilling them on the way.
	w, err := openSQLitePool(sqliteDSN(path, "immediate")+"&_pragma=journal_mode(WAL)&_pragma=cache_size(-65536)", trace)
	if err != nil {
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxIdleTime(0)
	w.SetConnMaxLifetime(0)
	if err := w.PingContext(ctx); err != nil {
		w.Close()
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		w.Close()
		return nil, fmt.Errorf("restrict database file mode: %w", err)
	}
	// Readers map the file (256 MiB) and keep 16 MiB of pages each: a page
	// read is a memory access, not a system call, on a company of 100,000.
	r, err := openSQLitePool(sqliteDSN(path, "")+"&_pragma=query_only(ON)&_pragma=mmap_size(268435456)&_pragma=cache_size(-16384)", trace)
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("open sqlite readers: %w", err)
	}
	r.SetMaxOpenConns(4)
	r.SetMaxIdleConns(2)
	r.SetConnMaxIdleTime(5 * time.Minute)
	return &DB{Engine: SQLite, Write: w, Read: r, Path: path}, nil
}

func openPostgres(ctx context.Context, opts Options) (*DB, error) {
	cfg, err := pgx.ParseConfig(opts.URL)
	if err != nil {
		return nil, fmt.Errorf("database URL: %s", redactPGError(err))
	}
	if err := checkPostgresTLS(cfg, opts.URL); err != nil {
		return nil, err
	}
	cfg.RuntimeParams["timezone"] = "UTC"
	cfg.RuntimeParams["application_name"] = "kandidat"
	d := &DB{Engine: Postgres, statementTimeout: DefaultStatementTimeout}
	if opts.StatementTimeout != 0 {
		d.statementTimeout = max(opts.StatementTimeout, 0)
	}
	afterConnect := stdlib.OptionAfterConnect(func(ctx context.Context, c *pgx.Conn) error {
		// Assume the application role when it exists and the login role may.
		var member bool
		err := c.QueryRow(ctx, `SELECT pg_has_role(current_user, oid, 'MEMBER') FROM pg_roles WHERE rolname = $1`, AppRole).Scan(&member)
		if errors.Is(err, pgx.ErrNoRows) || err == nil && !member {
			d.appRole.Store(false)
			return nil
		}
		if err != nil {
			return err
		}
		if _, err := c.Exec(ctx, `SET ROLE `+AppRole); err != nil {
			return err
		}
		if opts.SessionScope != "" {
			if _, err := c.Exec(ctx, `SELECT set_config('kandidat.tenant_id', $1, false)`, opts.SessionScope); err != nil {
				return err
			}
		}
		d.appRole.Store(true)
		return nil
	})
	var pool *sql.DB
	if opts.Trace == nil {
		pool = stdlib.OpenDB(*cfg, afterConnect)
	} else {
		pool = sql.OpenDB(traceConnector{inner: stdlib.GetConnector(*cfg, afterConnect), trace: opts.Trace})
	}
	pool.SetMaxOpenConns(20)
	pool.SetMaxIdleConns(10)
	pool.SetConnMaxIdleTime(5 * time.Minute)
	retries := opts.ConnectRetries
	if retries <= 0 {
		retries = 1
	}
	delay := opts.RetryDelay
	if delay <= 0 {
		delay = time.Second
	}
	for attempt := 1; ; attempt++ {
		pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		err = pool.PingContext(pctx)
		cancel()
		if err == nil {
			break
		}
		if attempt >= retries || ctx.Err() != nil {
			pool.Close()
			return nil, fmt.Errorf("PostgreSQL at %s is unreachable after %d attempts: %s", cfg.Host, attempt, redactPGError(err))
		}
		select {
		case <-ctx.Done():
		case <-time.After(delay):
		}
	}
	d.Write, d.Read = pool, pool
	return d, nil
}

// checkPostgresTLS refuses an unencrypted or unverified connection to a
// PostgreSQL server off this machine unless the URL says so explicitly
// with sslmode=disable, allow, prefer or require.
func checkPostgresTLS(cfg *pgx.ConnConfig, raw string) error {
	if isLocalHost(cfg.Host) {
		return nil
	}
	u, _ := url.Parse(raw)
	if u != nil && u.Query().Get("sslmode") != "" {
		return nil // the operator chose
	}
	if cfg.TLSConfig == nil || cfg.TLSConfig.InsecureSkipVerify {
		return fmt.Errorf("database URL: PostgreSQL at %s is not on this machine; add sslmode=verify-full (or choose another sslmode explicitly)", cfg.Host)
	}
	return nil
}

func isLocalHost(host string) bool {
	if host == "" || strings.HasPrefix(host, "/") || host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// redactPGError keeps passwords out of messages that reach logs and terminals.
func redactPGError(err error) string {
	msg := strings.Join(strings.Fields(err.Error()), " ")
	if i := strings.Index(msg, "://"); i >= 0 {
		if j := strings.Index(msg[i:], "@"); j >= 0 {
			msg = msg[:i+3] + "…" + msg[i+j:]
		}
	}
	return msg
}

// Close closes the database.
func (d *DB) Close() error {
	var errs []error
	if d.Read != d.Write {
		errs = append(errs, d.Read.Close())
	}
	errs = append(errs, d.Write.Close())
	return errors.Join(errs...)
}

// Ping checks that the database answers.
func (d *DB) Ping(ctx context.Context) error {
	return d.Write.PingContext(ctx)
}

// InTx runs fn in one write transaction declared for scope (a company's
// id, or Installation) and commits it when fn returns nil. Anything fn
// writes, including audit records, commits or rolls back together.
func (d *DB) InTx(ctx context.Context, scope string, fn func(tx *sql.Tx) error) error {
	if scope == "" {
		return ErrNoScope
	}
	tx, err := d.Write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin transaction: %w", err)
	}
	return finishTx(tx, func(tx *sql.Tx) error {
		if err := d.declare(ctx, tx, scope); err != nil {
			return err
		}
		return fn(tx)
	})
}

// ReadTx runs fn in a read-only transaction on the read pool, declared
// for scope like InTx: every read of company data goes through it, so
// that row-level security applies to it too.
func (d *DB) ReadTx(ctx context.Context, scope string, fn func(tx *sql.Tx) error) error {
	if scope == "" {
		return ErrNoScope
	}
	var opts *sql.TxOptions
	if d.Engine == Postgres {
		opts = &sql.TxOptions{ReadOnly: true}
	}
	tx, err := d.Read.BeginTx(ctx, opts)
	if err != nil {
		return fmt.Errorf("begin read transaction: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // read-only: nothing to keep
	if err := d.declare(ctx, tx, scope); err != nil {
		return err
	}
	return fn(tx)
}

// finishTx runs fn in tx and commits, or rolls back when fn fails.
func finishTx(tx *sql.Tx, fn func(tx *sql.Tx) error) error {
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", MapError(err))
	}
	return nil
}

// MapError turns driver errors into this package's sentinels, by error code
// and never by message text, so stores can tell a conflict from a failure.
func MapError(err error) error {
	if err == nil {
		return nil
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code {
		case "23505":
			return fmt.Errorf("%w: %s", ErrUniqueViolation, pgErr.ConstraintName)
		case "23503":
			return fmt.Errorf("%w: %s", ErrForeignKeyViolation, pgErr.ConstraintName)
		}
		return err
	}
	var sqErr *sqlite.Error
	if errors.As(err, &sqErr) {
		switch sqErr.Code() {
		case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
			return fmt.Errorf("%w: %v", ErrUniqueViolation, err)
		case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
			return fmt.Errorf("%w: %v", ErrForeignKeyViolation, err)
		}
	}
	return err
}

// Now returns the current time in the form every store writes: UTC, to the
// microsecond (PostgreSQL's resolution), so a value read back equals the
// value written on both engines.
func Now() time.Time { return Time(time.Now()) }

// Time normalises t for storage.
func Time(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

// Querier is what Strings reads through: a transaction, or a pool for
// the installation's own catalogue queries.
type Querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// Strings runs a query of one text column in q and returns its values.
func Strings(ctx context.Context, q Querier, query string, args ...any) ([]string, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}
