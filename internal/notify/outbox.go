package notify

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// Outbox is a Mailer for development: it writes each message, as Compose
// makes it, to a file in a directory instead of sending it. File names sort
// in the order the messages were written
// ("20260102T150405.000000001Z-<random>.eml"); files are created with mode
// 0600 and the directory, when missing, with 0700, since messages carry
// personal data. It is safe for concurrent use.
type Outbox struct {
	dir, from string

	mu   sync.Mutex
	last time.Time // time in the newest file name
}

// NewOutbox returns an Outbox writing to dir, with from as the sender.
func NewOutbox(dir string, from string) *Outbox {
	return &Outbox{dir: dir, from: from}
}

// Send writes m to a new .eml file. The file appears complete or not at all.
func (o *Outbox) Send(ctx context.Context, m Message) error {
	if err := o.send(ctx, m); err != nil {
		return fmt.Errorf("send mail: %w", err)
	}
	return nil
}

func (o *Outbox) send(ctx context.Context, m Message) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	now := time.Now()
	raw, err := Compose(o.from, m, now)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(o.dir, 0o700); err != nil {
		return fmt.Errorf("outbox: %w", err)
	}
	f, err := os.CreateTemp(o.dir, ".partial-*.eml") // mode 0600
	if err != nil {
		return fmt.Errorf("outbox: %w", err)
	}
	tmp := f.Name()
	_, err = f.Write(raw)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, filepath.Join(o.dir, o.fileName(now)))
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("outbox: %w", err)
	}
	return nil
}

// fileName returns a unique name that sorts after every earlier one of o.
func (o *Outbox) fileName(now time.Time) string {
	o.mu.Lock()
	t := now.UTC()
	if !t.After(o.last) {
		t = o.last.Add(time.Nanosecond)
	}
	o.last = t
	o.mu.Unlock()
	var b [6]byte
	rand.Read(b[:]) // never fails
	return t.Format("20060102T150405.000000000Z") + "-" + hex.EncodeToString(b[:]) + ".eml"
}

// ForgetInOutbox deletes the messages in an outbox directory (Outbox's
// .eml files and SMSOutbox's text messages) addressed to any of the
// addresses (emails, compared without case, or phone numbers in E.164):
// a person erased from Kandidat leaves no copy of the mail sent to them in
// a development installation's outbox either. It returns how many it
// deleted; a missing directory is none.
func ForgetInOutbox(dir string, addresses []string) (int, error) {
	if dir == "" || len(addresses) == 0 {
		return 0, nil
	}
	entries, err := os.ReadDir(dir)
	if os.IsNotExist(err) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("outbox: %w", err)
	}
	want := make([][]byte, 0, len(addresses))
	for _, a := range addresses {
		if a = strings.ToLower(strings.TrimSpace(a)); a != "" {
			want = append(want, []byte(a))
		}
	}
	n := 0
	for _, e := range entries {
		if e.IsDir() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		path := filepath.Join(dir, e.Name())
		b, err := os.ReadFile(path)
		if err != nil {
			return n, fmt.Errorf("outbox: %w", err)
		}
		// The header block: up to the first empty line.
		head := b
		if i := bytes.Index(b, []byte("\r\n\r\n")); i >= 0 {
			head = b[:i]
		} else if i := bytes.Index(b, []byte("\n\n")); i >= 0 {
			head = b[:i]
		}
		head = bytes.ToLower(head)
		for _, w := range want {
			if bytes.Contains(head, w) {
				if err := os.Remove(path); err != nil && !os.IsNotExist(err) {
					return n, fmt.Errorf("outbox: %w", err)
				}
				n++
				break
			}
		}
	}
	return n, nil
}
