package pitr

import (
	"bytes"
	"errors"
	"testing"
	"time"
)

// FuzzOpenSealed feeds the opener bytes that are not what the sealer
// wrote: a sealed file changed anywhere, cut anywhere, or any bytes at
// all, opened at any offset. It must never panic, the sealed file itself
// must open, and whatever it returns without an error must be exactly the
// plaintext from that offset to the end (a change in a chunk before the
// offset is not read, so it need not be noticed; a change or cut in any
// chunk that is read must be).
func FuzzOpenSealed(f *testing.F) {
	s, err := newSealer(bytes.Repeat([]byte{7}, 32))
	if err != nil {
		f.Fatal(err)
	}
	id := objectID{level: 1, minTXID: 3, maxTXID: 9, created: time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)}
	plain := bytes.Repeat([]byte("kandidat pitr "), 10000) // 140 kB: three chunks
	r, _, err := s.seal(id, bytes.NewReader(plain))
	if err != nil {
		f.Fatal(err)
	}
	var sealed bytes.Buffer
	if _, err := sealed.ReadFrom(r); err != nil {
		f.Fatal(err)
	}
	good := sealed.Bytes()
	f.Add(uint32(0), byte(0), uint32(0), uint32(0), []byte(nil))
	f.Add(uint32(100), byte(1), uint32(0), uint32(70000), []byte(nil))
	f.Add(uint32(0), byte(0), uint32(len(good)-5), uint32(0), []byte(nil))
	f.Add(uint32(0), byte(0), uint32(0), uint32(0), []byte("KNDPITR1garbage"))
	f.Fuzz(func(t *testing.T, flipAt uint32, flip byte, cutAt uint32, offset uint32, raw []byte) {
		data := bytes.Clone(good)
		if raw != nil {
			data = raw
		}
		if len(data) > 0 && flip != 0 {
			data[int(flipAt)%len(data)] ^= flip
		}
		if cutAt > 0 && int(cutAt) < len(data) {
			data = data[:cutAt]
		}
		off := int64(offset) % int64(len(plain)+1)
		got, err := openBytes(s, id, data, off, 0)
		exact := bytes.Equal(data, good)
		switch {
		case err != nil && exact:
			t.Fatalf("the sealed file does not open at %d: %v", off, err)
		case err != nil && !errors.Is(err, ErrTampered) && !errors.Is(err, ErrWrongKey):
			t.Fatalf("an error that is neither tampering nor a wrong key: %v", err)
		case err == nil && !bytes.Equal(got, plain[off:]):
			t.Fatalf("changed bytes opened at offset %d: %d bytes returned, not the plaintext", off, len(got))
		}
	})
}

// FuzzParseKey: any object key either parses to an id whose key is itself,
// or is refused; never a panic.
func FuzzParseKey(f *testing.F) {
	id := objectID{level: 2, minTXID: 1, maxTXID: 255, created: time.Date(2026, 12, 3, 10, 0, 0, 123e6, time.UTC)}
	f.Add(2, objectKey(id))
	f.Add(0, "ltx/0/0000000000000001-0000000000000001.x.sealed")
	f.Fuzz(func(t *testing.T, level int, key string) {
		level = level & 15
		got, ok := parseKey(level, key)
		if !ok {
			return
		}
		if got.level != level || objectKey(got) != key {
			// Accepted keys must be the canonical form: two names for one
			// file would let a replica hold it twice.
			if _, again := parseKey(level, objectKey(got)); !again {
				t.Fatalf("parsed %q to %+v, whose own key does not parse", key, got)
			}
		}
	})
}
