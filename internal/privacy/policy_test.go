package privacy_test

import (
	"context"
	"database/sql"
	"errors"
	"testing"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/fault"
	"github.com/kandidat/kandidat/internal/recruit"
	"github.com/kandidat/kandidat/internal/tenant"
	"github.com/kandidat/kandidat/internal/testkit"
)

// basesOf reads a candidate's processing bases.
func basesOf(t *testing.T, k *testkit.Kit, tenantID, candidateID string) recruit.Bases {
	t.Helper()
	var b recruit.Bases
	err := k.DB.ReadTx(context.Background(), tenantID, func(tx *sql.Tx) error {
		var err error
		b, err = recruit.BasesOf(context.Background(), tx, tenantID, candidateID)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestSavePolicyMovesBases: a shorter purpose period moves the basis of a
// candidate who applied before the change; a longer one gives the time
// back; the consent period alone leaves the purpose as it was.
func TestSavePolicyMovesBases(t *testing.T) {
	k := testkit.New(t, testkit.Options{})
	ctx := context.Background()
	c := k.Company(t, tenant.CreateInput{Slug: "acme", Name: "ACME"})
	admin := k.Actor(t, c.ID, "ada", access.Administrator)
	hr := k.Actor(t, c.ID, "hana", access.HRManager)
	pos, err := k.Recruit.CreatePosition(ctx, hr, recruit.PositionInput{Title: "Welder", Language: "en"})
	if err != nil {
		t.Fatal(err)
	}
	app, err := k.Recruit.AddCandidate(ctx, hr, pos.ID, recruit.CandidateInput{Name: "Cecilie Basis", Email: "cecilie@example.com"}, access.StageNew, recruit.ViaStaff)
	if err != nil {
		t.Fatal(err)
	}
	before := basesOf(t, k, c.ID, app.Candidate.ID)
	if before.PurposeUntil.IsZero() {
		t.Fatal("the candidate has no purpose basis")
	}
	received := before.PurposeUntil
	loc := c.Location()
	// The purpose ended six months after receipt: go back to the receipt.
	receipt := tenant.AddMonths(received, -tenant.MaxPurposeMonths, loc)

	if err := k.Privacy.SavePolicy(ctx, admin, tenant.Privacy{PurposeMonths: 2, ConsentMonths: 12}); err != nil {
		t.Fatal(err)
	}
	after := basesOf(t, k, c.ID, app.Candidate.ID)
	want := tenant.AddMonths(receipt, 2, loc)
	if !after.PurposeUntil.Equal(want) || !after.Until.Equal(want) {
		t.Fatalf("after shortening to 2 months: purpose until %v, basis until %v, want %v", after.PurposeUntil, after.Until, want)
	}
	pol, err := k.Privacy.Policy(ctx, admin)
	if err != nil || pol.PurposeMonths != 2 || pol.ConsentMonths != 12 {
		t.Fatalf("stored policy %+v %v", pol, err)
	}

	// Changing only the consent period keeps the purpose.
	if err := k.Privacy.SavePolicy(ctx, admin, tenant.Privacy{PurposeMonths: 2, ConsentMonths: 24}); err != nil {
		t.Fatal(err)
	}
	if got := basesOf(t, k, c.ID, app.Candidate.ID); !got.PurposeUntil.Equal(want) {
		t.Fatalf("a consent change moved the purpose to %v, want %v", got.PurposeUntil, want)
	}

	// Back to six months: the candidate gets the time again.
	if err := k.Privacy.SavePolicy(ctx, admin, tenant.Privacy{PurposeMonths: 6}); err != nil {
		t.Fatal(err)
	}
	if got := basesOf(t, k, c.ID, app.Candidate.ID); !got.PurposeUntil.Equal(received) {
		t.Fatalf("after lengthening to 6 months: purpose until %v, want %v", got.PurposeUntil, received)
	}
}

// TestSavePolicyRefusals: the right is needed; values beyond the law are
// refused field by field and change nothing.
func TestSavePolicyRefusals(t *testing.T) {
	k := testkit.New(t, testkit.Options{})
	ctx := context.Background()
	c := k.Company(t, tenant.CreateInput{Slug: "acme", Name: "ACME"})
	admin := k.Actor(t, c.ID, "ada", access.Administrator)
	recruiter := k.Actor(t, c.ID, "rolf", access.Recruiter)
	if err := k.Privacy.SavePolicy(ctx, recruiter, tenant.Privacy{PurposeMonths: 1}); !errors.Is(err, fault.ErrForbidden) {
		t.Fatalf("a recruiter saved the privacy policy: %v", err)
	}
	if _, err := k.Privacy.Policy(ctx, recruiter); !errors.Is(err, fault.ErrForbidden) {
		t.Fatalf("a recruiter read the privacy policy: %v", err)
	}
	for _, tc := range []struct {
		in    tenant.Privacy
		field string
	}{
		{tenant.Privacy{PurposeMonths: 7}, "purpose_months"},
		{tenant.Privacy{PurposeMonths: -1}, "purpose_months"},
		{tenant.Privacy{ConsentMonths: 37}, "consent_months"},
		{tenant.Privacy{RegistrationNumber: "12\x003"}, "registration_number"},
		{tenant.Privacy{Processors: string([]byte{0xff, 0xfe})}, "processors"},
	} {
		err := k.Privacy.SavePolicy(ctx, admin, tc.in)
		var inv *fault.Invalid
		if !errors.As(err, &inv) || inv.Fields[tc.field] == "" {
			t.Errorf("SavePolicy(%+v): %v, want a message on %s", tc.in, err, tc.field)
		}
	}
	if p, _ := k.Privacy.Policy(ctx, admin); p != (tenant.Privacy{}) {
		t.Fatalf("refused saves changed the policy: %+v", p)
	}
}
