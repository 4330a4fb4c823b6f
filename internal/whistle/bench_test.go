package whistle_test

import (
	"bytes"
	"image"
	"image/color"
	"image/jpeg"
	"math/rand/v2"
	"testing"

	"github.com/kandidat/kandidat/internal/testkit"
	"github.com/kandidat/kandidat/internal/whistle"
	"github.com/kandidat/kandidat/internal/whistle/vault"
)

// realParams are the production argon2id parameters (TestMain lowers them
// for the tests; the benchmarks measure the real cost).
var realParams = vault.Params

// photo returns a JPEG of about n bytes (noise compresses badly).
func photo(b *testing.B, n int) []byte {
	side := 600
	for {
		img := image.NewRGBA(image.Rect(0, 0, side, side))
		r := rand.New(rand.NewPCG(1, 2))
		for i := range img.Pix {
			img.Pix[i] = uint8(r.UintN(256))
		}
		img.Set(0, 0, color.RGBA{1, 2, 3, 255})
		var buf bytes.Buffer
		if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 95}); err != nil {
			b.Fatal(err)
		}
		if buf.Len() >= n {
			return buf.Bytes()
		}
		side += side / 4
	}
}

func realCost(b *testing.B) {
	saved := vault.Params
	vault.Params = realParams
	b.Cleanup(func() { vault.Params = saved })
}

// BenchmarkSubmit5MB: a report with a 5 MB photo, as Submit does it:
// detect and strip the photo, seal it to the report's key, store it
// encrypted, derive the receipt key (argon2id at its real cost), write
// the rows and seal the report's key to the handlers.
func BenchmarkSubmit5MB(b *testing.B) {
	e := newEnv(b)
	realCost(b)
	pic := photo(b, 5<<20)
	b.SetBytes(int64(len(pic)))
	b.ResetTimer()
	for b.Loop() {
		if _, err := e.svc.Submit(e.ctx, e.company.ID, e.channel, whistle.Submission{Language: "en", Category: "c1",
			Answers: map[string]string{"q2": "y"}, Text: "A report with a photo.", Files: []whistle.Upload{{Name: "photo.jpg", Data: pic}}}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkUnlock: a handler unlocks their case key with the password
// (argon2id at its real cost).
func BenchmarkUnlock(b *testing.B) {
	e := newEnv(b)
	realCost(b)
	if _, err := e.svc.Enrol(e.ctx, e.karin, testkit.Password, true); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		if _, err := e.svc.Unlock(e.ctx, e.karin, "s", testkit.Password); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkOpenCase: an unlocked handler opens a case of ten entries: the
// session envelope, the case key sealed to the handler, every entry.
func BenchmarkOpenCase(b *testing.B) {
	e := newEnv(b)
	e.submit("")
	h := e.handler(e.karin)
	id := e.onlyCase(e.karin).ID
	for range 9 {
		if err := e.svc.Reply(e.ctx, h, id, "A message of a few sentences, as handlers write them to the reporter.", nil, false); err != nil {
			b.Fatal(err)
		}
	}
	env, _ := e.svc.Unlock(e.ctx, e.karin, "s", testkit.Password)
	b.ResetTimer()
	for b.Loop() {
		h, _, err := e.svc.Handler(e.ctx, e.karin, "s", env)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := e.svc.Case(e.ctx, h, id); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFollowUp: a reporter opens their case with the receipt
// (argon2id at its real cost) and reads it.
func BenchmarkFollowUp(b *testing.B) {
	e := newEnv(b)
	realCost(b)
	r := e.submit("")
	b.ResetTimer()
	for b.Loop() {
		env, err := e.svc.OpenByReceipt(e.ctx, e.company.ID, r.Code, "")
		if err != nil {
			b.Fatal(err)
		}
		if _, err := e.svc.ReporterView(e.ctx, e.company.ID, env); err != nil {
			b.Fatal(err)
		}
	}
}
