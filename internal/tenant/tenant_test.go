package tenant_test

import (
	"context"
	"database/sql"
	"errors"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/kandidat/kandidat/internal/audit"
	"github.com/kandidat/kandidat/internal/fault"
	"github.com/kandidat/kandidat/internal/id"
	"github.com/kandidat/kandidat/internal/testkit"

	"github.com/google/uuid"

	"github.com/kandidat/kandidat/internal/db"
	"github.com/kandidat/kandidat/internal/db/dbtest"
	"github.com/kandidat/kandidat/internal/keys"
	"github.com/kandidat/kandidat/internal/tenant"
)

// env is a migrated database with a tenant service over a real keyring,
// and the audit log it records to.
type env struct {
	db   *db.DB
	keys *keys.Keyring
	log  *audit.Log
	svc  *tenant.Service
}

func newEnv(t testing.TB) *env {
	t.Helper()
	k := testkit.New(t, testkit.Options{})
	return &env{db: k.DB, keys: k.Keys, log: k.Audit, svc: k.Tenants}
}

func (e *env) create(t testing.TB, in tenant.CreateInput) *tenant.Tenant {
	t.Helper()
	c, err := e.svc.Create(context.Background(), audit.Operator, in)
	if err != nil {
		t.Fatalf("Create(%+v): %v", in, err)
	}
	return c
}

func (e *env) count(t testing.TB, query string, args ...any) int {
	t.Helper()
	var n int
	if err := e.db.Write.QueryRowContext(context.Background(), query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

// storedModules reads a company's modules straight from the table.
func (e *env) storedModules(t testing.TB, tenantID string) []tenant.Module {
	t.Helper()
	rows, err := e.db.Write.QueryContext(context.Background(), `SELECT module FROM tenant_modules WHERE tenant_id = $1 ORDER BY module`, tenantID)
	if err != nil {
		t.Fatalf("read modules: %v", err)
	}
	defer rows.Close()
	var out []tenant.Module
	for rows.Next() {
		var m string
		if err := rows.Scan(&m); err != nil {
			t.Fatalf("scan module: %v", err)
		}
		out = append(out, tenant.Module(m))
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("read modules: %v", err)
	}
	return out
}

func sorted(ms []tenant.Module) []tenant.Module {
	out := slices.Clone(ms)
	slices.Sort(out)
	return out
}

func sameTenant(t *testing.T, got, want *tenant.Tenant) {
	t.Helper()
	if got.ID != want.ID || got.Slug != want.Slug || got.Name != want.Name || got.RegistrationNumber != want.RegistrationNumber ||
		got.DefaultLanguage != want.DefaultLanguage || !slices.Equal(got.Modules, want.Modules) || !got.CreatedAt.Equal(want.CreatedAt) {
		t.Errorf("got %+v, want %+v", got, want)
	}
}

func TestCreate(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	c := e.create(t, tenant.CreateInput{
		Slug:               " ACME-Nordic ",
		Name:               "  Acme Nordic AB ",
		RegistrationNumber: " 556677-8899 ",
		DefaultLanguage:    "sv",
		Modules:            []tenant.Module{tenant.API, tenant.Recruitment, tenant.Recruitment},
	})
	if id, err := uuid.Parse(c.ID); err != nil || id.Version() != 7 {
		t.Errorf("ID = %q, want a UUIDv7", c.ID)
	}
	checks := []struct{ field, got, want string }{
		{"Slug", c.Slug, "acme-nordic"},
		{"Name", c.Name, "Acme Nordic AB"},
		{"RegistrationNumber", c.RegistrationNumber, "556677-8899"},
		{"DefaultLanguage", c.DefaultLanguage, "sv"},
	}
	for _, ch := range checks {
		if ch.got != ch.want {
			t.Errorf("%s = %q, want %q", ch.field, ch.got, ch.want)
		}
	}
	// Deduplicated, in display order.
	if want := []tenant.Module{tenant.Recruitment, tenant.API}; !slices.Equal(c.Modules, want) {
		t.Errorf("Modules = %v, want %v", c.Modules, want)
	}
	if c.CreatedAt.IsZero() {
		t.Errorf("CreatedAt is zero")
	}
	got, err := e.svc.ByID(ctx, c.ID)
	if err != nil {
		t.Fatalf("ByID: %v", err)
	}
	sameTenant(t, got, c)
	if want := []tenant.Module{tenant.API, tenant.Recruitment}; !slices.Equal(e.storedModules(t, c.ID), want) {
		t.Errorf("stored modules = %v, want %v", e.storedModules(t, c.ID), want)
	}
}

func TestCreateDefaults(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	tests := []struct {
		name        string
		in          tenant.CreateInput
		wantLang    string
		wantModules []tenant.Module
	}{
		{"nil modules mean the defaults", tenant.CreateInput{Slug: "a", Name: "A"}, "en", tenant.DefaultModules},
		{"empty modules mean none", tenant.CreateInput{Slug: "b", Name: "B", Modules: []tenant.Module{}}, "en", nil},
		{"every module", tenant.CreateInput{Slug: "c", Name: "C", DefaultLanguage: "cs", Modules: slices.Clone(tenant.Modules)}, "cs", tenant.Modules},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := e.create(t, tt.in)
			if c.DefaultLanguage != tt.wantLang {
				t.Errorf("DefaultLanguage = %q, want %q", c.DefaultLanguage, tt.wantLang)
			}
			if !slices.Equal(c.Modules, tt.wantModules) {
				t.Errorf("Modules = %v, want %v", c.Modules, tt.wantModules)
			}
			got, err := e.svc.ByID(ctx, c.ID)
			if err != nil {
				t.Fatalf("ByID: %v", err)
			}
			if !slices.Equal(got.Modules, tt.wantModules) {
				t.Errorf("stored Modules = %v, want %v", got.Modules, tt.wantModules)
			}
			for _, m := range tenant.Modules {
				if want := slices.Contains(tt.wantModules, m); got.Enabled(m) != want {
					t.Errorf("Enabled(%s) = %v, want %v", m, got.Enabled(m), want)
				}
			}
		})
	}
	if want := []tenant.Module{tenant.Recruitment, tenant.Statistics}; !slices.Equal(tenant.DefaultModules, want) {
		t.Errorf("DefaultModules = %v, want %v", tenant.DefaultModules, want)
	}
}

func TestCreateValidation(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	tests := []struct {
		name   string
		mutate func(in *tenant.CreateInput)
		want   map[string]string // nil: created
	}{
		{"valid", func(in *tenant.CreateInput) {}, nil},
		{"one-character slug", func(in *tenant.CreateInput) { in.Slug = "x" }, nil},
		{"63-character slug", func(in *tenant.CreateInput) { in.Slug = strings.Repeat("s", 63) }, nil},
		{"slug with digits and hyphens", func(in *tenant.CreateInput) { in.Slug = "9-to-5" }, nil},
		{"upper-case slug", func(in *tenant.CreateInput) { in.Slug = "UPPER" }, nil},
		{"slug containing a reserved word", func(in *tenant.CreateInput) { in.Slug = "admin-team" }, nil},
		{"200-character name", func(in *tenant.CreateInput) { in.Name = strings.Repeat("ö", 200) }, nil},
		{"50-character registration number", func(in *tenant.CreateInput) { in.RegistrationNumber = strings.Repeat("1", 50) }, nil},

		{"empty slug", func(in *tenant.CreateInput) { in.Slug = "" }, map[string]string{"slug": "error.slug_format"}},
		{"slug of spaces", func(in *tenant.CreateInput) { in.Slug = "   " }, map[string]string{"slug": "error.slug_format"}},
		{"64-character slug", func(in *tenant.CreateInput) { in.Slug = strings.Repeat("s", 64) }, map[string]string{"slug": "error.slug_format"}},
		{"leading hyphen", func(in *tenant.CreateInput) { in.Slug = "-acme" }, map[string]string{"slug": "error.slug_format"}},
		{"trailing hyphen", func(in *tenant.CreateInput) { in.Slug = "acme-" }, map[string]string{"slug": "error.slug_format"}},
		{"underscore", func(in *tenant.CreateInput) { in.Slug = "ac_me" }, map[string]string{"slug": "error.slug_format"}},
		{"inner space", func(in *tenant.CreateInput) { in.Slug = "ac me" }, map[string]string{"slug": "error.slug_format"}},
		{"dot", func(in *tenant.CreateInput) { in.Slug = "acme.se" }, map[string]string{"slug": "error.slug_format"}},
		{"slash", func(in *tenant.CreateInput) { in.Slug = "ac/me" }, map[string]string{"slug": "error.slug_format"}},
		{"non-ASCII letter", func(in *tenant.CreateInput) { in.Slug = "åkeri" }, map[string]string{"slug": "error.slug_format"}},
		{"newline", func(in *tenant.CreateInput) { in.Slug = "acme\nx" }, map[string]string{"slug": "error.slug_format"}},
		{"reserved admin", func(in *tenant.CreateInput) { in.Slug = "admin" }, map[string]string{"slug": "error.slug_reserved"}},
		{"reserved api", func(in *tenant.CreateInput) { in.Slug = "api" }, map[string]string{"slug": "error.slug_reserved"}},
		{"reserved static", func(in *tenant.CreateInput) { in.Slug = "static" }, map[string]string{"slug": "error.slug_reserved"}},
		{"reserved setup", func(in *tenant.CreateInput) { in.Slug = "setup" }, map[string]string{"slug": "error.slug_reserved"}},
		{"reserved login", func(in *tenant.CreateInput) { in.Slug = "login" }, map[string]string{"slug": "error.slug_reserved"}},
		{"reserved signin", func(in *tenant.CreateInput) { in.Slug = "signin" }, map[string]string{"slug": "error.slug_reserved"}},
		{"reserved careers", func(in *tenant.CreateInput) { in.Slug = "careers" }, map[string]string{"slug": "error.slug_reserved"}},
		{"reserved report", func(in *tenant.CreateInput) { in.Slug = "report" }, map[string]string{"slug": "error.slug_reserved"}},
		{"reserved www", func(in *tenant.CreateInput) { in.Slug = "www" }, map[string]string{"slug": "error.slug_reserved"}},
		{"reserved in upper case with spaces", func(in *tenant.CreateInput) { in.Slug = " Admin " }, map[string]string{"slug": "error.slug_reserved"}},
		{"empty name", func(in *tenant.CreateInput) { in.Name = "" }, map[string]string{"name": "error.company_name"}},
		{"name of spaces", func(in *tenant.CreateInput) { in.Name = " \t " }, map[string]string{"name": "error.company_name"}},
		{"201-character name", func(in *tenant.CreateInput) { in.Name = strings.Repeat("ö", 201) }, map[string]string{"name": "error.company_name"}},
		{"name with newline", func(in *tenant.CreateInput) { in.Name = "Acme\nAB" }, map[string]string{"name": "error.company_name"}},
		{"name with NUL", func(in *tenant.CreateInput) { in.Name = "Acme\x00" }, map[string]string{"name": "error.company_name"}},
		{"name with DEL", func(in *tenant.CreateInput) { in.Name = "Acme\x7f" }, map[string]string{"name": "error.company_name"}},
		{"name invalid UTF-8", func(in *tenant.CreateInput) { in.Name = "Acme\xff" }, map[string]string{"name": "error.company_name"}},
		{"51-character registration number", func(in *tenant.CreateInput) { in.RegistrationNumber = strings.Repeat("1", 51) },
			map[string]string{"registration_number": "error.registration_number"}},
		{"registration number with control", func(in *tenant.CreateInput) { in.RegistrationNumber = "55\x0166" },
			map[string]string{"registration_number": "error.registration_number"}},
		{"registration number invalid UTF-8", func(in *tenant.CreateInput) { in.RegistrationNumber = "55\xff" },
			map[string]string{"registration_number": "error.registration_number"}},
		{"unknown language", func(in *tenant.CreateInput) { in.DefaultLanguage = "de" }, map[string]string{"default_language": "error.language"}},
		{"upper-case language", func(in *tenant.CreateInput) { in.DefaultLanguage = "EN" }, map[string]string{"default_language": "error.language"}},
		{"unknown module", func(in *tenant.CreateInput) { in.Modules = []tenant.Module{"payroll"} }, map[string]string{"modules": "error.module"}},
		{"unknown among known modules", func(in *tenant.CreateInput) { in.Modules = []tenant.Module{tenant.Recruitment, "Statistics"} },
			map[string]string{"modules": "error.module"}},
		{"several fields", func(in *tenant.CreateInput) {
			in.Slug = "www"
			in.Name = ""
			in.DefaultLanguage = "xx"
			in.Modules = []tenant.Module{""}
		}, map[string]string{"slug": "error.slug_reserved", "name": "error.company_name", "default_language": "error.language", "modules": "error.module"}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := tenant.CreateInput{Slug: "company-" + string(rune('a'+i%26)) + strings.Repeat("z", i/26), Name: "Company", DefaultLanguage: "en"}
			tt.mutate(&in)
			before := e.count(t, `SELECT count(*) FROM tenants`)
			c, err := e.svc.Create(ctx, audit.Operator, in)
			if tt.want == nil {
				if err != nil {
					t.Fatalf("Create: %v, want success", err)
				}
				if c == nil || c.ID == "" {
					t.Fatalf("Create returned %+v, want a company", c)
				}
				return
			}
			var ve *fault.Invalid
			if !errors.As(err, &ve) {
				t.Fatalf("err = %v, want *fault.Invalid", err)
			}
			if !maps.Equal(ve.Fields, tt.want) {
				t.Errorf("fields = %v, want %v", ve.Fields, tt.want)
			}
			if c != nil {
				t.Errorf("company = %+v, want nil", c)
			}
			if after := e.count(t, `SELECT count(*) FROM tenants`); after != before {
				t.Errorf("companies = %d after a rejected input, want %d", after, before)
			}
			if err := in.Validate(); !errors.As(err, &ve) || !maps.Equal(ve.Fields, tt.want) {
				t.Errorf("Validate = %v, want fields %v", err, tt.want)
			}
		})
	}
}

func TestValidateNormalises(t *testing.T) {
	in := tenant.CreateInput{Slug: "  MiXed-Case ", Name: " Name ", RegistrationNumber: " 123 "}
	if err := in.Validate(); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	want := tenant.CreateInput{Slug: "mixed-case", Name: "Name", RegistrationNumber: "123", DefaultLanguage: "en", Modules: tenant.DefaultModules}
	if in.Slug != want.Slug || in.Name != want.Name || in.RegistrationNumber != want.RegistrationNumber ||
		in.DefaultLanguage != want.DefaultLanguage || !slices.Equal(in.Modules, want.Modules) {
		t.Errorf("normalised input = %+v, want %+v", in, want)
	}
	// The defaults are a copy: changing them in an input must not change DefaultModules.
	in.Modules[0] = tenant.API
	if tenant.DefaultModules[0] != tenant.Recruitment {
		t.Errorf("DefaultModules[0] = %q after changing an input's modules, want %q", tenant.DefaultModules[0], tenant.Recruitment)
	}
}

func TestCreateConflict(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	e.create(t, tenant.CreateInput{Slug: "acme", Name: "Acme"})
	for _, slug := range []string{"acme", "ACME", " Acme "} {
		t.Run(slug, func(t *testing.T) {
			c, err := e.svc.Create(ctx, audit.Operator, tenant.CreateInput{Slug: slug, Name: "Another Acme"})
			if !errors.Is(err, tenant.ErrConflict) {
				t.Errorf("err = %v, want ErrConflict", err)
			}
			if c != nil {
				t.Errorf("company = %+v, want nil", c)
			}
			for _, tb := range []string{"tenants", "tenant_keys"} {
				if n := e.count(t, `SELECT count(*) FROM `+tb); n != 1 {
					t.Errorf("%s rows = %d, want 1", tb, n)
				}
			}
			if n := e.count(t, `SELECT count(*) FROM tenant_modules`); n != len(tenant.DefaultModules) {
				t.Errorf("tenant_modules rows = %d, want %d", n, len(tenant.DefaultModules))
			}
		})
	}
}

func TestLookup(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	acme := e.create(t, tenant.CreateInput{Slug: "acme", Name: "Acme", Modules: []tenant.Module{tenant.Whistleblowing}})
	beta := e.create(t, tenant.CreateInput{Slug: "beta", Name: "Beta"})
	tests := []struct {
		name   string
		lookup func(context.Context, string) (*tenant.Tenant, error)
		arg    string
		want   *tenant.Tenant // nil: ErrNotFound
	}{
		{"ByID", e.svc.ByID, acme.ID, acme},
		{"ByID other", e.svc.ByID, beta.ID, beta},
		{"ByID unknown", e.svc.ByID, id.New(), nil},
		{"ByID with a slug", e.svc.ByID, "acme", nil},
		{"ByID empty", e.svc.ByID, "", nil},
		{"BySlug", e.svc.BySlug, "acme", acme},
		{"BySlug upper case", e.svc.BySlug, "ACME", acme},
		{"BySlug unknown", e.svc.BySlug, "gamma", nil},
		{"BySlug with an id", e.svc.BySlug, acme.ID, nil},
		{"ByRef slug", e.svc.ByRef, "beta", beta},
		{"ByRef upper-case slug", e.svc.ByRef, "Beta", beta},
		{"ByRef id", e.svc.ByRef, acme.ID, acme},
		{"ByRef unknown", e.svc.ByRef, "gamma", nil},
		{"ByRef empty", e.svc.ByRef, "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.lookup(ctx, tt.arg)
			if tt.want == nil {
				if !errors.Is(err, tenant.ErrNotFound) || got != nil {
					t.Errorf("got %+v, %v; want nil, ErrNotFound", got, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("err = %v, want nil", err)
			}
			sameTenant(t, got, tt.want)
		})
	}
}

// TestByRefSlugFirst checks that a slug wins over an id when a company's slug
// is another company's id.
func TestByRefSlugFirst(t *testing.T) {
	e := newEnv(t)
	first := e.create(t, tenant.CreateInput{Slug: "first", Name: "First"})
	// A UUID is a valid slug once lower-cased.
	shadow := e.create(t, tenant.CreateInput{Slug: first.ID, Name: "Shadow"})
	got, err := e.svc.ByRef(context.Background(), first.ID)
	if err != nil {
		t.Fatalf("ByRef: %v", err)
	}
	if got.ID != shadow.ID {
		t.Errorf("ByRef(%s) = company %s, want %s (the slug match)", first.ID, got.Slug, shadow.Slug)
	}
}

func TestList(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	list, err := e.svc.List(ctx)
	if err != nil || len(list) != 0 {
		t.Fatalf("List on an empty installation = %v, %v; want none", list, err)
	}
	for _, in := range []tenant.CreateInput{
		{Slug: "gamma", Name: "Gamma"},
		{Slug: "alpha-2", Name: "Alpha", Modules: []tenant.Module{tenant.API}},
		{Slug: "beta", Name: "Beta", Modules: []tenant.Module{}},
		{Slug: "alpha-1", Name: "Alpha"},
	} {
		e.create(t, in)
	}
	list, err = e.svc.List(ctx)
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	want := []struct {
		slug    string
		modules []tenant.Module
	}{
		{"alpha-1", tenant.DefaultModules},
		{"alpha-2", []tenant.Module{tenant.API}},
		{"beta", nil},
		{"gamma", tenant.DefaultModules},
	}
	if len(list) != len(want) {
		t.Fatalf("List returned %d companies, want %d", len(list), len(want))
	}
	for i, w := range want {
		if list[i].Slug != w.slug {
			t.Errorf("List[%d] = %s, want %s", i, list[i].Slug, w.slug)
		}
		if !slices.Equal(list[i].Modules, w.modules) {
			t.Errorf("List[%d] (%s) modules = %v, want %v", i, list[i].Slug, list[i].Modules, w.modules)
		}
	}
}

func TestCount(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	for i, slug := range []string{"", "a", "b", "c"} {
		if slug != "" {
			e.create(t, tenant.CreateInput{Slug: slug, Name: slug})
		}
		n, err := e.svc.Count(ctx)
		if err != nil {
			t.Fatalf("Count: %v", err)
		}
		if n != i {
			t.Errorf("Count = %d, want %d", n, i)
		}
	}
	if _, err := e.svc.Create(ctx, audit.Operator, tenant.CreateInput{Slug: "a", Name: "again"}); !errors.Is(err, tenant.ErrConflict) {
		t.Fatalf("duplicate Create = %v, want ErrConflict", err)
	}
	if n, err := e.svc.Count(ctx); err != nil || n != 3 {
		t.Errorf("Count after a failed Create = %d, %v; want 3", n, err)
	}
}

func TestSetModules(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	acme := e.create(t, tenant.CreateInput{Slug: "acme", Name: "Acme"})
	beta := e.create(t, tenant.CreateInput{Slug: "beta", Name: "Beta"})
	tests := []struct {
		name string
		set  []tenant.Module
		want []tenant.Module
	}{
		{"one module", []tenant.Module{tenant.Whistleblowing}, []tenant.Module{tenant.Whistleblowing}},
		{"sorted into display order", []tenant.Module{tenant.API, tenant.Recruitment}, []tenant.Module{tenant.Recruitment, tenant.API}},
		{"duplicates", []tenant.Module{tenant.Statistics, tenant.Statistics}, []tenant.Module{tenant.Statistics}},
		{"all", slices.Clone(tenant.Modules), tenant.Modules},
		{"none (nil)", nil, nil},
		{"back to one", []tenant.Module{tenant.Recruitment}, []tenant.Module{tenant.Recruitment}},
		{"none (empty)", []tenant.Module{}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := e.svc.SetModules(ctx, audit.Operator, acme.ID, tt.set); err != nil {
				t.Fatalf("SetModules(%v): %v", tt.set, err)
			}
			got, err := e.svc.ByID(ctx, acme.ID)
			if err != nil {
				t.Fatalf("ByID: %v", err)
			}
			if !slices.Equal(got.Modules, tt.want) {
				t.Errorf("Modules = %v, want %v", got.Modules, tt.want)
			}
			if stored := e.storedModules(t, acme.ID); !slices.Equal(stored, sorted(tt.want)) {
				t.Errorf("stored modules = %v, want exactly %v", stored, tt.want)
			}
			if other := e.storedModules(t, beta.ID); !slices.Equal(other, sorted(tenant.DefaultModules)) {
				t.Errorf("other company's modules = %v, want %v", other, tenant.DefaultModules)
			}
		})
	}
}

func TestSetModulesErrors(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	acme := e.create(t, tenant.CreateInput{Slug: "acme", Name: "Acme", Modules: []tenant.Module{tenant.API}})
	tests := []struct {
		name     string
		tenantID string
		set      []tenant.Module
		wantErr  error
		wantVE   bool
	}{
		{"unknown module", acme.ID, []tenant.Module{"payroll"}, nil, true},
		{"unknown among known", acme.ID, []tenant.Module{tenant.Recruitment, "Recruitment"}, nil, true},
		{"empty module name", acme.ID, []tenant.Module{""}, nil, true},
		{"unknown company", id.New(), []tenant.Module{tenant.Recruitment}, tenant.ErrNotFound, false},
		{"company by slug", "acme", []tenant.Module{tenant.Recruitment}, tenant.ErrNotFound, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := e.svc.SetModules(ctx, audit.Operator, tt.tenantID, tt.set)
			if tt.wantVE {
				var ve *fault.Invalid
				if !errors.As(err, &ve) || !maps.Equal(ve.Fields, map[string]string{"modules": "error.module"}) {
					t.Errorf("err = %v, want ValidationError modules: error.module", err)
				}
			} else if !errors.Is(err, tt.wantErr) {
				t.Errorf("err = %v, want %v", err, tt.wantErr)
			}
			if got := e.storedModules(t, acme.ID); !slices.Equal(got, []tenant.Module{tenant.API}) {
				t.Errorf("modules after a failed SetModules = %v, want [api]", got)
			}
			if n := e.count(t, `SELECT count(*) FROM tenant_modules`); n != 1 {
				t.Errorf("tenant_modules rows = %d, want 1", n)
			}
		})
	}
}

func TestParseModules(t *testing.T) {
	tests := []struct {
		in      string
		want    []tenant.Module
		wantErr string // substring of the error, "" for none
	}{
		{"", []tenant.Module{}, ""},
		{" , ,", []tenant.Module{}, ""},
		{"recruitment", []tenant.Module{tenant.Recruitment}, ""},
		{" api , statistics ", []tenant.Module{tenant.API, tenant.Statistics}, ""},
		{"recruitment,,whistleblowing,", []tenant.Module{tenant.Recruitment, tenant.Whistleblowing}, ""},
		{"recruitment,whistleblowing,statistics,api", tenant.Modules, ""},
		{"payroll", nil, `unknown module "payroll"`},
		{"recruitment,payroll", nil, `unknown module "payroll"`},
		{"Recruitment", nil, `unknown module "Recruitment"`},
		{"recruitment;api", nil, `unknown module "recruitment;api"`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := tenant.ParseModules(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("err = %v, want one containing %q", err, tt.wantErr)
				}
				if got != nil {
					t.Errorf("modules = %v, want nil", got)
				}
				return
			}
			if err != nil {
				t.Fatalf("err = %v, want nil", err)
			}
			if got == nil || !slices.Equal(got, tt.want) {
				t.Errorf("ParseModules(%q) = %#v, want %#v", tt.in, got, tt.want)
			}
		})
	}
}

func TestCreateMakesDataKey(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	acme := e.create(t, tenant.CreateInput{Slug: "acme", Name: "Acme"})
	beta := e.create(t, tenant.CreateInput{Slug: "beta", Name: "Beta"})
	for _, c := range []*tenant.Tenant{acme, beta} {
		if n := e.count(t, `SELECT count(*) FROM tenant_keys WHERE tenant_id = $1`, c.ID); n != 1 {
			t.Errorf("data keys of %s = %d, want 1", c.Slug, n)
		}
	}
	field := keys.Field{Table: "candidates", Column: "name", Row: "r1"}
	ct, err := e.keys.Encrypt(ctx, acme.ID, field, []byte("Ada"))
	if err != nil {
		t.Fatalf("Encrypt with the new company's key: %v", err)
	}
	if pt, err := e.keys.Decrypt(ctx, acme.ID, field, ct); err != nil || string(pt) != "Ada" {
		t.Errorf("Decrypt = %q, %v; want Ada", pt, err)
	}
	if _, err := e.keys.Decrypt(ctx, beta.ID, field, ct); err == nil {
		t.Errorf("another company's key decrypted the ciphertext")
	}
}

// keyCreator is a KeyCreator that looks at the transaction it is given.
type keyCreator struct {
	err  error
	seen string // slug of the company visible in the transaction
}

func (k *keyCreator) CreateTenantKey(ctx context.Context, tx *sql.Tx, tenantID string) error {
	if err := tx.QueryRowContext(ctx, `SELECT slug FROM tenants WHERE id = $1`, tenantID).Scan(&k.seen); err != nil {
		return err
	}
	return k.err
}

func TestCreateKeyInSameTransaction(t *testing.T) {
	ctx := context.Background()
	errKey := errors.New("key store down")
	tests := []struct {
		name    string
		err     error
		wantErr error
		want    int // companies afterwards
	}{
		{"key created", nil, nil, 1},
		{"key fails", errKey, errKey, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := dbtest.Open(t)
			kc := &keyCreator{err: tt.err}
			svc := tenant.NewService(d, kc, audit.NewLog(d, nil, audit.DefaultRules))
			c, err := svc.Create(ctx, audit.Operator, tenant.CreateInput{Slug: "acme", Name: "Acme"})
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Create = %v, want %v", err, tt.wantErr)
			}
			if kc.seen != "acme" {
				t.Errorf("key creator saw company %q in its transaction, want acme", kc.seen)
			}
			if n, err := svc.Count(ctx); err != nil || n != tt.want {
				t.Errorf("Count = %d, %v; want %d", n, err, tt.want)
			}
			var modules int
			if err := d.Write.QueryRowContext(ctx, `SELECT count(*) FROM tenant_modules`).Scan(&modules); err != nil {
				t.Fatalf("count modules: %v", err)
			}
			if want := tt.want * len(tenant.DefaultModules); modules != want {
				t.Errorf("tenant_modules rows = %d, want %d", modules, want)
			}
			if tt.wantErr != nil && c != nil {
				t.Errorf("company = %+v, want nil", c)
			}
		})
	}
}

func TestCreateTxRollsBack(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	errLater := errors.New("a later step failed")
	err := e.db.InTx(ctx, db.Installation, func(tx *sql.Tx) error {
		if _, err := e.svc.CreateTx(ctx, tx, audit.Operator, tenant.CreateInput{Slug: "acme", Name: "Acme"}); err != nil {
			return err
		}
		return errLater
	})
	if !errors.Is(err, errLater) {
		t.Fatalf("InTx = %v, want %v", err, errLater)
	}
	for _, tb := range []string{"tenants", "tenant_modules", "tenant_keys"} {
		if n := e.count(t, `SELECT count(*) FROM `+tb); n != 0 {
			t.Errorf("%s rows = %d after rollback, want 0", tb, n)
		}
	}
	if _, err := e.svc.BySlug(ctx, "acme"); !errors.Is(err, tenant.ErrNotFound) {
		t.Errorf("BySlug after rollback = %v, want ErrNotFound", err)
	}
}
