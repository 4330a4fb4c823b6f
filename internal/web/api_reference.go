package web

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
)

// The API's reference page (GET /api/docs): the OpenAPI document served at
// /api/v1/openapi.json, read back and shown as HTML, operations grouped by
// tag with their parameters, bodies and responses, then the schemas and
// the problem types. It needs no token and works without JavaScript;
// static/api_docs.js adds a "try it" form to each operation, which sends
// the request from the browser with a token typed into the page and kept
// in memory only.

// openAPIJSON is the served document, built once per server.
func (s *Server) openAPIJSON() ([]byte, error) {
	s.apiDoc.once.Do(func() {
		s.apiDoc.doc, s.apiDoc.err = json.MarshalIndent(openAPIDocument(s.apiOperations()), "", "  ")
	})
	return s.apiDoc.doc, s.apiDoc.err
}

// refType is a schema as the page names it: text, and the component it
// links to ("" for none).
type refType struct {
	Text, Ref string
}

// refField is a parameter or a schema's property.
type refField struct {
	Name, In, Doc string
	Type          refType
	Required      bool
	Enum          []string
}

// refContent is a body: its media type and schema.
type refContent struct {
	MediaType string
	Type      refType
}

// refResponse is one declared response.
type refResponse struct {
	Status, Description string
	Content             *refContent
	// Problem: the response is a problem details object.
	Problem bool
}

// refOperation is one operation of the document.
type refOperation struct {
	ID, Method, Path, Summary, Description string
	Params                                 []refField
	Body                                   *refContent
	Responses                              []refResponse
}

// refTag is a group of operations.
type refTag struct {
	Name, Doc string
	Ops       []refOperation
}

// refSchema is a component schema.
type refSchema struct {
	Name, Doc string
	Props     []refField
}

// refProblem is a problem type the API answers with.
type refProblem struct {
	Type, Slug string
	Status     int
}

// apiReferenceData is the reference page.
type apiReferenceData struct {
	Title, Version, Description, Server string
	Tags                                []refTag
	Schemas                             []refSchema
	Problems                            []refProblem
}

func (s *Server) handleAPIReference(w http.ResponseWriter, r *http.Request) {
	raw, err := s.openAPIJSON()
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d, err := apiReference(raw)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	pg := s.newPage(r, "apidocs.title")
	pg.Data = d
	w.Header().Set("Cache-Control", "no-cache")
	s.render(w, r, http.StatusOK, "api_reference", pg)
}

// apiReference reads the document into the page's data.
func apiReference(raw []byte) (*apiReferenceData, error) {
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		return nil, err
	}
	info := obj(doc["info"])
	d := &apiReferenceData{Title: str(info["title"]), Version: str(info["version"]), Description: str(info["description"])}
	if servers, _ := doc["servers"].([]any); len(servers) > 0 {
		d.Server = str(obj(servers[0])["url"])
	}
	components := obj(doc["components"])
	responses := obj(components["responses"])
	byTag := map[string]*refTag{}
	for _, t := range arr(doc["tags"]) {
		tag := obj(t)
		d.Tags = append(d.Tags, refTag{Name: str(tag["name"]), Doc: str(tag["description"])})
	}
	for i := range d.Tags {
		byTag[d.Tags[i].Name] = &d.Tags[i]
	}
	paths := obj(doc["paths"])
	for _, path := range sortedKeys(stringKeys(paths)) {
		item := obj(paths[path])
		for _, method := range []string{"get", "post", "put", "patch", "delete"} {
			op := obj(item[method])
			if op == nil {
				continue
			}
			o := refOperation{ID: str(op["operationId"]), Method: strings.ToUpper(method), Path: d.Server + path,
				Summary: str(op["summary"]), Description: str(op["description"])}
			for _, p := range arr(op["parameters"]) {
				pm := obj(p)
				sc := obj(pm["schema"])
				req, _ := pm["required"].(bool)
				o.Params = append(o.Params, refField{Name: str(pm["name"]), In: str(pm["in"]), Doc: str(pm["description"]),
					Type: typeOf(sc), Required: req, Enum: enumOf(sc)})
			}
			if body := obj(op["requestBody"]); body != nil {
				o.Body = contentOf(obj(body["content"]))
			}
			resp := obj(op["responses"])
			for _, code := range sortedKeys(stringKeys(resp)) {
				rs := obj(resp[code])
				problem := false
				if ref := str(rs["$ref"]); ref != "" {
					rs = obj(responses[strings.TrimPrefix(ref, "#/components/responses/")])
					problem = true
				}
				o.Responses = append(o.Responses, refResponse{Status: code, Description: str(rs["description"]), Content: contentOf(obj(rs["content"])), Problem: problem})
			}
			tag := ""
			if tags := arr(op["tags"]); len(tags) > 0 {
				tag = str(tags[0])
			}
			t := byTag[tag]
			if t == nil {
				d.Tags = append(d.Tags, refTag{Name: tag})
				t = &d.Tags[len(d.Tags)-1]
				byTag = map[string]*refTag{}
				for i := range d.Tags {
					byTag[d.Tags[i].Name] = &d.Tags[i]
				}
			}
			t.Ops = append(t.Ops, o)
		}
	}
	d.Tags = slices.DeleteFunc(d.Tags, func(t refTag) bool { return len(t.Ops) == 0 })
	schemas := obj(components["schemas"])
	for _, name := range sortedKeys(stringKeys(schemas)) {
		sc := obj(schemas[name])
		rs := refSchema{Name: name, Doc: str(sc["description"])}
		required := map[string]bool{}
		for _, r := range arr(sc["required"]) {
			required[str(r)] = true
		}
		props := obj(sc["properties"])
		for _, p := range stringKeys(props) {
			ps := obj(props[p])
			rs.Props = append(rs.Props, refField{Name: p, Doc: str(ps["description"]), Type: typeOf(ps), Required: required[p], Enum: enumOf(ps)})
		}
		slices.SortFunc(rs.Props, func(a, b refField) int { return strings.Compare(a.Name, b.Name) })
		d.Schemas = append(d.Schemas, rs)
	}
	d.Problems = apiProblemTypes()
	return d, nil
}

func contentOf(content map[string]any) *refContent {
	for _, mt := range sortedKeys(stringKeys(content)) {
		return &refContent{MediaType: mt, Type: typeOf(obj(obj(content[mt])["schema"]))}
	}
	return nil
}

// typeOf names a schema: a component, a JSON type, an array or map of one.
func typeOf(sc map[string]any) refType {
	if sc == nil {
		return refType{Text: "any"}
	}
	if ref := str(sc["$ref"]); ref != "" {
		name := strings.TrimPrefix(ref, "#/components/schemas/")
		return refType{Text: name, Ref: name}
	}
	if all := arr(sc["allOf"]); len(all) == 1 {
		return typeOf(obj(all[0]))
	}
	if one := arr(sc["oneOf"]); len(one) > 0 {
		var parts []string
		ref := ""
		for _, o := range one {
			t := typeOf(obj(o))
			parts = append(parts, t.Text)
			if ref == "" {
				ref = t.Ref
			}
		}
		return refType{Text: strings.Join(parts, " or "), Ref: ref}
	}
	var types []string
	switch t := sc["type"].(type) {
	case string:
		types = []string{t}
	case []any:
		for _, x := range t {
			types = append(types, str(x))
		}
	}
	if len(types) == 0 {
		return refType{Text: "any"}
	}
	out := refType{}
	var parts []string
	for _, t := range types {
		switch t {
		case "array":
			item := typeOf(obj(sc["items"]))
			parts = append(parts, "array of "+item.Text)
			out.Ref = item.Ref
		case "object":
			props := obj(sc["properties"])
			if data := obj(props["data"]); data != nil && props["next_cursor"] != nil {
				item := typeOf(obj(data["items"]))
				parts = append(parts, "page of "+item.Text)
				out.Ref = item.Ref
			} else if ap := obj(sc["additionalProperties"]); ap != nil {
				v := typeOf(ap)
				parts = append(parts, "map of "+v.Text)
				out.Ref = v.Ref
			} else {
				parts = append(parts, "object")
			}
		case "string":
			switch {
			case str(sc["format"]) != "":
				parts = append(parts, "string ("+str(sc["format"])+")")
			case str(sc["contentMediaType"]) != "":
				parts = append(parts, "bytes ("+str(sc["contentMediaType"])+")")
			default:
				parts = append(parts, "string")
			}
		default:
			parts = append(parts, t)
		}
	}
	out.Text = strings.Join(parts, " or ")
	return out
}

func enumOf(sc map[string]any) []string {
	vals := arr(sc["enum"])
	if items := obj(sc["items"]); len(vals) == 0 && items != nil {
		vals = arr(items["enum"])
	}
	var out []string
	for _, v := range vals {
		if v == nil {
			out = append(out, "null")
			continue
		}
		out = append(out, str(v))
	}
	return out
}

func obj(v any) map[string]any { m, _ := v.(map[string]any); return m }
func arr(v any) []any          { a, _ := v.([]any); return a }
func str(v any) string         { s, _ := v.(string); return s }

func stringKeys(m map[string]any) map[string]string {
	out := make(map[string]string, len(m))
	for k := range m {
		out[k] = k
	}
	return out
}

// apiProblemTypes lists every problem type with its status, for the page
// and docs/api.md (TestAPIProblemTypesDocumented holds them to api.go).
func apiProblemTypes() []refProblem {
	seen := map[string]int{}
	for kind, slug := range kindSlugs {
		seen[slug] = statuses[kind]
	}
	for _, e := range []*apiError{errBadCursor, errMalformedJSON, errInvalidUTF8, errMediaType, errNoIfMatch, errNoToken, errAPIOff,
		errScope, errRateLimited, errNoRoute, errBadIdempotency} {
		seen[e.slug] = e.status
	}
	for slug, status := range map[string]int{"wrong-type": 422, "unknown-field": 422, "body-too-large": 413, "method-not-allowed": 405, "internal": 500} {
		seen[slug] = status
	}
	out := make([]refProblem, 0, len(seen))
	for slug, status := range seen {
		out = append(out, refProblem{Type: problemType(slug), Slug: slug, Status: status})
	}
	slices.SortFunc(out, func(a, b refProblem) int {
		if a.Status != b.Status {
			return a.Status - b.Status
		}
		return strings.Compare(a.Slug, b.Slug)
	})
	return out
}
