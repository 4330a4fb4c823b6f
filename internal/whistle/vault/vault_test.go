package vault

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime"
	"strings"
	"testing"

	"filippo.io/age"
)

func TestMain(m *testing.M) {
	// Cheap Argon2id for the tests; BenchmarkDerive restores the real ones.
	Params = ArgonParams{Time: 1, MemoryKiB: 64, Threads: 1}
	os.Exit(m.Run())
}

func newID(t testing.TB) *Identity {
	t.Helper()
	id, err := NewIdentity()
	if err != nil {
		t.Fatal(err)
	}
	return id
}

var testBinding = Binding{Company: "c-1", Report: "r-1", Purpose: "entry", Item: "e-1"}

// bindingVariants returns b with each field changed in turn, plus
// rearrangements that an ambiguous encoding would confuse.
func bindingVariants(b Binding) map[string]Binding {
	return map[string]Binding{
		"company":        {b.Company + "x", b.Report, b.Purpose, b.Item},
		"report":         {b.Company, b.Report + "x", b.Purpose, b.Item},
		"purpose":        {b.Company, b.Report, "attachment", b.Item},
		"item":           {b.Company, b.Report, b.Purpose, b.Item + "x"},
		"empty company":  {"", b.Report, b.Purpose, b.Item},
		"shifted bytes":  {b.Company + b.Report[:1], b.Report[1:], b.Purpose, b.Item},
		"swapped fields": {b.Report, b.Company, b.Purpose, b.Item},
		"zero":           {},
	}
}

func TestBindingEncodingIsInjective(t *testing.T) {
	cases := []Binding{
		{"a", "b", "c", "d"},
		{"a b", "", "c", "d"},
		{"a", " b", "c", "d"},
		{"a 1:b", "", "c", "d"},
		{"a", "1:b", "c", "d"},
		{"", "", "", ""},
		{"", "", "", " "},
		{"\n", "", "", ""},
	}
	seen := map[string]Binding{}
	for _, b := range cases {
		enc, err := b.encode()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.HasPrefix(enc, []byte("kandidat-vault/1 ")) {
			t.Errorf("encoding %q lacks the version", enc)
		}
		if other, ok := seen[string(enc)]; ok {
			t.Errorf("%+v and %+v encode alike: %q", b, other, enc)
		}
		seen[string(enc)] = b
	}
	if _, err := (Binding{Company: strings.Repeat("x", maxBindingField+1)}).encode(); err == nil {
		t.Error("oversized field encoded, want an error")
	}
}

func TestIdentity(t *testing.T) {
	id := newID(t)
	if !strings.HasPrefix(id.String(), "AGE-SECRET-KEY-1") {
		t.Errorf("String() = %.20q..., want AGE-SECRET-KEY-1...", id.String())
	}
	if !strings.HasPrefix(id.Recipient(), "age1") {
		t.Errorf("Recipient() = %q, want age1...", id.Recipient())
	}
	if err := CheckRecipient(id.Recipient()); err != nil {
		t.Errorf("CheckRecipient(own recipient) = %v, want nil", err)
	}
	back, err := ParseIdentity(id.String())
	if err != nil {
		t.Fatal(err)
	}
	if back.Recipient() != id.Recipient() || back.String() != id.String() {
		t.Error("ParseIdentity(String()) is another key")
	}
	for _, bad := range []string{"", "age1xyz", id.Recipient() + "q", "AGE-SECRET-KEY-1" + strings.Repeat("Q", 58), "ssh-ed25519 AAAA"} {
		if err := CheckRecipient(bad); err == nil {
			t.Errorf("CheckRecipient(%q) = nil, want an error", bad)
		}
	}
	for _, bad := range []string{"", id.Recipient(), "AGE-SECRET-KEY-1QQQ", id.String() + "Q"} {
		if _, err := ParseIdentity(bad); err == nil {
			t.Errorf("ParseIdentity(%.30q) = nil error, want an error", bad)
		}
	}
}

func TestIdentityIsRedactedInFormattingAndLogs(t *testing.T) {
	id := newID(t)
	secret := id.String()
	var logged bytes.Buffer
	slog.New(slog.NewTextHandler(&logged, nil)).Info("unlocked", "identity", id)
	outputs := map[string]string{
		"%v":     fmt.Sprintf("%v", id),
		"%s":     fmt.Sprintf("%s", id),
		"%+v":    fmt.Sprintf("%+v", id),
		"%q":     fmt.Sprintf("%q", id),
		"Sprint": fmt.Sprint(id),
		"Errorf": fmt.Errorf("unlock %v", id).Error(),
		"slog":   logged.String(),
	}
	for name, out := range outputs {
		if strings.Contains(out, secret) || strings.Contains(strings.ToLower(out), strings.ToLower(secret[16:])) {
			t.Errorf("%s prints the secret: %q", name, out)
		}
		if !strings.Contains(out, id.Recipient()) {
			t.Errorf("%s = %q, want the recipient named", name, out)
		}
	}
}

func TestSealOpenBytes(t *testing.T) {
	id := newID(t)
	for _, plain := range [][]byte{nil, []byte("x"), []byte("a report\nwith lines"), bytes.Repeat([]byte{0}, 70_000)} {
		ct, err := SealBytes(id.Recipient(), testBinding, plain)
		if err != nil {
			t.Fatal(err)
		}
		if len(plain) > 4 && bytes.Contains(ct, plain[:4]) && plain[0] != 0 {
			t.Error("ciphertext contains the plaintext")
		}
		got, err := OpenBytes(id, testBinding, ct)
		if err != nil {
			t.Fatalf("OpenBytes: %v", err)
		}
		if !bytes.Equal(got, plain) {
			t.Errorf("round trip of %d bytes gave %d bytes", len(plain), len(got))
		}
	}
}

func TestOpenRefuses(t *testing.T) {
	id := newID(t)
	ct, err := SealBytes(id.Recipient(), testBinding, []byte("the secret of the report"))
	if err != nil {
		t.Fatal(err)
	}
	for name, b := range bindingVariants(testBinding) {
		t.Run("binding "+name, func(t *testing.T) {
			if _, err := OpenBytes(id, b, ct); err != ErrOpen {
				t.Errorf("got %v, want ErrOpen", err)
			}
		})
	}
	t.Run("wrong identity", func(t *testing.T) {
		if _, err := OpenBytes(newID(t), testBinding, ct); err != ErrOpen {
			t.Errorf("got %v, want ErrOpen", err)
		}
	})
	t.Run("nil identity", func(t *testing.T) {
		if _, err := OpenBytes(nil, testBinding, ct); err != ErrOpen {
			t.Errorf("got %v, want ErrOpen", err)
		}
	})
	t.Run("every tampered byte", func(t *testing.T) {
		for i := range ct {
			bad := bytes.Clone(ct)
			bad[i] ^= 0x01
			if _, err := OpenBytes(id, testBinding, bad); err != ErrOpen {
				t.Fatalf("byte %d flipped: got %v, want ErrOpen", i, err)
			}
		}
	})
	t.Run("truncated", func(t *testing.T) {
		for _, n := range []int{0, 1, len(ct) / 2, len(ct) - 17, len(ct) - 1} {
			if _, err := OpenBytes(id, testBinding, ct[:n]); err != ErrOpen {
				t.Errorf("first %d bytes: got %v, want ErrOpen", n, err)
			}
		}
	})
	t.Run("extended", func(t *testing.T) {
		if _, err := OpenBytes(id, testBinding, append(bytes.Clone(ct), 0)); err != ErrOpen {
			t.Errorf("got %v, want ErrOpen", err)
		}
	})
	t.Run("bad recipient on seal", func(t *testing.T) {
		if _, err := SealBytes("age1nope", testBinding, nil); err == nil {
			t.Error("sealed to a malformed recipient")
		}
	})
}

func TestPlaintextCannotForgeTheHeader(t *testing.T) {
	id := newID(t)
	// Content that begins with another binding's header, sealed under its
	// own binding, must not open under the other binding.
	forged, err := testBinding.encode()
	if err != nil {
		t.Fatal(err)
	}
	attachment := Binding{Company: "c-1", Report: "r-1", Purpose: "attachment", Item: "e-1"}
	ct, err := SealBytes(id.Recipient(), attachment, append(forged, "x"...))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := OpenBytes(id, testBinding, ct); err != ErrOpen {
		t.Errorf("got %v, want ErrOpen", err)
	}
	// A plain age file without the vault header does not open either.
	var plain bytes.Buffer
	w, err := age.Encrypt(&plain, id.id.Recipient())
	if err != nil {
		t.Fatal(err)
	}
	_, _ = w.Write([]byte("no header here, just a long enough text"))
	_ = w.Close()
	if _, err := OpenBytes(id, testBinding, plain.Bytes()); err != ErrOpen {
		t.Errorf("plain age file: got %v, want ErrOpen", err)
	}
}

func TestSealIdentity(t *testing.T) {
	holder, report := newID(t), newID(t)
	b := Binding{Company: "c-1", Report: "r-1", Purpose: "report-key", Item: "u-1"}
	sealed, err := SealIdentity(holder.Recipient(), b, report)
	if err != nil {
		t.Fatal(err)
	}
	got, err := OpenIdentity(holder, b, sealed)
	if err != nil {
		t.Fatal(err)
	}
	if got.String() != report.String() {
		t.Error("OpenIdentity gave another key")
	}
	if _, err := OpenIdentity(report, b, sealed); err != ErrOpen {
		t.Errorf("opened by the wrong holder: got %v, want ErrOpen", err)
	}
	for name, vb := range bindingVariants(b) {
		if _, err := OpenIdentity(holder, vb, sealed); err != ErrOpen {
			t.Errorf("binding %s: got %v, want ErrOpen", name, err)
		}
	}
	// A sealed non-identity under the right binding is ErrOpen too.
	junk, err := SealBytes(holder.Recipient(), b, []byte("not a key"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := OpenIdentity(holder, b, junk); err != ErrOpen {
		t.Errorf("junk identity: got %v, want ErrOpen", err)
	}
}

func TestSealWithKey(t *testing.T) {
	var key [32]byte
	if _, err := rand.Read(key[:]); err != nil {
		t.Fatal(err)
	}
	plain := []byte("handler identity")
	sealed, err := SealWithKey(&key, testBinding, plain)
	if err != nil {
		t.Fatal(err)
	}
	if sealed[0] != keyedVersion || len(sealed) != 1+24+len(plain)+16 {
		t.Errorf("format: version %d, length %d; want %d, %d", sealed[0], len(sealed), keyedVersion, 1+24+len(plain)+16)
	}
	again, _ := SealWithKey(&key, testBinding, plain)
	if bytes.Equal(again[1:25], sealed[1:25]) {
		t.Error("two seals share a nonce")
	}
	got, err := OpenWithKey(&key, testBinding, sealed)
	if err != nil || !bytes.Equal(got, plain) {
		t.Fatalf("round trip: got %q, %v", got, err)
	}
	for name, b := range bindingVariants(testBinding) {
		if _, err := OpenWithKey(&key, b, sealed); err != ErrOpen {
			t.Errorf("binding %s: got %v, want ErrOpen", name, err)
		}
	}
	other := key
	other[0] ^= 1
	if _, err := OpenWithKey(&other, testBinding, sealed); err != ErrOpen {
		t.Errorf("wrong key: got %v, want ErrOpen", err)
	}
	for i := range sealed {
		bad := bytes.Clone(sealed)
		bad[i] ^= 0x80
		if _, err := OpenWithKey(&key, testBinding, bad); err != ErrOpen {
			t.Fatalf("byte %d flipped: got %v, want ErrOpen", i, err)
		}
	}
	for _, n := range []int{0, 1, 25, 40, len(sealed) - 1} {
		if _, err := OpenWithKey(&key, testBinding, sealed[:n]); err != ErrOpen {
			t.Errorf("first %d bytes: got %v, want ErrOpen", n, err)
		}
	}
	if _, err := OpenWithKey(nil, testBinding, sealed); err != ErrOpen {
		t.Errorf("nil key: got %v, want ErrOpen", err)
	}
}

// countingReader counts what has been read from the ciphertext.
type countingReader struct {
	r io.Reader
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

// patternReader yields n bytes of a position-dependent pattern, so a
// reordered or dropped chunk would be noticed.
type patternReader struct{ off, n int }

func (p *patternReader) Read(b []byte) (int, error) {
	if p.off >= p.n {
		return 0, io.EOF
	}
	k := min(len(b), p.n-p.off)
	for i := range k {
		b[i] = byte((p.off + i) * 7 / 3)
	}
	p.off += k
	return k, nil
}

const fiveMiB = 5 << 20

func TestStream5MiB(t *testing.T) {
	id := newID(t)
	b := Binding{Company: "c-1", Report: "r-1", Purpose: "attachment", Item: "a-1"}
	var ct bytes.Buffer
	w, err := Seal(&ct, id.Recipient(), b)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(w, &patternReader{n: fiveMiB}); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	sealed := ct.Bytes()

	t.Run("round trip streams", func(t *testing.T) {
		src := &countingReader{r: bytes.NewReader(sealed)}
		r, err := Open(src, id, b)
		if err != nil {
			t.Fatal(err)
		}
		first := make([]byte, 1000)
		if _, err := io.ReadFull(r, first); err != nil {
			t.Fatal(err)
		}
		// Open must not have read the whole stream to return the first
		// bytes: a couple of 64 KiB chunks at most.
		if src.n > 256<<10 {
			t.Errorf("read %d ciphertext bytes before returning the first 1000, want <= 256 KiB", src.n)
		}
		want := &patternReader{n: fiveMiB}
		wantFirst := make([]byte, 1000)
		_, _ = io.ReadFull(want, wantFirst)
		if !bytes.Equal(first, wantFirst) {
			t.Fatal("first bytes differ")
		}
		rest := 0
		buf, wbuf := make([]byte, 32<<10), make([]byte, 32<<10)
		for {
			n, err := r.Read(buf)
			if n > 0 {
				if _, werr := io.ReadFull(want, wbuf[:n]); werr != nil || !bytes.Equal(buf[:n], wbuf[:n]) {
					t.Fatalf("plaintext differs at %d", 1000+rest)
				}
				rest += n
			}
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
		}
		if 1000+rest != fiveMiB {
			t.Errorf("read %d bytes, want %d", 1000+rest, fiveMiB)
		}
	})

	t.Run("memory stays bounded", func(t *testing.T) {
		// Ciphertext is consumed in step with the plaintext returned (never
		// more than two 64 KiB chunks ahead), and what the reader retains
		// half-way through is far below the 5 MiB stream.
		var base, mid runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&base)
		src := &countingReader{r: bytes.NewReader(sealed)}
		r, err := Open(src, id, b)
		if err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 8<<10)
		total := 0
		for {
			n, err := r.Read(buf)
			total += n
			if ahead := src.n - total; ahead > 2*(64<<10+16)+512 {
				t.Fatalf("after %d plaintext bytes, %d ciphertext bytes were read (%d ahead)", total, src.n, ahead)
			}
			if total >= fiveMiB/2 && mid.NumGC == 0 {
				runtime.GC()
				runtime.ReadMemStats(&mid)
			}
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
		}
		if total != fiveMiB {
			t.Fatalf("read %d bytes, want %d", total, fiveMiB)
		}
		if held := int64(mid.HeapAlloc) - int64(base.HeapAlloc); held > 1<<20 {
			t.Errorf("half-way through, the open stream holds %d bytes, want <= 1 MiB", held)
		}
		runtime.KeepAlive(r)
	})

	t.Run("tampered chunk fails mid-stream with ErrOpen", func(t *testing.T) {
		bad := bytes.Clone(sealed)
		bad[len(bad)/2] ^= 1
		r, err := Open(bytes.NewReader(bad), id, b)
		if err != nil {
			t.Fatalf("Open = %v; the header chunk is intact, want the error on Read", err)
		}
		if _, err := io.Copy(io.Discard, r); err != ErrOpen {
			t.Errorf("got %v, want ErrOpen", err)
		}
	})

	t.Run("truncated stream fails with ErrOpen", func(t *testing.T) {
		r, err := Open(bytes.NewReader(sealed[:len(sealed)-(64<<10)-16]), id, b)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(io.Discard, r); err != ErrOpen {
			t.Errorf("got %v, want ErrOpen", err)
		}
	})

	t.Run("wrong binding fails before the first byte", func(t *testing.T) {
		if _, err := Open(bytes.NewReader(sealed), id, testBinding); err != ErrOpen {
			t.Errorf("got %v, want ErrOpen", err)
		}
	})

	t.Run("source error is passed through, not ErrOpen", func(t *testing.T) {
		boom := errors.New("disk on fire")
		r, err := Open(io.MultiReader(bytes.NewReader(sealed[:1<<20]), &failingReader{err: boom}), id, b)
		if err != nil {
			t.Fatal(err)
		}
		_, err = io.Copy(io.Discard, r)
		if !errors.Is(err, boom) || errors.Is(err, ErrOpen) {
			t.Errorf("got %v, want the source's error", err)
		}
	})
}

type failingReader struct{ err error }

func (f *failingReader) Read([]byte) (int, error) { return 0, f.err }
