package notify

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestNormalizePhone(t *testing.T) {
	for in, want := range map[string]string{"+46 70-123 45 67": "+46701234567", "+1 (555) 010-9999": "+15550109999"} {
		if got, ok := NormalizePhone(in); !ok || got != want {
			t.Errorf("NormalizePhone(%q) = %q %v, want %q", in, got, ok, want)
		}
	}
	for _, bad := range []string{"0701234567", "+0123456789", "+46", "+46 70 abc", "", "+4670123456789012345"} {
		if _, ok := NormalizePhone(bad); ok {
			t.Errorf("NormalizePhone(%q) accepted", bad)
		}
	}
}

func TestSMSGateway(t *testing.T) {
	var got map[string]string
	var auth string
	status := http.StatusAccepted
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth = r.Header.Get("Authorization")
		json.NewDecoder(r.Body).Decode(&got)
		w.WriteHeader(status)
	}))
	defer srv.Close()
	g := &SMSGateway{URL: srv.URL, Token: "gateway-token"}
	if err := g.SendSMS(context.Background(), "+46701234567", "Kod: 123456"); err != nil {
		t.Fatal(err)
	}
	if got["to"] != "+46701234567" || got["text"] != "Kod: 123456" || auth != "Bearer gateway-token" {
		t.Fatalf("gateway got %v with %q", got, auth)
	}
	status = http.StatusBadRequest
	if err := g.SendSMS(context.Background(), "+46701234567", "x"); err == nil || !IsPermanent(err) {
		t.Fatalf("400: %v, want a permanent error", err)
	}
	status = http.StatusServiceUnavailable
	if err := g.SendSMS(context.Background(), "+46701234567", "x"); err == nil || IsPermanent(err) {
		t.Fatalf("503: %v, want a temporary error", err)
	}
	if err := g.SendSMS(context.Background(), "0701234567", "x"); !IsPermanent(err) {
		t.Fatalf("a number without country code: %v, want refused", err)
	}
}

func TestSMSOutbox(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "outbox")
	if err := NewSMSOutbox(dir).SendSMS(context.Background(), "+46701234567", "Kod 123456"); err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.sms.txt"))
	if len(files) != 1 {
		t.Fatalf("%d files", len(files))
	}
	b, _ := os.ReadFile(files[0])
	info, _ := os.Stat(files[0])
	if !strings.Contains(string(b), "To: +46701234567") || info.Mode().Perm() != 0o600 {
		t.Fatalf("file %q mode %o", b, info.Mode().Perm())
	}
}
