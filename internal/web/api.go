package web

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/account"
	"github.com/kandidat/kandidat/internal/fault"
	"github.com/kandidat/kandidat/internal/tenant"
)

// The REST API (/api/v1) is a sibling of the HTML pages over the same
// services: a handler parses the request, calls a service with the token's
// actor and writes JSON. Each operation is declared once (apiOp): its
// route, the scope it needs, its parameters and the Go types of its body
// and result, from which the OpenAPI document is built (api_openapi.go).
// Everything the operations share lives here: token authentication, rate
// limits, problem details (RFC 9457), strict JSON decoding, signed cursors,
// ETags and Idempotency-Key.

// apiPrefix starts every API route.
const apiPrefix = "/api/v1"

// Page sizes of the API's lists.
const (
	apiDefaultLimit = 50
	apiMaxLimit     = 100
)

// apiOp declares one operation.
type apiOp struct {
	Method string
	// Path is the route below apiPrefix, with {name} wildcards.
	Path    string
	ID      string // operationId
	Tag     string
	Summary string
	// Scope is the permission the token needs; 0 for any valid token.
	Scope access.Permission
	Query []apiParam
	// Body is a value of the request body's type; nil for none.
	Body any
	// Result is a value of the response's type (of one item for a Page);
	// nil for 204.
	Result any
	// Page: the result is a page of Result items.
	Page bool
	// Status is the status of success (200 when 0).
	Status int
	// RawBody and RawResult name the media type of a body or result that
	// is streamed bytes rather than JSON (documents).
	RawBody, RawResult string
	// IfMatch: the operation changes an object and requires If-Match.
	IfMatch bool
	// Errors lists the problem statuses it may answer besides those of
	// every operation (400, 401, 403, 404, 429, 500).
	Errors []int
	// Long: the operation streams for as long as it needs (no request
	// timeout).
	Long bool
}

// apiParam is a query parameter.
type apiParam struct {
	Name, Doc string
	// Type is a JSON Schema type: string (default), integer, boolean.
	Type   string
	Enum   []string
	Format string
}

// Parameters several lists share.
var (
	apiLimitParam  = apiParam{Name: "limit", Type: "integer", Doc: "Items per page, 1 to 100 (default 50)."}
	apiCursorParam = apiParam{Name: "cursor", Doc: "The next_cursor of the previous page."}
)

// apiHandler serves one operation.
type apiHandler func(c *apiCall) error

// apiCall is one API request as its handler sees it.
type apiCall struct {
	s      *Server
	w      http.ResponseWriter
	r      *http.Request
	op     *apiOp
	token  *account.TokenPrincipal
	tenant *tenant.Tenant
	actor  access.Actor
	lang   string
	wrote  bool
}

// ctx is the request's context.
func (c *apiCall) ctx() context.Context { return c.r.Context() }

// path returns a path wildcard.
func (c *apiCall) path(name string) string { return c.r.PathValue(name) }

// json writes v with the operation's status.
func (c *apiCall) json(v any) error {
	status := c.op.Status
	if status == 0 {
		status = http.StatusOK
	}
	return c.jsonStatus(status, v)
}

func (c *apiCall) jsonStatus(status int, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode response: %w", err)
	}
	c.w.Header().Set("Content-Type", "application/json")
	c.w.WriteHeader(status)
	c.wrote = true
	c.w.Write(b)
	c.w.Write([]byte("\n"))
	return nil
}

// noContent answers 204.
func (c *apiCall) noContent() error {
	c.w.WriteHeader(http.StatusNoContent)
	c.wrote = true
	return nil
}

// apiPage is the envelope of every list.
type apiPage[T any] struct {
	Data []T `json:"data"`
	// NextCursor continues the list; null on the last page.
	NextCursor *string `json:"next_cursor"`
}

// page writes a page of items; next is the service's cursor ("" on the
// last page), which is signed for this operation before it leaves.
func writePage[T any](c *apiCall, items []T, next string) error {
	p := apiPage[T]{Data: items}
	if p.Data == nil {
		p.Data = []T{}
	}
	if next != "" {
		signed := c.s.signCursor(c.op.ID, next)
		p.NextCursor = &signed
		u := *c.r.URL
		q := u.Query()
		q.Set("cursor", signed)
		u.RawQuery = q.Encode()
		c.w.Header().Set("Link", "<"+u.RequestURI()+`>; rel="next"`)
	}
	return c.json(p)
}

// limit reads ?limit=.
func (c *apiCall) limit() (int, error) {
	v := c.r.URL.Query().Get("limit")
	if v == "" {
		return apiDefaultLimit, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > apiMaxLimit {
		return 0, fault.Field("limit", "error.api_limit")
	}
	return n, nil
}

// cursor reads and checks ?cursor=: the service's cursor it carries, ""
// for the first page.
func (c *apiCall) cursor() (string, error) {
	v := c.r.URL.Query().Get("cursor")
	if v == "" {
		return "", nil
	}
	inner, ok := c.s.openCursor(c.op.ID, v)
	if !ok {
		return "", errBadCursor
	}
	return inner, nil
}

// query returns a query parameter, refusing invalid UTF-8 and over-long values.
func (c *apiCall) query(name string) (string, error) {
	v := c.r.URL.Query().Get(name)
	if !utf8.ValidString(v) || len(v) > 1000 {
		return "", fault.Field(name, "error.api_parameter")
	}
	return v, nil
}

// decode reads the JSON body into dst, strictly: one JSON value of the
// declared shape, no unknown fields, valid UTF-8, within the size limit.
func (c *apiCall) decode(dst any) error {
	return decodeJSON(c.r, dst)
}

// Refusals of the API's own making, each with its problem type.
var (
	errBadCursor      = &apiError{status: http.StatusBadRequest, slug: "invalid-cursor", field: "cursor", key: "error.api_cursor"}
	errMalformedJSON  = &apiError{status: http.StatusBadRequest, slug: "malformed-json", key: "error.api_json"}
	errInvalidUTF8    = &apiError{status: http.StatusBadRequest, slug: "invalid-utf8", key: "error.api_utf8"}
	errMediaType      = &apiError{status: http.StatusUnsupportedMediaType, slug: "unsupported-media-type", key: "error.api_media_type"}
	errNoIfMatch      = &apiError{status: http.StatusPreconditionRequired, slug: "precondition-required", key: "error.api_if_match"}
	errNoToken        = &apiError{status: http.StatusUnauthorized, slug: "unauthorized", key: "error.api_token_invalid"}
	errAPIOff         = &apiError{status: http.StatusForbidden, slug: "api-disabled", key: "error.api_disabled"}
	errScope          = &apiError{status: http.StatusForbidden, slug: "insufficient-scope", key: "error.api_scope"}
	errRateLimited    = &apiError{status: http.StatusTooManyRequests, slug: "rate-limited", key: "error.api_rate_limited"}
	errNoRoute        = &apiError{status: http.StatusNotFound, slug: "not-found", key: "error.api_no_route"}
	errBadIdempotency = &apiError{status: http.StatusBadRequest, slug: "invalid-idempotency-key", field: "Idempotency-Key", key: "error.api_idempotency_key"}
)

// apiError is a refusal the API layer itself makes.
type apiError struct {
	status int
	slug   string
	field  string
	key    string
	// detail adds to the message (e.g. the JSON field of a wrong type).
	detail string
}

func (e *apiError) Error() string { return e.slug }

func (e *apiError) with(field, detail string) *apiError {
	c := *e
	if field != "" {
		c.field = field
	}
	c.detail = detail
	return &c
}

// decodeJSON is decode for any request (fuzzed by FuzzDecodeJSON).
func decodeJSON(r *http.Request, dst any) error {
	if mt := r.Header.Get("Content-Type"); mt != "" {
		if base, _, _ := strings.Cut(mt, ";"); !strings.EqualFold(strings.TrimSpace(base), "application/json") {
			return errMediaType
		}
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return err // a body over the limit is 413
	}
	return decodeJSONBytes(body, dst)
}

func decodeJSONBytes(body []byte, dst any) error {
	if !utf8.Valid(body) {
		return errInvalidUTF8
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return errMalformedJSON.with("", "empty body")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		var syntax *json.SyntaxError
		var typeErr *json.UnmarshalTypeError
		switch {
		case errors.As(err, &syntax):
			return errMalformedJSON.with("", fmt.Sprintf("offset %d", syntax.Offset))
		case errors.As(err, &typeErr):
			field := typeErr.Field
			if field == "" {
				field = "(body)"
			}
			return (&apiError{status: http.StatusUnprocessableEntity, slug: "wrong-type", field: field, key: "error.api_wrong_type"}).with(field, "expected "+jsonTypeName(typeErr.Type))
		case strings.HasPrefix(err.Error(), "json: unknown field "):
			name, _ := strconv.Unquote(strings.TrimPrefix(err.Error(), "json: unknown field "))
			return &apiError{status: http.StatusUnprocessableEntity, slug: "unknown-field", field: name, key: "error.api_unknown_field"}
		default:
			return errMalformedJSON.with("", "")
		}
	}
	if dec.More() {
		return errMalformedJSON.with("", "more than one JSON value")
	}
	var rest json.RawMessage
	if err := dec.Decode(&rest); err != io.EOF {
		return errMalformedJSON.with("", "more than one JSON value")
	}
	return nil
}

func jsonTypeName(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "string"
	case reflect.Bool:
		return "boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "integer"
	case reflect.Float32, reflect.Float64:
		return "number"
	case reflect.Slice, reflect.Array:
		return "array"
	default:
		return "object"
	}
}

// Cursors are the services' keyset cursors, signed with the installation's
// cursor key and bound to the operation, so that a forged or edited cursor,
// or one of another list, is refused before it reaches a query.
func (s *Server) signCursor(opID, inner string) string {
	payload := base64.RawURLEncoding.EncodeToString([]byte(inner))
	return payload + "." + s.cursorMAC(opID, payload)
}

func (s *Server) openCursor(opID, cursor string) (string, bool) {
	payload, mac, ok := strings.Cut(cursor, ".")
	if !ok || len(cursor) > 512 || !hmac.Equal([]byte(mac), []byte(s.cursorMAC(opID, payload))) {
		return "", false
	}
	inner, err := base64.RawURLEncoding.DecodeString(payload)
	if err != nil || !utf8.Valid(inner) {
		return "", false
	}
	return string(inner), true
}

func (s *Server) cursorMAC(opID, payload string) string {
	m := hmac.New(sha256.New, s.cursorKey)
	m.Write([]byte(opID))
	m.Write([]byte{0})
	m.Write([]byte(payload))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:18])
}

// ETags are versions of an object: the time it last changed, to the
// microsecond, which the service's conditional update compares.
func etagOf(t time.Time) string { return `"` + strconv.FormatInt(t.UnixMicro(), 36) + `"` }

// setETag sends an object's version.
func (c *apiCall) setETag(t time.Time) { c.w.Header().Set("ETag", etagOf(t)) }

// object writes one object with its version, and with its Location when
// loc is set (it was just made).
func (c *apiCall) object(version time.Time, loc string, v any) error {
	c.setETag(version)
	if loc != "" {
		c.w.Header().Set("Location", loc)
	}
	return c.json(v)
}

// ifMatch reads the version an update is conditional on. An update without
// one is refused (428): a client that read before another changed the
// object must not overwrite that change unknowingly.
func (c *apiCall) ifMatch() (time.Time, error) {
	v := strings.TrimSpace(c.r.Header.Get("If-Match"))
	if v == "" {
		return time.Time{}, errNoIfMatch
	}
	if !strings.HasPrefix(v, `"`) || !strings.HasSuffix(v, `"`) || len(v) < 3 {
		return time.Time{}, fault.ErrStale // weak or several: never a match
	}
	n, err := strconv.ParseInt(v[1:len(v)-1], 36, 64)
	if err != nil || n <= 0 {
		return time.Time{}, fault.ErrStale
	}
	return time.UnixMicro(n).UTC(), nil
}

// problem is an RFC 9457 problem details object.
type problem struct {
	// Type names the kind of problem; stable, documented in docs/api.md.
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail,omitempty"`
	// Instance is the request's id, as in the X-Request-Id header.
	Instance string `json:"instance"`
	// Errors names each field that is wrong.
	Errors []fieldProblem `json:"errors,omitempty"`
}

// fieldProblem is what is wrong with one field of the request.
type fieldProblem struct {
	// Field is the JSON field or query parameter ("" for the request as a whole).
	Field string `json:"field"`
	// Code is a stable key of the message.
	Code    string `json:"code"`
	Message string `json:"message"`
}

// problemType is the URI of a problem type.
func problemType(slug string) string { return "urn:kandidat:problem:" + slug }

// kindSlugs names the problem type of each kind of refusal.
var kindSlugs = map[error]string{
	fault.ErrInvalid:         "validation",
	fault.ErrNotFound:        "not-found",
	fault.ErrForbidden:       "forbidden",
	fault.ErrUnauthenticated: "unauthorized",
	fault.ErrConflict:        "conflict",
	fault.ErrInsufficient:    "insufficient",
	fault.ErrBusy:            "busy",
	fault.ErrGone:            "gone",
	fault.ErrStale:           "precondition-failed",
}

// problemOf turns an error into a problem; nil for an internal error.
func (s *Server) problemOf(lang string, err error) *problem {
	var ae *apiError
	if errors.As(err, &ae) {
		p := &problem{Type: problemType(ae.slug), Title: s.I18n.T(lang, "problem."+ae.slug), Status: ae.status, Detail: ae.detail}
		p.Errors = []fieldProblem{{Field: ae.field, Code: ae.key, Message: s.I18n.T(lang, ae.key)}}
		return p
	}
	var maxErr *http.MaxBytesError
	if errors.As(err, &maxErr) {
		return &problem{Type: problemType("body-too-large"), Title: s.I18n.T(lang, "problem.body-too-large"), Status: http.StatusRequestEntityTooLarge,
			Detail: fmt.Sprintf("limit %d bytes", maxErr.Limit)}
	}
	kind := fault.KindOf(err)
	slug, ok := kindSlugs[kind]
	if !ok {
		return nil
	}
	p := &problem{Type: problemType(slug), Title: s.I18n.T(lang, "problem."+slug), Status: statuses[kind]}
	msgs := fault.Messages(err)
	for _, f := range sortedKeys(msgs) {
		p.Errors = append(p.Errors, fieldProblem{Field: f, Code: msgs[f], Message: s.I18n.T(lang, msgs[f])})
	}
	return p
}

func sortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sortStrings(out)
	return out
}

// apiFail answers an error as a problem: the API's one place where errors
// become statuses (refusals through the same table as the pages'). An
// internal error's text never leaves; the problem names the request id.
func (s *Server) apiFail(w http.ResponseWriter, r *http.Request, lang string, err error) {
	p := s.problemOf(lang, err)
	if p == nil {
		if !errors.Is(err, context.Canceled) {
			s.Logger.Error("internal error", "request_id", stateOf(r).requestID, "route", r.Pattern, "error", err.Error())
		}
		p = &problem{Type: problemType("internal"), Title: s.I18n.T(lang, "problem.internal"), Status: http.StatusInternalServerError}
	}
	s.writeProblem(w, r, p)
}

func (s *Server) writeProblem(w http.ResponseWriter, r *http.Request, p *problem) {
	p.Instance = stateOf(r).requestID
	h := w.Header()
	h.Set("Content-Type", "application/problem+json")
	h.Set("Cache-Control", "no-store")
	switch p.Status {
	case http.StatusUnauthorized:
		h.Set("WWW-Authenticate", `Bearer realm="kandidat", error="invalid_token"`)
	case http.StatusTooManyRequests:
		if h.Get("Retry-After") == "" {
			h.Set("Retry-After", "1")
		}
	}
	b, _ := json.Marshal(p)
	w.WriteHeader(p.Status)
	w.Write(b)
	w.Write([]byte("\n"))
}

// isAPI reports whether a request is for the API, whose every answer,
// errors of the middleware included, is JSON.
func isAPI(r *http.Request) bool {
	return r.URL.Path == apiPrefix || strings.HasPrefix(r.URL.Path, apiPrefix+"/")
}

// apiErrorStatus answers a status the middleware chose (413, 403, 500...)
// as a problem.
func (s *Server) apiErrorStatus(w http.ResponseWriter, r *http.Request, status int) {
	slug := map[int]string{http.StatusRequestEntityTooLarge: "body-too-large", http.StatusForbidden: "forbidden",
		http.StatusNotFound: "not-found", http.StatusUnauthorized: "unauthorized", http.StatusTooManyRequests: "rate-limited",
		http.StatusMethodNotAllowed: "method-not-allowed"}[status]
	if slug == "" {
		slug, status = "internal", http.StatusInternalServerError
	}
	lang := s.I18n.Pick("", r.Header.Get("Accept-Language"), "")
	s.writeProblem(w, r, &problem{Type: problemType(slug), Title: s.I18n.T(lang, "problem."+slug), Status: status})
}

// apiRouter registers operations on the router and keeps their
// declarations for the OpenAPI document.
type apiRouter struct {
	s   *Server
	mux *router
	ops []*apiOp
}

// handle registers op with its handler.
func (a *apiRouter) handle(op apiOp, h apiHandler) {
	o := op
	a.ops = append(a.ops, &o)
	a.mux.Handle(o.Method+" "+apiPrefix+o.Path, a.s.apiServe(&o, h))
}

// bearer returns the token of an Authorization header.
func bearer(r *http.Request) string {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimSpace(token)
}

// apiServe is the chain of every operation: the address's rate limit, the
// token, the company's API module, the token's rate limit and scope, the
// request's time bound, Idempotency-Key, then the handler.
func (s *Server) apiServe(op *apiOp, h apiHandler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		st := stateOf(r)
		lang := s.I18n.Pick("", r.Header.Get("Accept-Language"), "")
		w.Header().Set("Cache-Control", "no-store")
		if !s.apiLimits.allow(w, "ip:"+st.clientIP, s.opts.APIRateIP) {
			s.apiFail(w, r, lang, errRateLimited)
			return
		}
		tok, err := s.Accounts.AuthenticateToken(r.Context(), bearer(r), st.clientIP)
		if err != nil {
			if errors.Is(err, account.ErrNoToken) {
				err = errNoToken
			}
			s.apiFail(w, r, lang, err)
			return
		}
		t, err := s.Tenants.ByID(r.Context(), tok.TenantID)
		if err != nil {
			s.apiFail(w, r, lang, err)
			return
		}
		lang = s.I18n.Pick(tok.Language, r.Header.Get("Accept-Language"), t.DefaultLanguage)
		st.lang, st.tenant = lang, t
		w.Header().Set("Content-Language", lang)
		if !t.Enabled(tenant.API) {
			s.apiFail(w, r, lang, errAPIOff)
			return
		}
		if !s.apiLimits.allow(w, "token:"+tok.TokenID, s.opts.APIRateToken) {
			s.apiFail(w, r, lang, errRateLimited)
			return
		}
		if op.Scope != 0 && !tok.Perms.Has(op.Scope) {
			s.apiFail(w, r, lang, errScope.with("", "needs "+op.Scope.Name()))
			return
		}
		if !op.Long {
			ctx, cancel := context.WithTimeout(r.Context(), staffRequestTimeout)
			defer cancel()
			r = r.WithContext(ctx)
		}
		c := &apiCall{s: s, w: w, r: r, op: op, token: tok, tenant: t, actor: tok.Actor(), lang: lang}
		if key := r.Header.Get("Idempotency-Key"); key != "" && op.Method == http.MethodPost {
			s.apiIdempotent(c, key, h)
			return
		}
		if err := h(c); err != nil && !c.wrote {
			s.apiFail(w, r, lang, err)
		}
	})
}

// apiIdempotent runs a POST that carries an Idempotency-Key once: the
// response of the first run is stored and given again to a repeat.
func (s *Server) apiIdempotent(c *apiCall, key string, h apiHandler) {
	if len(key) > 255 || !printableASCII(key) {
		s.apiFail(c.w, c.r, c.lang, errBadIdempotency)
		return
	}
	// The fingerprint covers what the request asks: its route and body.
	body, err := io.ReadAll(c.r.Body)
	if err != nil {
		s.apiFail(c.w, c.r, c.lang, err)
		return
	}
	sum := sha256.New()
	sum.Write([]byte(c.r.Method + " " + c.r.URL.RequestURI() + "\x00"))
	sum.Write(body)
	fingerprint := hex.EncodeToString(sum.Sum(nil))
	stored, err := s.Accounts.ClaimIdempotencyKey(c.ctx(), c.token, key, fingerprint)
	if err != nil {
		s.apiFail(c.w, c.r, c.lang, err)
		return
	}
	if stored != nil {
		h := c.w.Header()
		h.Set("Idempotent-Replayed", "true")
		if stored.Location != "" {
			h.Set("Location", stored.Location)
		}
		h.Set("Content-Type", "application/json")
		c.w.WriteHeader(stored.Status)
		c.w.Write(stored.Body)
		return
	}
	c.r.Body = io.NopCloser(bytes.NewReader(body))
	rec := &captureWriter{header: http.Header{}}
	real := c.w
	c.w = rec
	err = h(c)
	if err != nil && !c.wrote {
		s.apiFail(rec, c.r, c.lang, err)
	}
	// Only a success is kept: a refusal or a failure changed nothing, and
	// the client may correct the request and send it again with the key.
	release := rec.status >= 300 || rec.status == 0
	ctx := context.WithoutCancel(c.ctx())
	if release {
		if err := s.Accounts.ReleaseIdempotencyKey(ctx, c.token, key); err != nil {
			s.Logger.Error("release idempotency key", "request_id", stateOf(c.r).requestID, "error", err.Error())
		}
	} else if err := s.Accounts.FinishIdempotencyKey(ctx, c.token, key, account.StoredResponse{Status: rec.status,
		Location: rec.header.Get("Location"), Body: rec.body.Bytes()}); err != nil {
		s.Logger.Error("store idempotent response", "request_id", stateOf(c.r).requestID, "error", err.Error())
	}
	for k, v := range rec.header {
		real.Header()[k] = v
	}
	if rec.status == 0 {
		rec.status = http.StatusOK
	}
	real.WriteHeader(rec.status)
	real.Write(rec.body.Bytes())
}

func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return s != ""
}

// captureWriter holds a response to store it before it is sent.
type captureWriter struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (w *captureWriter) Header() http.Header { return w.header }
func (w *captureWriter) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
}
func (w *captureWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.body.Write(b)
}

// apiNotFound answers a path below /api/v1 that no operation has, and a
// known path with another method.
func (s *Server) apiNotFound(w http.ResponseWriter, r *http.Request) {
	lang := s.I18n.Pick("", r.Header.Get("Accept-Language"), "")
	s.apiFail(w, r, lang, errNoRoute)
}

// location is the absolute path of an API object, for Location headers.
func location(parts ...string) string {
	for i, p := range parts {
		parts[i] = url.PathEscape(p)
	}
	return apiPrefix + "/" + strings.Join(parts, "/")
}
