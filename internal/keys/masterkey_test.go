package keys_test

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/kandidat/kandidat/internal/keys"
)

func TestMasterKeyID(t *testing.T) {
	m := newMaster(t)
	if !regexp.MustCompile(`^[0-9a-f]{16}$`).MatchString(m.ID()) {
		t.Fatalf("got id %q, want 16 lowercase hex characters", m.ID())
	}
	raw := fmt.Sprintf("%x", keys.RawMasterKey(m))
	if strings.Contains(raw, m.ID()) {
		t.Fatal("id is a part of the key")
	}
	for _, s := range []string{m.String(), fmt.Sprint(m), fmt.Sprintf("%v %+v %#v %s %x", m, m, m, m, m)} {
		if strings.Contains(s, raw) || !strings.Contains(s, m.ID()) {
			t.Errorf("got %q when printed, want the id and not the key", s)
		}
	}
	if other := newMaster(t); other.ID() == m.ID() {
		t.Fatalf("two generated keys share id %s", m.ID())
	}
	// The id is stable: the same key read back has the same id.
	path := filepath.Join(t.TempDir(), "master.key")
	if err := keys.WriteMasterKeyFile(path, m); err != nil {
		t.Fatal(err)
	}
	got, err := keys.ReadMasterKeyFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got.ID() != m.ID() {
		t.Fatalf("got id %s after reading, want %s", got.ID(), m.ID())
	}
}

func TestWriteMasterKeyFile(t *testing.T) {
	m := newMaster(t)
	path := filepath.Join(t.TempDir(), "master.key")
	if err := keys.WriteMasterKeyFile(path, m); err != nil {
		t.Fatalf("write: %v", err)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := st.Mode().Perm(); got != 0o600 {
		t.Fatalf("got mode %04o, want 0600", got)
	}
	content, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want := "kandidat-master-key-v1:" + base64.StdEncoding.EncodeToString(keys.RawMasterKey(m)) + "\n"
	if string(content) != want {
		t.Fatalf("got content %q, want %q", content, want)
	}

	// It never overwrites.
	err = keys.WriteMasterKeyFile(path, newMaster(t))
	if !errors.Is(err, fs.ErrExist) {
		t.Fatalf("second write: got %v, want fs.ErrExist", err)
	}
	again, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(again) != want {
		t.Fatal("the second write changed the file")
	}
}

func TestReadMasterKeyFileErrors(t *testing.T) {
	enc := func(n int) string {
		return base64.StdEncoding.EncodeToString(make([]byte, n))
	}
	good := "kandidat-master-key-v1:" + enc(32)
	tests := []struct {
		name    string
		content string // no file when "-"
		mode    os.FileMode
		wantErr string
		wantIs  error
	}{
		{"ok", good + "\n", 0o600, "", nil},
		{"ok without newline", good, 0o600, "", nil},
		{"ok with CRLF", good + "\r\n", 0o400, "", nil},
		{"missing", "-", 0, "no such file", fs.ErrNotExist},
		{"readable by others", good + "\n", 0o644, "chmod 600", nil},
		{"readable by group", good + "\n", 0o640, "chmod 600", nil},
		{"empty", "", 0o600, "wrong format", nil},
		{"no prefix", enc(32) + "\n", 0o600, "wrong format", nil},
		{"other version", "kandidat-master-key-v2:" + enc(32) + "\n", 0o600, "wrong format", nil},
		{"not base64", "kandidat-master-key-v1:!!!!\n", 0o600, "wrong format", nil},
		{"url base64", "kandidat-master-key-v1:" + base64.URLEncoding.EncodeToString(bytes.Repeat([]byte{0xff}, 32)) + "\n", 0o600, "wrong format", nil},
		{"two lines", good + "\n" + good + "\n", 0o600, "wrong format", nil},
		{"trailing space", good + " \n", 0o600, "wrong format", nil},
		{"too short", "kandidat-master-key-v1:" + enc(16) + "\n", 0o600, "wrong length", nil},
		{"too long", "kandidat-master-key-v1:" + enc(64) + "\n", 0o600, "wrong length", nil},
		{"huge", strings.Repeat("x", 5000), 0o600, "wrong format", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "master.key")
			if tt.content != "-" {
				if err := os.WriteFile(path, []byte(tt.content), 0o600); err != nil {
					t.Fatal(err)
				}
				if err := os.Chmod(path, tt.mode); err != nil {
					t.Fatal(err)
				}
			}
			m, err := keys.ReadMasterKeyFile(path)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("got %v, want no error", err)
				}
				if m == nil || m.ID() == "" {
					t.Fatal("got no key")
				}
				return
			}
			if err == nil {
				t.Fatalf("got key %s, want an error containing %q", m.ID(), tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("got %q, want it to contain %q", err, tt.wantErr)
			}
			if !strings.Contains(err.Error(), path) {
				t.Errorf("got %q, want it to name the file", err)
			}
			if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
				t.Errorf("got %v, want it to match %v", err, tt.wantIs)
			}
		})
	}
}

func TestLoadOrCreateMasterKey(t *testing.T) {
	path := filepath.Join(t.TempDir(), "data", "master.key")
	m1, created, err := keys.LoadOrCreateMasterKey(path)
	if err != nil {
		t.Fatalf("first call: %v", err)
	}
	if !created {
		t.Fatal("first call: got created false, want true")
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := st.Mode().Perm(); got != 0o600 {
		t.Fatalf("got mode %04o, want 0600", got)
	}
	if dst, err := os.Stat(filepath.Dir(path)); err != nil || dst.Mode().Perm() != 0o700 {
		t.Fatalf("got directory %v, %v; want mode 0700", dst, err)
	}
	m2, created, err := keys.LoadOrCreateMasterKey(path)
	if err != nil {
		t.Fatalf("second call: %v", err)
	}
	if created {
		t.Fatal("second call: got created true, want false")
	}
	if m2.ID() != m1.ID() {
		t.Fatalf("second call: got key %s, want %s", m2.ID(), m1.ID())
	}

	// A broken file is reported, never replaced.
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := keys.LoadOrCreateMasterKey(path); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Fatalf("readable file: got %v, want the chmod advice", err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		t.Fatal(err)
	}
	m3, err := keys.ReadMasterKeyFile(path)
	if err != nil || m3.ID() != m1.ID() {
		t.Fatalf("after the refused load: got %v, %v; want key %s", m3, err, m1.ID())
	}
}
