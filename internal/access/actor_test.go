package access

import "testing"

// TestActorKinds checks that the operator and a job hold exactly the
// permissions their constructor names and own nothing, and that the policy
// decides for them on those alone.
func TestActorKinds(t *testing.T) {
	pos := Position{TenantID: "t1", OwnerID: "u1"}
	op := Operator("t1", ViewPositions, AllPositions)
	job := System("reminders", "t1", ViewPositions, AllPositions, EditPositions)
	tests := []struct {
		name string
		a    Actor
		kind Kind
		job  string
		perm Permission
		want Decision
	}{
		{"operator sees a position it may view", op, KindOperator, "", ViewPositions, Allow},
		{"operator not given the right may not edit", op, KindOperator, "", EditPositions, Forbidden},
		{"job with every position edits one", job, KindSystem, "reminders", EditPositions, Allow},
		{"job not given the right may not publish", job, KindSystem, "reminders", PublishPositions, Forbidden},
		{"operator of another company sees nothing", Operator("t2", ViewPositions, AllPositions), KindOperator, "", ViewPositions, Hidden},
		{"operator owns nothing, so without every position sees nothing", Operator("t1", ViewPositions), KindOperator, "", ViewPositions, Hidden},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.a.Kind != tt.kind || tt.a.Job != tt.job || tt.a.UserID != "" {
				t.Fatalf("actor = %+v, want kind %d, job %q and no user", tt.a, tt.kind, tt.job)
			}
			if got := DecidePosition(tt.a, tt.perm, pos); got != tt.want {
				t.Errorf("DecidePosition(%v) = %v, want %v", tt.perm, got, tt.want)
			}
		})
	}
	if op.Can(HandleCases) || job.Can(HandleCases) {
		t.Error("a permission nobody named came with the operator or the job")
	}
	if (Actor{}).Kind != KindUser {
		t.Error("the zero Actor is not a user")
	}
}
