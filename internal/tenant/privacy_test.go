package tenant_test

import (
	"testing"
	"time"

	"github.com/kandidat/kandidat/internal/tenant"
)

func mustZone(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatalf("load %s: %v", name, err)
	}
	return loc
}

// TestAddMonths: calendar months on the company's calendar, a day the
// target month lacks clamped to its last day (never spilling into the next
// month), the local time of day kept across clock changes, the result in UTC.
func TestAddMonths(t *testing.T) {
	utc := time.UTC
	sto := mustZone(t, "Europe/Stockholm")
	at := func(loc *time.Location, y int, m time.Month, d, h, min int) time.Time {
		return time.Date(y, m, d, h, min, 0, 0, loc)
	}
	for _, tc := range []struct {
		name string
		from time.Time
		n    int
		loc  *time.Location
		want time.Time
	}{
		{"month end: 31 Jan + 1 month is 28 Feb", at(utc, 2027, 1, 31, 12, 0), 1, utc, at(utc, 2027, 2, 28, 12, 0)},
		{"month end in a leap year: 31 Jan + 1 month is 29 Feb", at(utc, 2028, 1, 31, 12, 0), 1, utc, at(utc, 2028, 2, 29, 12, 0)},
		{"31 Aug + 6 months is the end of February", at(utc, 2026, 8, 31, 9, 0), 6, utc, at(utc, 2027, 2, 28, 9, 0)},
		{"31 Aug 2027 + 6 months is 29 Feb 2028", at(utc, 2027, 8, 31, 9, 0), 6, utc, at(utc, 2028, 2, 29, 9, 0)},
		{"leap day + 12 months is 28 Feb", at(utc, 2028, 2, 29, 8, 0), 12, utc, at(utc, 2029, 2, 28, 8, 0)},
		{"leap day + 48 months is the next leap day", at(utc, 2028, 2, 29, 8, 0), 48, utc, at(utc, 2032, 2, 29, 8, 0)},
		{"31 Mar + 1 month is 30 Apr", at(utc, 2027, 3, 31, 0, 0), 1, utc, at(utc, 2027, 4, 30, 0, 0)},
		{"30 Nov + 3 months crosses the year", at(utc, 2026, 11, 30, 0, 0), 3, utc, at(utc, 2027, 2, 28, 0, 0)},
		{"36 months (the longest consent)", at(utc, 2026, 12, 3, 10, 0), tenant.MaxConsentMonths, utc, at(utc, 2029, 12, 3, 10, 0)},
		{"no months", at(utc, 2026, 12, 3, 10, 0), 0, utc, at(utc, 2026, 12, 3, 10, 0)},
		{"backwards: 31 Mar - 1 month is 28 Feb", at(utc, 2027, 3, 31, 10, 0), -1, utc, at(utc, 2027, 2, 28, 10, 0)},
		{"nil location is UTC", at(utc, 2027, 1, 31, 12, 0), 1, nil, at(utc, 2027, 2, 28, 12, 0)},
		// 31 Jan 23:30 UTC is 1 Feb 00:30 in Stockholm: six months on the
		// company's calendar end on 1 Aug 00:30 there (22:30 UTC on 31 Jul,
		// summer time), not on 31 Jul 23:30 UTC.
		{"time zone: received 31 Jan 23:30 UTC, 1 Feb in Stockholm", at(utc, 2027, 1, 31, 23, 30), 6, sto, at(sto, 2027, 8, 1, 0, 30)},
		{"time zone: the same moment counted in UTC", at(utc, 2027, 1, 31, 23, 30), 6, utc, at(utc, 2027, 7, 31, 23, 30)},
		// Winter to summer time: the wall time is kept, so an hour fewer passes.
		{"DST begins between: 10:00 stays 10:00", at(sto, 2026, 1, 15, 10, 0), 6, sto, at(sto, 2026, 7, 15, 10, 0)},
		{"DST ends between: 10:00 stays 10:00", at(sto, 2026, 9, 15, 10, 0), 2, sto, at(sto, 2026, 11, 15, 10, 0)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := tenant.AddMonths(tc.from, tc.n, tc.loc)
			if !got.Equal(tc.want) {
				t.Errorf("AddMonths(%s, %d) = %s, want %s", tc.from, tc.n, got, tc.want.UTC())
			}
			if got.Location() != time.UTC {
				t.Errorf("AddMonths gave a time in %s, want UTC", got.Location())
			}
		})
	}
	// Across the change to summer time the moment moves an hour less than
	// whole days: six calendar months of local time, 181 days less an hour.
	from := at(sto, 2026, 1, 15, 10, 0)
	if d := tenant.AddMonths(from, 6, sto).Sub(from); d != 181*24*time.Hour-time.Hour {
		t.Errorf("15 Jan + 6 months in Stockholm lasts %s, want 181 days less an hour", d)
	}
}

// TestAddMonthsAtClockChanges: a wall time the clock skips (02:30 on the
// last Sunday of March in Stockholm) or repeats (02:30 on the last Sunday
// of October) still lands on that day, never the day before or after.
func TestAddMonthsAtClockChanges(t *testing.T) {
	sto := mustZone(t, "Europe/Stockholm")
	for _, tc := range []struct {
		name string
		from time.Time
		n    int
		day  time.Time // the local day wanted
	}{
		{"skipped hour", time.Date(2026, 1, 29, 2, 30, 0, 0, sto), 2, time.Date(2026, 3, 29, 0, 0, 0, 0, sto)},
		{"repeated hour", time.Date(2026, 8, 25, 2, 30, 0, 0, sto), 2, time.Date(2026, 10, 25, 0, 0, 0, 0, sto)},
	} {
		got := tenant.AddMonths(tc.from, tc.n, sto).In(sto)
		gy, gm, gd := got.Date()
		wy, wm, wd := tc.day.Date()
		if gy != wy || gm != wm || gd != wd {
			t.Errorf("%s: %s + %d months = %s, want a time on %s", tc.name, tc.from, tc.n, got, tc.day.Format("2006-01-02"))
		}
		// Within an hour of the wall time asked for (the clock change's hour).
		want := time.Date(wy, wm, wd, tc.from.Hour(), tc.from.Minute(), 0, 0, sto)
		if d := got.Sub(want); d < -time.Hour || d > time.Hour {
			t.Errorf("%s: got %s, want about %s", tc.name, got, want)
		}
	}
}

// TestPrivacyPeriods: the company's periods, with the law's limits.
func TestPrivacyPeriods(t *testing.T) {
	for _, tc := range []struct {
		p                tenant.Privacy
		purpose, consent int
	}{
		{tenant.Privacy{}, 6, 24},
		{tenant.Privacy{PurposeMonths: 3, ConsentMonths: 12}, 3, 12},
		{tenant.Privacy{PurposeMonths: 7, ConsentMonths: 37}, 6, 24},
		{tenant.Privacy{PurposeMonths: -1, ConsentMonths: -1}, 6, 24},
		{tenant.Privacy{PurposeMonths: 6, ConsentMonths: 36}, 6, 36},
	} {
		if got := tc.p.Purpose(); got != tc.purpose {
			t.Errorf("%+v: purpose %d months, want %d", tc.p, got, tc.purpose)
		}
		if got := tc.p.Consent(); got != tc.consent {
			t.Errorf("%+v: consent %d months, want %d", tc.p, got, tc.consent)
		}
	}
	if tenant.NoticeMonths != 2 {
		t.Errorf("notice period %d months, want 2 (issue 14)", tenant.NoticeMonths)
	}
	if err := (tenant.Privacy{PurposeMonths: 7}).Validate(); err == nil {
		t.Error("a purpose of 7 months was accepted")
	}
	if err := (tenant.Privacy{ConsentMonths: 37}).Validate(); err == nil {
		t.Error("a consent of 37 months was accepted")
	}
}
