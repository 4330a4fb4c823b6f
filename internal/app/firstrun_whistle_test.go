package app

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"regexp"
	"testing"

	"github.com/kandidat/kandidat/internal/whistle"
)

// TestDemoReportingChannel: the demo has a channel with an enrolled
// handler, and the receipt it prints opens a report the handler answered.
func TestDemoReportingChannel(t *testing.T) {
	ctx := context.Background()
	a, err := Open(ctx, testConfig(t), slog.New(slog.NewTextHandler(io.Discard, nil)), OpenOptions{Migrate: true, CreateMasterKey: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	var out bytes.Buffer
	if err := a.FirstRun(ctx, true, "http://localhost", &out); err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`/report/demo/ethics \(a demo report's receipt: ([0-9 ]+)\)`).FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("no channel or receipt in the first run's output:\n%s", out.String())
	}
	demo, err := a.Tenants.BySlug(ctx, DemoSlug)
	if err != nil {
		t.Fatal(err)
	}
	ch, err := a.Whistle.OpenChannel(ctx, demo.ID, "ethics")
	if err != nil || len(ch.Languages) != 5 {
		t.Fatalf("channel: %v", err)
	}
	env, err := a.Whistle.OpenByReceipt(ctx, demo.ID, m[1], "")
	if err != nil {
		t.Fatal(err)
	}
	v, err := a.Whistle.ReporterView(ctx, demo.ID, env)
	if err != nil {
		t.Fatal(err)
	}
	if v.Info.Status != whistle.Acknowledged || len(v.Entries) != 3 || v.Entries[2].AuthorKind != "handler" {
		t.Fatalf("demo case: %+v, %d entries", v.Info, len(v.Entries))
	}
}
