package vault

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"fmt"
	"strconv"
	"strings"
)

// Escrow: Shamir's secret sharing over GF(2^8) (the AES field, polynomial
// x^8 + x^4 + x^3 + x + 1). Each byte of the secret is the constant term of
// its own random polynomial of degree k-1; share i holds the polynomials'
// values at x = i. Any k shares determine the polynomials; k-1 shares are
// consistent with every possible secret.
//
// A share is written "KSH1-<k>-<index>-<data>-<check>", where data is the
// base32 of an 8-byte split id followed by the share's bytes, in groups of
// four, and check is four base32 characters of a SHA-256 over everything
// before it, so that a mistyped character is caught (all but 1 in 2^20).
// The split id makes shares of different splits refuse to combine.

const (
	shareMagic   = "KSH1"
	splitIDSize  = 8
	maxShares    = 10
	maxSecret    = 1024
	maxShareText = 4096
)

var shareEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// Share is one parsed escrow share.
type Share struct {
	K, Index int
	SplitID  [splitIDSize]byte
	Data     []byte
}

// Split cuts secret into n shares of which any k recover it, for
// 2 <= k <= n <= 10 and a secret of 1 to 1024 bytes.
func Split(secret []byte, n, k int) ([]string, error) {
	if k < 2 || n < k || n > maxShares {
		return nil, fmt.Errorf("vault: split: need 2 <= k <= n <= %d, got k=%d n=%d", maxShares, k, n)
	}
	if len(secret) == 0 || len(secret) > maxSecret {
		return nil, fmt.Errorf("vault: split: secret of %d bytes (1 to %d)", len(secret), maxSecret)
	}
	var id [splitIDSize]byte
	if _, err := rand.Read(id[:]); err != nil {
		return nil, fmt.Errorf("vault: split: %w", err)
	}
	// coeffs[b*(k-1)+j] is the coefficient of x^(j+1) for secret byte b.
	coeffs := make([]byte, len(secret)*(k-1))
	if _, err := rand.Read(coeffs); err != nil {
		return nil, fmt.Errorf("vault: split: %w", err)
	}
	defer clear(coeffs)
	out := make([]string, n)
	for i := 1; i <= n; i++ {
		x := byte(i)
		data := make([]byte, len(secret))
		for b := range secret {
			c := coeffs[b*(k-1) : (b+1)*(k-1)]
			// Horner, from the highest coefficient down to the secret byte.
			var y byte
			for j := len(c) - 1; j >= 0; j-- {
				y = gfMul(y, x) ^ c[j]
			}
			data[b] = gfMul(y, x) ^ secret[b]
		}
		out[i-1] = Share{K: k, Index: i, SplitID: id, Data: data}.String()
	}
	return out, nil
}

// String writes the share in its printed form.
func (s Share) String() string {
	payload := append(append(make([]byte, 0, splitIDSize+len(s.Data)), s.SplitID[:]...), s.Data...)
	prefix := shareMagic + "-" + strconv.Itoa(s.K) + "-" + strconv.Itoa(s.Index) + "-"
	enc := shareEncoding.EncodeToString(payload)
	var b strings.Builder
	b.WriteString(prefix)
	for i := 0; i < len(enc); i += 4 {
		b.WriteString(enc[i:min(i+4, len(enc))])
		b.WriteByte('-')
	}
	b.WriteString(shareCheck(s.K, s.Index, payload))
	return b.String()
}

// shareCheck is the four-character checksum over a share's k, index and
// bytes.
func shareCheck(k, index int, payload []byte) string {
	h := sha256.New()
	h.Write([]byte(shareMagic))
	h.Write([]byte{byte(k), byte(index)})
	h.Write(payload)
	return shareEncoding.EncodeToString(h.Sum(nil)[:3])[:4]
}

// ParseShare reads a share as typed or pasted: case, whitespace and line
// breaks do not matter. A wrong checksum, or anything malformed, is
// ErrShares.
func ParseShare(text string) (Share, error) {
	if len(text) > maxShareText {
		return Share{}, ErrShares
	}
	text = strings.Map(func(r rune) rune {
		switch r {
		case ' ', '\t', '\n', '\r', '\u00a0':
			return -1
		}
		return r
	}, strings.ToUpper(text))
	var parts []string
	for p := range strings.SplitSeq(text, "-") {
		if p != "" {
			parts = append(parts, p)
		}
	}
	if len(parts) < 5 || parts[0] != shareMagic {
		return Share{}, ErrShares
	}
	k, ok1 := smallInt(parts[1])
	index, ok2 := smallInt(parts[2])
	if !ok1 || !ok2 || k < 2 || k > maxShares || index < 1 || index > maxShares {
		return Share{}, ErrShares
	}
	payload, err := shareEncoding.DecodeString(strings.Join(parts[3:len(parts)-1], ""))
	if err != nil || len(payload) <= splitIDSize || len(payload) > splitIDSize+maxSecret {
		return Share{}, ErrShares
	}
	if subtle.ConstantTimeCompare([]byte(parts[len(parts)-1]), []byte(shareCheck(k, index, payload))) != 1 {
		return Share{}, ErrShares
	}
	s := Share{K: k, Index: index, Data: payload[splitIDSize:]}
	copy(s.SplitID[:], payload)
	return s, nil
}

// smallInt parses one or two ASCII digits, nothing else (no sign, no
// leading zero).
func smallInt(s string) (int, bool) {
	if len(s) == 0 || len(s) > 2 || (len(s) == 2 && s[0] == '0') {
		return 0, false
	}
	n := 0
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

// Combine recovers the secret from at least k shares of one split. Shares
// that do not parse, come from different splits, repeat an index, are fewer
// than k, or (beyond the first k) disagree with the others are ErrShares.
func Combine(shares []string) ([]byte, error) {
	if len(shares) == 0 || len(shares) > maxShares {
		return nil, ErrShares
	}
	parsed := make([]Share, 0, len(shares))
	seen := map[int]bool{}
	for _, text := range shares {
		s, err := ParseShare(text)
		if err != nil {
			return nil, ErrShares
		}
		if len(parsed) > 0 {
			first := parsed[0]
			if s.K != first.K || s.SplitID != first.SplitID || len(s.Data) != len(first.Data) {
				return nil, ErrShares
			}
		}
		if seen[s.Index] {
			return nil, ErrShares
		}
		seen[s.Index] = true
		parsed = append(parsed, s)
	}
	k := parsed[0].K
	if len(parsed) < k {
		return nil, ErrShares
	}
	secret := interpolate(parsed[:k], 0)
	// Every further share must lie on the same polynomials: a share of the
	// right split but altered (or misread) is refused, not averaged in.
	for _, extra := range parsed[k:] {
		if subtle.ConstantTimeCompare(interpolate(parsed[:k], byte(extra.Index)), extra.Data) != 1 {
			clear(secret)
			return nil, ErrShares
		}
	}
	return secret, nil
}

// interpolate evaluates at x the polynomials through the shares' points
// (Lagrange). The shares must have distinct indices and equal lengths.
func interpolate(shares []Share, x byte) []byte {
	out := make([]byte, len(shares[0].Data))
	for i, si := range shares {
		xi := byte(si.Index)
		// basis = prod_{j != i} (x - xj) / (xi - xj); minus is xor in GF(2^8).
		num, den := byte(1), byte(1)
		for j, sj := range shares {
			if j == i {
				continue
			}
			xj := byte(sj.Index)
			num = gfMul(num, x^xj)
			den = gfMul(den, xi^xj)
		}
		basis := gfMul(num, gfInv(den))
		for b := range out {
			out[b] ^= gfMul(si.Data[b], basis)
		}
	}
	return out
}

// gfMul multiplies in GF(2^8) without branches or table lookups on the
// operands, so its timing does not depend on secret bytes.
func gfMul(a, b byte) byte {
	var p byte
	for range 8 {
		p ^= -(b & 1) & a
		carry := -(a >> 7)
		a = a<<1 ^ 0x1b&carry
		b >>= 1
	}
	return p
}

// gfInv returns the multiplicative inverse, a^254 (0 for 0).
func gfInv(a byte) byte {
	// a^254 = a^(2+4+8+16+32+64+128)
	sq := gfMul(a, a) // a^2
	r := sq
	for range 6 {
		sq = gfMul(sq, sq) // a^4, a^8, ..., a^128
		r = gfMul(r, sq)
	}
	return r
}
