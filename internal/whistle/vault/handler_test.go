package vault

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"testing"
)

var recoveryForm = regexp.MustCompile(`^[A-Z2-7]{4}(-[A-Z2-7]{4}){7}$`)

func TestHandlerKey(t *testing.T) {
	ctx := context.Background()
	k, id, recovery, err := NewHandlerKey(ctx, "c-1", "u-1", "correct horse")
	if err != nil {
		t.Fatal(err)
	}
	if k.Public != id.Recipient() {
		t.Errorf("Public = %q, want the identity's recipient %q", k.Public, id.Recipient())
	}
	if len(k.PasswordSalt) != 26 || len(k.SealedByPassword) == 0 || len(k.SealedByRecovery) == 0 {
		t.Fatalf("incomplete key: %+v", k)
	}
	if !recoveryForm.MatchString(recovery) {
		t.Errorf("recovery key %q, want eight dash-separated groups of four base32 characters", recovery)
	}
	if strings.Contains(string(k.SealedByPassword), "AGE-SECRET") || strings.Contains(string(k.SealedByRecovery), "AGE-SECRET") {
		t.Error("the stored key contains the identity in clear")
	}

	t.Run("password", func(t *testing.T) {
		got, err := k.UnlockWithPassword(ctx, "c-1", "u-1", "correct horse")
		if err != nil || got.String() != id.String() {
			t.Fatalf("got %v, %v; want the identity", got, err)
		}
		for name, try := range map[string][3]string{
			"wrong password": {"c-1", "u-1", "correct hors"},
			"trailing space": {"c-1", "u-1", "correct horse "},
			"empty password": {"c-1", "u-1", ""},
			"other company":  {"c-2", "u-1", "correct horse"},
			"other user":     {"c-1", "u-2", "correct horse"},
			"fields shifted": {"c-1u", "-1", "correct horse"},
		} {
			if _, err := k.UnlockWithPassword(ctx, try[0], try[1], try[2]); err != ErrOpen {
				t.Errorf("%s: got %v, want ErrOpen", name, err)
			}
		}
	})

	t.Run("recovery", func(t *testing.T) {
		for _, form := range []string{
			recovery,
			strings.ToLower(recovery),
			strings.ReplaceAll(recovery, "-", ""),
			strings.ReplaceAll(recovery, "-", " "),
			" " + strings.ReplaceAll(strings.ToLower(recovery), "-", ".") + "\n",
		} {
			got, err := k.UnlockWithRecovery("c-1", "u-1", form)
			if err != nil || got.String() != id.String() {
				t.Errorf("UnlockWithRecovery(%q) = %v, %v; want the identity", form, got, err)
			}
		}
		typo := []byte(recovery)
		if typo[0] == 'A' {
			typo[0] = 'B'
		} else {
			typo[0] = 'A'
		}
		for name, try := range map[string][3]string{
			"typo":          {"c-1", "u-1", string(typo)},
			"short":         {"c-1", "u-1", recovery[:len(recovery)-1]},
			"not base32":    {"c-1", "u-1", strings.Replace(recovery, recovery[:1], "1", 1)},
			"empty":         {"c-1", "u-1", ""},
			"other company": {"c-2", "u-1", recovery},
			"other user":    {"c-1", "u-2", recovery},
			"the password":  {"c-1", "u-1", "correct horse"},
		} {
			if _, err := k.UnlockWithRecovery(try[0], try[1], try[2]); err != ErrOpen {
				t.Errorf("%s: got %v, want ErrOpen", name, err)
			}
		}
	})

	t.Run("seals are not interchangeable", func(t *testing.T) {
		swapped := *k
		swapped.SealedByPassword, swapped.SealedByRecovery = k.SealedByRecovery, k.SealedByPassword
		if _, err := swapped.UnlockWithPassword(ctx, "c-1", "u-1", "correct horse"); err != ErrOpen {
			t.Errorf("password on the recovery seal: got %v, want ErrOpen", err)
		}
		if _, err := swapped.UnlockWithRecovery("c-1", "u-1", recovery); err != ErrOpen {
			t.Errorf("recovery on the password seal: got %v, want ErrOpen", err)
		}
	})

	t.Run("another handler's seal under the same password is refused", func(t *testing.T) {
		other, _, _, err := NewHandlerKey(ctx, "c-1", "u-1", "correct horse")
		if err != nil {
			t.Fatal(err)
		}
		mixed := *k
		mixed.PasswordSalt, mixed.SealedByPassword = other.PasswordSalt, other.SealedByPassword
		if _, err := mixed.UnlockWithPassword(ctx, "c-1", "u-1", "correct horse"); err != ErrOpen {
			t.Errorf("got %v, want ErrOpen (the identity is not Public's)", err)
		}
	})
}

func TestHandlerKeyReseal(t *testing.T) {
	ctx := context.Background()
	k, id, recovery, err := NewHandlerKey(ctx, "c-1", "u-1", "old password")
	if err != nil {
		t.Fatal(err)
	}
	oldSalt := bytes.Clone(k.PasswordSalt)

	// Forgotten password: unlock by recovery, set a new password.
	got, err := k.UnlockWithRecovery("c-1", "u-1", recovery)
	if err != nil {
		t.Fatal(err)
	}
	if err := k.ResealPassword(ctx, "c-1", "u-1", got, "new password"); err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(k.PasswordSalt, oldSalt) {
		t.Error("ResealPassword kept the old salt")
	}
	if _, err := k.UnlockWithPassword(ctx, "c-1", "u-1", "old password"); err != ErrOpen {
		t.Errorf("old password: got %v, want ErrOpen", err)
	}
	if got, err := k.UnlockWithPassword(ctx, "c-1", "u-1", "new password"); err != nil || got.String() != id.String() {
		t.Errorf("new password: got %v, %v; want the identity", got, err)
	}
	if err := k.ResealPassword(ctx, "c-1", "u-1", newID(t), "x"); err == nil {
		t.Error("ResealPassword accepted a foreign identity")
	}

	// A new recovery key replaces the old one.
	fresh, err := NewRecoveryKey("c-1", "u-1", id, k)
	if err != nil {
		t.Fatal(err)
	}
	if fresh == recovery || !recoveryForm.MatchString(fresh) {
		t.Errorf("new recovery key %q (old %q)", fresh, recovery)
	}
	if _, err := k.UnlockWithRecovery("c-1", "u-1", recovery); err != ErrOpen {
		t.Errorf("old recovery key: got %v, want ErrOpen", err)
	}
	if got, err := k.UnlockWithRecovery("c-1", "u-1", fresh); err != nil || got.String() != id.String() {
		t.Errorf("new recovery key: got %v, %v; want the identity", got, err)
	}
	if _, err := NewRecoveryKey("c-1", "u-1", newID(t), k); err == nil {
		t.Error("NewRecoveryKey accepted a foreign identity")
	}
}

func TestUnlockWithPasswordHonoursContext(t *testing.T) {
	k, _, _, err := NewHandlerKey(context.Background(), "c-1", "u-1", "pw")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := k.UnlockWithPassword(ctx, "c-1", "u-1", "pw"); err == nil || err == ErrOpen {
		t.Errorf("cancelled: got %v, want the context's error", err)
	}
}
