package pitr

import (
	"bytes"
	"crypto/rand"
	"errors"
	"io"
	"strings"
	"testing"
	"time"
)

func testKey(t testing.TB, b byte) []byte {
	t.Helper()
	return bytes.Repeat([]byte{b}, 32)
}

func sealBytes(t *testing.T, s *sealer, id objectID, plain []byte) []byte {
	t.Helper()
	r, n, err := s.seal(id, bytes.NewReader(plain))
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	if n() != int64(len(plain)) {
		t.Fatalf("sealed %d plaintext bytes, want %d", n(), len(plain))
	}
	return b
}

// openBytes opens a range of a sealed file the way the client does: the
// header, then the stored bytes from the chunk holding offset on (one byte
// past the chunks needed when size is set).
func openBytes(s *sealer, id objectID, sealed []byte, offset, size int64) ([]byte, error) {
	first := offset / chunkSize
	at := int64(headerSize) + first*sealedSize
	end := int64(len(sealed))
	if size > 0 {
		chunks := (offset%chunkSize + size + chunkSize - 1) / chunkSize
		end = min(end, at+chunks*sealedSize+1)
	}
	at = min(at, int64(len(sealed)))
	r, err := s.openAt(id, sealed[:min(headerSize, len(sealed))], bytes.NewReader(sealed[at:end]), offset, size)
	if err != nil {
		return nil, err
	}
	return io.ReadAll(r)
}

func TestSealRoundTripAndRanges(t *testing.T) {
	s, err := newSealer(testKey(t, 1))
	if err != nil {
		t.Fatal(err)
	}
	id := objectID{level: 1, minTXID: 5, maxTXID: 9, created: time.UnixMilli(1_700_000_000_123).UTC()}
	for _, n := range []int{0, 1, 100, chunkSize - 1, chunkSize, chunkSize + 1, 3 * chunkSize, 3*chunkSize + 77} {
		plain := make([]byte, n)
		rand.Read(plain)
		sealed := sealBytes(t, s, id, plain)
		if got, ok := plainSize(int64(len(sealed))); !ok || got != int64(n) {
			t.Fatalf("size %d: plainSize(%d) = %d, %v; want %d", n, len(sealed), got, ok, n)
		}
		if n > 16 && bytes.Contains(sealed, plain[:16]) {
			t.Fatalf("size %d: the sealed file holds plaintext", n)
		}
		if !bytes.HasPrefix(sealed, []byte(sealMagic)) {
			t.Fatalf("size %d: sealed file starts %q", n, sealed[:8])
		}
		ranges := [][2]int64{{0, 0}, {0, 1}, {1, 0}, {chunkSize - 1, 2}, {chunkSize, 0}, {chunkSize, 10},
			{int64(n) - 1, 0}, {int64(n) / 2, int64(n) / 3}, {2*chunkSize + 3, chunkSize}, {int64(n), 0}}
		for _, rg := range ranges {
			off, size := rg[0], rg[1]
			if off < 0 || off > int64(n) {
				continue
			}
			got, err := openBytes(s, id, sealed, off, size)
			if err != nil {
				t.Fatalf("size %d, range %d+%d: %v", n, off, size, err)
			}
			want := plain[off:]
			if size > 0 && int64(len(want)) > size {
				want = want[:size]
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("size %d, range %d+%d: got %d bytes, want %d (or content differs)", n, off, size, len(got), len(want))
			}
		}
	}
}

func TestSealRefusesChangesAndWrongKey(t *testing.T) {
	s, _ := newSealer(testKey(t, 1))
	other, _ := newSealer(testKey(t, 2))
	id := objectID{level: 0, minTXID: 7, maxTXID: 7, created: time.UnixMilli(1_700_000_000_000).UTC()}
	plain := make([]byte, 2*chunkSize+100)
	rand.Read(plain)
	sealed := sealBytes(t, s, id, plain)

	flip := func(at int) []byte {
		b := bytes.Clone(sealed)
		b[at] ^= 1
		return b
	}
	cases := []struct {
		name   string
		sealed []byte
		id     objectID
		s      *sealer
		want   error
	}{
		{"byte in first chunk", flip(headerSize + 10), id, s, ErrTampered},
		{"byte in last chunk", flip(len(sealed) - 20), id, s, ErrTampered},
		{"tag", flip(headerSize + sealedSize - 1), id, s, ErrTampered},
		{"salt", flip(len(sealMagic) + 3), id, s, ErrTampered},
		{"magic", flip(0), id, s, ErrTampered},
		{"cut at a chunk boundary", sealed[:headerSize+2*sealedSize], id, s, ErrTampered},
		{"cut inside a chunk", sealed[:len(sealed)-5], id, s, ErrTampered},
		{"bytes appended", append(bytes.Clone(sealed), 0), id, s, ErrTampered},
		{"chunks swapped", swapChunks(sealed), id, s, ErrTampered},
		{"served as another range", sealed, objectID{level: 0, minTXID: 8, maxTXID: 8, created: id.created}, s, ErrTampered},
		{"served as another level", sealed, objectID{level: 1, minTXID: 7, maxTXID: 7, created: id.created}, s, ErrTampered},
		{"served with another time", sealed, objectID{level: 0, minTXID: 7, maxTXID: 7, created: id.created.Add(time.Second)}, s, ErrTampered},
		{"another key", sealed, id, other, ErrWrongKey},
		{"key check changed", flip(len(sealMagic) + saltSize), id, s, ErrWrongKey},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := openBytes(c.s, c.id, c.sealed, 0, 0)
			if !errors.Is(err, c.want) {
				t.Fatalf("got %v, want %v", err, c.want)
			}
		})
	}
	// The untouched file still opens (the cases above changed copies).
	if got, err := openBytes(s, id, sealed, 0, 0); err != nil || !bytes.Equal(got, plain) {
		t.Fatalf("untouched file: %v", err)
	}
}

func swapChunks(sealed []byte) []byte {
	b := bytes.Clone(sealed)
	c0 := b[headerSize : headerSize+sealedSize]
	c1 := b[headerSize+sealedSize : headerSize+2*sealedSize]
	tmp := bytes.Clone(c0)
	copy(c0, c1)
	copy(c1, tmp)
	return b
}

func TestSealerNeedsA32ByteKey(t *testing.T) {
	for _, n := range []int{0, 16, 31, 33, 64} {
		if _, err := newSealer(make([]byte, n)); err == nil {
			t.Fatalf("a %d-byte key was accepted", n)
		}
	}
}

func TestObjectKeys(t *testing.T) {
	id := objectID{level: 9, minTXID: 1, maxTXID: 0x2a, created: time.Date(2026, 12, 3, 16, 21, 31, 123_000_000, time.UTC)}
	key := objectKey(id)
	if want := "ltx/9/0000000000000001-000000000000002a.20261203T162131.123Z.sealed"; key != want {
		t.Fatalf("key %q, want %q", key, want)
	}
	got, ok := parseKey(9, key)
	if !ok || got != id {
		t.Fatalf("parseKey(%q) = %+v, %v; want %+v", key, got, ok, id)
	}
	for _, bad := range []string{"ltx/9/.tmp-123", "ltx/9/0000000000000001-000000000000002a.ltx", "ltx/8/" + key[6:], "ltx/9/1-2.20261203T162131.123Z.sealed"} {
		if _, ok := parseKey(9, bad); ok {
			t.Fatalf("parseKey accepted %q", bad)
		}
	}
}

func TestReplicaLocations(t *testing.T) {
	t.Setenv("AWS_ACCESS_KEY_ID", "")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "")
	good := map[string]string{
		"/srv/replica":        "/srv/replica",
		"file:///srv/replica": "/srv/replica",
		"s3://AK:s3cr3t-value@bucket/kandidat/pitr?endpoint=https://s3.example.com&region=eu-north-1&path-style=true": "s3://bucket/kandidat/pitr?endpoint=https://s3.example.com&region=eu-north-1&path-style=true",
		"s3://AK:s3cr3t-value@bucket?endpoint=http://127.0.0.1:9000":                                                  "s3://bucket?endpoint=http://127.0.0.1:9000",
	}
	for loc, where := range good {
		o, err := openObjects(loc, t.TempDir())
		if err != nil {
			t.Fatalf("%s: %v", loc, err)
		}
		if o.where() != where {
			t.Fatalf("%s: where %q, want %q", loc, o.where(), where)
		}
	}
	bad := []string{
		"", "relative/dir", "file://host/dir", "ftp://x/y",
		"s3://bucket/p?endpoint=https://s3.example.com",                             // no credentials
		"s3://AK:s3cr3t-value@bucket/p",                                             // no endpoint
		"s3://AK:s3cr3t-value@bucket/p?endpoint=http://s3.example.com",              // plain http to another machine
		"s3://AK:s3cr3t-value@bucket/p?endpoint=https://s3.example.com&colour=blue", // unknown option
		"s3://AK:s3cr3t-value@b/p?endpoint=https://s3.example.com",                  // bucket too short
	}
	for _, loc := range bad {
		if _, err := openObjects(loc, t.TempDir()); err == nil {
			t.Fatalf("%q was accepted", loc)
		} else if strings.Contains(err.Error(), "s3cr3t") {
			t.Fatalf("%q: the error repeats the secret: %v", loc, err)
		}
	}
	t.Setenv("AWS_ACCESS_KEY_ID", "AK")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "SK")
	if _, err := openObjects("s3://bucket/p?endpoint=https://s3.example.com", t.TempDir()); err != nil {
		t.Fatalf("credentials from the environment: %v", err)
	}
}
