package cli

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/kandidat/kandidat/internal/audit"
	"github.com/kandidat/kandidat/internal/config"
	"github.com/kandidat/kandidat/internal/fault"
	"github.com/kandidat/kandidat/internal/i18n"
	"github.com/kandidat/kandidat/internal/tenant"
)

// tenantCreate is "tenant create": a company with its data key.
func tenantCreate(ctx context.Context, env *Env, args []string) error {
	f := newFlags(env, "tenant create", "tenant create --slug acme --name \"ACME Ltd\" [flags]", config.Installation)
	in := tenant.CreateInput{Via: "cli"}
	f.StringVar(&in.Slug, "slug", "", "short name used in public addresses (lower-case letters, digits, hyphens)")
	f.StringVar(&in.Name, "name", "", "company name")
	f.StringVar(&in.RegistrationNumber, "registration-number", "", "company registration number")
	f.StringVar(&in.DefaultLanguage, "language", "en", "default language: en, sv, nb, sk, cs")
	modules := f.String("modules", "recruitment,statistics", "enabled modules, comma-separated: recruitment, whistleblowing, statistics, api")
	if err := f.parse(args); err != nil {
		return err
	}
	var err error
	if in.Modules, err = tenant.ParseModules(*modules); err != nil {
		return fmt.Errorf("--modules: %v", err)
	}
	a, err := f.open(ctx)
	if err != nil {
		return err
	}
	defer a.Close()
	t, err := a.Tenants.Create(ctx, audit.Operator, in)
	if err != nil {
		return tenantError(err)
	}
	fmt.Fprintf(env.Stdout, "created company %s (%s), id %s\n", t.Name, t.Slug, t.ID)
	return nil
}

// tenantList is "tenant list": every company, one a line.
func tenantList(ctx context.Context, env *Env, args []string) error {
	f := newFlags(env, "tenant list", "tenant list [flags]", config.Installation)
	a, err := f.parseOpen(ctx, args)
	if err != nil {
		return err
	}
	defer a.Close()
	ts, err := a.Tenants.List(ctx)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SLUG\tNAME\tID\tLANGUAGE\tMODULES")
	for _, t := range ts {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", t.Slug, t.Name, t.ID, t.DefaultLanguage, moduleList(t.Modules))
	}
	return tw.Flush()
}

// tenantShow is "tenant show": one company and its number of users.
func tenantShow(ctx context.Context, env *Env, args []string) error {
	f := newFlags(env, "tenant show", "tenant show --tenant SLUG|ID [flags]", config.Installation)
	ref := f.String("tenant", "", "company slug or id")
	a, t, err := f.openCompany(ctx, args, ref)
	if err != nil {
		return err
	}
	defer a.Close()
	users, err := a.Accounts.CountUsers(ctx, t.ID)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "id:                  %s\nslug:                %s\nname:                %s\nregistration number: %s\ndefault language:    %s\nmodules:             %s\nusers:               %d\ncreated:             %s\n",
		t.ID, t.Slug, t.Name, t.RegistrationNumber, t.DefaultLanguage, moduleList(t.Modules), users, t.CreatedAt.Format("2006-01-02 15:04:05 MST"))
	return nil
}

// tenantSettings is "tenant settings": shows a company's settings, after
// changing those its flags give.
func tenantSettings(ctx context.Context, env *Env, args []string) error {
	f := newFlags(env, "tenant settings", "tenant settings --tenant SLUG|ID [--password-profile standard|strict] [flags]", config.Installation)
	ref := f.String("tenant", "", "company slug or id")
	var c settingsChange
	f.StringVar(&c.profile, "password-profile", "", "standard (8-128 characters, two character classes) or strict (at least 15 characters)")
	f.StringVar(&c.requireMFA, "require-mfa", "", "true: every user must set up two-factor sign-in; false: each user chooses")
	f.StringVar(&c.requireRoles, "require-mfa-roles", "", "roles that must set up two-factor sign-in, comma-separated (e.g. administrator,hr_manager); \"-\" for none")
	f.IntVar(&c.free, "free-publications", -1, fmt.Sprintf("positions published free of charge each month (default %d)", tenant.DefaultFreePublications))
	f.IntVar(&c.cost, "publication-cost", -1, fmt.Sprintf("credits one publication beyond the free allowance costs (default %d)", tenant.DefaultPublicationCost))
	f.StringVar(&c.timeZone, "time-zone", "", "the company's time zone, an IANA name such as Europe/Oslo (interviews are proposed in it); \"-\" for the one its language suggests")
	f.StringVar(&c.privacyContact, "privacy-contact", "", "email address candidates write to about their data, shown on the career page; \"-\" for none")
	f.StringVar(&c.colour, "career-colour", "", "accent colour of the career page, #rrggbb; \"-\" for the standard one")
	f.StringVar(&c.idle, "session-idle-timeout", "", "sign the company's users out after this long without activity, shorter than the installation's (e.g. 15m); 0 for the installation's")
	f.StringVar(&c.absolute, "session-absolute-timeout", "", "sign the company's users out this long after sign-in (e.g. 8h); 0 for the installation's")
	a, t, err := f.openCompany(ctx, args, ref)
	if err != nil {
		return err
	}
	defer a.Close()
	if c.any() {
		settings, err := c.apply(t.Settings)
		if err != nil {
			return err
		}
		if err := a.Tenants.SetSettings(ctx, audit.Operator, t.ID, settings); err != nil {
			return tenantError(err)
		}
		t.Settings = settings
	}
	fmt.Fprintf(env.Stdout, "password profile: %s\nrequire two-factor sign-in: %v\nrequire it of roles: %s\nfree publications a month: %d\npublication cost in credits: %d\n",
		t.Settings.PasswordProfile, t.Settings.RequireMFA, strings.Join(t.Settings.RequireMFARoles, ","),
		t.Settings.FreePublicationsPerMonth(), t.Settings.PublicationCredits())
	fmt.Fprintf(env.Stdout, "time zone: %s\nprivacy contact: %s\ncareer page colour: %s\nsession idle timeout: %s\nsession absolute timeout: %s\n",
		t.Zone(), orNone(t.Settings.PrivacyContact), orNone(t.Settings.CareerColour),
		orInstallation(t.Settings.SessionIdle), orInstallation(t.Settings.SessionAbsolute))
	return nil
}

// settingsChange is what the flags of tenant settings change: an empty
// string or a negative number leaves the company's value as it is.
type settingsChange struct {
	profile, requireMFA, requireRoles string
	free, cost                        int
	timeZone, privacyContact, colour  string
	idle, absolute                    string
}

func (c settingsChange) any() bool {
	return c.profile != "" || c.requireMFA != "" || c.requireRoles != "" || c.free >= 0 || c.cost >= 0 ||
		c.timeZone != "" || c.privacyContact != "" || c.colour != "" || c.idle != "" || c.absolute != ""
}

// orNone shows an empty setting as "(none)".
func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

// orInstallation shows a company's own timeout, or that it follows the installation.
func orInstallation(d time.Duration) string {
	if d == 0 {
		return "the installation's"
	}
	return d.String()
}

// cleared reads a text flag where "-" clears the setting.
func cleared(v string) string {
	if v == "-" {
		return ""
	}
	return strings.TrimSpace(v)
}

// apply returns s with the changes made.
func (c settingsChange) apply(s tenant.Settings) (tenant.Settings, error) {
	if c.free >= 0 {
		s.FreePublications = &c.free
	}
	if c.cost >= 0 {
		s.PublicationCost = &c.cost
	}
	if c.profile != "" {
		s.PasswordProfile = c.profile
	}
	if c.requireMFA != "" {
		b, err := strconv.ParseBool(c.requireMFA)
		if err != nil {
			return s, fmt.Errorf("--require-mfa: %q is not true or false", c.requireMFA)
		}
		s.RequireMFA = b
	}
	if c.timeZone != "" {
		s.TimeZone = cleared(c.timeZone)
	}
	if c.privacyContact != "" {
		s.PrivacyContact = cleared(c.privacyContact)
	}
	if c.colour != "" {
		s.CareerColour = strings.ToLower(cleared(c.colour))
	}
	for _, d := range []struct {
		flag, value string
		to          *time.Duration
	}{{"--session-idle-timeout", c.idle, &s.SessionIdle}, {"--session-absolute-timeout", c.absolute, &s.SessionAbsolute}} {
		if d.value == "" {
			continue
		}
		v, err := time.ParseDuration(d.value)
		if d.value == "0" {
			v, err = 0, nil
		}
		if err != nil || v < 0 {
			return s, fmt.Errorf("%s: %q is not a duration like 15m or 8h", d.flag, d.value)
		}
		*d.to = v
	}
	if c.requireRoles != "" {
		s.RequireMFARoles = nil
		for _, r := range strings.Split(c.requireRoles, ",") {
			if r = strings.TrimSpace(r); r != "" && r != "-" {
				s.RequireMFARoles = append(s.RequireMFARoles, r)
			}
		}
	}
	return s, nil
}

// tenantModules is "tenant modules": shows which modules a company has on,
// after switching those its flags name.
func tenantModules(ctx context.Context, env *Env, args []string) error {
	f := newFlags(env, "tenant modules", "tenant modules --tenant SLUG|ID [--enable m1,m2] [--disable m3] [flags]", config.Installation)
	ref := f.String("tenant", "", "company slug or id")
	enable := f.String("enable", "", "modules to switch on, comma-separated")
	disable := f.String("disable", "", "modules to switch off, comma-separated")
	if err := f.parse(args); err != nil {
		return err
	}
	on, err := tenant.ParseModules(*enable)
	if err != nil {
		return fmt.Errorf("--enable: %v", err)
	}
	off, err := tenant.ParseModules(*disable)
	if err != nil {
		return fmt.Errorf("--disable: %v", err)
	}
	a, t, err := f.openTenant(ctx, *ref)
	if err != nil {
		return err
	}
	defer a.Close()
	if len(on)+len(off) > 0 {
		if err := a.Tenants.SetModules(ctx, audit.Operator, t.ID, switchModules(t.Modules, on, off)); err != nil {
			return tenantError(err)
		}
		if t, err = a.Tenants.ByID(ctx, t.ID); err != nil {
			return err
		}
	}
	for _, m := range tenant.Modules {
		state := "off"
		if t.Enabled(m) {
			state = "on"
		}
		fmt.Fprintf(env.Stdout, "%-15s %s\n", m, state)
	}
	return nil
}

// switchModules returns the modules of have with those of on added and
// those of off taken away.
func switchModules(have, on, off []tenant.Module) []tenant.Module {
	set := map[tenant.Module]bool{}
	for _, m := range have {
		set[m] = true
	}
	for _, m := range on {
		set[m] = true
	}
	for _, m := range off {
		delete(set, m)
	}
	var ms []tenant.Module
	for m := range set {
		ms = append(ms, m)
	}
	return ms
}

func moduleList(ms []tenant.Module) string {
	var parts []string
	for _, m := range ms {
		parts = append(parts, string(m))
	}
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, ",")
}

// fieldMessages are the command line's words for validation message keys.
var fieldMessages = map[string]string{
	"error.slug_format":               "use 1 to 63 lower-case letters, digits and hyphens, not starting or ending with a hyphen",
	"error.slug_reserved":             "this short name is reserved",
	"error.company_name":              "give a name of at most 200 characters",
	"error.registration_number":       "at most 50 characters",
	"error.language":                  "one of en, sv, nb, sk, cs",
	"error.module":                    "unknown module",
	"error.password_profile":          "standard or strict",
	"error.password_common":           "too common a password",
	"error.password_trivial":          "a simple sequence or repetition",
	"error.password_contains_company": "must not contain the company name",
	"error.password_short_strict":     "at least 15 characters",
	"error.login_format":              "use 3 to 100 letters, digits or . _ @ + -",
	"error.email_format":              "not a valid email address",
	"error.display_name":              "give a name of at most 200 characters",
	"error.password_short":            "at least 8 characters",
	"error.password_long":             "at most 128 characters",
	"error.password_classes":          "use at least two of letters, digits, other characters",
	"error.password_contains_login":   "must not contain the login",
	"error.password_invalid":          "contains characters that cannot be used",
}

func describeFields(fields map[string]string, flagOf map[string]string) error {
	var parts []string
	for field, key := range fields {
		name := flagOf[field]
		if name == "" {
			name = strings.ReplaceAll(field, "_", "-")
		}
		msg := fieldMessages[key]
		if msg == "" {
			msg = englishMessage(key)
		}
		parts = append(parts, "--"+name+": "+msg)
	}
	sortStrings(parts)
	return errors.New(strings.Join(parts, "; "))
}

func tenantError(err error) error {
	var ve *fault.Invalid
	switch {
	case errors.As(err, &ve):
		return describeFields(ve.Fields, map[string]string{"default_language": "language", "password_profile": "password-profile",
			"time_zone": "time-zone", "privacy_contact": "privacy-contact", "career_colour": "career-colour",
			"session_idle": "session-idle-timeout", "session_absolute": "session-absolute-timeout"})
	case errors.Is(err, tenant.ErrNotFound):
		return errors.New("--tenant: no company with this slug or id; see kandidat tenant list")
	case errors.Is(err, tenant.ErrConflict):
		return errors.New("--slug: another company already uses this short name")
	}
	return err
}

// englishMessage is the English catalogue's text of a message key, the
// key itself if the catalogue cannot be read.
func englishMessage(key string) string {
	b, err := i18n.Load()
	if err != nil {
		return key
	}
	return b.T("en", key)
}
