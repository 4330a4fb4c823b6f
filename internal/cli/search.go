package cli

import (
	"context"
	"fmt"
	"time"

	"github.com/kandidat/kandidat/internal/config"
)

// searchReindex is "search reindex": rebuilds the full-text index of one
// company or of every company, online: the server may run meanwhile, and
// changes made during the rebuild are indexed by their own triggers.
func searchReindex(ctx context.Context, env *Env, args []string) error {
	f := newFlags(env, "search reindex", "search reindex [--tenant SLUG|ID] [flags]  (rebuild the search index, online)", config.Installation)
	ref := f.String("tenant", "", "only this company (default: every company)")
	a, err := f.parseOpen(ctx, args)
	if err != nil {
		return err
	}
	defer a.Close()
	tenantID := ""
	if *ref != "" {
		t, err := a.Tenants.ByRef(ctx, *ref)
		if err != nil {
			return tenantError(err)
		}
		tenantID = t.ID
	}
	start, next := time.Now(), 0
	n, err := a.Recruit.Reindex(ctx, tenantID, func(done, total int) {
		if pct := done * 100 / max(total, 1); pct >= next {
			fmt.Fprintf(env.Stderr, "reindex: %d%% (%d of %d candidates, %.0f/s)\n", pct, done, total, float64(done)/time.Since(start).Seconds())
			next = pct - pct%10 + 10
		}
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "indexed %d candidates in %s\n", n, time.Since(start).Round(time.Millisecond))
	return nil
}
