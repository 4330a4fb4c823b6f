package recruit_test

import (
	"context"
	"errors"
	"testing"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/fault"
	"github.com/kandidat/kandidat/internal/recruit"
)

// TestBulk: a bulk action changes what the actor may change and counts
// the rest.
func TestBulk(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	l := newListApplications(t, e)
	rec := e.users[access.Recruiter]
	res, err := e.svc.Bulk(ctx, rec, []string{l.anna.ID, l.cecil.ID, "nope"}, recruit.BulkAction{Kind: "reject", Reason: "other"})
	if err != nil || res.Done != 1 || res.Refused != 2 {
		t.Fatalf("bulk reject: %+v %v", res, err)
	}
	var ve *fault.Invalid
	if _, err := e.svc.Bulk(ctx, rec, []string{l.anna.ID}, recruit.BulkAction{Kind: "reject"}); !errors.As(err, &ve) {
		t.Fatalf("bulk reject without a reason: %v", err)
	}
	if _, err := e.svc.Bulk(ctx, rec, nil, recruit.BulkAction{Kind: "label", Label: "x"}); !errors.As(err, &ve) {
		t.Fatalf("empty selection: %v", err)
	}
	if got, _ := e.svc.ListApplications(ctx, rec, recruit.ListFilter{Stage: access.StageRejected}); candidateNames(got) != "Anna Alpha" {
		t.Fatalf("after the bulk rejection: %s", candidateNames(got))
	}
}
