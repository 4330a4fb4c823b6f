package whistle

import "time"

// A day is a calendar date "YYYY-MM-DD" in UTC: the finest time the
// reporter's side keeps.
const dayLayout = "2006-01-02"

// Day returns t's day.
func Day(t time.Time) string { return t.UTC().Format(dayLayout) }

// ParseDay reads a day; the zero time for "" or a malformed one.
func ParseDay(s string) time.Time {
	t, err := time.Parse(dayLayout, s)
	if err != nil {
		return time.Time{}
	}
	return t
}

// AddDays returns the day n days after day.
func AddDays(day string, n int) string { return Day(ParseDay(day).AddDate(0, 0, n)) }

// AddMonths returns the same day n months later, or that month's last day
// when it is shorter: 30 November plus three months is 28 (or 29) February,
// not 2 March as time.AddDate would normalise it. A deadline of "three
// months" never runs past the month it names.
func AddMonths(day string, n int) string {
	t := ParseDay(day)
	y, m, d := t.Date()
	first := time.Date(y, m+time.Month(n), 1, 0, 0, 0, 0, time.UTC)
	last := first.AddDate(0, 1, -1).Day()
	if d > last {
		d = last
	}
	return Day(time.Date(first.Year(), first.Month(), d, 0, 0, 0, 0, time.UTC))
}

// Deadlines of a case under the directive (2019/1937 Art. 9(1)(b) and (f)).
type Deadlines struct {
	// AckDue: the receipt is acknowledged within seven days of the report.
	AckDue string
	// FeedbackDue: feedback within three months of the acknowledgement or,
	// when none was sent, of the end of the seven days.
	FeedbackDue string
}

// DeadlinesOf computes the deadlines of a report received on received and
// acknowledged on acked ("" when not yet).
func DeadlinesOf(received, acked string) Deadlines {
	d := Deadlines{AckDue: AddDays(received, AckDays)}
	from := d.AckDue
	if acked != "" && acked < d.AckDue {
		from = acked
	}
	d.FeedbackDue = AddMonths(from, FeedbackMonths)
	return d
}

// DaysBetween is the number of days from a to b (negative when b is earlier).
func DaysBetween(a, b string) int {
	return int(ParseDay(b).Sub(ParseDay(a)).Hours() / 24)
}
