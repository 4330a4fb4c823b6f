package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode"
)

// APIOptions of the API benchmark.
type APIOptions struct {
	BaseURL string
	// Token is an API token of the company (kdt_…), with the scopes
	// positions.view and applications.view.
	Token            string
	Clients          []int
	Duration, Warmup time.Duration
	Timeout          time.Duration
	// Query is the search of the candidates call ("" takes the first word
	// of the largest position's title).
	Query string
	Log   io.Writer
}

// RunAPI times the API's list of a position's applications (50 per page)
// and its candidate search against a bare net/http handler that marshals
// the same page of JSON, started in this process and measured in the same
// run, so that the ratio says what the API's work costs over serving JSON
// at all on this machine.
func RunAPI(ctx context.Context, o APIOptions) (*Result, error) {
	base, err := url.Parse(strings.TrimRight(o.BaseURL, "/"))
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		return nil, fmt.Errorf("base URL %q: want an absolute http(s) URL such as http://127.0.0.1:8080", o.BaseURL)
	}
	if !strings.HasPrefix(o.Token, "kdt_") {
		return nil, errors.New("token: an API token (kdt_…) is required")
	}
	if len(o.Clients) == 0 {
		o.Clients = []int{1, 8}
	}
	if o.Duration <= 0 {
		return nil, errors.New("duration: must be positive")
	}
	if o.Timeout <= 0 {
		o.Timeout = 30 * time.Second
	}
	log := o.Log
	if log == nil {
		log = io.Discard
	}
	logf := func(format string, args ...any) { fmt.Fprintf(log, format, args...) }
	s := newSession(base, maxOf(o.Clients), o.Timeout)
	s.token = o.Token
	defer s.close()
	res := &Result{BaseURL: base.String(), Started: time.Now().UTC().Truncate(time.Second), Duration: o.Duration.Seconds(), Warmup: o.Warmup.Seconds()}

	// The largest position the token sees (by its applications).
	pos, err := largestAPIPosition(ctx, s)
	if err != nil {
		return res, err
	}
	q := o.Query
	if q == "" {
		q = firstWord(pos.Title)
	}
	listPath := "/api/v1/positions/" + url.PathEscape(pos.ID) + "/applications?limit=50"
	p, err := s.get(ctx, listPath)
	if err != nil {
		return res, err
	}
	if p.status != http.StatusOK {
		return res, fmt.Errorf("GET %s: status %d: %.300s", listPath, p.status, p.body)
	}
	// The bare handler serves the same page: decoded once, marshalled per request.
	var page any
	if err := json.Unmarshal([]byte(p.body), &page); err != nil {
		return res, fmt.Errorf("GET %s: %w", listPath, err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return res, err
	}
	bare := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, err := json.Marshal(page)
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write(b)
	}), ReadHeaderTimeout: 10 * time.Second}
	go bare.Serve(ln)
	defer bare.Close()
	bareSession := newSession(&url.URL{Scheme: "http", Host: ln.Addr().String()}, maxOf(o.Clients), o.Timeout)
	defer bareSession.close()

	targets := []struct {
		s *session
		t target
	}{
		{bareSession, target{"bare net/http JSON handler (the same page)", "/"}},
		{s, target{fmt.Sprintf("GET /api/v1/positions/{id}/applications, 50 per page (%d applications)", pos.total), listPath}},
		{s, target{"GET /api/v1/candidates?q=" + q, "/api/v1/candidates?q=" + url.QueryEscape(q)}},
	}
	for _, t := range targets {
		for _, c := range o.Clients {
			logf("timing %s with %d client(s) for %s\n", t.t.label, c, o.Duration)
			row, err := measure(ctx, t.s, t.t, c, o.Warmup, o.Duration)
			if err != nil {
				return res, err
			}
			res.Rows = append(res.Rows, row)
		}
	}
	return res, nil
}

type apiPosition struct {
	ID, Title string
	total     int
}

func largestAPIPosition(ctx context.Context, s *session) (apiPosition, error) {
	var best apiPosition
	path := "/api/v1/positions?limit=100"
	for range 50 {
		p, err := s.get(ctx, path)
		if err != nil {
			return best, err
		}
		if p.status != http.StatusOK {
			return best, fmt.Errorf("GET %s: status %d: %.300s", path, p.status, p.body)
		}
		var page struct {
			Data []struct {
				ID     string         `json:"id"`
				Title  string         `json:"title"`
				Counts map[string]int `json:"counts"`
			} `json:"data"`
			Next *string `json:"next_cursor"`
		}
		if err := json.Unmarshal([]byte(p.body), &page); err != nil {
			return best, fmt.Errorf("GET %s: %w", path, err)
		}
		for _, d := range page.Data {
			n := 0
			for _, c := range d.Counts {
				n += c
			}
			if n > best.total {
				best = apiPosition{ID: d.ID, Title: d.Title, total: n}
			}
		}
		if page.Next == nil {
			break
		}
		path = "/api/v1/positions?limit=100&cursor=" + url.QueryEscape(*page.Next)
	}
	if best.ID == "" {
		return best, errors.New("the token sees no position with applications")
	}
	return best, nil
}

func firstWord(s string) string {
	for _, w := range strings.FieldsFunc(s, func(r rune) bool { return !unicode.IsLetter(r) }) {
		if len([]rune(w)) >= 4 {
			return w
		}
	}
	return "a"
}
