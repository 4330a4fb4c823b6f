package cli

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"text/tabwriter"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/config"
	"github.com/kandidat/kandidat/internal/id"
	"github.com/kandidat/kandidat/internal/whistle"
)

// The operator's side of the whistleblowing archive export: the list of a
// company's archive bundles, one bundle written to a file (encrypted to the
// company's archive recipient: neither the operator nor the server can
// read it), and the public key that verifies the bundles' manifests. The
// export is recorded in the company's trail as the operator's.

// caseTenantFlag registers --tenant, as the other commands name the
// company, and --company (as the token commands do) into one value.
func caseTenantFlag(f *flags) *string {
	ref := f.String("tenant", "", "company slug or id (required)")
	f.StringVar(ref, "company", "", "the same as --tenant")
	return ref
}

// caseOperator is the operator acting on a company's cases.
func caseOperator(tenantID string) access.Actor {
	return access.Operator(tenantID, access.HandleCases)
}

// caseArchives is "case archives": a company's archive bundles.
func caseArchives(ctx context.Context, env *Env, args []string) error {
	f := newFlags(env, "case archives", "case archives --tenant SLUG|ID [flags]  (the archive bundles of closed cases)", config.Installation)
	ref := caseTenantFlag(f)
	a, t, err := f.openCompany(ctx, args, ref)
	if err != nil {
		return err
	}
	defer a.Close()
	list, err := a.Whistle.Archives(ctx, caseOperator(t.ID))
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CASE\tMADE ON\tSIZE\tSHA256")
	for _, ai := range list {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\n", ai.ReportID, ai.MadeOn, ai.Size, ai.SHA256)
	}
	return tw.Flush()
}

// caseArchive is "case archive": one case's bundle written to a new file.
func caseArchive(ctx context.Context, env *Env, args []string) error {
	f := newFlags(env, "case archive", "case archive --tenant SLUG|ID --case ID --out FILE [flags]  (writes the case's .age bundle; never overwrites)", config.Installation)
	ref := caseTenantFlag(f)
	caseID := f.String("case", "", "the case's id, as case archives lists it (required)")
	out := f.String("out", "", "the file to write, e.g. case.zip.age; it must not exist (required)")
	if err := f.parse(args); err != nil {
		return err
	}
	if *caseID == "" || *out == "" {
		return errors.New("--case and --out are required")
	}
	if !id.Valid(*caseID) {
		return errors.New("--case: not a case id; kandidat case archives lists them")
	}
	a, t, err := f.openTenant(ctx, *ref)
	if err != nil {
		return err
	}
	defer a.Close()
	// The file is created first, exclusively: an existing file is never
	// overwritten, and a failed export leaves no partial file behind.
	file, err := os.OpenFile(*out, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		return fmt.Errorf("--out: %s exists; choose another file", *out)
	}
	if err != nil {
		return fmt.Errorf("--out: %w", err)
	}
	ai, rc, err := a.Whistle.ArchiveBundle(ctx, caseOperator(t.ID), *caseID)
	if err != nil {
		file.Close()
		os.Remove(*out)
		if errors.Is(err, whistle.ErrNoArchive) {
			return fmt.Errorf("--case: %s has no archive bundle in %s (only closed cases have one, when an archive recipient is set)", *caseID, t.Slug)
		}
		return err
	}
	defer rc.Close()
	n, err := io.Copy(file, rc)
	if err == nil && n != ai.Size {
		err = fmt.Errorf("read %d of %d bytes", n, ai.Size)
	}
	if cerr := file.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(*out)
		return fmt.Errorf("write %s: %w", *out, err)
	}
	abs, _ := filepath.Abs(*out)
	fmt.Fprintf(env.Stdout, "wrote %s (%d bytes, sha256 %s)\n", abs, n, ai.SHA256)
	return nil
}

// caseSigningKey is "case signing-key": the archive signing public key.
func caseSigningKey(ctx context.Context, env *Env, args []string) error {
	f := newFlags(env, "case signing-key", "case signing-key [flags]  (prints the Ed25519 public key, base64, that verifies manifest.sig)", config.Installation)
	if err := f.parse(args); err != nil {
		return err
	}
	a, err := f.open(ctx)
	if err != nil {
		return err
	}
	defer a.Close()
	fmt.Fprintln(env.Stdout, base64.StdEncoding.EncodeToString(a.Whistle.ArchiveSigningKey()))
	return nil
}
