package web

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"maps"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"text/template/parse"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/account"
	"github.com/kandidat/kandidat/internal/audit"
	"github.com/kandidat/kandidat/internal/credit"
	"github.com/kandidat/kandidat/internal/i18n"
	"github.com/kandidat/kandidat/internal/recruit"
	"github.com/kandidat/kandidat/internal/tenant"
)

// keyShape is what a message key looks like: dotted lower-case words.
var keyShape = regexp.MustCompile(`^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$`)

// keyUse is one message key found in the code: where, and whether it is
// given a count (through TN or N, or a "count" argument).
type keyUse struct {
	key, where string
	// fn is the translation function it is passed to ("T", "TN", "N"), or
	// "" where the key only travels to one (a field error, a title).
	fn      string
	counted bool
}

// keyFinder gathers the message keys in use.
type keyFinder struct {
	uses []keyUse
	// dynamic are keys built at run time in templates, as patterns
	// (printf "role.%s" .ID is `^role\.[a-z0-9_.]+$`), each checked for at
	// least one catalogued key it matches.
	dynamic map[string]string // pattern -> where
	// perms are the permission names templates ask .Can about.
	perms []keyUse
	// src is the template being read, to name the line of a find.
	src string
}

func (k *keyFinder) add(key, where, fn string, counted bool) {
	k.uses = append(k.uses, keyUse{key: key, where: where, fn: fn, counted: counted})
}

// TestEveryUsedKeyIsCatalogued finds every message key the templates and
// the Go code use, without a list of what keys start with, and checks that
// each is in all five catalogues, that a message with plural forms is given
// its count, and that every permission a template asks about exists.
func TestEveryUsedKeyIsCatalogued(t *testing.T) {
	b, err := i18n.Load()
	if err != nil {
		t.Fatal(err)
	}
	k := &keyFinder{dynamic: map[string]string{}}
	k.templates(t)
	k.goCode(t, "..")
	k.runTime()
	if len(k.uses) < 800 || len(k.dynamic) < 20 || len(k.perms) < 5 {
		t.Fatalf("found only %d keys, %d built at run time and %d permissions; the scan is broken", len(k.uses), len(k.dynamic), len(k.perms))
	}
	checkKeys(t, b, k)
}

// checkKeys reports every key missing from a catalogue, every run-time
// pattern no key matches, every plural misuse and every unknown permission.
func checkKeys(t *testing.T, b *i18n.Bundle, k *keyFinder) {
	t.Helper()
	for _, lang := range i18n.Languages {
		known := b.Keys(lang)
		missing := map[string]string{}
		for _, u := range k.uses {
			if !slices.Contains(known, u.key) {
				missing[u.key] = u.where
			}
		}
		for _, key := range slices.Sorted(maps.Keys(missing)) {
			t.Errorf("%s: key %q is used but not in the %s catalogue", missing[key], key, lang)
		}
	}
	known := b.Keys(i18n.Fallback)
	for pattern, where := range k.dynamic {
		re := regexp.MustCompile(pattern)
		if !slices.ContainsFunc(known, re.MatchString) {
			t.Errorf("%s: a key built as %s matches no catalogued key", where, pattern)
		}
	}
	for _, u := range k.uses {
		plural := b.Forms(i18n.Fallback, u.key) != nil
		switch {
		case plural && u.fn != "" && !u.counted:
			t.Errorf("%s: %q has plural forms but is used without a count (TN, N or a \"count\" argument)", u.where, u.key)
		case !plural && (u.fn == "TN" || u.fn == "N"):
			t.Errorf("%s: %q is used with %s but has no plural forms", u.where, u.key, u.fn)
		}
	}
	for _, p := range k.perms {
		if _, ok := access.Parse(p.key); !ok {
			t.Errorf("%s: the template asks about permission %q, which does not exist", p.where, p.key)
		}
	}
}

// templates parses every template and walks its tree: every string
// argument shaped like a key is one (they only ever are translated, or
// passed on to be), except what .Can is asked, which is a permission;
// print and printf build keys at run time; `args . "name"` gives the field
// template the name whose label is field.<name>.
func (k *keyFinder) templates(t *testing.T) {
	t.Helper()
	err := fs.WalkDir(templateFS, "templates", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		raw, err := fs.ReadFile(templateFS, p)
		if err != nil {
			return err
		}
		tree := parse.New(p)
		tree.Mode = parse.SkipFuncCheck
		trees := map[string]*parse.Tree{}
		if _, err := tree.Parse(string(raw), "{{", "}}", trees); err != nil {
			return fmt.Errorf("parse %s: %w", p, err)
		}
		k.src = string(raw)
		for _, tr := range trees {
			k.walkTemplate(p, tr.Root)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func (k *keyFinder) walkTemplate(file string, n parse.Node) {
	switch n := n.(type) {
	case *parse.ListNode:
		if n != nil {
			for _, c := range n.Nodes {
				k.walkTemplate(file, c)
			}
		}
	case *parse.ActionNode:
		k.walkTemplate(file, n.Pipe)
	case *parse.IfNode:
		k.walkBranch(file, &n.BranchNode)
	case *parse.RangeNode:
		k.walkBranch(file, &n.BranchNode)
	case *parse.WithNode:
		k.walkBranch(file, &n.BranchNode)
	case *parse.TemplateNode:
		k.walkTemplate(file, n.Pipe)
	case *parse.PipeNode:
		if n != nil {
			for _, c := range n.Cmds {
				k.templateCommand(file, c)
			}
		}
	}
}

func (k *keyFinder) walkBranch(file string, b *parse.BranchNode) {
	k.walkTemplate(file, b.Pipe)
	k.walkTemplate(file, b.List)
	k.walkTemplate(file, b.ElseList)
}

// templateCommand reads one command: its name (the last word of .T, $.P.T
// or printf), its literal arguments, and the pipelines nested in it.
func (k *keyFinder) templateCommand(file string, c *parse.CommandNode) {
	where := fmt.Sprintf("%s:%d", file, 1+strings.Count(k.src[:c.Pos], "\n"))
	name := commandName(c)
	switch name {
	case "Can":
		for _, a := range c.Args[1:] {
			if s, ok := a.(*parse.StringNode); ok {
				k.perms = append(k.perms, keyUse{key: s.Text, where: where})
			}
		}
		return
	case "print", "printf":
		if len(c.Args) > 1 {
			if pattern := builtKey(c, name); pattern != "" {
				k.dynamic[pattern] = where
			}
		}
	case "args":
		if len(c.Args) > 2 {
			if s, ok := c.Args[2].(*parse.StringNode); ok {
				k.add("field."+s.Text, where, "", false)
			}
		}
	}
	counted := name == "TN"
	for _, a := range c.Args[1:] {
		if s, ok := a.(*parse.StringNode); ok && s.Text == "count" {
			counted = true
		}
	}
	fn := ""
	if name == "T" || name == "TN" {
		fn = name
	}
	for _, a := range c.Args {
		switch a := a.(type) {
		case *parse.StringNode:
			if keyShape.MatchString(a.Text) {
				k.add(a.Text, where, fn, counted)
			}
		case *parse.PipeNode:
			k.walkTemplate(file, a)
		}
	}
}

// commandName is the function a command calls: the last field of .T or
// $.P.T, or the name of a function such as printf.
func commandName(c *parse.CommandNode) string {
	switch f := c.Args[0].(type) {
	case *parse.FieldNode:
		return f.Ident[len(f.Ident)-1]
	case *parse.VariableNode:
		return f.Ident[len(f.Ident)-1]
	case *parse.ChainNode:
		return f.Field[len(f.Field)-1]
	case *parse.IdentifierNode:
		return f.Ident
	}
	return ""
}

// builtKey returns the pattern of a key a print or printf command builds
// from a literal start ("role.%s", or "track." and a value), or "" when
// what it builds is no key.
func builtKey(c *parse.CommandNode, name string) string {
	s, ok := c.Args[1].(*parse.StringNode)
	if !ok {
		return ""
	}
	format := s.Text
	if name == "print" {
		format += "%s"
	}
	parts := regexp.MustCompile(`%[sdv]`).Split(format, -1)
	if len(parts) < 2 || !strings.Contains(parts[0], ".") || !keyShape.MatchString(strings.TrimSuffix(parts[0], ".")+".x") {
		return ""
	}
	for i, p := range parts {
		parts[i] = regexp.QuoteMeta(p)
	}
	return "^" + strings.Join(parts, "[a-z0-9_.]+") + "$"
}

// goCode parses the Go code of the module (not its tests) and finds the
// keys where the code says a string is one:
//   - arguments of T, N and TN, and of every function whose parameter is
//     named key, title, label or …Key/…Label (newPage's title, formInt's key);
//   - the last argument of fault.New, NewField, Field and Show, which is the
//     refusal's message key;
//   - values stored into maps of field errors (fields, f, errs, Errors,
//     Fields) and into struct fields documented as a message key (a page's
//     Title), and the values of map literals given to them;
//   - what functions return whose comment says they return a message key,
//     or whose result the code uses as one (fields[f] = fileError(err)),
//     and what variables hold whose comment says they hold message or
//     catalogue keys;
//   - both sides of a map literal from keys to keys (one wording for another).
//
// Only key-shaped literals count, except where fault is given one: a
// slice may share a name with a map of field errors, so the shape tells.
func (k *keyFinder) goCode(t *testing.T, root string) {
	t.Helper()
	g := &goKeys{k: k, fset: token.NewFileSet(), returning: map[string]bool{}, funcs: map[string][]*ast.FuncDecl{}}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == "testdata" {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(g.fset, p, nil, parser.ParseComments|parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		g.files = append(g.files, f)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(g.files) < 100 {
		t.Fatalf("parsed only %d files under %s", len(g.files), root)
	}
	g.declarations()
	for _, f := range g.files {
		ast.Inspect(f, g.node)
	}
	g.returnedKeys()
}

// saysKey is how a comment says a function or variable gives message keys.
var saysKey = regexp.MustCompile(`(?i)(message|catalogue) keys?\b`)

// goKeys is the state of one scan of the Go code.
type goKeys struct {
	k     *keyFinder
	fset  *token.FileSet
	files []*ast.File
	// funcs are the declared functions and methods by name.
	funcs map[string][]*ast.FuncDecl
	// keyParams are, by function name, the positions of the parameters
	// that take a message key, judged by their names.
	keyParams map[string][]int
	// keyFields are the struct fields documented as a message key.
	keyFields []string
	// returning are the functions whose string results are message keys.
	returning map[string]bool
}

func (g *goKeys) where(n ast.Node) string { return g.fset.Position(n.Pos()).String() }

// declarations reads the declarations: functions, their key parameters,
// the struct fields and the functions documented as message keys.
func (g *goKeys) declarations() {
	named := regexp.MustCompile(`^(key|title|label|[a-z]\w*(Key|Label))$`)
	g.keyParams = map[string][]int{}
	for _, f := range g.files {
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.FuncDecl:
				g.funcs[n.Name.Name] = append(g.funcs[n.Name.Name], n)
				if n.Doc != nil && saysKey.MatchString(n.Doc.Text()) {
					g.returning[n.Name.Name] = true
				}
				i := 0
				for _, field := range n.Type.Params.List {
					for _, name := range field.Names {
						if named.MatchString(name.Name) && isString(field.Type) {
							g.keyParams[n.Name.Name] = append(g.keyParams[n.Name.Name], i)
						}
						i++
					}
					if len(field.Names) == 0 {
						i++
					}
				}
			case *ast.StructType:
				for _, field := range n.Fields.List {
					if saysKey.MatchString(field.Doc.Text() + field.Comment.Text()) {
						for _, name := range field.Names {
							g.keyFields = append(g.keyFields, name.Name)
						}
					}
				}
			case *ast.GenDecl:
				if n.Tok == token.VAR && saysKey.MatchString(n.Doc.Text()) {
					g.allLiterals(n)
				}
			}
			return true
		})
	}
}

func isString(e ast.Expr) bool {
	id, ok := e.(*ast.Ident)
	return ok && id.Name == "string"
}

// node finds the keys one node of the code uses.
func (g *goKeys) node(n ast.Node) bool {
	switch n := n.(type) {
	case *ast.CallExpr:
		g.call(n)
	case *ast.AssignStmt:
		for i, lhs := range n.Lhs {
			if i < len(n.Rhs) && g.holdsKeys(lhs) {
				g.keyExpr(n.Rhs[i], "", false)
			}
		}
	case *ast.KeyValueExpr:
		if id, ok := n.Key.(*ast.Ident); ok && (slices.Contains(fieldMaps, id.Name) || slices.Contains(g.keyFields, id.Name)) {
			g.keyExpr(n.Value, "", false)
		}
	case *ast.CompositeLit:
		g.keysToKeys(n)
	}
	return true
}

// fieldMaps are the names the code gives maps of field -> message key.
var fieldMaps = []string{"f", "fields", "errs", "Errors", "Fields"}

// holdsKeys reports whether a value stored into e is a message key: e is
// an element of a map of field errors or a field documented as a key.
func (g *goKeys) holdsKeys(e ast.Expr) bool {
	switch e := e.(type) {
	case *ast.IndexExpr:
		return slices.Contains(fieldMaps, lastName(e.X))
	case *ast.SelectorExpr:
		return slices.Contains(g.keyFields, e.Sel.Name)
	case *ast.Ident:
		return slices.Contains(fieldMaps, e.Name)
	}
	return false
}

// keyExpr takes an expression the code uses as a message key (or a map
// literal of them): a literal is one, and a function whose result it is
// returns them.
func (g *goKeys) keyExpr(e ast.Expr, fn string, counted bool) {
	switch e := e.(type) {
	case *ast.BasicLit:
		if s, ok := stringLit(e); ok && keyShape.MatchString(s) {
			g.k.add(s, g.where(e), fn, counted)
		}
	case *ast.ParenExpr:
		g.keyExpr(e.X, fn, counted)
	case *ast.CallExpr:
		if name := lastName(e.Fun); name != "" {
			g.returning[name] = true
		}
	case *ast.CompositeLit:
		if _, isMap := e.Type.(*ast.MapType); isMap {
			for _, el := range e.Elts {
				if kv, ok := el.(*ast.KeyValueExpr); ok {
					g.keyExpr(kv.Value, "", false)
				}
			}
		}
	}
}

// call finds the keys passed in one call.
func (g *goKeys) call(c *ast.CallExpr) {
	name, pkg := lastName(c.Fun), ""
	if sel, ok := c.Fun.(*ast.SelectorExpr); ok {
		pkg = lastName(sel.X)
	}
	switch {
	case name == "T" || name == "N" || name == "TN":
		counted := name != "T"
		for _, a := range c.Args {
			if s, ok := stringLit(a); ok && s == "count" {
				counted = true
			}
		}
		for _, a := range c.Args {
			g.keyExpr(a, name, counted)
		}
	case pkg == "fault" && slices.Contains([]string{"New", "NewField", "Field", "Show"}, name) && len(c.Args) > 0:
		last := c.Args[len(c.Args)-1]
		if s, ok := stringLit(last); ok && s != "" {
			g.k.add(s, g.where(last), "", false)
		}
		g.keyExpr(last, "", false)
	default:
		for _, i := range g.keyParams[name] {
			if i < len(c.Args) {
				g.keyExpr(c.Args[i], "", false)
			}
		}
	}
}

// keysToKeys adds both sides of a map literal whose every entry maps a
// key-shaped literal to another: one wording for another.
func (g *goKeys) keysToKeys(lit *ast.CompositeLit) {
	if _, isMap := lit.Type.(*ast.MapType); !isMap || len(lit.Elts) == 0 {
		return
	}
	for _, el := range lit.Elts {
		kv, ok := el.(*ast.KeyValueExpr)
		if !ok {
			return
		}
		from, ok1 := stringLit(kv.Key)
		to, ok2 := stringLit(kv.Value)
		if !ok1 || !ok2 || !keyShape.MatchString(from) || !keyShape.MatchString(to) {
			return
		}
	}
	for _, el := range lit.Elts {
		kv := el.(*ast.KeyValueExpr)
		g.keyExpr(kv.Key, "", false)
		g.keyExpr(kv.Value, "", false)
	}
}

// allLiterals adds every key-shaped literal in a declaration.
func (g *goKeys) allLiterals(n ast.Node) {
	ast.Inspect(n, func(n ast.Node) bool {
		if lit, ok := n.(*ast.BasicLit); ok {
			g.keyExpr(lit, "", false)
		}
		return true
	})
}

// returnedKeys adds what the functions returning keys return, until no
// new such function turns up (one may return another's result).
func (g *goKeys) returnedKeys() {
	done := map[string]bool{}
	for {
		var next []string
		for name := range g.returning {
			if !done[name] {
				next = append(next, name)
			}
		}
		if len(next) == 0 {
			return
		}
		for _, name := range next {
			done[name] = true
			for _, fn := range g.funcs[name] {
				if fn.Body != nil && returnsString(fn) {
					g.returns(fn.Body)
				}
			}
		}
	}
}

// returnsString reports whether a function's first result is a string.
func returnsString(fn *ast.FuncDecl) bool {
	r := fn.Type.Results
	return r != nil && len(r.List) > 0 && isString(r.List[0].Type)
}

// returns takes what a function body returns first as message keys (not
// what the functions declared inside it return).
func (g *goKeys) returns(body *ast.BlockStmt) {
	ast.Inspect(body, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.FuncLit:
			return false
		case *ast.ReturnStmt:
			if len(n.Results) > 0 {
				g.keyExpr(n.Results[0], "", false)
			}
		}
		return true
	})
}

func lastName(e ast.Expr) string {
	switch e := e.(type) {
	case *ast.Ident:
		return e.Name
	case *ast.SelectorExpr:
		return e.Sel.Name
	}
	return ""
}

func stringLit(e ast.Expr) (string, bool) {
	lit, ok := e.(*ast.BasicLit)
	if !ok || lit.Kind != token.STRING {
		return "", false
	}
	s, err := strconv.Unquote(lit.Value)
	return s, err == nil
}

// runTime adds the keys the code builds from closed sets of values (the
// templates' printf "role.%s" and the like, and the Go code's
// "action." + string(a)): each value of each set must have its key.
func (k *keyFinder) runTime() {
	add := func(prefix string, values ...string) {
		for _, v := range values {
			k.add(prefix+v, "values of "+prefix+"*", "", false)
		}
	}
	for _, m := range tenant.Modules {
		add("module.", string(m))
	}
	add("language.", i18n.Languages...)
	add("role.", access.Roles...)
	for _, p := range access.Permissions {
		add("permission.", p.Name())
	}
	add("employment.", recruit.EmploymentTypes...)
	add("rejection.", recruit.RejectionReasons...)
	add("templates.kind.", recruit.TemplateKinds...)
	add("messages.status.", "queued", "retrying", "sent", "failed")
	add("rating.", recruit.RatingValues...)
	add("interview.status.", recruit.InterviewStatuses...)
	add("interview.choice.", recruit.InterviewAccepted, recruit.InterviewDeclined, recruit.InterviewNewTimeAsked)
	for _, s := range access.StageKinds {
		add("stage.", string(s))
	}
	add("position.status.", recruit.Draft, recruit.Published, recruit.Closed, recruit.Archived)
	add("credits.kind.", credit.Grant, credit.Spend, credit.Refund)
	add("credits.reason.", append(slices.Clone(credit.GrantReasons), credit.ReasonPublication, "refund")...)
	add("credits.actor.", string(audit.ActorOperator), string(audit.ActorSystem))
	add("status.", string(account.Active), string(account.Disabled), string(account.Invited))
	for a := range audit.Catalogue {
		add("action.", string(a))
	}
	for _, tr := range audit.Tracks {
		add("track.", string(tr))
	}
	for _, a := range audit.ActorKinds {
		add("actor.", string(a))
	}
	for _, r := range audit.AllRules {
		add("alert.rule.", string(r))
	}
}
