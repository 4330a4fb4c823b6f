package vault

import (
	"bytes"
	"context"
	"errors"
	"regexp"
	"testing"
	"time"
)

var displayForm = regexp.MustCompile(`^[0-9]{4}( [0-9]{4}){5}$`)

func TestNewReceipt(t *testing.T) {
	const n = 2000
	seen := map[string]bool{}
	var counts [10]int
	for range n {
		r, err := NewReceipt()
		if err != nil {
			t.Fatal(err)
		}
		if !displayForm.MatchString(r) {
			t.Fatalf("NewReceipt() = %q, want six groups of four digits", r)
		}
		if seen[r] {
			t.Fatalf("receipt %q drawn twice", r)
		}
		seen[r] = true
		norm, err := NormalizeReceipt(r)
		if err != nil || len(norm) != receiptDigits {
			t.Fatalf("NormalizeReceipt(%q) = %q, %v", r, norm, err)
		}
		for _, c := range []byte(norm) {
			counts[c-'0']++
		}
	}
	// 48,000 digits: each of the ten is expected 4,800 times with a
	// standard deviation of about 66; a bias of rejection sampling gone
	// wrong (e.g. byte % 10 without rejection: 0-5 at 4,875, 6-9 at 4,688)
	// or a stuck digit falls outside 4,500..5,100.
	for d, c := range counts {
		if c < 4500 || c > 5100 {
			t.Errorf("digit %d drawn %d times of %d, want about %d", d, c, n*receiptDigits, n*receiptDigits/10)
		}
	}
}

func TestNormalizeReceipt(t *testing.T) {
	const want = "123456789012345678901234"
	ok := []string{
		want,
		"1234 5678 9012 3456 7890 1234",
		"1234-5678-9012-3456-7890-1234",
		"1234.5678.9012.3456.7890.1234",
		"1234\u00a05678\u00a09012\u00a03456\u00a07890\u00a01234",
		"  1234 5678 9012 3456 7890 1234  ",
		"12 34-56.78\u00a09012345678901234",
		"1-2-3-4-5-6-7-8-9-0-1-2-3-4-5-6-7-8-9-0-1-2-3-4",
	}
	for _, in := range ok {
		got, err := NormalizeReceipt(in)
		if err != nil || got != want {
			t.Errorf("NormalizeReceipt(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	bad := []string{
		"",
		"1234 5678 9012 3456 7890 123",       // 23 digits
		"1234 5678 9012 3456 7890 12345",     // 25 digits
		"1234 5678 9012 3456 7890 123a",      // letter
		"1234 5678 9012 3456 7890 123O",      // letter O for zero
		"1234_5678_9012_3456_7890_1234",      // underscore
		"1234\t5678 9012 3456 7890 1234",     // tab
		"1234\n5678 9012 3456 7890 1234",     // newline
		"١٢٣٤ 5678 9012 3456 7890 1234",      // Arabic-Indic digits
		"１２３４ 5678 9012 3456 7890 1234",      // fullwidth digits
		"1234\u20025678 9012 3456 7890 1234", // en space
		"1234 5678 9012 3456 7890 1234\xff",  // invalid UTF-8
		"+123456789012345678901234",
		"-" + string(bytes.Repeat([]byte(" "), 300)) + want, // too long
	}
	for _, in := range bad {
		if got, err := NormalizeReceipt(in); err != ErrReceipt {
			t.Errorf("NormalizeReceipt(%q) = %q, %v; want ErrReceipt", in, got, err)
		}
	}
}

func TestReceiptLookup(t *testing.T) {
	key := []byte("lookup key of the server")
	const r = "123456789012345678901234"
	a := ReceiptLookup(key, "c-1", r)
	if len(a) != 32 {
		t.Fatalf("lookup of %d bytes, want 32", len(a))
	}
	if !bytes.Equal(a, ReceiptLookup(key, "c-1", "1234 5678 9012 3456 7890 1234")) {
		t.Error("display form and normalised form give different lookups")
	}
	others := map[string][]byte{
		"other company": ReceiptLookup(key, "c-2", r),
		"other receipt": ReceiptLookup(key, "c-1", "123456789012345678901235"),
		"other key":     ReceiptLookup([]byte("another key"), "c-1", r),
		"shifted":       ReceiptLookup(key, "c-11", "23456789012345678901234"),
	}
	for name, o := range others {
		if bytes.Equal(a, o) {
			t.Errorf("%s gives the same lookup", name)
		}
	}
}

func TestReceiptKey(t *testing.T) {
	ctx := context.Background()
	pepper, salt := []byte("pepper"), NewSalt()
	const r = "123456789012345678901234"
	base, err := ReceiptKey(ctx, pepper, "c-1", r, "", salt)
	if err != nil {
		t.Fatal(err)
	}
	same, err := ReceiptKey(ctx, pepper, "c-1", "1234-5678-9012-3456-7890-1234", "", salt)
	if err != nil || *same != *base {
		t.Errorf("display form derives another key (%v)", err)
	}
	variants := map[string]func() (*[32]byte, error){
		"pepper":     func() (*[32]byte, error) { return ReceiptKey(ctx, []byte("peppe2"), "c-1", r, "", salt) },
		"company":    func() (*[32]byte, error) { return ReceiptKey(ctx, pepper, "c-2", r, "", salt) },
		"receipt":    func() (*[32]byte, error) { return ReceiptKey(ctx, pepper, "c-1", "123456789012345678901230", "", salt) },
		"passphrase": func() (*[32]byte, error) { return ReceiptKey(ctx, pepper, "c-1", r, "x", salt) },
		"passphrase space": func() (*[32]byte, error) {
			return ReceiptKey(ctx, pepper, "c-1", r, " ", salt)
		},
		"salt": func() (*[32]byte, error) { return ReceiptKey(ctx, pepper, "c-1", r, "", NewSalt()) },
	}
	for name, f := range variants {
		k, err := f()
		if err != nil {
			t.Fatal(err)
		}
		if *k == *base {
			t.Errorf("changing the %s derives the same key", name)
		}
	}
	if s1, s2 := NewSalt(), NewSalt(); len(s1) != 26 || bytes.Equal(s1[10:], s2[10:]) || !bytes.Equal(s1[:10], s2[:10]) {
		t.Errorf("NewSalt() = %x, %x; want the parameters and 16 fresh random bytes", s1, s2)
	}
}

func TestDeriveIsBoundedAndHonoursContext(t *testing.T) {
	salt := NewSalt()
	if _, err := Derive(context.Background(), []byte("pw"), salt[:8]); err == nil {
		t.Error("Derive with an 8-byte salt succeeded, want an error")
	}
	// Take every slot, as a flood of concurrent derivations would.
	for range cap(deriveSlots) {
		deriveSlots <- struct{}{}
	}
	release := func() {
		for range cap(deriveSlots) {
			<-deriveSlots
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := Derive(ctx, []byte("pw"), salt); !errors.Is(err, context.DeadlineExceeded) {
		release()
		t.Fatalf("Derive with every slot taken: got %v, want the deadline", err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := Derive(context.Background(), []byte("pw"), salt)
		done <- err
	}()
	select {
	case err := <-done:
		release()
		t.Fatalf("Derive finished (%v) while every slot was taken", err)
	case <-time.After(100 * time.Millisecond):
	}
	release()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Derive did not proceed after the slots were freed")
	}
}

func TestDeriveUsesParams(t *testing.T) {
	salt := NewSalt()
	a, err := Derive(context.Background(), []byte("pw"), salt)
	if err != nil {
		t.Fatal(err)
	}
	// The salt records the parameters: raising Params later still
	// derives the same key from it, and a new salt uses the new ones.
	saved := Params
	Params.Time++
	b, err := Derive(context.Background(), []byte("pw"), salt)
	if err != nil {
		t.Fatal(err)
	}
	if *a != *b {
		t.Error("a salt made before Params changed derives another key")
	}
	c, err := Derive(context.Background(), []byte("pw"), append([]byte{}, salt[10:]...))
	Params = saved
	if err != nil {
		t.Fatal(err)
	}
	if *a == *c {
		t.Error("a salt without parameters is derived with the salt's recorded ones")
	}
	// Parameters out of bounds are refused, not run.
	hostile := append([]byte{}, salt...)
	hostile[5], hostile[6] = 0xff, 0xff
	if _, err := Derive(context.Background(), []byte("pw"), hostile); err == nil {
		t.Error("a salt asking for gigabytes was run")
	}
	// The production parameters are the documented ones.
	if defaultParams.MemoryKiB != 64*1024 || defaultParams.Time < 3 || defaultParams.Threads != 2 {
		t.Errorf("defaultParams = %+v, want time >= 3, 64 MiB, 2 threads", defaultParams)
	}
}
