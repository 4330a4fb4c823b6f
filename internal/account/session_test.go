package account_test

import (
	"context"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/kandidat/kandidat/internal/id"

	"golang.org/x/text/unicode/norm"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/account"
)

func TestSignInInvalidCredentials(t *testing.T) {
	ctx := context.Background()
	e := newFastEnv(t)
	c := e.company(t, "acme")
	e.user(t, c.ID, "alice", goodPassword)
	dave := e.user(t, c.ID, "dave", goodPassword)
	if err := e.svc.SetStatus(ctx, access.Operator(c.ID), dave.ID, account.Disabled); err != nil {
		t.Fatalf("disable dave: %v", err)
	}
	eve := e.user(t, c.ID, "eve", goodPassword)
	e.exec(t, `UPDATE users SET password_hash = $1 WHERE id = $2`, "$2a$10$notargon", eve.ID)
	tests := []struct {
		name, login, password string
	}{
		{"unknown login", "mallory", goodPassword},
		{"wrong password", "alice", otherPassword},
		{"password in other case", "alice", strings.ToUpper(goodPassword)},
		{"empty password", "alice", ""},
		{"disabled user, right password", "dave", goodPassword},
		{"unsupported stored hash", "eve", goodPassword},
		{"empty login", "", goodPassword},
		{"login too long", strings.Repeat("a", 201), goodPassword},
		{"login invalid UTF-8", "alice\xff", goodPassword},
		{"password too long", "alice", strings.Repeat("a", 4*account.MaxPasswordLen+1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			token, p, err := e.svc.SignIn(ctx, tt.login, tt.password, account.Client{IP: "192.0.2.1"})
			if err != account.ErrInvalidCredentials {
				t.Errorf("err = %v, want exactly ErrInvalidCredentials", err)
			}
			if token != "" || p != nil {
				t.Errorf("token, principal = %q, %+v; want empty, nil", token, p)
			}
			if n := e.count(t, `SELECT count(*) FROM sessions`); n != 0 {
				t.Errorf("sessions = %d, want 0", n)
			}
		})
	}
}

func TestSignInLoginNormalised(t *testing.T) {
	ctx := context.Background()
	e := newFastEnv(t)
	c := e.company(t, "acme")
	alice := e.user(t, c.ID, "alice", goodPassword)
	jose := e.user(t, c.ID, "josé", goodPassword)
	tests := []struct {
		name, login string
		want        string // user id
	}{
		{"as stored", "alice", alice.ID},
		{"upper case", "ALICE", alice.ID},
		{"mixed case", "aLiCe", alice.ID},
		{"surrounding spaces", "  alice  ", alice.ID},
		{"tab and newline", "\talice\n", alice.ID},
		{"decomposed and upper case", "JOSE\u0301", jose.ID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			token, p, err := e.svc.SignIn(ctx, tt.login, goodPassword, account.Client{})
			if err != nil {
				t.Fatalf("SignIn(%q): %v", tt.login, err)
			}
			if p.UserID != tt.want || p.TenantID != c.ID {
				t.Errorf("principal = %+v, want user %s of %s", p, tt.want, c.ID)
			}
			if !e.sessionExists(t, token) {
				t.Errorf("no session stored for the token")
			}
		})
	}
}

func TestSignInSessionToken(t *testing.T) {
	ctx := context.Background()
	e := newFastEnv(t)
	c := e.company(t, "acme")
	e.user(t, c.ID, "alice", goodPassword)
	token, p, err := e.svc.SignIn(ctx, "alice", goodPassword, account.Client{IP: "192.0.2.1", UserAgent: "Test/1.0"})
	if err != nil {
		t.Fatalf("SignIn: %v", err)
	}
	if len(token) != 43 {
		t.Errorf("token length = %d, want 43", len(token))
	}
	if b, err := base64.RawURLEncoding.DecodeString(token); err != nil || len(b) != 32 {
		t.Errorf("token %q decodes to %d bytes (err %v), want 32 bytes of base64url", token, len(b), err)
	}
	var sessionID, stored, ip, ua string
	err = e.row(`SELECT id, token_hash, ip, user_agent FROM sessions`).Scan(&sessionID, &stored, &ip, &ua)
	if err != nil {
		t.Fatalf("read session: %v", err)
	}
	if stored == token {
		t.Errorf("token_hash is the token itself")
	}
	if want := id.HashToken(token); stored != want {
		t.Errorf("token_hash = %q, want %q", stored, want)
	}
	if sessionID != p.SessionID {
		t.Errorf("session id = %q, principal SessionID = %q; want equal", sessionID, p.SessionID)
	}
	if ip != "192.0.2.1" || ua != "Test/1.0" {
		t.Errorf("ip, user_agent = %q, %q; want 192.0.2.1, Test/1.0", ip, ua)
	}
	if n := e.count(t, `SELECT count(*) FROM sessions WHERE token_hash = $1 OR id = $1 OR ip = $1 OR user_agent = $1`, token); n != 0 {
		t.Errorf("the token is stored in clear in %d session rows", n)
	}

	token2, _, err := e.svc.SignIn(ctx, "alice", goodPassword, account.Client{})
	if err != nil {
		t.Fatalf("second SignIn: %v", err)
	}
	if token2 == token {
		t.Errorf("two sign-ins returned the same token")
	}
	if n := e.count(t, `SELECT count(*) FROM sessions`); n != 2 {
		t.Errorf("sessions = %d after two sign-ins, want 2", n)
	}
}

func TestStartSessionClient(t *testing.T) {
	ctx := context.Background()
	e := newFastEnv(t)
	c := e.company(t, "acme")
	alice := e.user(t, c.ID, "alice", goodPassword)
	tests := []struct {
		name           string
		client         account.Client
		wantIP, wantUA string
	}{
		{"kept", account.Client{IP: "2001:db8::1", UserAgent: "Mozilla/5.0"}, "2001:db8::1", "Mozilla/5.0"},
		{"empty", account.Client{}, "", ""},
		{"long ip cut at 64 bytes", account.Client{IP: strings.Repeat("1", 100)}, strings.Repeat("1", 64), ""},
		{"long agent cut at 300 bytes", account.Client{UserAgent: strings.Repeat("a", 400)}, "", strings.Repeat("a", 300)},
		{"cut on a character boundary", account.Client{UserAgent: "x" + strings.Repeat("é", 200)}, "", "x" + strings.Repeat("é", 149)},
		{"invalid UTF-8 dropped", account.Client{IP: "1.2.3.4\xff", UserAgent: "Bot\xfe"}, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			token, err := e.svc.StartSession(ctx, c.ID, alice.ID, tt.client)
			if err != nil {
				t.Fatalf("StartSession: %v", err)
			}
			var ip, ua string
			if err := e.row(`SELECT ip, user_agent FROM sessions WHERE token_hash = $1`,
				id.HashToken(token)).Scan(&ip, &ua); err != nil {
				t.Fatalf("read session: %v", err)
			}
			if ip != tt.wantIP || ua != tt.wantUA {
				t.Errorf("ip, user_agent = %q, %q; want %q, %q", ip, ua, tt.wantIP, tt.wantUA)
			}
			if !utf8.ValidString(ua) {
				t.Errorf("stored user agent %q is not valid UTF-8", ua)
			}
		})
	}
}

func TestAuthenticatePrincipal(t *testing.T) {
	ctx := context.Background()
	e := newFastEnv(t)
	c := e.company(t, "acme")
	e.company(t, "beta")
	u, err := e.svc.CreateUser(ctx, access.Operator(c.ID), account.CreateUserInput{
		Login: "alice", DisplayName: "Alice Smith", Language: "sv", Role: "recruiter", Password: goodPassword, MustChangePassword: true,
	})
	if err != nil {
		t.Fatalf("CreateUser: %v", err)
	}
	token, signedIn, err := e.svc.SignIn(ctx, "alice", goodPassword, account.Client{})
	if err != nil {
		t.Fatalf("SignIn: %v", err)
	}
	p, err := e.svc.Authenticate(ctx, token)
	if err != nil {
		t.Fatalf("Authenticate: %v", err)
	}
	var sessionID string
	if err := e.row(`SELECT id FROM sessions`).Scan(&sessionID); err != nil {
		t.Fatalf("read session id: %v", err)
	}
	want := account.Principal{
		TenantID: c.ID, UserID: u.ID, SessionID: sessionID, Role: "recruiter",
		DisplayName: "Alice Smith", Language: "sv", MustChangePassword: true, AuthenticatedAt: e.clock.now(),
		Perms: access.RoleSet(access.Recruiter),
	}
	if *p != want {
		t.Errorf("Authenticate = %+v, want %+v", *p, want)
	}
	if *signedIn != want {
		t.Errorf("SignIn principal = %+v, want %+v", *signedIn, want)
	}
}

func TestAuthenticateRejects(t *testing.T) {
	ctx := context.Background()
	e := newFastEnv(t)
	c := e.company(t, "acme")
	alice := e.user(t, c.ID, "alice", goodPassword)
	token := e.session(t, alice)
	flipped := []byte(token)
	flipped[0] ^= 1
	tests := []struct{ name, token string }{
		{"empty", ""},
		{"unknown", "not-a-session-token-but-long-enough-to-pass"},
		{"one character changed", string(flipped)},
		{"prefix", token[:42]},
		{"with suffix", token + "A"},
		{"the stored hash", id.HashToken(token)},
		{"too long", token + strings.Repeat("A", 101-len(token))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if p, err := e.svc.Authenticate(ctx, tt.token); !errors.Is(err, account.ErrNoSession) || p != nil {
				t.Errorf("Authenticate = %+v, %v; want nil, ErrNoSession", p, err)
			}
		})
	}
	if _, err := e.svc.Authenticate(ctx, token); err != nil {
		t.Errorf("Authenticate(the real token) = %v after the rejects, want valid", err)
	}
}

func TestAuthenticateDisabledUser(t *testing.T) {
	ctx := context.Background()
	e := newFastEnv(t)
	c := e.company(t, "acme")
	alice := e.user(t, c.ID, "alice", goodPassword)
	token := e.session(t, alice)
	// Disable behind the service's back: Authenticate must check the status
	// itself, not rely on SetStatus having ended the sessions.
	e.exec(t, `UPDATE users SET status = 'disabled' WHERE id = $1`, alice.ID)
	if _, err := e.svc.Authenticate(ctx, token); !errors.Is(err, account.ErrNoSession) {
		t.Errorf("Authenticate = %v, want ErrNoSession", err)
	}
	if e.sessionExists(t, token) {
		t.Errorf("the disabled user's session is still stored, want it deleted")
	}
}

func TestSessionIdleTimeout(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, account.Options{Argon2: fastArgon2, SessionIdle: 30 * time.Minute, SessionAbsolute: 12 * time.Hour})
	c := e.company(t, "acme")
	alice := e.user(t, c.ID, "alice", goodPassword)
	tests := []struct {
		name  string
		after time.Duration
		valid bool
	}{
		{"right away", 0, true},
		{"29 minutes", 29 * time.Minute, true},
		{"one second before", 30*time.Minute - time.Second, true},
		{"exactly 30 minutes", 30 * time.Minute, false},
		{"31 minutes", 31 * time.Minute, false},
		{"a day", 24 * time.Hour, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e.clock.set(start)
			token := e.session(t, alice)
			e.clock.advance(tt.after)
			_, err := e.svc.Authenticate(ctx, token)
			if tt.valid {
				if err != nil {
					t.Errorf("Authenticate = %v, want valid", err)
				}
				if !e.sessionExists(t, token) {
					t.Errorf("valid session not stored")
				}
				return
			}
			if !errors.Is(err, account.ErrNoSession) {
				t.Errorf("Authenticate = %v, want ErrNoSession", err)
			}
			if e.sessionExists(t, token) {
				t.Errorf("expired session still stored, want it deleted")
			}
		})
	}
}

func TestSessionActivityExtendsIdle(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, account.Options{Argon2: fastArgon2, SessionIdle: 30 * time.Minute, SessionAbsolute: 12 * time.Hour})
	c := e.company(t, "acme")
	token := e.session(t, e.user(t, c.ID, "alice", goodPassword))
	steps := []struct {
		advance time.Duration
		valid   bool
	}{
		{20 * time.Minute, true}, // 20 min idle
		{20 * time.Minute, true}, // 40 min after sign-in, 20 after the last request
		{29 * time.Minute, true},
		{29 * time.Minute, true},
		{30 * time.Minute, false},
	}
	var elapsed time.Duration
	for _, s := range steps {
		e.clock.advance(s.advance)
		elapsed += s.advance
		_, err := e.svc.Authenticate(ctx, token)
		if s.valid && err != nil {
			t.Fatalf("at %v (+%v since the last request): Authenticate = %v, want valid", elapsed, s.advance, err)
		}
		if !s.valid && !errors.Is(err, account.ErrNoSession) {
			t.Fatalf("at %v (+%v since the last request): Authenticate = %v, want ErrNoSession", elapsed, s.advance, err)
		}
	}
}

// TestSessionIdleTimeoutIsExact: the stored last request is kept to the
// minute, yet the idle timeout runs from the last request to the second.
// Requests at 0 and 0:50 (the second not written); the session lives until
// 30:50, not 30:00.
func TestSessionIdleTimeoutIsExact(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, account.Options{Argon2: fastArgon2, SessionIdle: 30 * time.Minute, SessionAbsolute: 12 * time.Hour})
	c := e.company(t, "acme")
	token := e.session(t, e.user(t, c.ID, "alice", goodPassword))
	if _, err := e.svc.Authenticate(ctx, token); err != nil {
		t.Fatal(err)
	}
	e.clock.advance(50 * time.Second)
	if _, err := e.svc.Authenticate(ctx, token); err != nil {
		t.Fatal(err)
	}
	e.clock.advance(30*time.Minute - 5*time.Second) // 30:45: 29:55 idle
	if _, err := e.svc.Authenticate(ctx, token); err != nil {
		t.Fatalf("29:55 after the last request: %v, want valid", err)
	}
	e.clock.advance(30 * time.Minute) // exactly the timeout after the last request
	if _, err := e.svc.Authenticate(ctx, token); !errors.Is(err, account.ErrNoSession) {
		t.Fatalf("30:00 after the last request: %v, want ErrNoSession", err)
	}
}

// TestSessionLastSeenGranularity checks that a session is written at most
// once a minute to keep it alive.
func TestSessionLastSeenGranularity(t *testing.T) {
	ctx := context.Background()
	e := newFastEnv(t)
	c := e.company(t, "acme")
	token := e.session(t, e.user(t, c.ID, "alice", goodPassword))
	lastSeen := func() time.Time {
		t.Helper()
		var ts time.Time
		if err := e.row(`SELECT last_seen_at FROM sessions WHERE token_hash = $1`, id.HashToken(token)).Scan(&ts); err != nil {
			t.Fatalf("read last_seen_at: %v", err)
		}
		return ts
	}
	steps := []struct {
		at   time.Duration // since start
		want time.Duration // last_seen_at afterwards, since start
	}{
		{30 * time.Second, 0},
		{59 * time.Second, 0},
		{60 * time.Second, 60 * time.Second},
		{61 * time.Second, 60 * time.Second},
		{5 * time.Minute, 5 * time.Minute},
	}
	for _, s := range steps {
		e.clock.set(start.Add(s.at))
		if _, err := e.svc.Authenticate(ctx, token); err != nil {
			t.Fatalf("at %v: Authenticate = %v", s.at, err)
		}
		if got, want := lastSeen(), start.Add(s.want); !got.Equal(want) {
			t.Errorf("at %v: last_seen_at = %v, want %v", s.at, got, want)
		}
	}
}

func TestSessionAbsoluteTimeout(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, account.Options{Argon2: fastArgon2, SessionIdle: 30 * time.Minute, SessionAbsolute: time.Hour})
	c := e.company(t, "acme")
	token := e.session(t, e.user(t, c.ID, "alice", goodPassword))
	var expires time.Time
	if err := e.row(`SELECT expires_at FROM sessions`).Scan(&expires); err != nil {
		t.Fatalf("read expires_at: %v", err)
	}
	if want := start.Add(time.Hour); !expires.Equal(want) {
		t.Errorf("expires_at = %v, want %v", expires, want)
	}
	steps := []struct {
		at    time.Duration
		valid bool
	}{
		{20 * time.Minute, true},
		{40 * time.Minute, true},
		{59 * time.Minute, true},
		{60 * time.Minute, false}, // active a minute ago, but the hour is up
	}
	for _, s := range steps {
		e.clock.set(start.Add(s.at))
		_, err := e.svc.Authenticate(ctx, token)
		if s.valid && err != nil {
			t.Fatalf("at %v: Authenticate = %v, want valid", s.at, err)
		}
		if !s.valid && !errors.Is(err, account.ErrNoSession) {
			t.Fatalf("at %v: Authenticate = %v, want ErrNoSession", s.at, err)
		}
	}
	if e.sessionExists(t, token) {
		t.Errorf("session past its absolute timeout still stored, want it deleted")
	}
}

// TestSessionDefaultTimeouts checks the zero Options: 30 minutes idle, 12
// hours in all.
func TestSessionDefaultTimeouts(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, account.Options{Argon2: fastArgon2})
	c := e.company(t, "acme")
	alice := e.user(t, c.ID, "alice", goodPassword)

	idle := e.session(t, alice)
	e.clock.advance(30 * time.Minute)
	if _, err := e.svc.Authenticate(ctx, idle); !errors.Is(err, account.ErrNoSession) {
		t.Errorf("after 30 idle minutes: Authenticate = %v, want ErrNoSession", err)
	}

	e.clock.set(start)
	busy := e.session(t, alice)
	for at := 29 * time.Minute; at < 12*time.Hour; at += 29 * time.Minute {
		e.clock.set(start.Add(at))
		if _, err := e.svc.Authenticate(ctx, busy); err != nil {
			t.Fatalf("at %v: Authenticate = %v, want valid", at, err)
		}
	}
	e.clock.set(start.Add(12 * time.Hour))
	if _, err := e.svc.Authenticate(ctx, busy); !errors.Is(err, account.ErrNoSession) {
		t.Errorf("after 12 hours: Authenticate = %v, want ErrNoSession", err)
	}
}

func TestSignOut(t *testing.T) {
	ctx := context.Background()
	e := newFastEnv(t)
	c := e.company(t, "acme")
	alice := e.user(t, c.ID, "alice", goodPassword)
	t1, t2 := e.session(t, alice), e.session(t, alice)

	if err := e.svc.SignOut(ctx, t1, account.Client{}); err != nil {
		t.Fatalf("SignOut: %v", err)
	}
	if e.sessionExists(t, t1) {
		t.Errorf("session still stored after SignOut")
	}
	if _, err := e.svc.Authenticate(ctx, t1); !errors.Is(err, account.ErrNoSession) {
		t.Errorf("Authenticate after SignOut = %v, want ErrNoSession", err)
	}
	if _, err := e.svc.Authenticate(ctx, t2); err != nil {
		t.Errorf("the user's other session: Authenticate = %v, want valid", err)
	}
	for _, tok := range []string{t1, "", "unknown-token"} {
		if err := e.svc.SignOut(ctx, tok, account.Client{}); err != nil {
			t.Errorf("SignOut(%q) = %v, want nil", tok, err)
		}
	}
	if n := e.sessionsOf(t, alice); n != 1 {
		t.Errorf("sessions = %d, want 1", n)
	}
}

func TestPruneSessions(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, account.Options{Argon2: fastArgon2, SessionIdle: 30 * time.Minute, SessionAbsolute: time.Hour})
	c := e.company(t, "acme")
	alice := e.user(t, c.ID, "alice", goodPassword)

	idle := e.session(t, alice)   // never used again
	active := e.session(t, alice) // used every 20 minutes until its hour is up
	e.clock.set(start.Add(20 * time.Minute))
	mustAuthenticate(t, e, active)
	e.clock.set(start.Add(25 * time.Minute))
	late := e.session(t, alice) // created at 25 min, then idle
	e.clock.set(start.Add(40 * time.Minute))
	mustAuthenticate(t, e, active)

	n, err := e.svc.PruneSessions(ctx)
	if err != nil {
		t.Fatalf("PruneSessions: %v", err)
	}
	if n != 1 {
		t.Errorf("pruned %d at 40 min, want 1", n)
	}
	for _, s := range []struct {
		name  string
		token string
		want  bool
	}{{"idle", idle, false}, {"active", active, true}, {"late", late, true}} {
		if got := e.sessionExists(t, s.token); got != s.want {
			t.Errorf("at 40 min: %s session stored = %v, want %v", s.name, got, s.want)
		}
	}

	e.clock.set(start.Add(60 * time.Minute))
	fresh := e.session(t, alice)
	n, err = e.svc.PruneSessions(ctx)
	if err != nil {
		t.Fatalf("PruneSessions: %v", err)
	}
	if n != 2 {
		t.Errorf("pruned %d at 60 min, want 2 (one past its hour, one idle 35 min)", n)
	}
	for _, s := range []struct {
		name  string
		token string
		want  bool
	}{{"active", active, false}, {"late", late, false}, {"fresh", fresh, true}} {
		if got := e.sessionExists(t, s.token); got != s.want {
			t.Errorf("at 60 min: %s session stored = %v, want %v", s.name, got, s.want)
		}
	}

	n, err = e.svc.PruneSessions(ctx)
	if err != nil || n != 0 {
		t.Errorf("second PruneSessions = %d, %v; want 0, nil", n, err)
	}
}

func mustAuthenticate(t *testing.T, e *env, token string) {
	t.Helper()
	if _, err := e.svc.Authenticate(context.Background(), token); err != nil {
		t.Fatalf("Authenticate: %v", err)
	}
}

// TestSignInRehash signs in with the default parameters a user whose hash
// was made with lower ones: the stored hash is upgraded.
func TestSignInRehash(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, account.Options{}) // default argon2 parameters
	low := e.kit.NewAccounts(account.Options{Argon2: fastArgon2})
	c := e.company(t, "acme")
	alice, err := low.CreateUser(ctx, access.Operator(c.ID), account.CreateUserInput{Login: "alice", DisplayName: "Alice", Password: goodPassword})
	if err != nil {
		t.Fatalf("CreateUser: %v", err)
	}
	lowHash := e.passwordHash(t, alice)
	if !strings.HasPrefix(lowHash, "$argon2id$v=19$m=64,t=1,p=1$") {
		t.Fatalf("stored hash = %q, want low parameters", lowHash)
	}

	if _, _, err := e.svc.SignIn(ctx, "alice", otherPassword, account.Client{}); !errors.Is(err, account.ErrInvalidCredentials) {
		t.Fatalf("SignIn(wrong password) = %v, want ErrInvalidCredentials", err)
	}
	if got := e.passwordHash(t, alice); got != lowHash {
		t.Errorf("a failed sign-in replaced the hash: %q, want %q", got, lowHash)
	}

	if _, _, err := e.svc.SignIn(ctx, "alice", goodPassword, account.Client{}); err != nil {
		t.Fatalf("SignIn: %v", err)
	}
	upgraded := e.passwordHash(t, alice)
	if !strings.HasPrefix(upgraded, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("hash after sign-in = %q, want the default parameters", upgraded)
	}

	if _, _, err := e.svc.SignIn(ctx, "alice", goodPassword, account.Client{}); err != nil {
		t.Fatalf("SignIn with the upgraded hash: %v", err)
	}
	if got := e.passwordHash(t, alice); got != upgraded {
		t.Errorf("an up-to-date hash was replaced on sign-in")
	}
	if _, _, err := low.SignIn(ctx, "alice", goodPassword, account.Client{}); err != nil {
		t.Errorf("SignIn through a service with lower parameters: %v", err)
	}
	if got := e.passwordHash(t, alice); got != upgraded {
		t.Errorf("a service with lower parameters downgraded the hash")
	}
}

// TestCreatedUserCanSignIn checks that whatever CreateUser accepts can sign
// in: the login and password limits of SignIn must not be narrower than
// those of the validation.
func TestCreatedUserCanSignIn(t *testing.T) {
	ctx := context.Background()
	e := newFastEnv(t)
	c := e.company(t, "acme")
	// "한" in NFD is three conjoining jamo, 9 bytes; NFC makes it one
	// 3-byte syllable.
	hangulNFD := norm.NFD.String("한")
	tests := []struct {
		name, login, password string
	}{
		{"100-character ASCII login", strings.Repeat("a", 100), goodPassword},
		{"100-character two-byte login", strings.Repeat("ж", 100), goodPassword},
		{"70-character three-byte login", strings.Repeat("漢", 70), goodPassword},
		{"100-character four-byte login", strings.Repeat("𝒜", 99) + "a", goodPassword},
		{"128 four-byte characters", "user4", "𝐭𝐡𝐞𝐪𝐮𝐢𝐜𝐤𝐛𝐫𝐨𝐰𝐧𝐟𝐨𝐱𝐣𝐮𝐦𝐩𝐬𝐨𝐯𝐞𝐫𝐭𝐡𝐞𝐥𝐚𝐳𝐲𝐝𝐨𝐠𝐰𝐡𝐢𝐥𝐞𝐟𝐢𝐯𝐞𝐰𝐢𝐳𝐚𝐫𝐝𝐬𝐣𝐮𝐦𝐩𝐪𝐮𝐢𝐜𝐤𝐥𝐲𝐚𝐧𝐝𝐩𝐚𝐜𝐤𝐦𝐲𝐛𝐨𝐱𝐰𝐢𝐭𝐡𝐟𝐢𝐯𝐞𝐝𝐨𝐳𝐞𝐧𝐥𝐢𝐪𝐮𝐨𝐫𝐣𝐮𝐠𝐬𝐚𝐬𝐭𝐡𝐞𝐬𝐩𝐡𝐢𝐧𝐱𝐨𝐟𝐛𝐥𝐚𝐜𝐤𝐪𝐮𝐚𝐫𝐭𝐳𝐣𝐮𝐝𝐠𝐞𝐬1"},
		{"decomposed password of 61 characters", "user5", hangulNFD + norm.NFD.String("키스의고유조건은입술끼리만나야하고특별한기술은필요치않다다람쥐헌쳇바퀴에타고파동해물과백두산이마르고닳도록하느님이보우") + "1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := e.svc.CreateUser(ctx, access.Operator(c.ID), account.CreateUserInput{Login: tt.login, DisplayName: "X", Password: tt.password}); err != nil {
				t.Fatalf("CreateUser: %v, want the fixture accepted", err)
			}
			if _, _, err := e.svc.SignIn(ctx, tt.login, tt.password, account.Client{}); err != nil {
				t.Errorf("SignIn with the login (%d bytes) and password (%d bytes) CreateUser accepted: %v, want success",
					len(tt.login), len(tt.password), err)
			}
		})
	}
}
