package db

import (
	"context"
	"database/sql/driver"
	"errors"
	"io"
)

// traceConnector hands out connections that report every statement to
// trace before running it (Options.Trace, for tests). Only a database
// opened with a Trace uses it; the normal path has no wrapper at all.
type traceConnector struct {
	inner driver.Connector
	trace func(query string, args []any)
}

func (c traceConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.inner.Connect(ctx)
	if err != nil {
		return nil, err
	}
	return &traceConn{inner: conn, trace: c.trace}, nil
}

func (c traceConnector) Driver() driver.Driver { return c.inner.Driver() }

// Close closes the inner connector if it has anything to close
// (sql.DB.Close calls it).
func (c traceConnector) Close() error {
	if cl, ok := c.inner.(io.Closer); ok {
		return cl.Close()
	}
	return nil
}

// traceConn reports statements run directly on the connection; prepared
// statements report at Exec/Query time, with their arguments. Everything
// else passes through to the driver's connection.
type traceConn struct {
	inner driver.Conn
	trace func(query string, args []any)
}

var (
	_ driver.Conn               = (*traceConn)(nil)
	_ driver.ConnBeginTx        = (*traceConn)(nil)
	_ driver.ConnPrepareContext = (*traceConn)(nil)
	_ driver.ExecerContext      = (*traceConn)(nil)
	_ driver.QueryerContext     = (*traceConn)(nil)
	_ driver.Pinger             = (*traceConn)(nil)
	_ driver.SessionResetter    = (*traceConn)(nil)
	_ driver.Validator          = (*traceConn)(nil)
	_ driver.NamedValueChecker  = (*traceConn)(nil)
)

func namedArgs(args []driver.NamedValue) []any {
	out := make([]any, len(args))
	for i, a := range args {
		out[i] = a.Value
	}
	return out
}

func valueArgs(args []driver.Value) []any {
	out := make([]any, len(args))
	for i, a := range args {
		out[i] = a
	}
	return out
}

func (c *traceConn) Prepare(query string) (driver.Stmt, error) {
	s, err := c.inner.Prepare(query)
	if err != nil {
		return nil, err
	}
	return c.stmt(s, query), nil
}

func (c *traceConn) stmt(s driver.Stmt, query string) *traceStmt {
	t := &traceStmt{inner: s, query: query, trace: c.trace}
	t.check, _ = c.inner.(driver.NamedValueChecker)
	return t
}

func (c *traceConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	var s driver.Stmt
	var err error
	if pc, ok := c.inner.(driver.ConnPrepareContext); ok {
		s, err = pc.PrepareContext(ctx, query)
	} else {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		s, err = c.inner.Prepare(query)
	}
	if err != nil {
		return nil, err
	}
	return c.stmt(s, query), nil
}

func (c *traceConn) Close() error { return c.inner.Close() }

// Begin is the deprecated driver.Conn method; database/sql calls BeginTx.
func (c *traceConn) Begin() (driver.Tx, error) {
	//lint:ignore SA1019 driver.Conn still requires Begin
	return c.inner.Begin()
}

func (c *traceConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	if b, ok := c.inner.(driver.ConnBeginTx); ok {
		return b.BeginTx(ctx, opts)
	}
	if opts.ReadOnly || opts.Isolation != driver.IsolationLevel(0) {
		return nil, errors.New("db: the driver supports no transaction options")
	}
	//lint:ignore SA1019 the fallback database/sql itself would use
	return c.inner.Begin()
}

func (c *traceConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	e, ok := c.inner.(driver.ExecerContext)
	if !ok {
		return nil, driver.ErrSkip // database/sql prepares instead, and the statement reports
	}
	c.trace(query, namedArgs(args))
	return e.ExecContext(ctx, query, args)
}

func (c *traceConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	q, ok := c.inner.(driver.QueryerContext)
	if !ok {
		return nil, driver.ErrSkip
	}
	c.trace(query, namedArgs(args))
	return q.QueryContext(ctx, query, args)
}

func (c *traceConn) Ping(ctx context.Context) error {
	if p, ok := c.inner.(driver.Pinger); ok {
		return p.Ping(ctx)
	}
	return nil
}

func (c *traceConn) ResetSession(ctx context.Context) error {
	if r, ok := c.inner.(driver.SessionResetter); ok {
		return r.ResetSession(ctx)
	}
	return nil
}

func (c *traceConn) IsValid() bool {
	if v, ok := c.inner.(driver.Validator); ok {
		return v.IsValid()
	}
	return true
}

func (c *traceConn) CheckNamedValue(nv *driver.NamedValue) error {
	if n, ok := c.inner.(driver.NamedValueChecker); ok {
		return n.CheckNamedValue(nv)
	}
	return driver.ErrSkip // database/sql's default conversion
}

// traceStmt is a prepared statement that reports its text and arguments
// each time it runs.
type traceStmt struct {
	inner driver.Stmt
	query string
	trace func(query string, args []any)
	// check is the connection's argument checker, which database/sql
	// would have used for a statement without one of its own.
	check driver.NamedValueChecker
}

var (
	_ driver.Stmt              = (*traceStmt)(nil)
	_ driver.StmtExecContext   = (*traceStmt)(nil)
	_ driver.StmtQueryContext  = (*traceStmt)(nil)
	_ driver.NamedValueChecker = (*traceStmt)(nil)
)

func (s *traceStmt) Close() error  { return s.inner.Close() }
func (s *traceStmt) NumInput() int { return s.inner.NumInput() }

func (s *traceStmt) Exec(args []driver.Value) (driver.Result, error) {
	s.trace(s.query, valueArgs(args))
	//lint:ignore SA1019 for a driver without StmtExecContext
	return s.inner.Exec(args)
}

func (s *traceStmt) Query(args []driver.Value) (driver.Rows, error) {
	s.trace(s.query, valueArgs(args))
	//lint:ignore SA1019 for a driver without StmtQueryContext
	return s.inner.Query(args)
}

func (s *traceStmt) ExecContext(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	if e, ok := s.inner.(driver.StmtExecContext); ok {
		s.trace(s.query, namedArgs(args))
		return e.ExecContext(ctx, args)
	}
	vals, err := plainValues(args)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return s.Exec(vals)
}

func (s *traceStmt) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	if q, ok := s.inner.(driver.StmtQueryContext); ok {
		s.trace(s.query, namedArgs(args))
		return q.QueryContext(ctx, args)
	}
	vals, err := plainValues(args)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return s.Query(vals)
}

func (s *traceStmt) CheckNamedValue(nv *driver.NamedValue) error {
	if n, ok := s.inner.(driver.NamedValueChecker); ok {
		return n.CheckNamedValue(nv)
	}
	if s.check != nil {
		return s.check.CheckNamedValue(nv)
	}
	return driver.ErrSkip // database/sql's default conversion
}

// plainValues is database/sql's fallback for statements without context
// methods: positional arguments only.
func plainValues(args []driver.NamedValue) ([]driver.Value, error) {
	out := make([]driver.Value, len(args))
	for i, a := range args {
		if a.Name != "" {
			return nil, errors.New("db: the driver does not support named parameters")
		}
		out[i] = a.Value
	}
	return out, nil
}
