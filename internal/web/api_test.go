package web

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/account"
	"github.com/kandidat/kandidat/internal/audit"
	"github.com/kandidat/kandidat/internal/tenant"
)

// apiFixture is the web fixture with API tokens. Every response its calls
// receive is validated against the OpenAPI document: its status must be
// one the operation declares, and its body must match that status's schema.
type apiFixture struct {
	*fixture
	docOnce sync.Once
	doc     map[string]any
	schemas *jsonschema.Compiler
	mu      sync.Mutex
	cache   map[string]*jsonschema.Schema
	users   int
}

func newAPIFixture(t testing.TB) *apiFixture {
	t.Helper()
	f := &apiFixture{fixture: newFixture(t, Options{}), cache: map[string]*jsonschema.Schema{}}
	f.enableAPI(f.company)
	return f
}

// enableAPI switches the API module on for a company.
func (f *apiFixture) enableAPI(c *tenant.Tenant) {
	f.t.Helper()
	mods := append([]tenant.Module{}, c.Modules...)
	mods = append(mods, tenant.API)
	if err := f.tenants.SetModules(context.Background(), audit.Operator, c.ID, mods); err != nil {
		f.t.Fatal(err)
	}
}

// token makes a token for a user of role in the fixture's company with
// scopes (all the role has when none are named).
func (f *apiFixture) token(role string, scopes ...access.Permission) (access.Actor, string) {
	f.t.Helper()
	return f.tokenIn(f.company, role, scopes...)
}

// member makes a user of role in company c.
func (f *apiFixture) member(c *tenant.Tenant, role string) access.Actor {
	f.t.Helper()
	f.mu.Lock()
	f.users++
	n := f.users
	f.mu.Unlock()
	return f.kit.Actor(f.t, c.ID, fmt.Sprintf("%s-%s-%d", c.Slug, role, n), role)
}

func (f *apiFixture) tokenIn(c *tenant.Tenant, role string, scopes ...access.Permission) (access.Actor, string) {
	f.t.Helper()
	u := f.member(c, role)
	set := access.Of(scopes...)
	if len(scopes) == 0 {
		set = u.Perms
	}
	// The user makes the token as the application would let them, with the
	// right to manage tokens added for the making only.
	maker := u
	maker.Perms |= access.Of(access.ManageAPITokens)
	_, secret, err := f.accounts.CreateToken(context.Background(), maker, account.TokenInput{Name: "test " + role, Scopes: set})
	if err != nil {
		f.t.Fatal(err)
	}
	return u, secret
}

type apiResponse struct {
	*http.Response
	Body []byte
}

func (r *apiResponse) json(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.Body, &m); err != nil {
		t.Fatalf("body %q: %v", r.Body, err)
	}
	return m
}

// problemType returns the type of a problem response.
func (r *apiResponse) problem(t testing.TB) string {
	t.Helper()
	if ct := r.Header.Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("status %d, content type %q, want a problem: %s", r.StatusCode, ct, r.Body)
	}
	typ, _ := r.json(t)["type"].(string)
	return strings.TrimPrefix(typ, "urn:kandidat:problem:")
}

// call sends an API request with the token (none when "") and validates
// the response against the document.
func (f *apiFixture) call(token, method, path string, body any, header ...string) *apiResponse {
	f.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		enc, err := json.Marshal(b)
		if err != nil {
			f.t.Fatal(err)
		}
		rd = bytes.NewReader(enc)
	}
	req := httptest.NewRequest(method, "http://127.0.0.1:8080"+path, rd)
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	f.h.ServeHTTP(rec, req)
	res := &apiResponse{Response: rec.Result(), Body: rec.Body.Bytes()}
	f.validate(req, res)
	return res
}

// document returns the served OpenAPI document.
func (f *apiFixture) document() map[string]any {
	f.docOnce.Do(func() {
		rec := httptest.NewRecorder()
		f.h.ServeHTTP(rec, httptest.NewRequest("GET", "http://127.0.0.1:8080/api/v1/openapi.json", nil))
		if rec.Code != 200 {
			f.t.Fatalf("openapi.json: %d", rec.Code)
		}
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(rec.Body.Bytes()))
		if err != nil {
			f.t.Fatal(err)
		}
		f.doc = doc.(map[string]any)
		f.schemas = jsonschema.NewCompiler()
		f.schemas.DefaultDraft(jsonschema.Draft2020)
		if err := f.schemas.AddResource("https://kandidat.test/openapi.json", doc); err != nil {
			f.t.Fatal(err)
		}
	})
	return f.doc
}

// validate checks a response against the operation the request matched.
func (f *apiFixture) validate(req *http.Request, res *apiResponse) {
	f.t.Helper()
	doc := f.document()
	_, pattern := f.srv.routes().Handler(req)
	method, path, _ := strings.Cut(pattern, " ")
	if !strings.HasPrefix(path, apiPrefix+"/") || path == apiPrefix+"/" || path == apiPrefix+"/openapi.json" {
		if res.StatusCode >= 400 && res.Header.Get("Content-Type") != "application/problem+json" {
			f.t.Errorf("%s %s: status %d is not a problem: %s", req.Method, req.URL.Path, res.StatusCode, res.Body)
		}
		return
	}
	path = strings.TrimPrefix(path, apiPrefix)
	item, _ := doc["paths"].(map[string]any)[path].(map[string]any)
	op, _ := item[strings.ToLower(method)].(map[string]any)
	if op == nil {
		f.t.Errorf("%s %s is not in the OpenAPI document", method, path)
		return
	}
	responses := op["responses"].(map[string]any)
	status := strconv.Itoa(res.StatusCode)
	resp, ok := responses[status].(map[string]any)
	if !ok {
		f.t.Errorf("%s %s answered %s, which the document does not declare (body %s)", method, path, status, res.Body)
		return
	}
	pointer := "#/paths/" + escapePointer(path) + "/" + strings.ToLower(method) + "/responses/" + status
	if r, ok := resp["$ref"].(string); ok {
		pointer = r
		name := strings.TrimPrefix(r, "#/components/responses/")
		resp = doc["components"].(map[string]any)["responses"].(map[string]any)[name].(map[string]any)
	}
	content, _ := resp["content"].(map[string]any)
	if len(content) == 0 {
		if len(res.Body) > 0 && res.StatusCode != http.StatusNoContent {
			f.t.Errorf("%s %s %s: a body where the document declares none", method, path, status)
		}
		return
	}
	ct, _, _ := strings.Cut(res.Header.Get("Content-Type"), ";")
	media, ok := content[ct].(map[string]any)
	if !ok {
		f.t.Errorf("%s %s %s: content type %q not declared", method, path, status, ct)
		return
	}
	if ct != "application/json" && ct != "application/problem+json" {
		return // streamed bytes
	}
	_ = media
	sch := f.compile(pointer + "/content/" + escapePointer(ct) + "/schema")
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(res.Body))
	if err != nil {
		f.t.Errorf("%s %s %s: body is not JSON: %v", method, path, status, err)
		return
	}
	if err := sch.Validate(inst); err != nil {
		f.t.Errorf("%s %s %s: the body does not match the document: %v\nbody: %s", method, path, status, err, res.Body)
	}
}

func (f *apiFixture) compile(pointer string) *jsonschema.Schema {
	f.mu.Lock()
	defer f.mu.Unlock()
	if s, ok := f.cache[pointer]; ok {
		return s
	}
	s, err := f.schemas.Compile("https://kandidat.test/openapi.json" + pointer)
	if err != nil {
		f.t.Fatalf("compile %s: %v", pointer, err)
	}
	f.cache[pointer] = s
	return s
}

func escapePointer(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1")
}

// TestAPIDocumentCoversEveryRoute: every route below /api/v1 is an
// operation of the document, and every operation is a route.
func TestAPIDocumentCoversEveryRoute(t *testing.T) {
	f := newAPIFixture(t)
	paths := f.document()["paths"].(map[string]any)
	seen := map[string]bool{}
	for _, p := range f.srv.RoutePatterns() {
		method, path, ok := strings.Cut(p, " ")
		if !ok || !strings.HasPrefix(path, apiPrefix+"/") || path == apiPrefix+"/openapi.json" {
			continue
		}
		rel := strings.TrimPrefix(path, apiPrefix)
		item, _ := paths[rel].(map[string]any)
		if item[strings.ToLower(method)] == nil {
			t.Errorf("route %s is missing from the OpenAPI document", p)
		}
		seen[strings.ToLower(method)+" "+rel] = true
	}
	for path, item := range paths {
		for method := range item.(map[string]any) {
			if !seen[method+" "+path] {
				t.Errorf("the document names %s %s, which no route serves", method, path)
			}
		}
	}
	if len(seen) < 8 {
		t.Fatalf("only %d API routes", len(seen))
	}
}

func TestAPIAuthentication(t *testing.T) {
	f := newAPIFixture(t)
	_, tok := f.token("hr_manager")
	other := f.kit.Company(t, tenant.CreateInput{Slug: "other", Name: "Other Ltd"})
	f.enableAPI(other)
	cases := []struct {
		name, auth string
		want       int
		problem    string
	}{
		{"no token", "", 401, "unauthorized"},
		{"not bearer", "Basic " + tok, 401, "unauthorized"},
		{"unknown", "Bearer kdt_" + strings.Repeat("A", 43), 401, "unauthorized"},
		{"no prefix", "Bearer " + strings.TrimPrefix(tok, "kdt_"), 401, "unauthorized"},
		{"huge", "Bearer kdt_" + strings.Repeat("A", 5000), 401, "unauthorized"},
		{"good", "Bearer " + tok, 200, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := f.call("", "GET", "/api/v1/positions", nil, "Authorization", c.auth)
			if res.StatusCode != c.want {
				t.Fatalf("status %d, want %d: %s", res.StatusCode, c.want, res.Body)
			}
			if c.problem != "" {
				if p := res.problem(t); p != c.problem {
					t.Fatalf("problem %q, want %q", p, c.problem)
				}
				if !strings.HasPrefix(res.Header.Get("WWW-Authenticate"), "Bearer") {
					t.Fatalf("no WWW-Authenticate: %v", res.Header)
				}
			}
		})
	}
	// A session cookie is not an API credential.
	f.user("ada", false)
	cookie := f.signIn("ada", testPassword)
	res := f.do(request{method: "GET", path: "/api/v1/positions", cookie: cookie})
	if res.StatusCode != 401 {
		t.Fatalf("with a session cookie only: %d, want 401", res.StatusCode)
	}
}

func TestAPITokenLifecycle(t *testing.T) {
	f := newAPIFixture(t)
	ctx := context.Background()
	actor := f.member(f.company, "hr_manager")
	actor.Perms |= access.Of(access.ManageAPITokens)
	tk, secret, err := f.accounts.CreateToken(ctx, actor, account.TokenInput{Name: "sync", Scopes: access.Of(access.ViewPositions)})
	if err != nil {
		t.Fatal(err)
	}
	if res := f.call(secret, "GET", "/api/v1/positions", nil); res.StatusCode != 200 {
		t.Fatalf("fresh token: %d %s", res.StatusCode, res.Body)
	}
	// Out of scope: creating a position needs positions.create.
	res := f.call(secret, "POST", "/api/v1/positions", map[string]any{"title": "Welder", "language": "en"})
	if res.StatusCode != 403 || res.problem(t) != "insufficient-scope" {
		t.Fatalf("out of scope: %d %s", res.StatusCode, res.Body)
	}
	list, err := f.accounts.Tokens(ctx, actor)
	if err != nil || len(list) != 1 || list[0].LastUsedAt.IsZero() || list[0].LastUsedIP == "" {
		t.Fatalf("tokens %+v %v: want one, used, with its address", list, err)
	}
	if err := f.accounts.RevokeToken(ctx, actor, tk.ID); err != nil {
		t.Fatal(err)
	}
	if res := f.call(secret, "GET", "/api/v1/positions", nil); res.StatusCode != 401 {
		t.Fatalf("revoked token: %d", res.StatusCode)
	}
	// A token never holds more than its creator.
	ra := f.member(f.company, "recruiter")
	ra.Perms |= access.Of(access.ManageAPITokens)
	if _, _, err := f.accounts.CreateToken(ctx, ra, account.TokenInput{Name: "x", Scopes: access.Of(access.ViewAudit)}); err == nil {
		t.Fatal("a recruiter made a token with audit.view")
	}
}

func TestAPIPositions(t *testing.T) {
	f := newAPIFixture(t)
	_, tok := f.token("hr_manager")
	// Create.
	res := f.call(tok, "POST", "/api/v1/positions", map[string]any{"title": "Welder", "language": "en", "skills": []string{"TIG"}})
	if res.StatusCode != 201 {
		t.Fatalf("create: %d %s", res.StatusCode, res.Body)
	}
	pos := res.json(t)
	id := pos["id"].(string)
	if loc := res.Header.Get("Location"); loc != "/api/v1/positions/"+id {
		t.Fatalf("Location %q", loc)
	}
	etag := res.Header.Get("ETag")
	if etag == "" {
		t.Fatal("no ETag")
	}
	// Read.
	res = f.call(tok, "GET", "/api/v1/positions/"+id, nil)
	if res.StatusCode != 200 || res.Header.Get("ETag") != etag || res.json(t)["title"] != "Welder" {
		t.Fatalf("get: %d %s %s", res.StatusCode, res.Header.Get("ETag"), res.Body)
	}
	// Update needs If-Match, and the current one.
	patch := map[string]any{"title": "Senior welder"}
	if res := f.call(tok, "PATCH", "/api/v1/positions/"+id, patch); res.StatusCode != 428 {
		t.Fatalf("no If-Match: %d", res.StatusCode)
	}
	if res := f.call(tok, "PATCH", "/api/v1/positions/"+id, patch, "If-Match", `"zz"`); res.StatusCode != 412 {
		t.Fatalf("stale If-Match: %d %s", res.StatusCode, res.Body)
	}
	res = f.call(tok, "PATCH", "/api/v1/positions/"+id, patch, "If-Match", etag)
	if res.StatusCode != 200 || res.json(t)["title"] != "Senior welder" || res.Header.Get("ETag") == etag {
		t.Fatalf("update: %d %s", res.StatusCode, res.Body)
	}
	// The old version no longer matches.
	if res := f.call(tok, "PATCH", "/api/v1/positions/"+id, map[string]any{"title": "Other"}, "If-Match", etag); res.StatusCode != 412 {
		t.Fatalf("second update from the old version: %d", res.StatusCode)
	}
	// Stages.
	res = f.call(tok, "GET", "/api/v1/positions/"+id+"/stages", nil)
	if res.StatusCode != 200 || !strings.Contains(string(res.Body), `"kind":"hired"`) {
		t.Fatalf("stages: %d %s", res.StatusCode, res.Body)
	}
	// Validation: field-level problems.
	res = f.call(tok, "POST", "/api/v1/positions", map[string]any{"title": "", "language": "xx"})
	if res.StatusCode != 422 || res.problem(t) != "validation" {
		t.Fatalf("invalid: %d %s", res.StatusCode, res.Body)
	}
	fields := map[string]bool{}
	for _, e := range res.json(t)["errors"].([]any) {
		fields[e.(map[string]any)["field"].(string)] = true
	}
	if !fields["title"] || !fields["language"] {
		t.Fatalf("field errors %v", fields)
	}
	// Unknown id, another company's id: 404.
	if res := f.call(tok, "GET", "/api/v1/positions/0190c0de-0000-7000-8000-000000000000", nil); res.StatusCode != 404 {
		t.Fatalf("unknown id: %d", res.StatusCode)
	}
}

// TestAPIConcurrentUpdatesFromOneVersion: of updates racing from the same
// ETag, exactly one wins; the others get 412.
func TestAPIConcurrentUpdatesFromOneVersion(t *testing.T) {
	f := newAPIFixture(t)
	_, tok := f.token("hr_manager")
	res := f.call(tok, "POST", "/api/v1/positions", map[string]any{"title": "Welder", "language": "en"})
	id, etag := res.json(t)["id"].(string), res.Header.Get("ETag")
	const n = 8
	codes := make(chan int, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res := f.call(tok, "PATCH", "/api/v1/positions/"+id, map[string]any{"title": fmt.Sprintf("Welder %d", i)}, "If-Match", etag)
			codes <- res.StatusCode
		}()
	}
	wg.Wait()
	close(codes)
	won := 0
	for c := range codes {
		switch c {
		case 200:
			won++
		case 412:
		default:
			t.Errorf("status %d", c)
		}
	}
	if won != 1 {
		t.Fatalf("%d updates won from one version, want 1", won)
	}
}

func TestAPIBadInput(t *testing.T) {
	f := newAPIFixture(t)
	_, tok := f.token("hr_manager")
	cases := []struct {
		name, method, path string
		body               any
		header             []string
		want               int
		problem            string
	}{
		{"malformed", "POST", "/api/v1/positions", `{"title":`, nil, 400, "malformed-json"},
		{"two values", "POST", "/api/v1/positions", `{"title":"a","language":"en"} {}`, nil, 400, "malformed-json"},
		{"empty", "POST", "/api/v1/positions", ``, nil, 400, "malformed-json"},
		{"wrong type", "POST", "/api/v1/positions", `{"title": 5, "language": "en"}`, nil, 422, "wrong-type"},
		{"unknown field", "POST", "/api/v1/positions", `{"title": "a", "language": "en", "salary": 5}`, nil, 422, "unknown-field"},
		{"invalid utf-8", "POST", "/api/v1/positions", "{\"title\": \"\xff\xfe\", \"language\": \"en\"}", nil, 400, "invalid-utf8"},
		{"media type", "POST", "/api/v1/positions", `{"title":"a","language":"en"}`, []string{"Content-Type", "text/plain"}, 415, "unsupported-media-type"},
		{"oversized", "POST", "/api/v1/positions", `{"title":"` + strings.Repeat("a", 2<<20) + `","language":"en"}`, nil, 413, "body-too-large"},
		{"huge page", "GET", "/api/v1/positions?limit=100000", nil, nil, 422, "validation"},
		{"negative page", "GET", "/api/v1/positions?limit=-1", nil, nil, 422, "validation"},
		{"forged cursor", "GET", "/api/v1/positions?cursor=MTcwMDAwMDAwMDAwMDAwMC4wMTkw.forged", nil, nil, 400, "invalid-cursor"},
		{"garbage cursor", "GET", "/api/v1/positions?cursor=%ff%fe", nil, nil, 400, "invalid-cursor"},
		{"bad status", "GET", "/api/v1/positions?status=gone", nil, nil, 422, "validation"},
		{"no such route", "GET", "/api/v1/nothing", nil, nil, 404, "not-found"},
		{"bad idempotency key", "POST", "/api/v1/positions", `{"title":"a","language":"en"}`, []string{"Idempotency-Key", "é"}, 400, "invalid-idempotency-key"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := f.call(tok, c.method, c.path, c.body, c.header...)
			if res.StatusCode != c.want {
				t.Fatalf("status %d, want %d: %s", res.StatusCode, c.want, res.Body)
			}
			if p := res.problem(t); p != c.problem {
				t.Fatalf("problem %q, want %q: %s", p, c.problem, res.Body)
			}
		})
	}
}

func TestAPIPagination(t *testing.T) {
	f := newAPIFixture(t)
	_, tok := f.token("hr_manager")
	for i := range 7 {
		if res := f.call(tok, "POST", "/api/v1/positions", map[string]any{"title": fmt.Sprintf("P%d", i), "language": "en"}); res.StatusCode != 201 {
			t.Fatal(res.StatusCode)
		}
	}
	seen := map[string]bool{}
	path := "/api/v1/positions?limit=3"
	pages := 0
	for path != "" {
		res := f.call(tok, "GET", path, nil)
		if res.StatusCode != 200 {
			t.Fatalf("%s: %d %s", path, res.StatusCode, res.Body)
		}
		body := res.json(t)
		for _, p := range body["data"].([]any) {
			id := p.(map[string]any)["id"].(string)
			if seen[id] {
				t.Fatalf("%s seen twice", id)
			}
			seen[id] = true
		}
		pages++
		path = ""
		if next, ok := body["next_cursor"].(string); ok {
			path = "/api/v1/positions?limit=3&cursor=" + next
			if link := res.Header.Get("Link"); !strings.Contains(link, `rel="next"`) {
				t.Fatalf("Link %q", link)
			}
		}
	}
	if len(seen) != 7 || pages != 3 {
		t.Fatalf("%d positions in %d pages, want 7 in 3", len(seen), pages)
	}
	// A cursor of one list is not one of another.
	res := f.call(tok, "GET", "/api/v1/positions?limit=3", nil)
	next := res.json(t)["next_cursor"].(string)
	if res := f.call(tok, "GET", "/api/v1/positions?limit=3&cursor="+next[:len(next)-2]+"AA", nil); res.StatusCode != 400 {
		t.Fatalf("edited cursor: %d", res.StatusCode)
	}
}

func TestAPIIdempotencyKey(t *testing.T) {
	f := newAPIFixture(t)
	_, tok := f.token("hr_manager")
	body := map[string]any{"title": "Welder", "language": "en"}
	first := f.call(tok, "POST", "/api/v1/positions", body, "Idempotency-Key", "k-1")
	second := f.call(tok, "POST", "/api/v1/positions", body, "Idempotency-Key", "k-1")
	if first.StatusCode != 201 || second.StatusCode != 201 || !bytes.Equal(first.Body, second.Body) || second.Header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("repeat: %d %d %s / %s", first.StatusCode, second.StatusCode, first.Body, second.Body)
	}
	other := f.call(tok, "POST", "/api/v1/positions", map[string]any{"title": "Baker", "language": "en"}, "Idempotency-Key", "k-1")
	if other.StatusCode != 422 {
		t.Fatalf("same key, other request: %d %s", other.StatusCode, other.Body)
	}
	// A refused request frees its key.
	bad := f.call(tok, "POST", "/api/v1/positions", map[string]any{"title": "", "language": "en"}, "Idempotency-Key", "k-2")
	if bad.StatusCode != 422 {
		t.Fatal(bad.StatusCode)
	}
	if res := f.call(tok, "POST", "/api/v1/positions", map[string]any{"title": "", "language": "en"}, "Idempotency-Key", "k-2"); res.StatusCode != 422 || res.Header.Get("Idempotent-Replayed") != "" {
		t.Fatalf("retry after a refusal: %d %v", res.StatusCode, res.Header)
	}
	res := f.call(tok, "GET", "/api/v1/positions", nil)
	if n := len(res.json(t)["data"].([]any)); n != 1 {
		t.Fatalf("%d positions, want 1", n)
	}
}

// TestAPIIdempotencyKeyRace: requests racing with one key create one
// position; the others get its response or are told it is running.
func TestAPIIdempotencyKeyRace(t *testing.T) {
	f := newAPIFixture(t)
	_, tok := f.token("hr_manager")
	body := map[string]any{"title": "Welder", "language": "en"}
	const n = 8
	var wg sync.WaitGroup
	codes := make(chan int, n)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			codes <- f.call(tok, "POST", "/api/v1/positions", body, "Idempotency-Key", "race").StatusCode
		}()
	}
	wg.Wait()
	close(codes)
	for c := range codes {
		if c != 201 && c != 409 {
			t.Errorf("status %d", c)
		}
	}
	res := f.call(tok, "GET", "/api/v1/positions", nil)
	if got := len(res.json(t)["data"].([]any)); got != 1 {
		t.Fatalf("%d positions made, want 1", got)
	}
}

func TestAPIRateLimit(t *testing.T) {
	f := newAPIFixture(t)
	f.srv.opts.APIRateToken = 3
	_, tok := f.token("hr_manager")
	for i := range 3 {
		res := f.call(tok, "GET", "/api/v1/positions", nil)
		if res.StatusCode != 200 {
			t.Fatalf("call %d: %d", i, res.StatusCode)
		}
		if got := res.Header.Get("RateLimit-Remaining"); got != strconv.Itoa(2-i) {
			t.Fatalf("call %d: RateLimit-Remaining %q", i, got)
		}
		if !strings.HasPrefix(res.Header.Get("RateLimit-Policy"), `"token";q=3;w=60`) {
			t.Fatalf("policy %q", res.Header.Get("RateLimit-Policy"))
		}
	}
	res := f.call(tok, "GET", "/api/v1/positions", nil)
	if res.StatusCode != 429 || res.problem(t) != "rate-limited" || res.Header.Get("Retry-After") == "" {
		t.Fatalf("fourth call: %d %v %s", res.StatusCode, res.Header, res.Body)
	}
	// Another token has its own budget.
	_, tok2 := f.token("recruiter")
	if res := f.call(tok2, "GET", "/api/v1/positions", nil); res.StatusCode != 200 {
		t.Fatalf("other token: %d", res.StatusCode)
	}
	// The address's limit holds whatever the token.
	f.srv.opts.APIRateIP = 1
	f.srv.apiLimits = newAPILimiter()
	f.call("", "GET", "/api/v1/positions", nil)
	if res := f.call(tok2, "GET", "/api/v1/positions", nil); res.StatusCode != 429 {
		t.Fatalf("address over its limit: %d", res.StatusCode)
	}
}

func TestAPIModuleSwitch(t *testing.T) {
	f := newAPIFixture(t)
	_, tok := f.token("hr_manager")
	c, err := f.tenants.ByID(context.Background(), f.company.ID)
	if err != nil {
		t.Fatal(err)
	}
	var mods []tenant.Module
	for _, m := range c.Modules {
		if m != tenant.API {
			mods = append(mods, m)
		}
	}
	if err := f.tenants.SetModules(context.Background(), audit.Operator, c.ID, mods); err != nil {
		t.Fatal(err)
	}
	res := f.call(tok, "GET", "/api/v1/positions", nil)
	if res.StatusCode != 403 || res.problem(t) != "api-disabled" {
		t.Fatalf("module off: %d %s", res.StatusCode, res.Body)
	}
}

// TestAPIErrorsSayNothingInternal: a problem's JSON in the user's language.
func TestAPIProblemLanguage(t *testing.T) {
	f := newAPIFixture(t)
	_, tok := f.token("hr_manager")
	res := f.call(tok, "GET", "/api/v1/positions?limit=0", nil, "Accept-Language", "sv")
	m := res.json(t)
	if m["title"] != "Begäran är ogiltig" || m["instance"] == "" {
		t.Fatalf("problem %v", m)
	}
}
