// Package tenant manages companies: the tenants of an installation, their
// settings and the modules the operator has enabled for each.
package tenant

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/kandidat/kandidat/internal/audit"
	"github.com/kandidat/kandidat/internal/db"
	"github.com/kandidat/kandidat/internal/fault"
	"github.com/kandidat/kandidat/internal/id"
)

// Module is a part of the product the operator enables per company.
type Module string

// The modules. A disabled module's pages and API answer 404 for the company.
const (
	Recruitment    Module = "recruitment"
	Whistleblowing Module = "whistleblowing"
	Statistics     Module = "statistics"
	API            Module = "api"
)

// Modules lists every module in display order.
var Modules = []Module{Recruitment, Whistleblowing, Statistics, API}

// DefaultModules are enabled for a new company unless the operator says otherwise.
var DefaultModules = []Module{Recruitment, Statistics}

// Languages are the languages Kandidat speaks.
var Languages = []string{"en", "sv", "nb", "sk", "cs"}

// Tenant is a company using the installation.
type Tenant struct {
	ID                 string
	Slug               string
	Name               string
	RegistrationNumber string
	DefaultLanguage    string
	Modules            []Module
	Settings           Settings
	CreatedAt          time.Time
}

// Settings are a company's preferences, stored as JSON.
type Settings struct {
	// PasswordProfile is "standard" (the default) or "strict".
	PasswordProfile string `json:"password_profile,omitempty"`
	// RequireMFA sends every user without a second factor to enrol one.
	RequireMFA bool `json:"require_mfa,omitempty"`
	// RequireMFARoles does the same for users of these roles only.
	RequireMFARoles []string `json:"require_mfa_roles,omitempty"`
	// FreePublications is how many positions a month are published to the
	// career page free of charge (nil: DefaultFreePublications).
	FreePublications *int `json:"free_publications,omitempty"`
	// PublicationCost is the credits a publication beyond the free
	// allowance costs (nil: DefaultPublicationCost).
	PublicationCost *int `json:"publication_cost,omitempty"`
	// SessionIdle and SessionAbsolute shorten the installation's session
	// timeouts for the company's users (0: the installation's). They are
	// kept in columns of their own, read with every session.
	SessionIdle     time.Duration `json:"-"`
	SessionAbsolute time.Duration `json:"-"`
	// TimeZone is where the company works (an IANA name; "": the one its
	// default language suggests): interviews are proposed in it.
	TimeZone string `json:"time_zone,omitempty"`
	// PrivacyContact is the address candidates write to about their data,
	// shown on the career page and in consent texts ("": none shown).
	PrivacyContact string `json:"privacy_contact,omitempty"`
	// CareerColour is the accent colour of the career page, "#rrggbb"
	// ("": the product's own).
	CareerColour string `json:"career_colour,omitempty"`
	// CareerLogo is the version of the career page's logo (SaveLogo), ""
	// for none.
	CareerLogo string `json:"career_logo,omitempty"`
	// Privacy is the company's privacy policy (retention of the bases,
	// automatic erasure, the records of processing).
	Privacy Privacy `json:"privacy,omitzero"`
}

// Defaults of the publication allowance.
const (
	DefaultFreePublications = 3
	DefaultPublicationCost  = 1
	maxAllowance            = 100_000
)

// FreePublicationsPerMonth is the company's free allowance of publications a month.
func (s Settings) FreePublicationsPerMonth() int {
	if s.FreePublications == nil {
		return DefaultFreePublications
	}
	return *s.FreePublications
}

// PublicationCredits is what one publication beyond the allowance costs.
func (s Settings) PublicationCredits() int {
	if s.PublicationCost == nil {
		return DefaultPublicationCost
	}
	return *s.PublicationCost
}

// MFARequiredFor reports whether the company requires a second factor of a role.
func (s Settings) MFARequiredFor(role string) bool {
	return s.RequireMFA || slices.Contains(s.RequireMFARoles, role)
}

// PasswordProfiles are the allowed values of Settings.PasswordProfile.
var PasswordProfiles = []string{"standard", "strict"}

// ParseSettings reads stored settings; unreadable settings are the defaults.
func ParseSettings(s string) Settings {
	var out Settings
	_ = json.Unmarshal([]byte(s), &out)
	if !slices.Contains(PasswordProfiles, out.PasswordProfile) {
		out.PasswordProfile = "standard"
	}
	return out
}

// Validate checks settings, every field at once: the command line and the
// settings page apply the same rules.
func (in Settings) Validate() error {
	fields := map[string]string{}
	in.validate(fields)
	if len(fields) > 0 {
		return &fault.Invalid{Fields: fields}
	}
	return nil
}

func (in Settings) validate(fields map[string]string) {
	in.validateProfile(fields)
	in.validateSessions(fields)
	if !slices.Contains(PasswordProfiles, in.PasswordProfile) {
		fields["password_profile"] = "error.password_profile"
	}
	for _, r := range in.RequireMFARoles {
		if !idPattern.MatchString(r) {
			fields["require_mfa_roles"] = "error.role"
		}
	}
	if n := in.FreePublications; n != nil && (*n < 0 || *n > maxAllowance) {
		fields["free_publications"] = "error.allowance"
	}
	if n := in.PublicationCost; n != nil && (*n < 0 || *n > maxAllowance) {
		fields["publication_cost"] = "error.allowance"
	}
}

// SetSettings replaces a company's settings on behalf of actor.
func (s *Service) SetSettings(ctx context.Context, actor audit.Actor, tenantID string, in Settings) error {
	if err := in.Validate(); err != nil {
		return err
	}
	b, _ := json.Marshal(in)
	return s.db.InTx(ctx, tenantID, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE tenants SET settings = $2, updated_at = $3, session_idle_seconds = $4, session_absolute_seconds = $5 WHERE id = $1`,
			tenantID, string(b), db.Now(), seconds(in.SessionIdle), seconds(in.SessionAbsolute))
		if err != nil {
			return fmt.Errorf("update settings: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrNotFound
		}
		return s.audit.Record(ctx, tx, audit.Event{TenantID: tenantID, Action: audit.TenantSettingsChanged, Actor: actor,
			Objects: []audit.Ref{{Kind: "tenant", ID: tenantID}}, Details: map[string]string{"password_profile": in.PasswordProfile, "require_mfa": strconv.FormatBool(in.RequireMFA)}})
	})
}

// Enabled reports whether module m is on for the company.
func (t *Tenant) Enabled(m Module) bool { return slices.Contains(t.Modules, m) }

// Errors of this package.
var (
	ErrNotFound = fault.New(fault.ErrNotFound, "company not found", "")
	ErrConflict = fault.NewField(fault.ErrConflict, "slug", "a company with this sign-in name already exists", "error.slug_taken")
)

// KeyCreator creates a company's data key inside the transaction that creates the company.
type KeyCreator interface {
	CreateTenantKey(ctx context.Context, tx *sql.Tx, tenantID string) error
}

// Service holds the rules about companies.
type Service struct {
	db    *db.DB
	keys  KeyCreator
	audit *audit.Log
}

// NewService returns a Service.
func NewService(d *db.DB, keys KeyCreator, log *audit.Log) *Service {
	return &Service{db: d, keys: keys, audit: log}
}

// CreateInput is what it takes to create a company.
type CreateInput struct {
	Slug               string
	Name               string
	RegistrationNumber string
	DefaultLanguage    string
	Modules            []Module // nil means DefaultModules
	// Via says how the company came to be, for the trail: setup, cli or demo.
	Via string
	// ID is normally empty (a new random id); `kandidat seed` gives its
	// own, so that the same seed makes the same data.
	ID string
}

var idPattern = regexp.MustCompile(`^[a-z0-9_-]{1,64}$`)

var slugPattern = regexp.MustCompile(`^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$`)

// reservedSlugs would collide with routes or confuse people.
var reservedSlugs = []string{"admin", "api", "static", "setup", "login", "signin", "careers", "report", "www"}

// Validate checks the input and normalises it in place.
func (in *CreateInput) Validate() error {
	fields := map[string]string{}
	in.Slug = strings.ToLower(strings.TrimSpace(in.Slug))
	in.Name = strings.TrimSpace(in.Name)
	in.RegistrationNumber = strings.TrimSpace(in.RegistrationNumber)
	switch {
	case !slugPattern.MatchString(in.Slug):
		fields["slug"] = "error.slug_format"
	case slices.Contains(reservedSlugs, in.Slug):
		fields["slug"] = "error.slug_reserved"
	}
	if !validName(in.Name) {
		fields["name"] = "error.company_name"
	}
	if utf8.RuneCountInString(in.RegistrationNumber) > 50 || !utf8.ValidString(in.RegistrationNumber) || hasControl(in.RegistrationNumber) {
		fields["registration_number"] = "error.registration_number"
	}
	if in.DefaultLanguage == "" {
		in.DefaultLanguage = "en"
	}
	if !slices.Contains(Languages, in.DefaultLanguage) {
		fields["default_language"] = "error.language"
	}
	if in.Modules == nil {
		in.Modules = slices.Clone(DefaultModules)
	}
	for _, m := range in.Modules {
		if !slices.Contains(Modules, m) {
			fields["modules"] = "error.module"
		}
	}
	if len(fields) > 0 {
		return &fault.Invalid{Fields: fields}
	}
	return nil
}

// validName reports whether a (trimmed) company name can be used.
func validName(name string) bool {
	return name != "" && utf8.ValidString(name) && utf8.RuneCountInString(name) <= 200 && !hasControl(name)
}

func hasControl(s string) bool {
	for _, r := range s {
		if r < 0x20 || (r >= 0x7f && r <= 0x9f) {
			return true
		}
	}
	return false
}

// Create creates a company with its data key.
func (s *Service) Create(ctx context.Context, actor audit.Actor, in CreateInput) (*Tenant, error) {
	var t *Tenant
	// A new company is the installation's act: its id is made inside.
	err := s.db.InTx(ctx, db.Installation, func(tx *sql.Tx) error {
		var err error
		t, err = s.CreateTx(ctx, tx, actor, in)
		return err
	})
	return t, err
}

const insertTenant = `INSERT INTO tenants (id, slug, name, registration_number, default_language, settings, created_at, updated_at)
VALUES ($1, $2, $3, $4, $5, '{}', $6, $6)`

const insertModule = `INSERT INTO tenant_modules (tenant_id, module, enabled_at) VALUES ($1, $2, $3)`

// CreateTx creates a company inside the caller's transaction, so that a
// company and its first administrator are created together or not at all.
func (s *Service) CreateTx(ctx context.Context, tx *sql.Tx, actor audit.Actor, in CreateInput) (*Tenant, error) {
	if err := in.Validate(); err != nil {
		return nil, err
	}
	now := db.Now()
	tenantID := in.ID
	if tenantID == "" {
		tenantID = id.New()
	} else if !id.Valid(tenantID) {
		return nil, fmt.Errorf("company id %q is not valid", tenantID)
	}
	t := &Tenant{
		ID: tenantID, Slug: in.Slug, Name: in.Name, RegistrationNumber: in.RegistrationNumber,
		DefaultLanguage: in.DefaultLanguage, Modules: sortModules(in.Modules), CreatedAt: now,
	}
	if _, err := tx.ExecContext(ctx, insertTenant, t.ID, t.Slug, t.Name, t.RegistrationNumber, t.DefaultLanguage, now); err != nil {
		if err := db.MapError(err); errors.Is(err, db.ErrUniqueViolation) {
			return nil, ErrConflict
		}
		return nil, fmt.Errorf("insert company: %w", err)
	}
	for _, m := range t.Modules {
		if _, err := tx.ExecContext(ctx, insertModule, t.ID, string(m), now); err != nil {
			return nil, fmt.Errorf("enable module %s: %w", m, err)
		}
	}
	if err := s.keys.CreateTenantKey(ctx, tx, t.ID); err != nil {
		return nil, fmt.Errorf("create data key: %w", err)
	}
	via := in.Via
	if via == "" {
		via = "cli"
	}
	if err := s.audit.Record(ctx, tx, audit.Event{TenantID: t.ID, Action: audit.TenantCreated, Actor: actor,
		Objects: []audit.Ref{{Kind: "tenant", ID: t.ID}},
		Details: map[string]string{"via": via, "modules": moduleCSV(t.Modules), "language": t.DefaultLanguage}}); err != nil {
		return nil, err
	}
	return t, nil
}

func moduleCSV(ms []Module) string {
	parts := make([]string, len(ms))
	for i, m := range ms {
		parts[i] = string(m)
	}
	return strings.Join(parts, ",")
}

func sortModules(ms []Module) []Module {
	var out []Module
	for _, m := range Modules {
		if slices.Contains(ms, m) {
			out = append(out, m)
		}
	}
	return out
}

const selectTenant = `SELECT id, slug, name, registration_number, default_language, settings, created_at,
	COALESCE(session_idle_seconds, 0), COALESCE(session_absolute_seconds, 0) FROM tenants`

// scanTenant reads a row of selectTenant.
func scanTenant(row interface{ Scan(...any) error }) (*Tenant, error) {
	var t Tenant
	var settings string
	var idle, absolute int64
	if err := row.Scan(&t.ID, &t.Slug, &t.Name, &t.RegistrationNumber, &t.DefaultLanguage, &settings, &t.CreatedAt, &idle, &absolute); err != nil {
		return nil, err
	}
	t.Settings = ParseSettings(settings)
	t.Settings.SessionIdle = time.Duration(idle) * time.Second
	t.Settings.SessionAbsolute = time.Duration(absolute) * time.Second
	return &t, nil
}

// ByID returns a company by id.
func (s *Service) ByID(ctx context.Context, id string) (*Tenant, error) {
	return s.one(ctx, selectTenant+` WHERE id = $1`, id)
}

// BySlug returns a company by its sign-in name (slug).
func (s *Service) BySlug(ctx context.Context, slug string) (*Tenant, error) {
	return s.one(ctx, selectTenant+` WHERE slug = $1`, strings.ToLower(slug))
}

// ByRef returns a company by id or slug, for operators at the command line.
func (s *Service) ByRef(ctx context.Context, ref string) (*Tenant, error) {
	t, err := s.BySlug(ctx, ref)
	if errors.Is(err, ErrNotFound) {
		return s.ByID(ctx, ref)
	}
	return t, err
}

func (s *Service) one(ctx context.Context, q string, arg string) (*Tenant, error) {
	var t *Tenant
	// The companies table belongs to the installation (it has no company
	// column); the company is what the lookup finds.
	err := s.db.ReadTx(ctx, db.Installation, func(tx *sql.Tx) (err error) {
		t, err = scanTenant(tx.QueryRowContext(ctx, q, arg))
		return err
	})
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("read company: %w", err)
	}
	if t.Modules, err = s.modules(ctx, t.ID); err != nil {
		return nil, err
	}
	return t, nil
}

func (s *Service) modules(ctx context.Context, tenantID string) ([]Module, error) {
	var ms []Module
	err := s.db.ReadTx(ctx, tenantID, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT module FROM tenant_modules WHERE tenant_id = $1`, tenantID)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var m string
			if err := rows.Scan(&m); err != nil {
				return err
			}
			ms = append(ms, Module(m))
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("read modules: %w", err)
	}
	return sortModules(ms), nil
}

// List returns every company, by name.
func (s *Service) List(ctx context.Context) ([]*Tenant, error) {
	var out []*Tenant
	err := s.db.ReadTx(ctx, db.Installation, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, selectTenant+` ORDER BY name, slug`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			t, err := scanTenant(rows)
			if err != nil {
				return err
			}
			out = append(out, t)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("list companies: %w", err)
	}
	for _, t := range out {
		if t.Modules, err = s.modules(ctx, t.ID); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Count returns the number of companies.
func (s *Service) Count(ctx context.Context) (int, error) {
	var n int
	err := s.db.ReadTx(ctx, db.Installation, func(tx *sql.Tx) error {
		return tx.QueryRowContext(ctx, `SELECT count(*) FROM tenants`).Scan(&n)
	})
	return n, err
}

// SetModules sets exactly the enabled modules of a company.
func (s *Service) SetModules(ctx context.Context, actor audit.Actor, tenantID string, modules []Module) error {
	for _, m := range modules {
		if !slices.Contains(Modules, m) {
			return fault.Field("modules", "error.module")
		}
	}
	return s.db.InTx(ctx, tenantID, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE tenants SET updated_at = $2 WHERE id = $1`, tenantID, db.Now())
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrNotFound
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM tenant_modules WHERE tenant_id = $1`, tenantID); err != nil {
			return err
		}
		now := db.Now()
		modules = sortModules(modules)
		for _, m := range modules {
			if _, err := tx.ExecContext(ctx, insertModule, tenantID, string(m), now); err != nil {
				return fmt.Errorf("enable module %s: %w", m, err)
			}
		}
		return s.audit.Record(ctx, tx, audit.Event{TenantID: tenantID, Action: audit.ModulesChanged, Actor: actor,
			Objects: []audit.Ref{{Kind: "tenant", ID: tenantID}}, Details: map[string]string{"modules": moduleCSV(modules)}})
	})
}

// ParseModules parses a comma-separated module list.
func ParseModules(s string) ([]Module, error) {
	out := []Module{}
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		m := Module(part)
		if !slices.Contains(Modules, m) {
			return nil, fmt.Errorf("unknown module %q (modules: recruitment, whistleblowing, statistics, api)", part)
		}
		out = append(out, m)
	}
	return out, nil
}

// CompanyUpdate is what a company's administrator changes on the settings
// page: the company's name, its default language and its settings.
type CompanyUpdate struct {
	Name            string
	DefaultLanguage string
	Settings        Settings
}

// Validate checks an update, every field at once.
func (in CompanyUpdate) Validate() error {
	fields := map[string]string{}
	if !validName(strings.TrimSpace(in.Name)) {
		fields["name"] = "error.company_name"
	}
	if !slices.Contains(Languages, in.DefaultLanguage) {
		fields["default_language"] = "error.language"
	}
	in.Settings.validate(fields)
	if len(fields) > 0 {
		return &fault.Invalid{Fields: fields}
	}
	return nil
}

// SettingsFields are the names of what UpdateCompany may change, as the
// trail lists them.
var SettingsFields = []string{"name", "default_language", "password_profile", "require_mfa", "require_mfa_roles", "free_publications", "publication_cost"}

// UpdateCompany changes a company's name, default language and settings
// together on behalf of actor, with the same rules as company creation and
// SetSettings. The trail records which of them changed (never the name
// itself): every save is recorded, also one that changed nothing.
func (s *Service) UpdateCompany(ctx context.Context, actor audit.Actor, tenantID string, in CompanyUpdate) error {
	if err := in.Validate(); err != nil {
		return err
	}
	in.Name = strings.TrimSpace(in.Name)
	b, _ := json.Marshal(in.Settings)
	return s.db.InTx(ctx, tenantID, func(tx *sql.Tx) error {
		var name, lang, stored string
		err := tx.QueryRowContext(ctx, `SELECT name, default_language, settings FROM tenants WHERE id = $1`, tenantID).Scan(&name, &lang, &stored)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("read company: %w", err)
		}
		changed := changedFields(name, lang, ParseSettings(stored), in)
		if _, err := tx.ExecContext(ctx, `UPDATE tenants SET name = $2, default_language = $3, settings = $4, updated_at = $5 WHERE id = $1`,
			tenantID, in.Name, in.DefaultLanguage, string(b), db.Now()); err != nil {
			return fmt.Errorf("update company: %w", err)
		}
		return s.audit.Record(ctx, tx, audit.Event{TenantID: tenantID, Action: audit.TenantSettingsChanged, Actor: actor,
			Objects: []audit.Ref{{Kind: "tenant", ID: tenantID}},
			Details: map[string]string{"password_profile": in.Settings.PasswordProfile, "require_mfa": strconv.FormatBool(in.Settings.RequireMFA),
				"fields": strings.Join(changed, ",")}})
	})
}

// changedFields lists, in SettingsFields order, what an update changes.
func changedFields(name, lang string, old Settings, in CompanyUpdate) []string {
	n := in.Settings
	differs := map[string]bool{
		"name":              name != in.Name,
		"default_language":  lang != in.DefaultLanguage,
		"password_profile":  old.PasswordProfile != n.PasswordProfile,
		"require_mfa":       old.RequireMFA != n.RequireMFA,
		"require_mfa_roles": !sameSet(old.RequireMFARoles, n.RequireMFARoles),
		"free_publications": old.FreePublicationsPerMonth() != n.FreePublicationsPerMonth(),
		"publication_cost":  old.PublicationCredits() != n.PublicationCredits(),
	}
	var out []string
	for _, f := range SettingsFields {
		if differs[f] {
			out = append(out, f)
		}
	}
	return out
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(slices.Compact(a), slices.Compact(b))
}
