package vault

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"regexp"
	"strings"
	"testing"
)

// slowMul multiplies in GF(2^8) as polynomials, reduced modulo 0x11b: the
// reference gfMul is checked against.
func slowMul(a, b byte) byte {
	var prod uint16
	for i := range 8 {
		if b&(1<<i) != 0 {
			prod ^= uint16(a) << i
		}
	}
	for i := 15; i >= 8; i-- {
		if prod&(1<<i) != 0 {
			prod ^= 0x11b << (i - 8)
		}
	}
	return byte(prod)
}

func TestGF256(t *testing.T) {
	for a := range 256 {
		for b := range 256 {
			if got, want := gfMul(byte(a), byte(b)), slowMul(byte(a), byte(b)); got != want {
				t.Fatalf("gfMul(%d, %d) = %d, want %d", a, b, got, want)
			}
		}
		if a == 0 {
			continue
		}
		if p := gfMul(byte(a), gfInv(byte(a))); p != 1 {
			t.Fatalf("%d * gfInv(%d) = %d, want 1", a, a, p)
		}
	}
	if gfMul(0x57, 0x83) != 0xc1 { // FIPS-197 §4.2
		t.Error("gfMul(0x57, 0x83) != 0xc1")
	}
}

// subsets calls f with every k-subset of 0..n-1.
func subsets(n, k int, f func([]int)) {
	var rec func(start int, cur []int)
	rec = func(start int, cur []int) {
		if len(cur) == k {
			f(cur)
			return
		}
		for i := start; i < n; i++ {
			rec(i+1, append(cur, i))
		}
	}
	rec(0, nil)
}

func pick(shares []string, idx []int) []string {
	out := make([]string, len(idx))
	for i, j := range idx {
		out[i] = shares[j]
	}
	return out
}

func TestSplitCombineEverySubset(t *testing.T) {
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		t.Fatal(err)
	}
	for n := 2; n <= 10; n++ {
		for k := 2; k <= n; k++ {
			shares, err := Split(secret, n, k)
			if err != nil {
				t.Fatal(err)
			}
			if len(shares) != n {
				t.Fatalf("Split(n=%d) gave %d shares", n, len(shares))
			}
			// Every k-subset (and a few larger ones) recovers the secret.
			for size := k; size <= min(k+1, n); size++ {
				subsets(n, size, func(idx []int) {
					got, err := Combine(pick(shares, idx))
					if err != nil || !bytes.Equal(got, secret) {
						t.Fatalf("n=%d k=%d shares %v: got %x, %v; want the secret", n, k, idx, got, err)
					}
				})
			}
			// k-1 shares are refused by Combine, and interpolating them
			// anyway gives a wrong secret.
			subsets(n, k-1, func(idx []int) {
				if _, err := Combine(pick(shares, idx)); err != ErrShares {
					t.Fatalf("n=%d k=%d, %d shares: got %v, want ErrShares", n, k, k-1, err)
				}
				parsed := make([]Share, len(idx))
				for i, j := range idx {
					parsed[i], _ = ParseShare(shares[j])
				}
				if bytes.Equal(interpolate(parsed, 0), secret) {
					t.Fatalf("n=%d k=%d: %d shares interpolate to the secret", n, k, k-1)
				}
			})
		}
	}
}

// TestFewerSharesRevealNothing checks the secrecy of k-1 shares: with
// the same coefficients, the k-1 shares of two different secrets differ
// in every byte, yet for any k-1 shares and any candidate secret there is
// a polynomial through both, so each candidate is equally possible.
func TestFewerSharesRevealNothing(t *testing.T) {
	const k = 3
	shares, err := Split([]byte{0x42}, 5, k)
	if err != nil {
		t.Fatal(err)
	}
	var held []Share
	for _, s := range shares[:k-1] {
		p, err := ParseShare(s)
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, p)
	}
	// For every candidate secret c, the polynomial through (0, c) and the
	// k-1 held points is of degree k-1 and yields a "share 3" consistent
	// with them; the held shares cannot tell the candidates apart.
	thirds := map[byte]bool{}
	for c := range 256 {
		pts := append([]Share{{Index: 0, Data: []byte{byte(c)}}}, held...)
		// Evaluate at x = 0 through the held shares and the candidate:
		// must give back the candidate (the points are consistent).
		if got := interpolate(pts, 0); got[0] != byte(c) {
			t.Fatalf("candidate %d: interpolation at 0 gives %d", c, got[0])
		}
		thirds[interpolate(pts, 3)[0]] = true
	}
	// Each candidate implies a different third share: all 256 are
	// possible, none is excluded by the k-1 shares.
	if len(thirds) != 256 {
		t.Errorf("candidates map to %d distinct third shares, want 256", len(thirds))
	}
}

var shareForm = regexp.MustCompile(`^KSH1-([2-9]|10)-([1-9]|10)(-[A-Z2-7]{1,4})+-[A-Z2-7]{4}$`)

func TestShareText(t *testing.T) {
	shares, err := Split([]byte("escrowed archive key, 32 bytes.."), 5, 3)
	if err != nil {
		t.Fatal(err)
	}
	for i, s := range shares {
		if !shareForm.MatchString(s) || !strings.HasPrefix(s, fmt.Sprintf("KSH1-3-%d-", i+1)) {
			t.Errorf("share %d = %q, want KSH1-3-%d-<groups>-<check>", i+1, s, i+1)
		}
	}
	// Pasted in lower case, with line breaks and spaces, it still combines.
	mangled := []string{
		strings.ToLower(shares[0]),
		strings.ReplaceAll(shares[2], "-", "-\n "),
		" " + shares[4] + "\n",
	}
	if got, err := Combine(mangled); err != nil || string(got) != "escrowed archive key, 32 bytes.." {
		t.Errorf("mangled shares: got %q, %v", got, err)
	}
	// Every single-character typo in the data or the checksum is caught.
	s := shares[1]
	start := len("KSH1-3-2-")
	typos := 0
	for i := start; i < len(s); i++ {
		if s[i] == '-' {
			continue
		}
		for _, c := range "A2Z7" {
			if byte(c) == s[i] {
				continue
			}
			bad := s[:i] + string(c) + s[i+1:]
			if _, err := ParseShare(bad); err != ErrShares {
				t.Fatalf("typo at %d (%q): got %v, want ErrShares", i, bad, err)
			}
			typos++
		}
	}
	if typos == 0 {
		t.Fatal("no typos tried")
	}
	// A changed k or index is caught by the checksum too.
	for _, bad := range []string{
		strings.Replace(s, "KSH1-3-2-", "KSH1-2-2-", 1),
		strings.Replace(s, "KSH1-3-2-", "KSH1-3-4-", 1),
		strings.Replace(s, "KSH1-3-2-", "KSH2-3-2-", 1),
		strings.Replace(s, "KSH1-3-2-", "KSH1-+3-2-", 1),
		strings.Replace(s, "KSH1-3-2-", "KSH1-03-2-", 1),
		s[:len(s)-5],
		"",
		"KSH1",
		"KSH1-3-2--",
	} {
		if _, err := ParseShare(bad); err != ErrShares {
			t.Errorf("ParseShare(%q) = %v, want ErrShares", bad, err)
		}
	}
}

func TestCombineRefuses(t *testing.T) {
	secret := []byte("the archive key")
	a, err := Split(secret, 5, 3)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Split(secret, 5, 3)
	if err != nil {
		t.Fatal(err)
	}
	other, err := Split([]byte("another secret!"), 5, 2)
	if err != nil {
		t.Fatal(err)
	}
	longer, err := Split([]byte("the archive key, longer"), 5, 3)
	if err != nil {
		t.Fatal(err)
	}
	// A share of the right split with its data altered but a valid
	// checksum (as a forger, not a typist, would make it).
	forged, _ := ParseShare(a[3])
	forged.Data = bytes.Clone(forged.Data)
	forged.Data[0] ^= 1
	cases := map[string][]string{
		"none":                    {},
		"too few":                 a[:2],
		"mixed splits":            {a[0], a[1], b[2]},
		"mixed k":                 {a[0], a[1], other[2]},
		"mixed lengths":           {a[0], a[1], longer[2]},
		"duplicate index":         {a[0], a[1], a[1]},
		"same index, other split": {a[0], a[1], b[1]},
		"garbage":                 {a[0], a[1], "hello"},
		"inconsistent extra":      {a[0], a[1], a[2], forged.String()},
		"too many":                append(append([]string{}, a...), b...),
	}
	for name, shares := range cases {
		if got, err := Combine(shares); err != ErrShares {
			t.Errorf("%s: got %q, %v; want ErrShares", name, got, err)
		}
	}
	// The same split's shares from two sessions combine (order does not matter).
	if got, err := Combine([]string{a[4], a[0], a[2]}); err != nil || !bytes.Equal(got, secret) {
		t.Errorf("reordered: got %q, %v", got, err)
	}
}

func TestSplitRefuses(t *testing.T) {
	for _, c := range []struct {
		secret []byte
		n, k   int
	}{
		{[]byte("s"), 3, 1},
		{[]byte("s"), 3, 4},
		{[]byte("s"), 11, 3},
		{[]byte("s"), 1, 1},
		{nil, 3, 2},
		{make([]byte, maxSecret+1), 3, 2},
	} {
		if _, err := Split(c.secret, c.n, c.k); err == nil {
			t.Errorf("Split(%d bytes, n=%d, k=%d) succeeded, want an error", len(c.secret), c.n, c.k)
		}
	}
	if _, err := Split(make([]byte, maxSecret), 10, 10); err != nil {
		t.Errorf("Split(max secret, 10, 10) = %v", err)
	}
}
