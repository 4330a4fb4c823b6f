package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
)

// WriteSnapshot writes a consistent image of the SQLite database file to w
// while the server goes on writing: every page, in order, read in one
// statement (one read transaction, WAL readers block no writer) from the
// sqlite_dbpage table, so the image is the database as of one moment with
// the write-ahead log's pages in place. It returns the bytes written.
//
// Nothing is written beside the database: a backup streams the image
// straight into its encryption. (Measured on this project's 2-core
// machine, 800 MB: VACUUM INTO 300 MB/s and the online backup API 419 MB/s
// into a file, each followed by reading that file back; the disk's write
// speed, not the copy, bounded both.)
func (d *DB) WriteSnapshot(ctx context.Context, w io.Writer) (int64, error) {
	if d.Engine != SQLite {
		return 0, errors.New("a SQLite snapshot is for SQLite; on PostgreSQL use pg_dump")
	}
	// A connection of its own, so neither the writer nor the readers wait.
	pool, err := openSQLitePool(sqliteDSN(d.Path, "")+"&_pragma=query_only(ON)", nil)
	if err != nil {
		return 0, fmt.Errorf("snapshot connection: %w", err)
	}
	defer pool.Close()
	pool.SetMaxOpenConns(1)
	conn, err := pool.Conn(ctx)
	if err != nil {
		return 0, fmt.Errorf("snapshot connection: %w", err)
	}
	defer conn.Close()
	return writePages(ctx, conn, w)
}

func writePages(ctx context.Context, conn *sql.Conn, w io.Writer) (int64, error) {
	rows, err := conn.QueryContext(ctx, `SELECT pgno, data FROM sqlite_dbpage('main')`)
	if err != nil {
		return 0, fmt.Errorf("snapshot the database: %w", err)
	}
	defer rows.Close()
	var n int64
	var pageSize int
	next := int64(1)
	for rows.Next() {
		var pgno int64
		var data sql.RawBytes
		if err := rows.Scan(&pgno, &data); err != nil {
			return n, fmt.Errorf("snapshot the database: %w", err)
		}
		// The image is only a database if every page is there, in order, of one size.
		if pgno != next || pageSize != 0 && len(data) != pageSize || len(data) == 0 {
			return n, fmt.Errorf("snapshot the database: page %d (%d bytes) where page %d was due", pgno, len(data), next)
		}
		pageSize = len(data)
		next++
		m, err := w.Write(data)
		n += int64(m)
		if err != nil {
			return n, err
		}
	}
	if err := rows.Err(); err != nil {
		return n, fmt.Errorf("snapshot the database: %w", err)
	}
	if next == 1 {
		return 0, errors.New("snapshot the database: no page read")
	}
	return n, nil
}
