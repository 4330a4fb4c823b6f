package db

import (
	"context"
	"database/sql/driver"
	"errors"
	"io"
)

// SQLite parses a statement each time a connection runs its text; parsing
// was a sixth of the CPU of a page of the API's lists. cacheConnector hands
// out connections that keep the statements their queries prepared, by text,
// and run them again with new arguments (modernc's prepared statement keeps
// its compiled form and is reset when its rows close). PostgreSQL needs no
// such wrapper: pgx caches prepared statements per connection itself.
type cacheConnector struct {
	inner driver.Connector
}

func (c cacheConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.inner.Connect(ctx)
	if err != nil {
		return nil, err
	}
	pc, ok := conn.(driver.ConnPrepareContext)
	if !ok {
		return conn, nil
	}
	return &cacheConn{Conn: conn, prep: pc, stmts: map[string]*cachedStmt{}}, nil
}

func (c cacheConnector) Driver() driver.Driver { return c.inner.Driver() }

func (c cacheConnector) Close() error {
	if cl, ok := c.inner.(io.Closer); ok {
		return cl.Close()
	}
	return nil
}

// stmtCacheSize bounds the statements one connection keeps.
const stmtCacheSize = 256

// cacheConn is a connection with its statement cache. database/sql uses a
// connection from one goroutine at a time, so the cache needs no lock.
type cacheConn struct {
	driver.Conn
	prep  driver.ConnPrepareContext
	stmts map[string]*cachedStmt
}

type cachedStmt struct {
	s driver.StmtQueryContext
	// busy: rows of this statement are open; a second query of the same
	// text meanwhile (inside the loop over the first) prepares its own.
	busy bool
}

var (
	_ driver.Conn               = (*cacheConn)(nil)
	_ driver.ConnBeginTx        = (*cacheConn)(nil)
	_ driver.ConnPrepareContext = (*cacheConn)(nil)
	_ driver.ExecerContext      = (*cacheConn)(nil)
	_ driver.QueryerContext     = (*cacheConn)(nil)
	_ driver.SessionResetter    = (*cacheConn)(nil)
	_ driver.Validator          = (*cacheConn)(nil)
	_ driver.NamedValueChecker  = (*cacheConn)(nil)
)

func (c *cacheConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	cs := c.stmts[query]
	if cs == nil || cs.busy {
		s, err := c.prep.PrepareContext(ctx, query)
		if err != nil {
			return nil, err
		}
		sq, ok := s.(driver.StmtQueryContext)
		if !ok {
			s.Close()
			return nil, errors.New("db: the driver's statements take no context")
		}
		if cs != nil {
			// The cached one is busy: this one is used once.
			rows, err := sq.QueryContext(ctx, args)
			if err != nil {
				s.Close()
				return nil, err
			}
			return &cachedRows{Rows: rows, done: func() { s.Close() }}, nil
		}
		if len(c.stmts) >= stmtCacheSize {
			c.evict()
		}
		cs = &cachedStmt{s: sq}
		c.stmts[query] = cs
	}
	rows, err := cs.s.QueryContext(ctx, args)
	if err != nil {
		return nil, err
	}
	cs.busy = true
	return &cachedRows{Rows: rows, done: func() { cs.busy = false }}, nil
}

// evict closes the statements not in use.
func (c *cacheConn) evict() {
	for q, cs := range c.stmts {
		if !cs.busy {
			cs.s.(driver.Stmt).Close()
			delete(c.stmts, q)
		}
	}
}

func (c *cacheConn) Close() error {
	for q, cs := range c.stmts {
		cs.s.(driver.Stmt).Close()
		delete(c.stmts, q)
	}
	return c.Conn.Close()
}

func (c *cacheConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	return c.prep.PrepareContext(ctx, query)
}

func (c *cacheConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	if b, ok := c.Conn.(driver.ConnBeginTx); ok {
		return b.BeginTx(ctx, opts)
	}
	return nil, errors.New("db: the driver supports no transaction options")
}

func (c *cacheConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	if e, ok := c.Conn.(driver.ExecerContext); ok {
		return e.ExecContext(ctx, query, args)
	}
	return nil, driver.ErrSkip
}

func (c *cacheConn) ResetSession(ctx context.Context) error {
	if r, ok := c.Conn.(driver.SessionResetter); ok {
		return r.ResetSession(ctx)
	}
	return nil
}

func (c *cacheConn) IsValid() bool {
	if v, ok := c.Conn.(driver.Validator); ok {
		return v.IsValid()
	}
	return true
}

func (c *cacheConn) CheckNamedValue(nv *driver.NamedValue) error {
	if n, ok := c.Conn.(driver.NamedValueChecker); ok {
		return n.CheckNamedValue(nv)
	}
	return driver.ErrSkip
}

// cachedRows gives its statement back when it closes.
type cachedRows struct {
	driver.Rows
	done   func()
	closed bool
}

func (r *cachedRows) Close() error {
	err := r.Rows.Close()
	if !r.closed {
		r.closed = true
		r.done()
	}
	return err
}
