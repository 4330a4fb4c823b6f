package notify

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
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
