package cli

import (
	"context"
	"fmt"
	"runtime"

	"github.com/kandidat/kandidat/internal/app"
	"github.com/kandidat/kandidat/internal/config"
)

func runVersion(ctx context.Context, env *Env, args []string) error {
	f := newFlags(env, "version", "version", config.NoSettings)
	if err := f.parse(args); err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "kandidat %s (%s, %s/%s)\n", app.VersionString(), runtime.Version(), runtime.GOOS, runtime.GOARCH)
	return nil
}

func runConfig(ctx context.Context, env *Env, args []string) error {
	f := newFlags(env, "config", "config [flags]  (shows what serve would use with the same flags and environment)", config.Server)
	if err := f.parse(args); err != nil {
		return err
	}
	for _, e := range f.cfg.Effective(config.Server) {
		fmt.Fprintf(env.Stdout, "%-26s %-36s %s\n", e.Name, e.Env, e.Value)
	}
	fmt.Fprintf(env.Stdout, "%-26s %-36s %s\n", "(master key path)", "", f.cfg.MasterKeyPath())
	return nil
}
