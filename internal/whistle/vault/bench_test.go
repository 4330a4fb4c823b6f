package vault

import (
	"bytes"
	"context"
	"io"
	"testing"
)

// BenchmarkDerive measures one Argon2id derivation with the production
// parameters (the figure in the comment on defaultParams).
func BenchmarkDerive(b *testing.B) {
	saved := Params
	Params = defaultParams
	defer func() { Params = saved }()
	salt := NewSalt()
	ctx := context.Background()
	for b.Loop() {
		if _, err := Derive(ctx, []byte("1234 5678 9012 3456 7890 1234"), salt); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSeal5MiB(b *testing.B) {
	id := newID(b)
	bind := Binding{Company: "c-1", Report: "r-1", Purpose: "attachment", Item: "a-1"}
	b.SetBytes(fiveMiB)
	for b.Loop() {
		w, err := Seal(io.Discard, id.Recipient(), bind)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := io.Copy(w, &patternReader{n: fiveMiB}); err != nil {
			b.Fatal(err)
		}
		if err := w.Close(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkOpen5MiB(b *testing.B) {
	id := newID(b)
	bind := Binding{Company: "c-1", Report: "r-1", Purpose: "attachment", Item: "a-1"}
	var ct bytes.Buffer
	w, _ := Seal(&ct, id.Recipient(), bind)
	_, _ = io.Copy(w, &patternReader{n: fiveMiB})
	_ = w.Close()
	b.SetBytes(fiveMiB)
	buf := make([]byte, 32<<10)
	for b.Loop() {
		r, err := Open(bytes.NewReader(ct.Bytes()), id, bind)
		if err != nil {
			b.Fatal(err)
		}
		if n, err := io.CopyBuffer(io.Discard, r, buf); err != nil || n != fiveMiB {
			b.Fatal(n, err)
		}
	}
}

func BenchmarkOpenIdentity(b *testing.B) {
	holder, report := newID(b), newID(b)
	bind := Binding{Company: "c-1", Report: "r-1", Purpose: "report-key", Item: "u-1"}
	sealed, err := SealIdentity(holder.Recipient(), bind, report)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := OpenIdentity(holder, bind, sealed); err != nil {
			b.Fatal(err)
		}
	}
}
