package cli

import (
	"context"
	"fmt"
	"path/filepath"
	"text/tabwriter"

	"github.com/kandidat/kandidat/internal/app"
	"github.com/kandidat/kandidat/internal/config"
	"github.com/kandidat/kandidat/internal/keys"
)

// keysStatus is "keys status": the master key and each company's data keys.
func keysStatus(ctx context.Context, env *Env, args []string) error {
	f := newFlags(env, "keys status", "keys status [flags]", config.Installation)
	a, err := f.parseOpen(ctx, args)
	if err != nil {
		return err
	}
	defer a.Close()
	infos, err := a.Keys.Tenants(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "master key id: %s\n", a.Master.ID())
	tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TENANT\tMASTER KEY\tKEYS\tPRIMARY\tUPDATED")
	for _, i := range infos {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%s\n", i.TenantID, i.MasterKeyID, i.Keys, i.PrimaryKeyID, i.UpdatedAt.Format("2006-01-02 15:04"))
	}
	return tw.Flush()
}

// keysRotate is "keys rotate": a new primary data key for one company or
// every company.
func keysRotate(ctx context.Context, env *Env, args []string) error {
	f := newFlags(env, "keys rotate", "keys rotate [--tenant SLUG|ID] [flags]  (new primary data key; old data stays readable)", config.Installation)
	ref := f.String("tenant", "", "only this company (default: every company)")
	a, err := f.parseOpen(ctx, args)
	if err != nil {
		return err
	}
	defer a.Close()
	ids, err := companyIDs(ctx, a, *ref)
	if err != nil {
		return err
	}
	for _, id := range ids {
		if err := a.Keys.Rotate(ctx, id); err != nil {
			return fmt.Errorf("rotate data key of %s: %w", id, err)
		}
		// The documents' own keys move to the new data key; the files stay as they are.
		n, err := a.Recruit.RewrapDocuments(ctx, id)
		if err != nil {
			return fmt.Errorf("re-wrap the document keys of %s: %w", id, err)
		}
		fmt.Fprintf(env.Stdout, "rotated data key of %s; re-wrapped %d document keys\n", id, n)
	}
	return nil
}

// companyIDs is the id of the company ref names, or with no ref the ids of
// every company.
func companyIDs(ctx context.Context, a *app.App, ref string) ([]string, error) {
	if ref != "" {
		t, err := a.Tenants.ByRef(ctx, ref)
		if err != nil {
			return nil, tenantError(err)
		}
		return []string{t.ID}, nil
	}
	ts, err := a.Tenants.List(ctx)
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, t := range ts {
		ids = append(ids, t.ID)
	}
	return ids, nil
}

// keysRewrap is "keys rewrap": every data key wrapped under a new master
// key, created when its file does not exist.
func keysRewrap(ctx context.Context, env *Env, args []string) error {
	f := newFlags(env, "keys rewrap", "keys rewrap --new-master-key-file FILE [flags]  (re-wraps every data key under a new master key)", config.Installation)
	newFile := f.String("new-master-key-file", "", "file of the new master key; created (mode 0600) when it does not exist")
	if err := f.parse(args); err != nil {
		return err
	}
	if *newFile == "" {
		return fmt.Errorf("--new-master-key-file: required")
	}
	a, err := f.open(ctx)
	if err != nil {
		return err
	}
	defer a.Close()
	if abs(*newFile) == abs(f.cfg.MasterKeyPath()) {
		return fmt.Errorf("--new-master-key-file: give a new file, not the current master key file")
	}
	next, created, err := keys.LoadOrCreateMasterKey(*newFile)
	if err != nil {
		return fmt.Errorf("--new-master-key-file: %v", err)
	}
	if next.ID() == a.Master.ID() {
		return fmt.Errorf("--new-master-key-file: this is the current master key")
	}
	n, err := a.Keys.Rewrap(ctx, next)
	if err != nil {
		return err
	}
	if created {
		fmt.Fprintf(env.Stdout, "created new master key %s\n", *newFile)
	}
	fmt.Fprintf(env.Stdout, "re-wrapped %d data keys under master key %s; start kandidat with --master-key-file %s from now on, and keep a copy of it off this machine\n", n, next.ID(), *newFile)
	return nil
}

func abs(p string) string {
	a, err := filepath.Abs(p)
	if err != nil {
		return p
	}
	return a
}
