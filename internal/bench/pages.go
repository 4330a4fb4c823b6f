package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"
)

// Options of the page benchmark.
type Options struct {
	// BaseURL is the server's address, e.g. http://127.0.0.1:8080.
	BaseURL         string
	Login, Password string
	// Clients lists the numbers of concurrent clients to time each page with.
	Clients []int
	// Duration is the time measured per page and number of clients, after
	// Warmup (requests made in the warm-up are not counted).
	Duration, Warmup time.Duration
	// DeepPages is how many "next" links the deep candidate page is
	// behind the first (default 5).
	DeepPages int
	// Timeout bounds one request (default 30s); a request that times out
	// counts as an error.
	Timeout time.Duration
	// Log receives progress and the new password when one had to be set
	// (nil: discarded).
	Log io.Writer
}

// Row is the measurement of one page with one number of clients. Times
// are in milliseconds.
type Row struct {
	Page     string  `json:"page"`
	Clients  int     `json:"clients"`
	Requests int     `json:"requests"`
	Seconds  float64 `json:"seconds"`
	RPS      float64 `json:"req_per_s"`
	P50      float64 `json:"p50_ms"`
	P95      float64 `json:"p95_ms"`
	P99      float64 `json:"p99_ms"`
	// MeanBytes is the mean size of a response body.
	MeanBytes int64 `json:"mean_bytes"`
	// Errors counts answers other than 2xx and failed requests; ErrorKinds
	// counts them by status ("500") or "failed" (no answer).
	Errors     int            `json:"errors"`
	ErrorKinds map[string]int `json:"error_kinds,omitempty"`
}

// Skipped is a page the benchmark did not time, and why.
type Skipped struct {
	Page   string `json:"page"`
	Reason string `json:"reason"`
}

// Result of a page benchmark.
type Result struct {
	BaseURL  string    `json:"base_url"`
	Started  time.Time `json:"started"`
	Duration float64   `json:"duration_s"`
	Warmup   float64   `json:"warmup_s"`
	Rows     []Row     `json:"rows"`
	Skipped  []Skipped `json:"skipped"`
	// NewPassword is the password set at a forced password change, or ""
	// (never written out: the operator has it from Log).
	NewPassword string `json:"-"`
}

// Errors is the number of failed requests over every row.
func (r *Result) Errors() int {
	n := 0
	for _, row := range r.Rows {
		n += row.Errors
	}
	return n
}

// target is a page to time: its label in the table and its path.
type target struct{ label, path string }

// RunPages signs in and times each staff page the user may open. On an
// error after a forced password change, the Result still carries the new
// password.
func RunPages(ctx context.Context, o Options) (*Result, error) {
	base, err := url.Parse(strings.TrimRight(o.BaseURL, "/"))
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		return nil, fmt.Errorf("base URL %q: want an absolute http(s) URL such as http://127.0.0.1:8080", o.BaseURL)
	}
	if len(o.Clients) == 0 {
		o.Clients = []int{1, 8}
	}
	for _, c := range o.Clients {
		if c < 1 {
			return nil, fmt.Errorf("clients: %d is not a positive number", c)
		}
	}
	if o.Duration <= 0 {
		return nil, errors.New("duration: must be positive")
	}
	if o.DeepPages <= 0 {
		o.DeepPages = 5
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
	defer s.close()
	res := &Result{BaseURL: base.String(), Started: time.Now().UTC().Truncate(time.Second),
		Duration: o.Duration.Seconds(), Warmup: o.Warmup.Seconds()}
	res.NewPassword, err = s.signIn(ctx, o.Login, o.Password, logf)
	if err != nil {
		return res, err
	}
	targets, skipped, err := discover(ctx, s, o.DeepPages)
	if err != nil {
		return res, err
	}
	res.Skipped = skipped
	for _, t := range targets {
		for _, c := range o.Clients {
			logf("timing %s with %d client(s) for %s\n", t.label, c, o.Duration)
			row, err := measure(ctx, s, t, c, o.Warmup, o.Duration)
			if err != nil {
				return res, err
			}
			res.Rows = append(res.Rows, row)
		}
	}
	return res, nil
}

func maxOf(v []int) int {
	m := 1
	for _, x := range v {
		m = max(m, x)
	}
	return m
}

var (
	reRow         = regexp.MustCompile(`(?s)<tr\b[^>]*>(.*?)</tr>`)
	rePositionRef = regexp.MustCompile(`href="/positions/([^"/?#]+)"`)
	reStrongCount = regexp.MustCompile(`<strong>\s*(\d+)\s*</strong>`)
	reAppLink     = regexp.MustCompile(`<a href="/applications/([^"/?#]+)"[^>]*>([^<]*)</a>`)
	reLinkTag     = regexp.MustCompile(`(?i)<(?:a|link)\b[^>]*>`)
	reAttr        = regexp.MustCompile(`([a-zA-Z-]+)\s*=\s*"([^"]*)"`)
)

// discover finds the pages to time by reading the application's own pages.
// Pages the user may not open are skipped with the reason.
func discover(ctx context.Context, s *session, deep int) ([]target, []Skipped, error) {
	var targets []target
	var skipped []Skipped
	// open fetches a page and decides whether it is timed: 200 yes; 403 and
	// 404 are "not allowed for this user"; a redirect to sign in means the
	// session was lost.
	open := func(label, path string) (*page, error) {
		p, err := s.get(ctx, path)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", label, err)
		}
		switch {
		case p.status == http.StatusOK:
			targets = append(targets, target{label, path})
			return p, nil
		case p.status == http.StatusForbidden || p.status == http.StatusNotFound:
			skipped = append(skipped, Skipped{label, fmt.Sprintf("not allowed for this user (%d)", p.status)})
		case p.status == http.StatusSeeOther && redirectPath(p.location) == "/signin":
			return nil, fmt.Errorf("%s: the server ended the session", label)
		case p.status >= 300 && p.status < 400:
			skipped = append(skipped, Skipped{label, fmt.Sprintf("redirects (%d) to %s", p.status, redirectPath(p.location))})
		default:
			skipped = append(skipped, Skipped{label, fmt.Sprintf("answered %d (see the server's log)", p.status)})
		}
		return nil, nil
	}
	skip := func(label, reason string) { skipped = append(skipped, Skipped{label, reason}) }

	if _, err := open("/dashboard", "/dashboard"); err != nil {
		return nil, nil, err
	}
	positions, err := open("/positions", "/positions")
	if err != nil {
		return nil, nil, err
	}
	var position *page
	if positions != nil {
		if id := largestPosition(positions.body); id != "" {
			if position, err = open("/positions/{id}", "/positions/"+id); err != nil {
				return nil, nil, err
			}
		} else {
			skip("/positions/{id}", "no position on /positions")
		}
	} else {
		skip("/positions/{id}", "no /positions for this user")
	}
	// The candidate list comes before the card, which may be taken from it.
	list, err := s.get(ctx, "/candidates")
	if err != nil {
		return nil, nil, fmt.Errorf("/candidates: %w", err)
	}
	if list.status != http.StatusOK {
		list = nil
	}
	var card string
	for _, p := range []*page{position, list} {
		if p == nil {
			continue
		}
		if links := appLinks(p.body); len(links) > 0 {
			card = links[0].id
			break
		}
	}
	if card == "" {
		skip("/applications/{id}", "no candidate on the position's page or /candidates")
	} else if _, err := open("/applications/{id}", "/applications/"+card); err != nil {
		return nil, nil, err
	}
	if _, err := open("/candidates", "/candidates"); err != nil {
		return nil, nil, err
	}
	if list != nil {
		deepPage(ctx, s, list.body, deep, &targets, skip)
		if surname := firstSurname(list.body); surname != "" {
			if _, err := open("/candidates?q={surname}", "/candidates?q="+url.QueryEscape(surname)); err != nil {
				return nil, nil, err
			}
		} else {
			skip("/candidates?q={surname}", "no candidate on /candidates to take a surname from")
		}
		words, reason, err := cvWords(ctx, s, list.body)
		if err != nil {
			return nil, nil, err
		}
		if words != "" {
			if _, err := open("/candidates?q={two CV words}", "/candidates?q="+url.QueryEscape(words)); err != nil {
				return nil, nil, err
			}
		} else {
			skip("/candidates?q={two CV words}", reason)
		}
		if q := filteredQuery(list.body); q != "" {
			if _, err := open("/candidates?q=stage:{stage} {surname}", "/candidates?q="+url.QueryEscape(q)); err != nil {
				return nil, nil, err
			}
		} else {
			skip("/candidates?q=stage:{stage} {surname}", "no stage in the filter of /candidates or no surname to combine it with")
		}
	} else {
		for _, label := range []string{"/candidates (deep page)", "/candidates?q={surname}", "/candidates?q={two CV words}", "/candidates?q=stage:{stage} {surname}"} {
			skip(label, "no /candidates for this user")
		}
	}
	for _, path := range []string{"/pool", "/audit", "/credits", "/users"} {
		if _, err := open(path, path); err != nil {
			return nil, nil, err
		}
	}
	return targets, skipped, nil
}

// deepPage follows the rel="next" links of the candidate list deep times
// and adds the page it reaches.
func deepPage(ctx context.Context, s *session, first string, deep int, targets *[]target, skip func(label, reason string)) {
	body, path := first, "/candidates"
	reached := 0
	for reached < deep {
		next := nextLink(body, path)
		if next == "" {
			break
		}
		p, err := s.get(ctx, next)
		if err != nil || p.status != http.StatusOK {
			break
		}
		body, path = p.body, next
		reached++
	}
	if reached == 0 {
		skip("/candidates (deep page)", `/candidates has no rel="next" link: no paging, or one page of candidates`)
		return
	}
	// When the list ends first, its last page is as deep as it goes; the
	// label says which page was timed.
	*targets = append(*targets, target{fmt.Sprintf("/candidates (page %d)", reached+1), path})
}

// largestPosition returns the id of the first position with the most
// candidates in the table of /positions (the count is the row's <strong>),
// or the first position when no row shows a count.
func largestPosition(body string) string {
	best, bestN := "", -1
	for _, row := range reRow.FindAllStringSubmatch(body, -1) {
		m := rePositionRef.FindStringSubmatch(row[1])
		if m == nil {
			continue
		}
		n := -1
		if c := reStrongCount.FindStringSubmatch(row[1]); c != nil {
			n, _ = strconv.Atoi(c[1])
		}
		if best == "" || n > bestN {
			best, bestN = m[1], n
		}
	}
	return best
}

type appLink struct{ id, name string }

// appLinks lists the links to candidate cards in a page, with their text.
func appLinks(body string) []appLink {
	var out []appLink
	for _, m := range reAppLink.FindAllStringSubmatch(body, -1) {
		out = append(out, appLink{m[1], strings.TrimSpace(html.UnescapeString(m[2]))})
	}
	return out
}

// firstSurname is the last word of the first candidate's name on the list.
func firstSurname(body string) string {
	for _, l := range appLinks(body) {
		if f := strings.Fields(l.name); len(f) > 0 {
			return f[len(f)-1]
		}
	}
	return ""
}

// cvCards is how many candidate cards are opened, at most, to find one
// with a document's text (the list's cards, following its rel="next"
// pages, and the other applications they link: at the medium seed's 5%
// of candidates with a CV, about 4 cards a candidate, 1,000 cards reach
// a dozen CVs).
const cvCards = 1000

var (
	reDocText  = regexp.MustCompile(`href="/documents/([^"/?#]+)/text"`)
	reTextPre  = regexp.MustCompile(`(?s)<pre\b[^>]*id="document-text"[^>]*>(.*?)</pre>`)
	reStageOpt = regexp.MustCompile(`(?s)<select\b[^>]*id="stage-filter"[^>]*>(.*?)</select>`)
	reOption   = regexp.MustCompile(`<option value="([^"]+)"[^>]*>([^<]*)</option>`)
	reCell     = regexp.MustCompile(`<td\b[^>]*>([^<]*)</td>`)
)

// cvWords finds two words of a CV to search for: the first card that
// links a document's text, the text read from its page, two words of five
// letters or more from its middle. The cards are those of the list (its
// first pages), each followed by the candidate's other applications that
// it links (a document belongs to the application it came with). Without
// one it returns "" and the reason.
func cvWords(ctx context.Context, s *session, list string) (words, reason string, err error) {
	if len(appLinks(list)) == 0 {
		return "", "no candidate on /candidates", nil
	}
	seen := map[string]bool{}
	opened := 0
	body, path := list, "/candidates"
	var todo []string
	for opened < cvCards {
		if len(todo) == 0 {
			if body == "" {
				break
			}
			for _, l := range appLinks(body) {
				todo = append(todo, l.id)
			}
			next := nextLink(body, path)
			body = ""
			if next != "" {
				if p, err := s.get(ctx, next); err == nil && p.status == http.StatusOK {
					body, path = p.body, next
				}
			}
			continue
		}
		id := todo[0]
		todo = todo[1:]
		if seen[id] {
			continue
		}
		seen[id] = true
		opened++
		card, err := s.get(ctx, "/applications/"+id)
		if err != nil {
			return "", "", fmt.Errorf("/applications/{id}: %w", err)
		}
		if card.status != http.StatusOK {
			continue
		}
		for _, m := range reDocText.FindAllStringSubmatch(card.body, -1) {
			p, err := s.get(ctx, "/documents/"+m[1]+"/text")
			if err != nil {
				return "", "", fmt.Errorf("/documents/{id}/text: %w", err)
			}
			if p.status != http.StatusOK {
				continue
			}
			t := reTextPre.FindStringSubmatch(p.body)
			if t == nil {
				continue
			}
			if w := middleWords(html.UnescapeString(t[1])); w != "" {
				return w, "", nil
			}
		}
		// The candidate's other applications next.
		var other []string
		for _, l := range appLinks(card.body) {
			if !seen[l.id] {
				other = append(other, l.id)
			}
		}
		todo = append(other, todo...)
	}
	return "", fmt.Sprintf("none of the first %d cards of /candidates and their other applications links a document's text with two words of 5+ letters", opened), nil
}

// middleWords returns two words of five letters or more from the middle of
// text, joined by a space: the first two such words from its middle on, or
// "" when it has fewer than two.
func middleWords(text string) string {
	var long []string
	for _, f := range strings.FieldsFunc(text, func(r rune) bool { return !unicode.IsLetter(r) }) {
		if utf8.RuneCountInString(f) >= 5 {
			long = append(long, strings.ToLower(f))
		}
	}
	if len(long) < 2 {
		return ""
	}
	i := min(len(long)/2, len(long)-2)
	for j := i + 1; j < len(long); j++ {
		if long[j] != long[i] {
			return long[i] + " " + long[j]
		}
	}
	return ""
}

// filteredQuery is a field filter with a word: "stage:{stage} {surname}",
// the surname of the list's first candidate and the stage its row shows
// (the first of the list's stage filter when no cell of the row names
// one), or "".
func filteredQuery(list string) string {
	sel := reStageOpt.FindStringSubmatch(list)
	surname := firstSurname(list)
	if sel == nil || surname == "" {
		return ""
	}
	opts := reOption.FindAllStringSubmatch(sel[1], -1)
	if len(opts) == 0 {
		return ""
	}
	stage := html.UnescapeString(opts[0][1])
	for _, row := range reRow.FindAllStringSubmatch(list, -1) {
		if !reAppLink.MatchString(row[1]) {
			continue
		}
		cells := map[string]bool{}
		for _, c := range reCell.FindAllStringSubmatch(row[1], -1) {
			cells[strings.TrimSpace(html.UnescapeString(c[1]))] = true
		}
		for _, o := range opts {
			if cells[strings.TrimSpace(html.UnescapeString(o[2]))] {
				stage = html.UnescapeString(o[1])
				break
			}
		}
		break
	}
	return "stage:" + stage + " " + surname
}

// nextLink returns the target of the first <a> or <link> whose rel holds
// "next", resolved against the page's path, or "".
func nextLink(body, from string) string {
	for _, tag := range reLinkTag.FindAllString(body, -1) {
		var rel, href string
		for _, a := range reAttr.FindAllStringSubmatch(tag, -1) {
			switch strings.ToLower(a[1]) {
			case "rel":
				rel = a[2]
			case "href":
				href = html.UnescapeString(a[2])
			}
		}
		if href == "" || !containsToken(rel, "next") {
			continue
		}
		base, err := url.Parse(from)
		if err != nil {
			return ""
		}
		u, err := base.Parse(href)
		if err != nil || u.Host != "" {
			return "" // another site: not ours to follow
		}
		return u.RequestURI()
	}
	return ""
}

func containsToken(list, token string) bool {
	for _, f := range strings.Fields(list) {
		if strings.EqualFold(f, token) {
			return true
		}
	}
	return false
}

// measure times t with clients goroutines sharing the session: warmup
// first, not counted, then duration. A request is counted when it starts
// in the measured window; the window ends when the last one is answered,
// and lasts until each client has made one (a page slower than the window
// still gets its row).
func measure(ctx context.Context, s *session, t target, clients int, warmup, duration time.Duration) (Row, error) {
	type worker struct {
		lat    []time.Duration
		bytes  int64
		errors map[string]int
	}
	workers := make([]worker, clients)
	start := time.Now()
	from := start.Add(warmup)
	until := from.Add(duration)
	var wg sync.WaitGroup
	for i := range workers {
		w := &workers[i]
		w.errors = map[string]int{}
		wg.Go(func() {
			for ctx.Err() == nil {
				t0 := time.Now()
				if !t0.Before(until) && (len(w.lat) > 0 || len(w.errors) > 0) {
					return
				}
				status, n, err := s.fetch(ctx, t.path)
				d := time.Since(t0)
				if t0.Before(from) {
					continue
				}
				switch {
				case err != nil && status == 0:
					if ctx.Err() != nil {
						return
					}
					w.errors["failed"]++
				case err != nil:
					w.errors["failed"]++ // the body broke off
				case status < 200 || status > 299:
					w.errors[strconv.Itoa(status)]++
					w.lat = append(w.lat, d)
				default:
					w.lat = append(w.lat, d)
					w.bytes += n
				}
			}
		})
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return Row{}, err
	}
	elapsed := time.Since(from)
	row := Row{Page: t.label, Clients: clients, Seconds: round(elapsed.Seconds(), 3)}
	var all []time.Duration
	var bytes int64
	for _, w := range workers {
		all = append(all, w.lat...)
		bytes += w.bytes
		for k, v := range w.errors {
			if row.ErrorKinds == nil {
				row.ErrorKinds = map[string]int{}
			}
			row.ErrorKinds[k] += v
			row.Errors += v
		}
	}
	st := Summarize(all)
	row.Requests = st.N + row.ErrorKinds["failed"]
	if elapsed > 0 {
		row.RPS = round(float64(row.Requests)/elapsed.Seconds(), 1)
	}
	row.P50, row.P95, row.P99 = millis(st.P50), millis(st.P95), millis(st.P99)
	if ok := st.N - (row.Errors - row.ErrorKinds["failed"]); ok > 0 {
		row.MeanBytes = bytes / int64(ok)
	}
	return row, nil
}

func millis(d time.Duration) float64 { return round(float64(d)/float64(time.Millisecond), 3) }

func round(v float64, decimals int) float64 {
	p := 1.0
	for range decimals {
		p *= 10
	}
	return float64(int64(v*p+0.5)) / p
}

// Markdown writes the table, with a line saying what was measured before it
// and the pages skipped after it.
func (r *Result) Markdown(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "Page benchmark of %s, %s: %s per row after %s of warm-up; every client shares one session. Times in ms (nearest-rank percentiles).\n\n",
		r.BaseURL, r.Started.Format("2006-01-02 15:04 UTC"), seconds(r.Duration), seconds(r.Warmup))
	b.WriteString("| page | clients | requests | req/s | p50 | p95 | p99 | errors |\n")
	b.WriteString("|---|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, row := range r.Rows {
		fmt.Fprintf(&b, "| %s | %d | %d | %.1f | %.1f | %.1f | %.1f | %s |\n",
			row.Page, row.Clients, row.Requests, row.RPS, row.P50, row.P95, row.P99, errorCell(row))
	}
	if len(r.Skipped) > 0 {
		b.WriteString("\nNot timed:\n\n")
		for _, s := range r.Skipped {
			fmt.Fprintf(&b, "- %s: %s\n", s.Page, s.Reason)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func seconds(s float64) string {
	return time.Duration(s * float64(time.Second)).String()
}

// errorCell is "0", or the count and its kinds: "3 (500×2, failed×1)".
func errorCell(row Row) string {
	if row.Errors == 0 {
		return "0"
	}
	kinds := make([]string, 0, len(row.ErrorKinds))
	for k := range row.ErrorKinds {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	for i, k := range kinds {
		kinds[i] = fmt.Sprintf("%s×%d", k, row.ErrorKinds[k])
	}
	return fmt.Sprintf("%d (%s)", row.Errors, strings.Join(kinds, ", "))
}

// JSON writes the result as indented JSON.
func (r *Result) JSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if r.Rows == nil {
		r.Rows = []Row{}
	}
	if r.Skipped == nil {
		r.Skipped = []Skipped{}
	}
	return enc.Encode(r)
}
