package cli

import (
	"context"
	"errors"
	"fmt"
	"text/tabwriter"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/config"
	"github.com/kandidat/kandidat/internal/credit"
	"github.com/kandidat/kandidat/internal/fault"
)

// creditsAdd is "credits add": the operator adds credits a company bought.
func creditsAdd(ctx context.Context, env *Env, args []string) error {
	return grantCredits(ctx, env, "add", args)
}

// creditsGrant is "credits grant", the name of "credits add" in earlier
// versions, kept for operators' scripts.
func creditsGrant(ctx context.Context, env *Env, args []string) error {
	return grantCredits(ctx, env, "grant", args)
}

// grantCredits adds credits to a company; name is the action it was called
// by, for its help. Adding credits, and refunding a spending, are the
// operator's acts only: a company buys its credits, and no right inside
// the company (not even credit administration) adds to its balance.
func grantCredits(ctx context.Context, env *Env, name string, args []string) error {
	f := newFlags(env, "credits "+name, "credits "+name+" --tenant SLUG|ID --amount N [--reason purchase|correction] [--note TEXT] [flags]", config.Installation)
	ref := f.String("tenant", "", "company sign-in name or id (required)")
	var in credit.GrantInput
	f.Int64Var(&in.Amount, "amount", 0, fmt.Sprintf("credits to add, 1 to %d", credit.MaxGrant))
	f.StringVar(&in.Reason, "reason", "purchase", "purchase or correction")
	f.StringVar(&in.Note, "note", "", "a note for the ledger, e.g. the invoice number (no personal data)")
	a, t, err := f.openCompany(ctx, args, ref)
	if err != nil {
		return err
	}
	defer a.Close()
	e, err := a.Credits.GrantAsOperator(ctx, t.ID, in)
	var ve *fault.Invalid
	if errors.As(err, &ve) {
		return describeFields(ve.Fields, nil)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "added %d credits to %s; balance %d\n", e.Amount, t.Slug, e.BalanceAfter)
	return nil
}

// creditsRefund is "credits refund": a spending's credits back, once. A
// refund adds to the balance too, so it is the operator's act only: were
// it the company's, publishing and refunding would make every publication
// free.
func creditsRefund(ctx context.Context, env *Env, args []string) error {
	f := newFlags(env, "credits refund", "credits refund --tenant SLUG|ID --entry ID [--note TEXT] [flags]  (returns a spending's credits, once)", config.Installation)
	ref := f.String("tenant", "", "company sign-in name or id (required)")
	entry := f.String("entry", "", "id of the spending to refund, as credits show lists it (required)")
	note := f.String("note", "", "a note for the ledger, e.g. why (no personal data)")
	a, t, err := f.openCompany(ctx, args, ref)
	if err != nil {
		return err
	}
	defer a.Close()
	e, err := a.Credits.RefundAsOperator(ctx, t.ID, *entry, *note)
	var ve *fault.Invalid
	switch {
	case errors.As(err, &ve):
		return describeFields(ve.Fields, nil)
	case errors.Is(err, credit.ErrNotFound):
		return fmt.Errorf("--entry: %s has no ledger entry with this id; see kandidat credits show", t.Slug)
	case errors.Is(err, credit.ErrNotRefundable):
		return errors.New("--entry: only a spending can be refunded, and only once")
	case err != nil:
		return err
	}
	fmt.Fprintf(env.Stdout, "refunded %d credits to %s; balance %d\n", e.Amount, t.Slug, e.BalanceAfter)
	return nil
}

// creditsShow is "credits show": a company's balance and newest ledger
// entries.
func creditsShow(ctx context.Context, env *Env, args []string) error {
	f := newFlags(env, "credits show", "credits show --tenant SLUG|ID [--limit N] [flags]  (balance and the newest ledger entries)", config.Installation)
	ref := f.String("tenant", "", "company sign-in name or id (required)")
	limit := f.Int("limit", 20, "ledger entries to show, at most 1000")
	a, t, err := f.openCompany(ctx, args, ref)
	if err != nil {
		return err
	}
	defer a.Close()
	balance, err := a.Credits.Balance(ctx, t.ID)
	if err != nil {
		return err
	}
	// The operator reads the ledger as the company's credit administration would.
	ledger, err := a.Credits.Ledger(ctx, access.Operator(t.ID, access.ManageCredits), *limit)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "balance: %d\n", balance)
	tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	// The id is what credits refund takes; REFUNDED marks a spending
	// refunded already.
	fmt.Fprintln(tw, "TIME\tID\tKIND\tAMOUNT\tBALANCE\tREASON\tBY\tOBJECT\tNOTE")
	for _, e := range ledger {
		kind := e.Kind
		if e.Refunded {
			kind += " (REFUNDED)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%s\t%s:%s\t%s:%s\t%s\n", e.CreatedAt.Format("2006-01-02 15:04"), e.ID, kind, e.Amount, e.BalanceAfter,
			e.Reason, e.ActorKind, e.ActorID, e.ObjectKind, e.ObjectID, e.Note)
	}
	return tw.Flush()
}
