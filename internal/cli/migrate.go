package cli

import (
	"context"
	"fmt"

	"github.com/kandidat/kandidat/internal/config"
	"github.com/kandidat/kandidat/internal/db"
)

// migrateUp is "migrate up": applies the pending migrations, naming each.
func migrateUp(ctx context.Context, env *Env, args []string) error {
	f := newFlags(env, "migrate up", "migrate up [flags]", config.Installation)
	if err := f.parse(args); err != nil {
		return err
	}
	d, err := openDB(ctx, f.cfg)
	if err != nil {
		return err
	}
	defer d.Close()
	applied, err := d.Migrate(ctx)
	for _, n := range applied {
		fmt.Fprintf(env.Stdout, "applied %s\n", n)
	}
	if err != nil {
		return err
	}
	if len(applied) == 0 {
		fmt.Fprintln(env.Stdout, "The schema is current; nothing to apply.")
	}
	return nil
}

// migrateStatus is "migrate status": each migration and whether it is
// applied; a schema newer than this kandidat is an error.
func migrateStatus(ctx context.Context, env *Env, args []string) error {
	f := newFlags(env, "migrate status", "migrate status [flags]", config.Installation)
	if err := f.parse(args); err != nil {
		return err
	}
	d, err := openDB(ctx, f.cfg)
	if err != nil {
		return err
	}
	defer d.Close()
	st, err := d.Status(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "engine: %s\n", d.Engine)
	for _, n := range st.Applied {
		fmt.Fprintf(env.Stdout, "applied  %s\n", n)
	}
	for _, n := range st.Pending {
		fmt.Fprintf(env.Stdout, "pending  %s\n", n)
	}
	for _, n := range st.Unknown {
		fmt.Fprintf(env.Stdout, "unknown  %s (from a newer kandidat)\n", n)
	}
	switch {
	case len(st.Unknown) > 0:
		return db.ErrSchemaNewer
	case len(st.Pending) > 0:
		fmt.Fprintln(env.Stdout, "The schema is behind; run: kandidat migrate up")
	default:
		fmt.Fprintln(env.Stdout, "The schema is current.")
	}
	return nil
}

func openDB(ctx context.Context, cfg *config.Config) (*db.DB, error) {
	if err := cfg.CheckDataDir(); err != nil {
		return nil, err
	}
	d, err := db.Open(ctx, db.Options{URL: cfg.DatabaseURL, DataDir: cfg.DataDir, ConnectRetries: cfg.DBConnectRetries})
	if err != nil {
		return nil, fmt.Errorf("--database-url: %v", err)
	}
	return d, nil
}
