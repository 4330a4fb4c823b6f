package cli

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/kandidat/kandidat/internal/audit"
	"github.com/kandidat/kandidat/internal/config"
	"github.com/kandidat/kandidat/internal/i18n"
	"github.com/kandidat/kandidat/internal/tenant"
)

func runTenant(ctx context.Context, env *Env, args []string) error {
	return subcommand(env, "tenant", args, map[string]func([]string) error{
		"create": func(args []string) error {
			f := newFlags(env, "tenant create", "tenant create --slug acme --name \"ACME Ltd\" [flags]", config.Installation)
			slug := f.String("slug", "", "short name used in public addresses (lower-case letters, digits, hyphens)")
			name := f.String("name", "", "company name")
			reg := f.String("registration-number", "", "company registration number")
			lang := f.String("language", "en", "default language: en, sv, nb, sk, cs")
			modules := f.String("modules", "recruitment,statistics", "enabled modules, comma-separated: recruitment, whistleblowing, statistics, api")
			if err := f.parse(args); err != nil {
				return err
			}
			ms, err := tenant.ParseModules(*modules)
			if err != nil {
				return fmt.Errorf("--modules: %v", err)
			}
			a, err := f.open(ctx, false)
			if err != nil {
				return err
			}
			defer a.Close()
			t, err := a.Tenants.Create(ctx, audit.Operator, tenant.CreateInput{Slug: *slug, Name: *name, RegistrationNumber: *reg, DefaultLanguage: *lang, Modules: ms, Via: "cli"})
			if err != nil {
				return tenantError(err)
			}
			fmt.Fprintf(env.Stdout, "created company %s (%s), id %s\n", t.Name, t.Slug, t.ID)
			return nil
		},
		"list": func(args []string) error {
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
		},
		"show": func(args []string) error {
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
		},
		"settings": func(args []string) error {
			f := newFlags(env, "tenant settings", "tenant settings --tenant SLUG|ID [--password-profile standard|strict] [flags]", config.Installation)
			ref := f.String("tenant", "", "company slug or id")
			profile := f.String("password-profile", "", "standard (8-128 characters, two character classes) or strict (at least 15 characters)")
			requireMFA := f.String("require-mfa", "", "true: every user must set up two-factor sign-in; false: each user chooses")
			requireRoles := f.String("require-mfa-roles", "", "roles that must set up two-factor sign-in, comma-separated (e.g. administrator,hr_manager); \"-\" for none")
			free := f.Int("free-publications", -1, fmt.Sprintf("positions published free of charge each month (default %d)", tenant.DefaultFreePublications))
			cost := f.Int("publication-cost", -1, fmt.Sprintf("credits one publication beyond the free allowance costs (default %d)", tenant.DefaultPublicationCost))
			a, t, err := f.openCompany(ctx, args, ref)
			if err != nil {
				return err
			}
			defer a.Close()
			if *profile != "" || *requireMFA != "" || *requireRoles != "" || *free >= 0 || *cost >= 0 {
				settings := t.Settings
				if *free >= 0 {
					settings.FreePublications = free
				}
				if *cost >= 0 {
					settings.PublicationCost = cost
				}
				if *profile != "" {
					settings.PasswordProfile = *profile
				}
				if *requireMFA != "" {
					b, err := strconv.ParseBool(*requireMFA)
					if err != nil {
						return fmt.Errorf("--require-mfa: %q is not true or false", *requireMFA)
					}
					settings.RequireMFA = b
				}
				if *requireRoles != "" {
					settings.RequireMFARoles = nil
					for _, r := range strings.Split(*requireRoles, ",") {
						if r = strings.TrimSpace(r); r != "" && r != "-" {
							settings.RequireMFARoles = append(settings.RequireMFARoles, r)
						}
					}
				}
				if err := a.Tenants.SetSettings(ctx, audit.Operator, t.ID, settings); err != nil {
					return tenantError(err)
				}
				t.Settings = settings
			}
			fmt.Fprintf(env.Stdout, "password profile: %s\nrequire two-factor sign-in: %v\nrequire it of roles: %s\nfree publications a month: %d\npublication cost in credits: %d\n",
				t.Settings.PasswordProfile, t.Settings.RequireMFA, strings.Join(t.Settings.RequireMFARoles, ","),
				t.Settings.FreePublicationsPerMonth(), t.Settings.PublicationCredits())
			return nil
		},
		"modules": func(args []string) error {
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
			a, err := f.open(ctx, false)
			if err != nil {
				return err
			}
			defer a.Close()
			t, err := a.Tenants.ByRef(ctx, *ref)
			if err != nil {
				return tenantError(err)
			}
			if len(on)+len(off) > 0 {
				set := map[tenant.Module]bool{}
				for _, m := range t.Modules {
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
				if err := a.Tenants.SetModules(ctx, audit.Operator, t.ID, ms); err != nil {
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
		},
	})
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
	var ve *tenant.ValidationError
	switch {
	case errors.As(err, &ve):
		return describeFields(ve.Fields, map[string]string{"default_language": "language", "password_profile": "password-profile"})
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
