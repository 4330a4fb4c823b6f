package notify

import (
	"context"
	"errors"
	"mime"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestOutbox(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "outbox")
	o := NewOutbox(dir, "Kandidat <jobs@example.com>")
	subjects := []string{"První", "Second", "Třetí", "Fourth"}
	for _, s := range subjects {
		m := simpleMessage()
		m.Subject = s
		if err := o.Send(context.Background(), m); err != nil {
			t.Fatalf("Send: %v", err)
		}
	}
	if err := o.Send(context.Background(), Message{To: []string{"ana@example.org"}, Text: ""}); !errors.Is(err, ErrInvalidMessage) {
		t.Errorf("got %v, want ErrInvalidMessage", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := o.Send(ctx, simpleMessage()); !errors.Is(err, context.Canceled) {
		t.Errorf("got %v, want context.Canceled", err)
	}

	info, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got := info.Mode().Perm(); got != 0o700 {
		t.Errorf("got directory mode %o, want 700", got)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names, got []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if !slices.IsSorted(names) || len(names) != len(subjects) {
		t.Fatalf("got files %v, want %d in order", names, len(subjects))
	}
	for _, name := range names {
		if !strings.HasSuffix(name, ".eml") || strings.HasPrefix(name, ".") {
			t.Errorf("got file %s, want a visible .eml", name)
		}
		path := filepath.Join(dir, name)
		info, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if mode := info.Mode().Perm(); mode != 0o600 {
			t.Errorf("%s: got mode %o, want 600", name, mode)
		}
		raw, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		checkWire(t, raw)
		msg, leaves := parse(t, raw)
		subject, err := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, subject)
		if from := msg.Header.Get("From"); from != `"Kandidat" <jobs@example.com>` {
			t.Errorf("got From %q, want \"Kandidat\" <jobs@example.com>", from)
		}
		if len(leaves) != 1 || string(leaves[0].data) != "Hi\r\n" {
			t.Errorf("got body %v, want Hi", leaves)
		}
	}
	if strings.Join(got, ",") != strings.Join(subjects, ",") {
		t.Errorf("got subjects in file order %v, want %v", got, subjects)
	}
}

func TestOutboxConcurrent(t *testing.T) {
	dir := t.TempDir()
	o := NewOutbox(dir, "jobs@example.com")
	const n = 20
	errs := make(chan error, n)
	for range n {
		go func() { errs <- o.Send(context.Background(), simpleMessage()) }()
	}
	for range n {
		if err := <-errs; err != nil {
			t.Fatalf("Send: %v", err)
		}
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != n {
		t.Errorf("got %d files, want %d", len(entries), n)
	}
}
