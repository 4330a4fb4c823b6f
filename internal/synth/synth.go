// Package synth invents the synthetic data `kandidat seed` fills a
// demonstration instance with: people of five countries with realistic
// names, addresses and telephone numbers, job positions, CVs, cover letters
// and recruiter comments in the five candidate languages, and the CVs as PDF
// and DOCX files.
//
// Everything is drawn from the *rand.Rand the caller passes, so the same
// seed gives the same data, byte for byte. The package is a leaf: it uses
// only the standard library.
//
// Telephone numbers of Sweden and Britain come from the ranges their
// regulators reserve for fiction; the other countries have none, so theirs
// are random numbers of the right shape.
package synth

import (
	"math/rand/v2"
	"strconv"
	"strings"
)

// Countries lists the country codes NewPerson knows: Sweden, Norway,
// Slovakia, Czechia and Britain.
var Countries = []string{"SE", "NO", "SK", "CZ", "GB"}

// LanguageOf returns the candidate language of a country: sv, nb, sk, cs or
// en; en for an unknown country.
func LanguageOf(country string) string {
	switch country {
	case "SE":
		return "sv"
	case "NO":
		return "nb"
	case "SK":
		return "sk"
	case "CZ":
		return "cs"
	}
	return "en"
}

// Person is an invented person living in one of the Countries.
type Person struct {
	GivenName, FamilyName, Name       string // Name = "Given Family"
	Street, PostalCode, City, Country string // an address of that country
	// Phone is in the national format of the country with the +CC prefix,
	// e.g. "+46 70 174 06 12": digits, spaces and "+" only.
	Phone string
	// Language is the candidate language of the country (see LanguageOf).
	Language string
}

// NewPerson invents a person of the country (Britain for an unknown code):
// a given name, a family name in the form that goes with it (Slovak and
// Czech women's names take -ová or the feminine adjective), an address of a
// city of the country in its postal format and a telephone number.
func NewPerson(r *rand.Rand, countryCode string) Person {
	c := countryOf(countryCode)
	var given, family string
	f := c.family[r.IntN(len(c.family))]
	if r.IntN(2) == 0 {
		given = pick(r, c.female)
		family = f[0]
		if f[1] != "" {
			family = f[1]
		}
	} else {
		given = pick(r, c.male)
		family = f[0]
	}
	ci := c.cities[r.IntN(len(c.cities))]
	return Person{
		GivenName:  given,
		FamilyName: family,
		Name:       given + " " + family,
		Street:     street(r, c),
		PostalCode: fill(r, pick(r, ci.codes)),
		City:       ci.name,
		Country:    c.code,
		Phone:      fill(r, pick(r, c.phones)),
		Language:   c.language,
	}
}

// street invents a street address line in the style of the country.
func street(r *rand.Rand, c *country) string {
	name := pick(r, c.streets)
	n := strconv.Itoa(1 + r.IntN(90))
	switch c.code {
	case "GB":
		if r.IntN(5) == 0 {
			return "Flat " + strconv.Itoa(1+r.IntN(24)) + ", " + n + " " + name
		}
		return n + " " + name
	case "CZ", "SK":
		// Czech and Slovak houses have a registry number and a street one.
		if c.code == "CZ" || r.IntN(2) == 0 {
			return name + " " + strconv.Itoa(100+r.IntN(3900)) + "/" + n
		}
	case "SE", "NO":
		if r.IntN(6) == 0 {
			sep := ""
			if c.code == "NO" {
				sep = " "
			}
			return name + " " + n + sep + string(rune('A'+r.IntN(3)))
		}
	}
	return name + " " + n
}

// inwardLetters are the letters of the inward part of a British postcode.
const inwardLetters = "ABDEFGHJLNPQRSTUWXYZ"

// fill replaces the pattern characters of p: '#' by a digit, '%' by a
// digit from 1 to 9 and '@' by a postcode letter.
func fill(r *rand.Rand, p string) string {
	if !strings.ContainsAny(p, "#%@") {
		return p
	}
	b := []byte(p)
	for i, c := range b {
		switch c {
		case '#':
			b[i] = byte('0' + r.IntN(10))
		case '%':
			b[i] = byte('1' + r.IntN(9))
		case '@':
			b[i] = inwardLetters[r.IntN(len(inwardLetters))]
		}
	}
	return string(b)
}

// pick returns a random element of list.
func pick(r *rand.Rand, list []string) string {
	return list[r.IntN(len(list))]
}

// EmailLocal returns an ASCII local part for the person's address, e.g.
// "oyvind.sorensen": given and family name lower-cased, letters folded to
// ASCII (ø→o, æ→ae, ř→r...), joined by a dot; anything but letters, digits
// and inner hyphens dropped. The caller appends a counter and a domain.
func EmailLocal(p Person) string {
	given, family := asciiWord(p.GivenName), asciiWord(p.FamilyName)
	switch {
	case given == "":
		return family
	case family == "":
		return given
	}
	return given + "." + family
}

// asciiWord folds s to lower-case ASCII letters, digits and single inner
// hyphens.
func asciiWord(s string) string {
	var b strings.Builder
	for _, c := range strings.ToLower(s) {
		switch {
		case c >= 'a' && c <= 'z' || c >= '0' && c <= '9':
			b.WriteRune(c)
		case c == '-' || c == ' ':
			if b.Len() > 0 && !strings.HasSuffix(b.String(), "-") {
				b.WriteByte('-')
			}
		default:
			b.WriteString(strings.ToLower(fold[c]))
		}
	}
	return strings.TrimSuffix(b.String(), "-")
}

// fold maps the letters of the five languages (and their neighbours) to
// ASCII.
var fold = map[rune]string{
	'À': "A", 'Á': "A", 'Â': "A", 'Ä': "A", 'Å': "A", 'Æ': "AE", 'Ç': "C",
	'È': "E", 'É': "E", 'Ê': "E", 'Ë': "E", 'Ì': "I", 'Í': "I", 'Î': "I",
	'Ï': "I", 'Ñ': "N", 'Ò': "O", 'Ó': "O", 'Ô': "O", 'Ö': "O", 'Ø': "O",
	'Ù': "U", 'Ú': "U", 'Û': "U", 'Ü': "U", 'Ý': "Y", 'ß': "ss",
	'à': "a", 'á': "a", 'â': "a", 'ä': "a", 'å': "a", 'æ': "ae", 'ç': "c",
	'è': "e", 'é': "e", 'ê': "e", 'ë': "e", 'ì': "i", 'í': "i", 'î': "i",
	'ï': "i", 'ñ': "n", 'ò': "o", 'ó': "o", 'ô': "o", 'ö': "o", 'ø': "o",
	'ù': "u", 'ú': "u", 'û': "u", 'ü': "u", 'ý': "y", 'ÿ': "y",
	'Č': "C", 'č': "c", 'Ď': "D", 'ď': "d", 'Ě': "E", 'ě': "e", 'Ĺ': "L",
	'ĺ': "l", 'Ľ': "L", 'ľ': "l", 'Ň': "N", 'ň': "n", 'Ŕ': "R", 'ŕ': "r",
	'Ř': "R", 'ř': "r", 'Š': "S", 'š': "s", 'Ť': "T", 'ť': "t", 'Ů': "U",
	'ů': "u", 'Ž': "Z", 'ž': "z", 'Ő': "O", 'ő': "o", 'Ű': "U", 'ű': "u",
	'Ł': "L", 'ł': "l", 'Ś': "S", 'ś': "s", 'Ź': "Z", 'ź': "z", 'Ż': "Z",
	'ż': "z", 'Ć': "C", 'ć': "c", 'Ń': "N", 'ń': "n", 'Ą': "A", 'ą': "a",
	'Ę': "E", 'ę': "e", 'Ð': "D", 'ð': "d", 'Þ': "Th", 'þ': "th",
}
