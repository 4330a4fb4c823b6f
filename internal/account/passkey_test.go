package account_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/go-webauthn/webauthn/protocol/webauthncbor"

	"github.com/kandidat/kandidat/internal/account"
)

// softKey is a software authenticator: an ES256 key pair that answers
// WebAuthn ceremonies as a browser with a security key would, for any
// relying party id and origin the test gives it (a phishing site's too).
type softKey struct {
	id    []byte
	priv  *ecdsa.PrivateKey
	count uint32
}

func newSoftKey(t *testing.T) *softKey {
	t.Helper()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	id := make([]byte, 16)
	rand.Read(id)
	return &softKey{id: id, priv: priv}
}

var b64 = base64.RawURLEncoding

// ceremony is what the tests read of the options Kandidat sends.
type ceremony struct {
	PublicKey struct {
		Challenge string `json:"challenge"`
		RP        struct {
			ID string `json:"id"`
		} `json:"rp"`
		RPID string `json:"rpId"`
		User struct {
			ID string `json:"id"`
		} `json:"user"`
	} `json:"publicKey"`
}

func readCeremony(t *testing.T, options []byte) ceremony {
	t.Helper()
	var c ceremony
	if err := json.Unmarshal(options, &c); err != nil || c.PublicKey.Challenge == "" {
		t.Fatalf("options %s: %v", options, err)
	}
	return c
}

func clientData(kind, challenge, origin string) []byte {
	b, _ := json.Marshal(map[string]any{"type": kind, "challenge": challenge, "origin": origin, "crossOrigin": false})
	return b
}

// authData is the authenticator data for rpID with flags, the next
// signature count and, for a registration, the attested credential.
func (k *softKey) authData(rpID string, flags byte, attested []byte) []byte {
	k.count++
	h := sha256.Sum256([]byte(rpID))
	out := append(h[:], flags)
	out = binary.BigEndian.AppendUint32(out, k.count)
	return append(out, attested...)
}

// register answers a registration ceremony as made at origin for rpID.
func (k *softKey) register(t *testing.T, options []byte, rpID, origin string) *http.Request {
	t.Helper()
	c := readCeremony(t, options)
	// The uncompressed point: 0x04, then X and Y of 32 bytes each.
	point, err := k.priv.PublicKey.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	x, y := point[1:33], point[33:65]
	cose, err := webauthncbor.Marshal(map[int]any{1: 2, 3: -7, -1: 1, -2: x, -3: y})
	if err != nil {
		t.Fatal(err)
	}
	attested := make([]byte, 16) // AAGUID: none
	attested = binary.BigEndian.AppendUint16(attested, uint16(len(k.id)))
	attested = append(append(attested, k.id...), cose...)
	obj, err := webauthncbor.Marshal(map[string]any{"fmt": "none", "attStmt": map[string]any{}, "authData": k.authData(rpID, 0x45, attested)})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := json.Marshal(map[string]any{"id": b64.EncodeToString(k.id), "rawId": b64.EncodeToString(k.id), "type": "public-key",
		"response": map[string]any{"clientDataJSON": b64.EncodeToString(clientData("webauthn.create", c.PublicKey.Challenge, origin)),
			"attestationObject": b64.EncodeToString(obj)}})
	return httptest.NewRequest("POST", "/", bytes.NewReader(body))
}

// assert answers a sign-in ceremony as made at origin for rpID.
func (k *softKey) assert(t *testing.T, options []byte, userID, rpID, origin string) []byte {
	t.Helper()
	c := readCeremony(t, options)
	data := k.authData(rpID, 0x05, nil)
	cd := clientData("webauthn.get", c.PublicKey.Challenge, origin)
	cdHash := sha256.Sum256(cd)
	digest := sha256.Sum256(append(append([]byte{}, data...), cdHash[:]...))
	sig, err := ecdsa.SignASN1(rand.Reader, k.priv, digest[:])
	if err != nil {
		t.Fatal(err)
	}
	body, _ := json.Marshal(map[string]any{"id": b64.EncodeToString(k.id), "rawId": b64.EncodeToString(k.id), "type": "public-key",
		"response": map[string]any{"clientDataJSON": b64.EncodeToString(cd), "authenticatorData": b64.EncodeToString(data),
			"signature": b64.EncodeToString(sig), "userHandle": b64.EncodeToString([]byte(userID))}})
	return body
}

func post(body []byte) *http.Request { return httptest.NewRequest("POST", "/", bytes.NewReader(body)) }

// withPasskey registers a soft key for alice at the installation's own
// origin, https://jobs.example.
func withPasskey(t *testing.T, e *env, u *account.User) *softKey {
	t.Helper()
	ctx := context.Background()
	p, err := e.svc.Authenticate(ctx, e.session(t, u))
	if err != nil {
		t.Fatal(err)
	}
	options, err := e.svc.BeginPasskeyRegistration(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	k := newSoftKey(t)
	if err := e.svc.FinishPasskeyRegistration(ctx, p, k.register(t, options, "jobs.example", "https://jobs.example"), account.Client{}); err != nil {
		t.Fatalf("register the key: %v", err)
	}
	return k
}

func TestRelyingPartyIsTheBaseURL(t *testing.T) {
	for _, tt := range []struct{ base, id, origin string }{
		{"https://jobs.example.com", "jobs.example.com", "https://jobs.example.com"},
		{"https://Jobs.Example.com:443/", "jobs.example.com", "https://jobs.example.com"},
		{"https://jobs.example.com:8443", "jobs.example.com", "https://jobs.example.com:8443"},
		// No --base-url: serve derives it from the listener, on this machine.
		{"http://127.0.0.1:8080", "localhost", "http://localhost:8080"},
		{"http://[::1]:8080", "localhost", "http://localhost:8080"},
		{"http://[::]:8080", "localhost", "http://localhost:8080"},
		{"http://localhost:8080", "localhost", "http://localhost:8080"},
	} {
		rp, err := account.RelyingPartyOf(tt.base)
		if err != nil {
			t.Errorf("%s: %v", tt.base, err)
			continue
		}
		if rp.Config.RPID != tt.id || len(rp.Config.RPOrigins) != 1 || rp.Config.RPOrigins[0] != tt.origin {
			t.Errorf("%s: relying party %q at %v, want %q at %s", tt.base, rp.Config.RPID, rp.Config.RPOrigins, tt.id, tt.origin)
		}
	}
	// An address off this machine cannot be a relying party: passkeys need a host name.
	for _, base := range []string{"", "http://192.0.2.7:8080", "ftp://jobs.example.com", "jobs.example.com"} {
		if _, err := account.RelyingPartyOf(base); !errors.Is(err, account.ErrNoRelyingParty) {
			t.Errorf("%q: %v, want ErrNoRelyingParty", base, err)
		}
	}
}

func TestPasskeySignInAcceptsOnlyTheInstallationsOrigin(t *testing.T) {
	ctx := context.Background()
	e, u := stepEnv(t, account.Options{MaxFailures: 1000})
	k := withPasskey(t, e, u)
	token := pendingSignIns(t, e, 1)[0]

	options, err := e.svc.BeginPasskeySignIn(ctx, token)
	if err != nil {
		t.Fatal(err)
	}
	if c := readCeremony(t, options); c.PublicKey.RPID != "jobs.example" {
		t.Fatalf("sign-in ceremony for relying party %q, want jobs.example", c.PublicKey.RPID)
	}
	// A phishing site relaying the ceremony gets an answer for its own name.
	forged := k.assert(t, options, u.ID, "evil.example", "https://evil.example")
	if _, err := e.svc.FinishPasskeySignIn(ctx, token, post(forged), account.Client{}); !errors.Is(err, account.ErrInvalidCode) {
		t.Fatalf("assertion for another site: %v, want ErrInvalidCode", err)
	}
	if n := e.count(t, `SELECT mfa_failed_attempts FROM users WHERE id = $1`, u.ID); n != 1 {
		t.Fatalf("%d failures counted, want 1", n)
	}
	// The challenge was used: the same ceremony cannot be answered again.
	good := k.assert(t, options, u.ID, "jobs.example", "https://jobs.example")
	if _, err := e.svc.FinishPasskeySignIn(ctx, token, post(good), account.Client{}); !errors.Is(err, account.ErrCeremony) {
		t.Fatalf("second answer to one challenge: %v, want ErrCeremony", err)
	}
	options, _ = e.svc.BeginPasskeySignIn(ctx, token)
	full, err := e.svc.FinishPasskeySignIn(ctx, token, post(k.assert(t, options, u.ID, "jobs.example", "https://jobs.example")), account.Client{})
	if err != nil {
		t.Fatalf("assertion at the installation's origin: %v", err)
	}
	if p, err := e.svc.Authenticate(ctx, full); err != nil || p.MFAPending {
		t.Fatalf("after the passkey: %+v %v", p, err)
	}
}

func TestRacedPasskeyAnswerCompletesOneSignIn(t *testing.T) {
	ctx := context.Background()
	e, u := stepEnv(t, account.Options{MaxFailures: 1000})
	k := withPasskey(t, e, u)
	token := pendingSignIns(t, e, 1)[0]
	options, err := e.svc.BeginPasskeySignIn(ctx, token)
	if err != nil {
		t.Fatal(err)
	}
	body := k.assert(t, options, u.ID, "jobs.example", "https://jobs.example")
	before := e.count(t, `SELECT count(*) FROM sessions WHERE user_id = $1 AND NOT mfa_pending`, u.ID)
	const n = 8
	tokens, errs := race(t, n, func(int) (string, error) {
		return e.svc.FinishPasskeySignIn(ctx, token, post(body), account.Client{})
	})
	if ok := successes(t, tokens, errs, account.ErrNoSession, account.ErrCeremony); ok != 1 {
		t.Fatalf("%d of %d parallel answers signed in, want 1", ok, n)
	}
	if got := e.count(t, `SELECT count(*) FROM sessions WHERE user_id = $1 AND NOT mfa_pending`, u.ID); got != before+1 {
		t.Fatalf("%d new full sessions, want 1", got-before)
	}
}

func TestPasskeyRefusedWhileLocked(t *testing.T) {
	ctx := context.Background()
	e, u := stepEnv(t, account.Options{})
	k := withPasskey(t, e, u)
	token := pendingSignIns(t, e, 1)[0]
	options, err := e.svc.BeginPasskeySignIn(ctx, token)
	if err != nil {
		t.Fatal(err)
	}
	lockElsewhere(t, e, u)
	if _, err := e.svc.FinishPasskeySignIn(ctx, token, post(k.assert(t, options, u.ID, "jobs.example", "https://jobs.example")), account.Client{}); !errors.Is(err, account.ErrInvalidCode) {
		t.Fatalf("passkey while locked: %v, want ErrInvalidCode", err)
	}
	if n := e.count(t, `SELECT mfa_failed_attempts FROM users WHERE id = $1`, u.ID); n != 0 {
		t.Fatalf("an attempt while locked was counted (%d)", n)
	}
}
