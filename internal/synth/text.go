package synth

import (
	"math/rand/v2"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// The job categories every language has texts for.
const (
	catSoftware = iota
	catHealth
	catLogistics
	catSales
	catFinance
	catManufacturing
	catCustomer
	catHR
	numCategories
)

// refYear is the year CVs are written in: a constant, so that the same seed
// gives the same CV whenever it runs.
const refYear = 2025

// langText holds the texts of one language. In templates, {title} is a job
// title as it is, {lower} the same in the middle of a sentence, {a} the
// English article that goes before it, {city} a city, {dept} a department,
// {field} a field of work, {n} a number of years and {years} the word for
// years that goes with it (Slovak and Czech).
type langText struct {
	lang string

	titles [numCategories][]string
	depts  [numCategories]string
	fields [numCategories]string
	duties [numCategories][]string
	reqs   [numCategories][]string
	skills [numCategories][]string
	// degrees: a university one, then a vocational one.
	degrees [numCategories][2]string
	generic []string // skills of every category

	intros, closings   []string
	tasksHead, reqHead string

	profileHead, experienceHead, educationHead, skillsHead, languagesHead string
	phoneLabel, present, references                                       string

	openers, traits, seeking []string
	native                   string   // the mother tongue with its note
	foreign                  []string // other languages, lower case unless English

	employers    []string
	universities []string

	comments []string

	greeting, signoff                                string
	coverOpen, coverMotivation, coverExp, coverClose []string
}

// languages is in a fixed order: title lookups must not depend on map order.
var languages = []*langText{&swedish, &norwegian, &slovak, &czech, &english}

// textOf returns the texts of lang, English for an unknown one.
func textOf(lang string) *langText {
	for _, t := range languages {
		if t.lang == lang {
			return t
		}
	}
	return &english
}

// PositionText is an invented job position.
type PositionText struct {
	Title, Department, Location string
	// Description is Markdown: an introduction, the tasks as a list, the
	// requirements and a closing paragraph.
	Description string
}

// Position invents a job position in lang (en, sv, nb, sk or cs; English
// for another): a title, its department, a city of a country speaking the
// language (a British one for English) and a Markdown description in the
// language.
func Position(r *rand.Rand, lang string) PositionText {
	t := textOf(lang)
	n := 0
	for _, ts := range t.titles {
		n += len(ts)
	}
	i := r.IntN(n)
	cat := 0
	for i >= len(t.titles[cat]) {
		i -= len(t.titles[cat])
		cat++
	}
	title := t.titles[cat][i]
	city := countryOfLanguage(t.lang).cities
	location := city[r.IntN(len(city))].name
	v := vars{title: title, lang: t.lang, city: location, dept: t.depts[cat]}

	var b strings.Builder
	b.WriteString(v.expand(pick(r, t.intros)))
	b.WriteString("\n\n### ")
	b.WriteString(t.tasksHead)
	b.WriteString("\n\n")
	for _, d := range pickN(r, t.duties[cat], 2+r.IntN(2)) {
		b.WriteString("- ")
		b.WriteString(d)
		b.WriteByte('\n')
	}
	b.WriteString("\n### ")
	b.WriteString(t.reqHead)
	b.WriteString("\n\n")
	b.WriteString(pick(r, t.reqs[cat]))
	b.WriteString("\n\n")
	b.WriteString(v.expand(pick(r, t.closings)))
	return PositionText{Title: title, Department: t.depts[cat], Location: location, Description: b.String()}
}

// categoryOf finds the category of a job title in any language; -1 if none.
func categoryOf(title string) int {
	for _, t := range languages {
		for cat, ts := range t.titles {
			for _, s := range ts {
				if strings.EqualFold(s, title) {
					return cat
				}
			}
		}
	}
	return -1
}

// CV returns the lines of a plain-text CV of p in p.Language applying for
// title: the name, the address and telephone, a profile, two to four jobs
// with their years and employers, education, skills and languages. An
// empty line separates the sections.
func CV(r *rand.Rand, p Person, title string) []string {
	t := textOf(p.Language)
	cat := categoryOf(title)
	if cat < 0 {
		cat = r.IntN(numCategories)
	}
	c := countryOfLanguage(t.lang)

	// The jobs, newest first: the current one started one to four years
	// ago, each earlier one lasted one to five years.
	jobs := 2 + r.IntN(3)
	starts := make([]int, jobs)
	ends := make([]int, jobs)
	ends[0] = 0 // present
	starts[0] = refYear - 1 - r.IntN(4)
	for i := 1; i < jobs; i++ {
		ends[i] = starts[i-1] - r.IntN(2)
		starts[i] = ends[i] - 1 - r.IntN(5)
	}
	years := refYear - starts[jobs-1]
	v := vars{title: title, lang: t.lang, field: t.fields[cat], n: years}

	lines := make([]string, 0, 48)
	lines = append(lines, p.Name)
	if p.Country == "GB" {
		lines = append(lines, p.Street+", "+p.City+" "+p.PostalCode)
	} else {
		lines = append(lines, p.Street+", "+p.PostalCode+" "+p.City)
	}
	lines = append(lines, t.phoneLabel+": "+p.Phone, "", t.profileHead)

	profile := []string{v.expand(pick(r, t.openers))}
	profile = append(profile, pickN(r, t.traits, 1+r.IntN(2))...)
	profile = append(profile, v.expand(pick(r, t.seeking)))
	lines = append(lines, strings.Join(profile, " "), "", t.experienceHead)

	employers := pickN(r, t.employers, jobs)
	for i := range jobs {
		to := t.present
		if ends[i] != 0 {
			to = strconv.Itoa(ends[i])
		}
		role := pick(r, t.titles[cat])
		lines = append(lines, strconv.Itoa(starts[i])+" - "+to+": "+role+", "+employers[i])
		for _, d := range pickN(r, t.duties[cat], 1+r.IntN(2)) {
			lines = append(lines, "- "+d)
		}
		if i < jobs-1 {
			lines = append(lines, "")
		}
	}

	lines = append(lines, "", t.educationHead)
	edEnd := starts[jobs-1] - r.IntN(2)
	kind := r.IntN(2)
	var school string
	if kind == 0 {
		school = pick(r, t.universities)
	} else {
		school = c.cities[r.IntN(len(c.cities))].name
	}
	lines = append(lines, strconv.Itoa(edEnd-3-kind)+" - "+strconv.Itoa(edEnd)+": "+t.degrees[cat][kind]+", "+school)

	skills := pickN(r, t.skills[cat], 3+r.IntN(3))
	skills = append(skills, pickN(r, t.generic, 1+r.IntN(len(t.generic)))...)
	lines = append(lines, "", t.skillsHead, strings.Join(skills, ", "))

	langs := []string{t.native}
	levels := []string{"C2", "C1", "B2", "B1", "A2"}
	for i, l := range pickN(r, t.foreign, 1+r.IntN(2)) {
		langs = append(langs, l+" ("+levels[min(1+i+r.IntN(2), len(levels)-1)]+")")
	}
	lines = append(lines, "", t.languagesHead, strings.Join(langs, ", "), "", t.references)
	return lines
}

// Comment returns a short recruiter remark in lang (one sentence).
func Comment(r *rand.Rand, lang string) string {
	return pick(r, textOf(lang).comments)
}

// CoverLetter returns a short cover letter in p.Language for title: a
// greeting, three to five sentences, a sign-off and the name.
func CoverLetter(r *rand.Rand, p Person, title string) string {
	t := textOf(p.Language)
	cat := categoryOf(title)
	if cat < 0 {
		cat = r.IntN(numCategories)
	}
	v := vars{title: title, lang: t.lang, field: t.fields[cat]}
	body := []string{v.expand(pick(r, t.coverOpen))}
	body = append(body, pickN(r, t.coverMotivation, 1+r.IntN(2))...)
	if r.IntN(4) != 0 {
		body = append(body, v.expand(pick(r, t.coverExp)))
	}
	body = append(body, pick(r, t.coverClose))
	return t.greeting + "\n\n" + strings.Join(body, " ") + "\n\n" + t.signoff + "\n" + p.Name
}

// vars are the values of template placeholders.
type vars struct {
	title, lang, city, dept, field string
	n                              int
}

// expand replaces the placeholders of tpl.
func (v vars) expand(tpl string) string {
	if !strings.Contains(tpl, "{") {
		return tpl
	}
	var b strings.Builder
	for {
		i := strings.IndexByte(tpl, '{')
		if i < 0 {
			b.WriteString(tpl)
			return b.String()
		}
		j := strings.IndexByte(tpl[i:], '}')
		if j < 0 {
			b.WriteString(tpl)
			return b.String()
		}
		b.WriteString(tpl[:i])
		switch tpl[i+1 : i+j] {
		case "title":
			b.WriteString(v.title)
		case "lower":
			b.WriteString(v.lower())
		case "a":
			b.WriteString(article(v.title))
		case "city":
			b.WriteString(v.city)
		case "dept":
			if v.lang == "en" {
				b.WriteString(v.dept)
			} else {
				b.WriteString(lowerFirst(v.dept))
			}
		case "field":
			b.WriteString(v.field)
		case "n":
			b.WriteString(strconv.Itoa(v.n))
		case "years":
			b.WriteString(yearsWord(v.lang, v.n))
		default:
			b.WriteString(tpl[i : i+j+1])
		}
		tpl = tpl[i+j+1:]
	}
}

// lower is the title in the middle of a sentence: English keeps its
// capitals, the other languages write job titles in lower case.
func (v vars) lower() string {
	if v.lang == "en" {
		return v.title
	}
	return lowerFirst(v.title)
}

// lowerFirst lower-cases the first letter of s unless the word is an
// abbreviation (its second letter is upper case too, as in "IT-").
func lowerFirst(s string) string {
	c, n := utf8.DecodeRuneInString(s)
	if n == 0 || !unicode.IsUpper(c) {
		return s
	}
	if d, _ := utf8.DecodeRuneInString(s[n:]); unicode.IsUpper(d) {
		return s
	}
	return string(unicode.ToLower(c)) + s[n:]
}

// article is the English indefinite article before title.
func article(title string) string {
	for _, p := range []string{"HR", "HGV", "IT ", "MRI"} {
		if strings.HasPrefix(title, p) {
			return "an"
		}
	}
	if title != "" && strings.ContainsRune("AEIOUaeiou", rune(title[0])) {
		return "an"
	}
	return "a"
}

// yearsWord is the Slovak or Czech word for n years after a number in the
// nominative or accusative ("3 roky", "7 rokov", "7 let").
func yearsWord(lang string, n int) string {
	switch {
	case lang == "sk" && n == 1:
		return "rok"
	case lang == "sk" && n < 5:
		return "roky"
	case lang == "sk":
		return "rokov"
	case lang == "cs" && n == 1:
		return "rok"
	case lang == "cs" && n < 5:
		return "roky"
	case lang == "cs":
		return "let"
	}
	return "years"
}

// pickN returns k different elements of list in a random order (all of
// them if k is larger).
func pickN(r *rand.Rand, list []string, k int) []string {
	k = min(k, len(list))
	idx := make([]int, len(list))
	for i := range idx {
		idx[i] = i
	}
	out := make([]string, k)
	for i := range k {
		j := i + r.IntN(len(idx)-i)
		idx[i], idx[j] = idx[j], idx[i]
		out[i] = list[idx[i]]
	}
	return out
}
