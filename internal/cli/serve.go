package cli

import (
	"context"
	"flag"

	"github.com/kandidat/kandidat/internal/app"
	"github.com/kandidat/kandidat/internal/config"
)

func runServe(ctx context.Context, env *Env, args []string) error {
	f := newFlags(env, "serve", "serve [flags]", config.Server)
	if err := f.parse(args); err != nil {
		return err
	}
	cfg := f.cfg
	if cfg.Dev && !f.isSet("log-format") {
		cfg.LogFormat = "text"
	}
	logger := app.NewLogger(cfg, env.Stderr)
	a, err := app.Open(ctx, cfg, logger, app.OpenOptions{Migrate: !cfg.NoMigrate, CreateMasterKey: true, Out: env.Stdout})
	if err != nil {
		return err
	}
	// The database closes after the server has drained.
	defer a.Close()
	return a.Serve(ctx, app.ServeOptions{Out: env.Stdout, Ready: env.Ready})
}

func (f *flags) isSet(name string) bool {
	set := false
	f.Visit(func(fl *flag.Flag) {
		if fl.Name == name {
			set = true
		}
	})
	return set || f.env.Getenv(config.EnvName(name)) != ""
}
