package pitr

import (
	"bufio"
	"bytes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"time"

	"golang.org/x/crypto/chacha20poly1305"
)

// The sealed format of one LTX file:
//
//	header: magic (8) | salt (32) | key check (16)
//	chunks: ChaCha20-Poly1305 of chunkSize plaintext bytes each (the last
//	        one shorter, possibly empty), each followed by its 16-byte tag
//
// Each file is sealed with its own key, HKDF-SHA256(Options.Key, salt,
// "kandidat pitr ltx v1"), so nonces never repeat across files: a chunk's
// nonce is its index (8 bytes, big-endian) and a last-chunk flag. The
// associated data of every chunk is the object's identity (level, TXID
// range, timestamp) and the header, so a chunk cannot be moved to another
// position or file, a file cannot be served under another file's name, and
// a file cut at a chunk boundary does not authenticate (its new last chunk
// was sealed as not last). The key check, derived from Options.Key alone,
// tells a wrong key apart from changed bytes.
const (
	sealMagic  = "KNDPITR1"
	saltSize   = 32
	checkSize  = 16
	headerSize = len(sealMagic) + saltSize + checkSize
	chunkSize  = 64 << 10
	tagSize    = chacha20poly1305.Overhead
	sealedSize = chunkSize + tagSize
)

var (
	// ErrWrongKey: the replica was sealed with another key than Options.Key
	// (another installation's, or one from before the master key was replaced).
	ErrWrongKey = errors.New("the point-in-time replica was sealed with another key (not this installation's master key)")
	// ErrTampered: a replica file does not authenticate: it was changed,
	// truncated, or swapped for another file.
	ErrTampered = errors.New("a point-in-time replica file does not authenticate (changed, truncated or swapped)")
)

// objectID names what a sealed file holds; it is bound to every chunk.
type objectID struct {
	level            int
	minTXID, maxTXID uint64
	created          time.Time // the LTX header's timestamp, in milliseconds
}

func (id objectID) String() string {
	return fmt.Sprintf("level %d, transactions %d-%d", id.level, id.minTXID, id.maxTXID)
}

// sealer seals and opens replica files with one 32-byte key.
type sealer struct {
	key   []byte
	check [checkSize]byte
}

func newSealer(key []byte) (*sealer, error) {
	if len(key) != 32 {
		return nil, fmt.Errorf("the point-in-time replica key must be 32 bytes, not %d", len(key))
	}
	c, err := hkdf.Key(sha256.New, key, nil, "kandidat pitr key check v1", checkSize)
	if err != nil {
		return nil, err
	}
	s := &sealer{key: bytes.Clone(key)}
	copy(s.check[:], c)
	return s, nil
}

// fileAEAD returns the AEAD of the file whose header holds salt.
func (s *sealer) fileAEAD(salt []byte) (cipher.AEAD, error) {
	k, err := hkdf.Key(sha256.New, s.key, salt, "kandidat pitr ltx v1", chacha20poly1305.KeySize)
	if err != nil {
		return nil, err
	}
	return chacha20poly1305.New(k)
}

// checkHeader verifies the magic and the key check of a sealed header.
func (s *sealer) checkHeader(h []byte) error {
	if len(h) < headerSize || string(h[:len(sealMagic)]) != sealMagic {
		return fmt.Errorf("%w: not a sealed replica file", ErrTampered)
	}
	if subtle.ConstantTimeCompare(h[len(sealMagic)+saltSize:headerSize], s.check[:]) != 1 {
		return ErrWrongKey
	}
	return nil
}

func associatedData(id objectID, header []byte) []byte {
	ad := make([]byte, 0, 64+headerSize)
	ad = append(ad, "kandidat pitr ltx v1\x00"...)
	ad = binary.BigEndian.AppendUint32(ad, uint32(id.level))
	ad = binary.BigEndian.AppendUint64(ad, id.minTXID)
	ad = binary.BigEndian.AppendUint64(ad, id.maxTXID)
	ad = binary.BigEndian.AppendUint64(ad, uint64(id.created.UnixMilli()))
	return append(ad, header...)
}

func chunkNonce(i uint64, last bool) []byte {
	n := make([]byte, chacha20poly1305.NonceSize)
	binary.BigEndian.PutUint64(n[2:10], i)
	if last {
		n[11] = 1
	}
	return n
}

// plainSize returns the plaintext size of a sealed file of stored bytes, or
// false when no sealed file has that size.
func plainSize(stored int64) (int64, bool) {
	body := stored - int64(headerSize)
	if body < tagSize {
		return 0, false
	}
	n := (body + sealedSize - 1) / sealedSize
	if body-(n-1)*sealedSize < tagSize {
		return 0, false
	}
	return body - n*tagSize, true
}

// seal returns the sealed stream of r (read as it is consumed) and a
// function giving the plaintext bytes read so far. Memory: two chunks.
func (s *sealer) seal(id objectID, r io.Reader) (io.Reader, func() int64, error) {
	h := make([]byte, headerSize)
	copy(h, sealMagic)
	if _, err := rand.Read(h[len(sealMagic) : len(sealMagic)+saltSize]); err != nil {
		return nil, nil, err
	}
	copy(h[len(sealMagic)+saltSize:], s.check[:])
	aead, err := s.fileAEAD(h[len(sealMagic) : len(sealMagic)+saltSize])
	if err != nil {
		return nil, nil, err
	}
	w := &sealReader{aead: aead, ad: associatedData(id, h), src: bufio.NewReaderSize(r, chunkSize), out: h}
	return w, func() int64 { return w.n }, nil
}

type sealReader struct {
	aead cipher.AEAD
	ad   []byte
	src  *bufio.Reader
	buf  []byte
	out  []byte // sealed bytes not yet returned
	i    uint64
	n    int64
	done bool
}

func (w *sealReader) Read(p []byte) (int, error) {
	for len(w.out) == 0 {
		if w.done {
			return 0, io.EOF
		}
		if w.buf == nil {
			w.buf = make([]byte, chunkSize, sealedSize)
		}
		n, err := io.ReadFull(w.src, w.buf[:chunkSize])
		if err != nil && err != io.EOF && err != io.ErrUnexpectedEOF {
			return 0, err
		}
		w.n += int64(n)
		// The chunk is the last when the source has nothing after it.
		last := n < chunkSize
		if !last {
			if _, err := w.src.Peek(1); err == io.EOF {
				last = true
			} else if err != nil {
				return 0, err
			}
		}
		w.out = w.aead.Seal(w.buf[:0], chunkNonce(w.i, last), w.buf[:n], w.ad)
		w.i++
		w.done = last
	}
	n := copy(p, w.out)
	w.out = w.out[n:]
	return n, nil
}

// openAt returns the plaintext of a sealed file from offset on (at most
// size bytes when size > 0). header is the file's header; body reads the
// sealed file from the start of the chunk holding offset. Every byte
// returned has been authenticated.
func (s *sealer) openAt(id objectID, header []byte, body io.Reader, offset, size int64) (io.Reader, error) {
	if err := s.checkHeader(header); err != nil {
		return nil, err
	}
	aead, err := s.fileAEAD(header[len(sealMagic) : len(sealMagic)+saltSize])
	if err != nil {
		return nil, err
	}
	o := &openReader{aead: aead, ad: associatedData(id, header[:headerSize]), src: bufio.NewReaderSize(body, sealedSize),
		i: uint64(offset / chunkSize), skip: offset % chunkSize, left: size, id: id}
	return o, nil
}

type openReader struct {
	aead cipher.AEAD
	ad   []byte
	src  *bufio.Reader
	buf  []byte
	out  []byte
	i    uint64
	skip int64 // plaintext bytes of the first chunk before the offset
	left int64 // bytes still to return when limited (> 0), else 0
	id   objectID
	done bool
	err  error
}

func (o *openReader) Read(p []byte) (int, error) {
	if o.err != nil {
		return 0, o.err
	}
	for len(o.out) == 0 {
		if o.done {
			return 0, io.EOF
		}
		if err := o.next(); err != nil {
			o.err = err
			return 0, err
		}
	}
	if o.left > 0 && int64(len(p)) > o.left {
		p = p[:o.left]
	}
	n := copy(p, o.out)
	o.out = o.out[n:]
	if o.left > 0 {
		o.left -= int64(n)
		if o.left == 0 {
			o.done, o.out = true, nil
		}
	}
	return n, nil
}

// next reads, authenticates and decrypts the next chunk into o.out.
func (o *openReader) next() error {
	if o.buf == nil {
		o.buf = make([]byte, sealedSize)
	}
	n, err := io.ReadFull(o.src, o.buf)
	if err != nil && err != io.EOF && err != io.ErrUnexpectedEOF {
		return err
	}
	last := n < sealedSize
	if !last {
		if _, err := o.src.Peek(1); err == io.EOF {
			last = true
		} else if err != nil {
			return err
		}
	}
	if n < tagSize {
		if n == 0 && o.skip == 0 && o.i > 0 {
			// An offset at the very end of a file whose size is a
			// multiple of the chunk size: nothing is left to read.
			o.done = true
			return nil
		}
		return fmt.Errorf("%w: %s ends inside chunk %d", ErrTampered, o.id, o.i)
	}
	pt, err := o.aead.Open(o.buf[:0], chunkNonce(o.i, last), o.buf[:n], o.ad)
	if err != nil {
		return fmt.Errorf("%w: %s, chunk %d", ErrTampered, o.id, o.i)
	}
	o.i++
	o.done = last
	if o.skip >= int64(len(pt)) {
		// The offset is at or past the end of the file.
		o.done, o.skip = true, 0
		return nil
	}
	o.out = pt[o.skip:]
	o.skip = 0
	return nil
}
