package web

import (
	"encoding/json"
	"net/http"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/audit"
	"github.com/kandidat/kandidat/internal/recruit"
	"github.com/kandidat/kandidat/internal/tenant"
	"github.com/kandidat/kandidat/internal/webhook"
)

// The OpenAPI 3.1 document is built from the operations' declarations
// (apiOp) and the Go types of their bodies and results, so that it cannot
// drift from the code: a route is in it because it is registered through
// apiRouter, and a response matches it because the test that walks every
// operation validates each body against it (api_test.go). Struct tags
// document the fields: `json` names them (omitempty: optional), `doc`
// describes, `enum` lists the values, `format` gives a string's format.

// apiTags describes each tag the operations use, in the order shown.
var apiTags = []struct{ Name, Doc string }{
	{"positions", "Positions and their pipelines."},
	{"candidates", "Candidates and the full-text search over them."},
	{"applications", "Applications: create, move through the pipeline, reject."},
	{"comments", "Comments on applications."},
	{"labels", "Labels on applications."},
	{"interviews", "Interviews of applications."},
	{"documents", "Documents (CVs, letters) of applications, streamed."},
	{"privacy", "Consents, exports and erasure of candidates."},
	{"audit", "The company's audit trail."},
	{"users", "Users and roles of the company."},
	{"webhooks", "Webhook subscriptions and their deliveries."},
	{"cases", "Archive bundles of closed whistleblowing cases, for the archive system (encrypted to its age key, signed)."},
	{"tokens", "The company's API tokens: read and revoke (made in the application or by the command line)."},
	{"meta", "The API itself."},
}

// apiDocCache builds the document once per server.
type apiDocCache struct {
	once sync.Once
	doc  []byte
	err  error
}

func (s *Server) apiOperations() []*apiOp {
	a := &apiRouter{s: s, mux: &router{ServeMux: http.NewServeMux()}}
	s.apiRoutes(a)
	return a.ops
}

func (s *Server) handleOpenAPI(w http.ResponseWriter, r *http.Request) {
	s.apiDoc.once.Do(func() {
		s.apiDoc.doc, s.apiDoc.err = json.MarshalIndent(openAPIDocument(s.apiOperations()), "", "  ")
	})
	if s.apiDoc.err != nil {
		s.apiFail(w, r, "en", s.apiDoc.err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-cache")
	w.Write(s.apiDoc.doc)
}

type jsonObject = map[string]any

// openAPIDocument is the document of ops.
func openAPIDocument(ops []*apiOp) jsonObject {
	g := &schemaGen{schemas: jsonObject{}}
	paths := jsonObject{}
	for _, op := range ops {
		item, _ := paths[op.Path].(jsonObject)
		if item == nil {
			item = jsonObject{}
			paths[op.Path] = item
		}
		item[strings.ToLower(op.Method)] = g.operation(op)
	}
	g.schemaOf(reflect.TypeFor[problem]())
	tags := []any{}
	for _, t := range apiTags {
		tags = append(tags, jsonObject{"name": t.Name, "description": t.Doc})
	}
	problemContent := jsonObject{"application/problem+json": jsonObject{"schema": ref("Problem")}}
	responses := jsonObject{}
	for _, st := range problemStatuses {
		responses[problemResponse(st)] = jsonObject{"description": http.StatusText(st), "content": problemContent}
	}
	return jsonObject{
		"openapi": "3.1.0",
		"info": jsonObject{
			"title":       "Kandidat API",
			"version":     "1",
			"summary":     "Positions, candidates, applications and privacy actions of one company.",
			"description": "Every call carries an API token (Authorization: Bearer kdt_...) made by a user of the company on its API tokens page or by `kandidat token create`. Lists page with cursors; updates need If-Match; POST accepts Idempotency-Key; errors are RFC 9457 problem details. See docs/api.md.",
			"license":     jsonObject{"name": "AGPL-3.0-or-later", "identifier": "AGPL-3.0-or-later"},
		},
		"servers":  []any{jsonObject{"url": apiPrefix}},
		"security": []any{jsonObject{"token": []any{}}},
		"tags":     tags,
		"paths":    paths,
		"components": jsonObject{
			"securitySchemes": jsonObject{"token": jsonObject{"type": "http", "scheme": "bearer", "bearerFormat": "kdt_…",
				"description": "An API token of the company; its scopes bound what it may do."}},
			"schemas":   g.schemas,
			"responses": responses,
		},
	}
}

// problemStatuses are the problem responses the document names.
var problemStatuses = []int{400, 401, 402, 403, 404, 409, 410, 412, 413, 415, 422, 428, 429, 500}

func problemResponse(status int) string {
	return strings.ReplaceAll(http.StatusText(status), " ", "")
}

func ref(name string) jsonObject { return jsonObject{"$ref": "#/components/schemas/" + name} }

var pathParam = regexp.MustCompile(`\{([a-z_]+)\}`)

func (g *schemaGen) operation(op *apiOp) jsonObject {
	o := jsonObject{"operationId": op.ID, "tags": []any{op.Tag}, "summary": op.Summary}
	desc := "Needs a token."
	if op.Scope != 0 {
		desc = "Needs the scope `" + op.Scope.Name() + "`."
	}
	if op.IfMatch {
		desc += " Send the object's ETag in If-Match."
	}
	if op.Method == http.MethodPost {
		desc += " Accepts Idempotency-Key."
	}
	o["description"] = desc
	params := []any{}
	for _, m := range pathParam.FindAllStringSubmatch(op.Path, -1) {
		params = append(params, jsonObject{"name": m[1], "in": "path", "required": true, "schema": jsonObject{"type": "string"}})
	}
	for _, q := range op.Query {
		sc := jsonObject{"type": cmpOr(q.Type, "string")}
		if len(q.Enum) > 0 {
			sc["enum"] = q.Enum
		}
		if q.Format != "" {
			sc["format"] = q.Format
		}
		if q.Name == "limit" {
			sc["minimum"], sc["maximum"], sc["default"] = 1, apiMaxLimit, apiDefaultLimit
		}
		params = append(params, jsonObject{"name": q.Name, "in": "query", "description": q.Doc, "schema": sc})
	}
	if op.IfMatch {
		params = append(params, jsonObject{"name": "If-Match", "in": "header", "required": true, "description": "The ETag of the object as read.",
			"schema": jsonObject{"type": "string"}})
	}
	if op.Method == http.MethodPost {
		params = append(params, jsonObject{"name": "Idempotency-Key", "in": "header", "description": "Runs the request once; a repeat gets the first response for 24 hours.",
			"schema": jsonObject{"type": "string", "maxLength": 255}})
	}
	if len(params) > 0 {
		o["parameters"] = params
	}
	switch {
	case op.RawBody != "":
		o["requestBody"] = jsonObject{"required": true, "content": jsonObject{op.RawBody: jsonObject{"schema": jsonObject{"type": "string", "contentMediaType": op.RawBody}}}}
	case op.Body != nil:
		o["requestBody"] = jsonObject{"required": true, "content": jsonObject{"application/json": jsonObject{"schema": g.schemaOf(reflect.TypeOf(op.Body))}}}
	}
	status := op.Status
	if status == 0 {
		status = http.StatusOK
	}
	responses := jsonObject{}
	ok := jsonObject{"description": http.StatusText(status)}
	switch {
	case op.RawResult != "":
		ok["content"] = jsonObject{op.RawResult: jsonObject{"schema": jsonObject{"type": "string", "contentMediaType": op.RawResult}}}
	case op.Result != nil && op.Page:
		item := g.schemaOf(reflect.TypeOf(op.Result))
		ok["content"] = jsonObject{"application/json": jsonObject{"schema": jsonObject{
			"type": "object", "required": []any{"data", "next_cursor"}, "additionalProperties": false,
			"properties": jsonObject{
				"data":        jsonObject{"type": "array", "items": item},
				"next_cursor": jsonObject{"type": []any{"string", "null"}, "description": "Continues the list (also in the Link header); null on the last page."},
			}}}}
	case op.Result != nil:
		ok["content"] = jsonObject{"application/json": jsonObject{"schema": g.schemaOf(reflect.TypeOf(op.Result))}}
	}
	headers := jsonObject{
		"RateLimit":        jsonObject{"description": "What remains of the token's limit and when it resets.", "schema": jsonObject{"type": "string"}},
		"RateLimit-Policy": jsonObject{"description": "The token's limit per window.", "schema": jsonObject{"type": "string"}},
	}
	if op.IfMatch || op.Method == http.MethodGet && op.Result != nil && !op.Page && strings.Contains(op.Path, "{") {
		headers["ETag"] = jsonObject{"description": "The object's version, for If-Match.", "schema": jsonObject{"type": "string"}}
	}
	ok["headers"] = headers
	responses[strconv.Itoa(status)] = ok
	errs := []int{400, 401, 403, 404, 429, 500}
	if op.Body != nil || op.RawBody != "" || len(op.Query) > 0 {
		errs = append(errs, 422)
	}
	if op.Body != nil || op.RawBody != "" {
		errs = append(errs, 413, 415)
	}
	if op.Method == http.MethodPost {
		errs = append(errs, 409)
	}
	if op.IfMatch {
		errs = append(errs, 412, 428)
	}
	errs = append(errs, op.Errors...)
	slices.Sort(errs)
	for _, st := range slices.Compact(errs) {
		responses[strconv.Itoa(st)] = jsonObject{"$ref": "#/components/responses/" + problemResponse(st)}
	}
	o["responses"] = responses
	return o
}

// apiEnums are the value lists an `enum:"@name"` tag names, taken from
// the domain so that the document follows the code.
var apiEnums = map[string]func() []string{
	"tracks": func() []string {
		out := []string{}
		for _, t := range audit.Tracks {
			out = append(out, string(t))
		}
		return out
	},
	"permissions":   access.Names,
	"webhookEvents": func() []string { return webhook.EventTypes },
	"stages": func() []string {
		out := []string{}
		for _, k := range access.StageKinds {
			out = append(out, string(k))
		}
		return out
	},
	"languages":  func() []string { return tenant.Languages },
	"employment": func() []string { return recruit.EmploymentTypes },
	"positionStatuses": func() []string {
		return []string{recruit.Draft, recruit.Published, recruit.Closed, recruit.Archived}
	},
	"ratings":           func() []string { return recruit.RatingValues },
	"interviewStatuses": func() []string { return recruit.InterviewStatuses },
}

// enumValues reads an enum tag: values separated by commas, or @name.
func enumValues(tag string) []string {
	if name, ok := strings.CutPrefix(tag, "@"); ok {
		if f := apiEnums[name]; f != nil {
			return f()
		}
		panic("openapi: unknown enum " + tag)
	}
	return strings.Split(tag, ",")
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// schemaGen turns Go types into JSON Schema (2020-12, as OpenAPI 3.1 uses),
// named struct types into components.
type schemaGen struct {
	schemas jsonObject
}

var timeType = reflect.TypeFor[time.Time]()

// schemaName is the component name of a named struct type: its Go name
// without the api prefix.
func schemaName(t reflect.Type) string {
	n := t.Name()
	if i := strings.IndexByte(n, '['); i >= 0 {
		n = n[:i]
	}
	n = strings.TrimPrefix(n, "api")
	if n == "" {
		return n
	}
	return strings.ToUpper(n[:1]) + n[1:]
}

func (g *schemaGen) schemaOf(t reflect.Type) jsonObject {
	switch {
	case t == timeType:
		return jsonObject{"type": "string", "format": "date-time"}
	case t.Kind() == reflect.Pointer:
		inner := g.schemaOf(t.Elem())
		if typ, ok := inner["type"].(string); ok {
			inner["type"] = []any{typ, "null"}
			return inner
		}
		return jsonObject{"oneOf": []any{inner, jsonObject{"type": "null"}}}
	}
	switch t.Kind() {
	case reflect.String:
		return jsonObject{"type": "string"}
	case reflect.Bool:
		return jsonObject{"type": "boolean"}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return jsonObject{"type": "integer"}
	case reflect.Float32, reflect.Float64:
		return jsonObject{"type": "number"}
	case reflect.Slice, reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 {
			return jsonObject{"type": "string", "contentEncoding": "base64"}
		}
		return jsonObject{"type": "array", "items": g.schemaOf(t.Elem())}
	case reflect.Map:
		return jsonObject{"type": "object", "additionalProperties": g.schemaOf(t.Elem())}
	case reflect.Interface:
		return jsonObject{}
	case reflect.Struct:
		name := schemaName(t)
		if name == "" || strings.Contains(t.Name(), "[") {
			return g.object(t)
		}
		if _, done := g.schemas[name]; !done {
			g.schemas[name] = jsonObject{} // a placeholder against recursion
			g.schemas[name] = g.object(t)
		}
		return ref(name)
	}
	return jsonObject{}
}

func (g *schemaGen) object(t reflect.Type) jsonObject {
	props := jsonObject{}
	required := []any{}
	for f := range t.Fields() {
		if !f.IsExported() {
			continue
		}
		tag := f.Tag.Get("json")
		name, opts, _ := strings.Cut(tag, ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		sc := g.schemaOf(f.Type)
		if d := f.Tag.Get("doc"); d != "" {
			if _, isRef := sc["$ref"]; isRef {
				sc = jsonObject{"allOf": []any{sc}, "description": d}
			} else {
				sc["description"] = d
			}
		}
		if e := f.Tag.Get("enum"); e != "" {
			vals := []any{}
			for _, v := range enumValues(e) {
				vals = append(vals, v)
			}
			if items, ok := sc["items"].(jsonObject); ok {
				items["enum"] = vals
			} else {
				if typ, ok := sc["type"].([]any); ok && slices.Contains(typ, any("null")) {
					vals = append(vals, nil)
				}
				sc["enum"] = vals
			}
		}
		if fm := f.Tag.Get("format"); fm != "" {
			sc["format"] = fm
		}
		props[name] = sc
		if !strings.Contains(opts, "omitempty") && !strings.Contains(opts, "omitzero") {
			required = append(required, name)
		}
	}
	o := jsonObject{"type": "object", "properties": props, "additionalProperties": false}
	if len(required) > 0 {
		o["required"] = required
	}
	return o
}
