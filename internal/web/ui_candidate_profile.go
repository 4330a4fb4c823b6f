package web

import (
	"html/template"
	"net/url"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/text/collate"
	"golang.org/x/text/language"
	"golang.org/x/text/language/display"

	"github.com/kandidat/kandidat/internal/recruit"
)

// The candidate's profile on the card and the career form: one set of form
// fields (profile_city, profile_skills, ...), read by profileInput and
// filled from a stored profile by profileForm.

// profileInput reads the profile fields of a form.
func profileInput(form url.Values) recruit.ProfileInput {
	return recruit.ProfileInput{City: form.Get("profile_city"), Country: form.Get("profile_country"), Title: form.Get("profile_title"),
		Employer: form.Get("profile_employer"), LinkedIn: form.Get("profile_linkedin"), Portfolio: form.Get("profile_portfolio"),
		Notice: form.Get("profile_notice"), SalaryAmount: form.Get("profile_salary"), SalaryCurrency: form.Get("profile_salary_currency"),
		SalaryPeriod: form.Get("profile_salary_period"), Skills: recruit.SplitSkills(form.Get("profile_skills")),
		Languages: recruit.ParseLanguages(form.Get("profile_languages"))}
}

// profileForm fills the profile's fields of a page's form with p where the
// form does not hold a posted value already.
func profileForm(form map[string]string, p *recruit.Profile) {
	if p == nil {
		return
	}
	v := map[string]string{"profile_city": p.City, "profile_country": p.Country, "profile_title": p.Title, "profile_employer": p.Employer,
		"profile_linkedin": p.LinkedIn, "profile_portfolio": p.Portfolio, "profile_salary_currency": p.SalaryCurrency,
		"profile_salary_period": p.SalaryPeriod, "profile_skills": recruit.FormatSkills(p.Skills), "profile_languages": recruit.FormatLanguages(p.Languages)}
	if p.NoticeWeeks != nil {
		v["profile_notice"] = strconv.Itoa(*p.NoticeWeeks)
	}
	if p.SalaryAmount != nil {
		v["profile_salary"] = strconv.FormatInt(*p.SalaryAmount, 10)
	}
	for k, val := range v {
		if _, set := form[k]; !set {
			form[k] = val
		}
	}
}

// codeName is a code with its name in the page's language.
type codeName struct{ Code, Name string }

// profileCodes are the lists a profile form offers and the names a profile
// shows, in one language.
type profileCodes struct {
	Countries  []codeName
	Currencies []string
	Periods    []string
	Levels     []string
	countries  map[string]string
	lang       language.Tag
	// options is the country select's options, written once: 250
	// options through the template cost the card more than the rest of
	// it (an escaper call by reflection per value).
	options, currencyOptions string
}

var codesByLang sync.Map // language -> *profileCodes

// codesIn returns the profile's lists in lang, named by CLDR's display
// names (golang.org/x/text) and sorted by name in that language.
func codesIn(lang string) *profileCodes {
	if c, ok := codesByLang.Load(lang); ok {
		return c.(*profileCodes)
	}
	tag := language.Make(lang)
	c := &profileCodes{Currencies: recruit.Currencies, Periods: recruit.SalaryPeriods, Levels: recruit.LanguageLevels,
		countries: map[string]string{}, lang: tag}
	regions := display.Regions(tag)
	for _, code := range recruit.Countries {
		name := code
		if r, err := language.ParseRegion(code); err == nil {
			if n := regions.Name(r); n != "" {
				name = n
			}
		}
		c.countries[code] = name
		c.Countries = append(c.Countries, codeName{Code: code, Name: name})
	}
	col := collate.New(tag)
	sortByName(c.Countries, col)
	var b strings.Builder
	for _, cn := range c.Countries {
		b.WriteString(`<option value="` + template.HTMLEscapeString(cn.Code) + `">` + template.HTMLEscapeString(cn.Name) + `</option>`)
	}
	c.options = b.String()
	b.Reset()
	for _, code := range c.Currencies {
		b.WriteString(`<option value="` + template.HTMLEscapeString(code) + `">` + template.HTMLEscapeString(code) + `</option>`)
	}
	c.currencyOptions = b.String()
	codesByLang.Store(lang, c)
	return c
}

func sortByName(list []codeName, col *collate.Collator) {
	for i := 1; i < len(list); i++ {
		for j := i; j > 0 && col.CompareString(list[j-1].Name, list[j].Name) > 0; j-- {
			list[j-1], list[j] = list[j], list[j-1]
		}
	}
}

// CountryOptions is the country select's options, with the one of the
// code given selected.
func (c *profileCodes) CountryOptions(selected string) template.HTML {
	return selectOption(c.options, selected)
}

// CurrencyOptions is the currency select's options, with the one given
// selected.
func (c *profileCodes) CurrencyOptions(selected string) template.HTML {
	return selectOption(c.currencyOptions, selected)
}

// selectOption marks the option of value selected in options written by
// codesIn; a value none has selects nothing.
func selectOption(options, selected string) template.HTML {
	if selected != "" {
		v := `value="` + template.HTMLEscapeString(selected) + `"`
		options = strings.Replace(options, v+`>`, v+` selected>`, 1)
	}
	return template.HTML(options)
}

// Country is a country's name ("" for none).
func (c *profileCodes) Country(code string) string {
	if code == "" {
		return ""
	}
	if n, ok := c.countries[code]; ok {
		return n
	}
	return code
}

// Language is a language's name, or its code.
func (c *profileCodes) Language(code string) string {
	if t, err := language.Parse(code); err == nil {
		if n := display.Languages(c.lang).Name(t); n != "" {
			return n
		}
	}
	return code
}

// Languages is a profile's languages as the card shows them: "Swedish
// (native), English (C1)"; native is the word the page gives.
func (c *profileCodes) Languages(ls []recruit.Language, native string) string {
	parts := make([]string, len(ls))
	for i, l := range ls {
		level := l.Level
		if level == "native" {
			level = native
		}
		parts[i] = c.Language(l.Code) + " (" + level + ")"
	}
	return strings.Join(parts, ", ")
}

// profileAsks reads what a position's career form is to ask for: a select
// ask_<part> per part ("", optional or required); nil when the form has
// none (it leaves them as they are). An unknown answer is passed on for
// the service to refuse.
func profileAsks(form url.Values) []recruit.ProfileAsk {
	if form.Get("profile_asks") == "" {
		return nil
	}
	asks := []recruit.ProfileAsk{}
	for _, part := range recruit.ProfileAskFields {
		switch v := form.Get("ask_" + part); v {
		case "":
		case "optional", "required":
			asks = append(asks, recruit.ProfileAsk{Field: part, Required: v == "required"})
		default:
			asks = append(asks, recruit.ProfileAsk{Field: part + ":" + v})
		}
	}
	return asks
}

// askForm fills the position form's asks from what the position asks.
func askForm(form map[string]string, asks []recruit.ProfileAsk) {
	for _, part := range recruit.ProfileAskFields {
		if _, set := form["ask_"+part]; !set {
			form["ask_"+part] = recruit.Ask(asks, part)
		}
	}
}

// profileFormFields are the form fields of a profile.
var profileFormFields = []string{"profile_city", "profile_country", "profile_title", "profile_employer", "profile_linkedin", "profile_portfolio",
	"profile_notice", "profile_salary", "profile_salary_currency", "profile_salary_period", "profile_skills", "profile_languages"}
