package audit_test

import (
	"testing"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/audit"
)

// TestActorOf checks that the trail records a service's caller by kind: a
// user by id, the operator as the operator, a job by its name.
func TestActorOf(t *testing.T) {
	tests := []struct {
		in   access.Actor
		want audit.Actor
	}{
		{access.Actor{TenantID: "t1", UserID: "u1"}, audit.User("u1")},
		{access.Operator("t1", access.ManageCredits), audit.Operator},
		{access.System("interview-reminders", "t1"), audit.System("interview-reminders")},
	}
	for _, tt := range tests {
		if got := audit.ActorOf(tt.in); got != tt.want {
			t.Errorf("ActorOf(%+v) = %+v, want %+v", tt.in, got, tt.want)
		}
	}
}
