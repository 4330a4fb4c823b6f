package keys

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/tink-crypto/tink-go/v2/aead/subtle"
	"github.com/tink-crypto/tink-go/v2/tink"
)

// MasterKeySize is the length of a master key in bytes (AES-256).
const MasterKeySize = 32

// masterKeyFilePrefix starts the single line of a master key file.
const masterKeyFilePrefix = "kandidat-master-key-v1:"

// masterKeyIDDomain separates the hash behind MasterKey.ID from any other
// use of SHA-256 over the key.
const masterKeyIDDomain = "kandidat/master-key-id/v1\x00"

// MasterKey is the installation's key-encryption key: 32 random bytes. It
// wraps every tenant's data key and never encrypts data itself. Printing a
// MasterKey shows its ID only.
type MasterKey struct {
	key  []byte
	id   string
	aead tink.AEAD
}

func newMasterKey(b []byte) (*MasterKey, error) {
	if len(b) != MasterKeySize {
		return nil, fmt.Errorf("master key is %d bytes, want %d", len(b), MasterKeySize)
	}
	key := append([]byte(nil), b...)
	a, err := subtle.NewAESGCM(key)
	if err != nil {
		return nil, fmt.Errorf("master key cipher: %w", err)
	}
	sum := sha256.Sum256(append([]byte(masterKeyIDDomain), key...))
	return &MasterKey{key: key, id: hex.EncodeToString(sum[:])[:16], aead: a}, nil
}

// ID returns a short stable identifier of the key: the first 16 hex
// characters of a domain-separated SHA-256 of it. It is recorded next to
// every wrapped keyset and safe to show; it reveals nothing of the key.
func (m *MasterKey) ID() string { return m.id }

// String returns a description naming the key by its ID, so that a master
// key printed by mistake does not leak.
func (m *MasterKey) String() string { return "MasterKey(" + m.id + ")" }

// GoString is String, for %#v.
func (m *MasterKey) GoString() string { return m.String() }

// GenerateMasterKey returns a new random master key.
func GenerateMasterKey() (*MasterKey, error) {
	b := make([]byte, MasterKeySize)
	if _, err := rand.Read(b); err != nil {
		return nil, fmt.Errorf("generate master key: %w", err)
	}
	return newMasterKey(b)
}

// ReadMasterKeyFile reads a master key file: one line
// "kandidat-master-key-v1:" followed by the standard base64 encoding of 32
// bytes. It refuses a file that group or others may access.
func ReadMasterKeyFile(path string) (*MasterKey, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read master key file: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("read master key file %s: %w", path, err)
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("master key file %s is not a regular file", path)
	}
	if runtime.GOOS != "windows" && st.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("master key file %s has mode %04o and is readable by others; run chmod 600 %s", path, st.Mode().Perm(), path)
	}
	// A valid file is about 70 bytes; do not read a huge file into memory.
	const limit = 1024
	buf, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, fmt.Errorf("read master key file %s: %w", path, err)
	}
	if len(buf) > limit {
		return nil, fmt.Errorf("master key file %s: wrong format: larger than %d bytes", path, limit)
	}
	m, err := parseMasterKey(string(buf))
	if err != nil {
		return nil, fmt.Errorf("master key file %s: %w", path, err)
	}
	return m, nil
}

// parseMasterKey decodes the content of a master key file.
func parseMasterKey(s string) (*MasterKey, error) {
	line := strings.TrimSuffix(strings.TrimSuffix(s, "\n"), "\r")
	if strings.ContainsAny(line, "\r\n") {
		return nil, errors.New("wrong format: more than one line")
	}
	enc, ok := strings.CutPrefix(line, masterKeyFilePrefix)
	if !ok {
		return nil, fmt.Errorf("wrong format: the line does not start with %q", masterKeyFilePrefix)
	}
	b, err := base64.StdEncoding.Strict().DecodeString(enc)
	if err != nil {
		return nil, fmt.Errorf("wrong format: key is not standard base64: %w", err)
	}
	if len(b) != MasterKeySize {
		return nil, fmt.Errorf("wrong length: key is %d bytes, want %d", len(b), MasterKeySize)
	}
	return newMasterKey(b)
}

// encodeMasterKey returns the content of a master key file.
func encodeMasterKey(m *MasterKey) []byte {
	return []byte(masterKeyFilePrefix + base64.StdEncoding.EncodeToString(m.key) + "\n")
}

// WriteMasterKeyFile writes m to a new file at path with mode 0600. It never
// overwrites: when path exists the error matches fs.ErrExist.
func WriteMasterKeyFile(path string, m *MasterKey) error {
	if m == nil {
		return errors.New("write master key file: no master key")
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("create master key file: %w", err)
	}
	_, err = f.Write(encodeMasterKey(m))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
		return fmt.Errorf("write master key file %s: %w", path, err)
	}
	// Losing the file after data was encrypted loses the data: make the new
	// directory entry durable too.
	if err := syncDir(filepath.Dir(path)); err != nil {
		return fmt.Errorf("write master key file %s: sync directory: %w", path, err)
	}
	return nil
}

func syncDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// LoadOrCreateMasterKey reads the master key file at path, or, when there is
// none, generates a key and writes it there (creating the directory with mode
// 0700 if needed). created reports whether the key is new.
func LoadOrCreateMasterKey(path string) (m *MasterKey, created bool, err error) {
	m, err = ReadMasterKeyFile(path)
	if err == nil {
		return m, false, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, false, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, false, fmt.Errorf("create master key directory: %w", err)
	}
	m, err = GenerateMasterKey()
	if err != nil {
		return nil, false, err
	}
	if err := WriteMasterKeyFile(path, m); err != nil {
		if errors.Is(err, fs.ErrExist) {
			// Another process created it between our read and write.
			m, err := ReadMasterKeyFile(path)
			return m, false, err
		}
		return nil, false, err
	}
	return m, true, nil
}
