package i18n

import (
	"strconv"
	"time"
)

// months are the month names each language writes in a date: the
// genitive where the language declines them ("23. listopadu 2026").
var months = map[string][12]string{
	"en": {"January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"},
	"sv": {"januari", "februari", "mars", "april", "maj", "juni", "juli", "augusti", "september", "oktober", "november", "december"},
	"nb": {"januar", "februar", "mars", "april", "mai", "juni", "juli", "august", "september", "oktober", "november", "desember"},
	"sk": {"januára", "februára", "marca", "apríla", "mája", "júna", "júla", "augusta", "septembra", "októbra", "novembra", "decembra"},
	"cs": {"ledna", "února", "března", "dubna", "května", "června", "července", "srpna", "září", "října", "listopadu", "prosince"},
}

// Date writes the calendar day of t as a reader of lang writes it in a
// sentence: "23 November 2026", "23 november 2026", "23. november 2026",
// "23. novembra 2026", "23. listopadu 2026". Another language gets English.
func Date(lang string, t time.Time) string {
	names, ok := months[lang]
	if !ok {
		names, lang = months[Fallback], Fallback
	}
	day, month, year := strconv.Itoa(t.Day()), names[t.Month()-1], strconv.Itoa(t.Year())
	switch lang {
	case "nb", "sk", "cs":
		return day + ". " + month + " " + year
	default:
		return day + " " + month + " " + year
	}
}
