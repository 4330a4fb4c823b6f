package web

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestPasskeyRelyingPartyIgnoresTheHostHeader: the ceremony names the
// installation's base URL as relying party whatever Host the request
// carries, so a request under another name (a forged header, a site
// relaying to this one) gets no ceremony for that name.
func TestPasskeyRelyingPartyIgnoresTheHostHeader(t *testing.T) {
	f := newFixture(t, Options{})
	f.accounts.SetBaseURL("https://jobs.example.com")
	f.user("ada", false)
	tok := f.signIn("ada", testPassword)
	for _, host := range []string{"evil.example", "jobs.example.com.evil.example", "127.0.0.1:8080"} {
		req := httptest.NewRequest("POST", "http://"+host+"/account/mfa/webauthn/begin", nil)
		req.AddCookie(&http.Cookie{Name: SessionCookie, Value: tok})
		rec := httptest.NewRecorder()
		f.h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			t.Fatalf("Host %s: %d %s", host, rec.Code, rec.Body.String())
		}
		var options struct {
			PublicKey struct {
				RP struct {
					ID string `json:"id"`
				} `json:"rp"`
			} `json:"publicKey"`
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &options); err != nil {
			t.Fatal(err)
		}
		if options.PublicKey.RP.ID != "jobs.example.com" || strings.Contains(rec.Body.String(), "evil") {
			t.Fatalf("Host %s: relying party %q, want jobs.example.com", host, options.PublicKey.RP.ID)
		}
	}
	// Without a host name in the base URL (an address off this machine),
	// passkeys are refused rather than bound to whatever the request says.
	f.accounts.SetBaseURL("http://192.0.2.7:8080")
	req := httptest.NewRequest("POST", "http://jobs.example.com/account/mfa/webauthn/begin", nil)
	req.AddCookie(&http.Cookie{Name: SessionCookie, Value: tok})
	rec := httptest.NewRecorder()
	f.h.ServeHTTP(rec, req)
	if rec.Code != http.StatusBadRequest || strings.Contains(rec.Body.String(), "jobs.example.com") {
		t.Fatalf("without a host name: %d %s", rec.Code, rec.Body.String())
	}
}
