// Package bench measures a running Kandidat server from the outside, as a
// browser would use it: it signs in over HTTP and times pages. It imports
// nothing of the application, so what it measures is what a user gets.
package bench

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// SessionCookie is the application's session cookie (web.SessionCookie).
const SessionCookie = "__Host-kandidat_session"

// ErrSecondFactor is returned when the server demands a second factor, at
// sign-in or to enrol one: the benchmark cannot answer it.
var ErrSecondFactor = errors.New("the server demands a second factor for this user; the benchmark cannot give one: use a user without two-factor sign-in")

// ErrSignIn is returned when the login and password are refused.
var ErrSignIn = errors.New("sign-in refused: wrong login or password, or the account is locked or disabled")

// jar keeps the cookies of the one server the benchmark talks to. Unlike
// net/http/cookiejar it sends Secure cookies over plain http too: the
// session cookie is always Secure (its __Host- name requires it), and a
// server benchmarked on a private address without TLS must still get it.
type jar struct {
	mu      sync.Mutex
	cookies map[string]*http.Cookie
}

func (j *jar) SetCookies(_ *url.URL, cookies []*http.Cookie) {
	j.mu.Lock()
	defer j.mu.Unlock()
	for _, c := range cookies {
		if c.MaxAge < 0 || (!c.Expires.IsZero() && c.Expires.Before(time.Now())) || c.Value == "" {
			delete(j.cookies, c.Name)
			continue
		}
		j.cookies[c.Name] = &http.Cookie{Name: c.Name, Value: c.Value}
	}
}

func (j *jar) Cookies(*url.URL) []*http.Cookie {
	j.mu.Lock()
	defer j.mu.Unlock()
	out := make([]*http.Cookie, 0, len(j.cookies))
	for _, c := range j.cookies {
		out = append(out, c)
	}
	return out
}

func (j *jar) has(name string) bool {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.cookies[name] != nil
}

// session is a signed-in client. Its methods are safe for concurrent use.
type session struct {
	base   *url.URL
	client *http.Client
	jar    *jar
	// token, when set, is sent as the API's bearer token.
	token string
}

func newSession(base *url.URL, conns int, timeout time.Duration) *session {
	j := &jar{cookies: map[string]*http.Cookie{}}
	tr := &http.Transport{
		Proxy:               nil, // a proxy would be measured too
		MaxIdleConns:        conns + 4,
		MaxIdleConnsPerHost: conns + 4,
		IdleConnTimeout:     90 * time.Second,
		ForceAttemptHTTP2:   true,
	}
	return &session{base: base, jar: j, client: &http.Client{
		Transport: tr,
		Jar:       j,
		Timeout:   timeout,
		// Redirects are answers to look at, not to follow: a staff page that
		// redirects has sent the user elsewhere (sign-in, password, second factor).
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

func (s *session) close() { s.client.CloseIdleConnections() }

func (s *session) url(path string) string {
	u, err := s.base.Parse(path)
	if err != nil {
		return s.base.String() + path
	}
	return u.String()
}

func (s *session) newRequest(ctx context.Context, method, path string, body io.Reader) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, method, s.url(path), body)
	if err != nil {
		return nil, err
	}
	req.Header.Set("User-Agent", "kandidat-bench/1")
	req.Header.Set("Accept", "text/html")
	if s.token != "" {
		req.Header.Set("Authorization", "Bearer "+s.token)
		req.Header.Set("Accept", "application/json")
	}
	return req, nil
}

// page is one answer, read whole.
type page struct {
	status   int
	location string // of a redirect, as sent
	body     string
}

// get fetches path and reads the whole answer.
func (s *session) get(ctx context.Context, path string) (*page, error) {
	req, err := s.newRequest(ctx, http.MethodGet, path, nil)
	if err != nil {
		return nil, err
	}
	return s.do(req)
}

// post sends a form as a same-origin browser would: the server's
// cross-origin protection checks Sec-Fetch-Site and Origin.
func (s *session) post(ctx context.Context, path string, form url.Values) (*page, error) {
	req, err := s.newRequest(ctx, http.MethodPost, path, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", s.base.Scheme+"://"+s.base.Host)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	return s.do(req)
}

func (s *session) do(req *http.Request) (*page, error) {
	res, err := s.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(io.LimitReader(res.Body, 64<<20))
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", req.Method, req.URL.Path, err)
	}
	return &page{status: res.StatusCode, location: res.Header.Get("Location"), body: string(b)}, nil
}

// fetch is the timed request: GET path, read and discard the body, return
// the status and the bytes read.
func (s *session) fetch(ctx context.Context, path string) (status int, n int64, err error) {
	req, err := s.newRequest(ctx, http.MethodGet, path, nil)
	if err != nil {
		return 0, 0, err
	}
	res, err := s.client.Do(req)
	if err != nil {
		return 0, 0, err
	}
	n, err = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res.StatusCode, n, err
}

// redirectPath is the path a redirect points to.
func redirectPath(location string) string {
	u, err := url.Parse(location)
	if err != nil {
		return location
	}
	return u.Path
}

// signIn signs in with login and password. When the server demands a new
// password first, it sets a new random one and returns it (else ""); the
// caller must tell the operator. It fails with ErrSecondFactor when a second
// factor is asked for, at sign-in or on the first staff page.
func (s *session) signIn(ctx context.Context, login, password string, logf func(string, ...any)) (newPassword string, err error) {
	form, err := s.get(ctx, "/signin")
	if err != nil {
		return "", fmt.Errorf("the sign-in page at %s: %w", s.url("/signin"), err)
	}
	if form.status != http.StatusOK && form.status != http.StatusSeeOther {
		return "", fmt.Errorf("the sign-in page at %s answered %d; is this a Kandidat server?", s.url("/signin"), form.status)
	}
	res, err := s.post(ctx, "/signin", url.Values{"login": {login}, "password": {password}})
	if err != nil {
		return "", fmt.Errorf("sign-in: %w", err)
	}
	switch {
	case res.status == http.StatusUnauthorized:
		return "", ErrSignIn
	case res.status == http.StatusForbidden:
		return "", fmt.Errorf("sign-in answered 403: the server refused the form as cross-origin; is --base-url the address the server is reached at?")
	case res.status != http.StatusSeeOther:
		return "", fmt.Errorf("sign-in answered %d, want a redirect", res.status)
	case !s.jar.has(SessionCookie):
		return "", errors.New("sign-in set no session cookie")
	}
	switch redirectPath(res.location) {
	case "/signin/mfa":
		return "", ErrSecondFactor
	case "/password":
		newPassword, err = s.changePassword(ctx, password)
		if err != nil {
			return "", err
		}
		logf("The server demanded a new password at the first sign-in. The new password of %s is:\n  %s\n", login, newPassword)
	}
	// The staff pages may still send the user to enrol a second factor.
	dash, err := s.get(ctx, "/dashboard")
	if err != nil {
		return newPassword, fmt.Errorf("the dashboard after sign-in: %w", err)
	}
	switch {
	case dash.status == http.StatusOK:
		return newPassword, nil
	case dash.status == http.StatusSeeOther && strings.HasPrefix(redirectPath(dash.location), "/account/mfa"):
		return newPassword, ErrSecondFactor
	default:
		return newPassword, fmt.Errorf("the dashboard after sign-in answered %d %s", dash.status, dash.location)
	}
}

// changePassword answers the forced password change with a new random
// password that any password profile accepts (26 characters of three kinds,
// no sequence); a rare refusal (e.g. the login happens to occur in it) gets
// another.
func (s *session) changePassword(ctx context.Context, current string) (string, error) {
	if _, err := s.get(ctx, "/password"); err != nil {
		return "", fmt.Errorf("the password page: %w", err)
	}
	for range 3 {
		t := rand.Text() // 26 characters of A-Z and 2-7
		next := strings.ToLower(t[:8]) + "-" + t[8:17] + "-" + t[17:]
		res, err := s.post(ctx, "/password", url.Values{"current_password": {current}, "new_password": {next}, "confirm_password": {next}})
		if err != nil {
			return "", fmt.Errorf("the password change: %w", err)
		}
		switch res.status {
		case http.StatusSeeOther:
			return next, nil
		case http.StatusUnprocessableEntity:
			if strings.Contains(res.body, `id="current_password-error"`) {
				return "", errors.New("the password change refused the current password")
			}
			continue // the new one broke a rule: try another
		default:
			return "", fmt.Errorf("the password change answered %d", res.status)
		}
	}
	return "", errors.New("the server refused three random new passwords; sign in in a browser, choose a password and give it to the benchmark")
}
