package recruit

import "time"

// consentTextsInEffect is the day each version of a consent text took
// effect. A version's name is only a key: records keep it, and the pages
// show the reader this date instead. A new wording adds a version here.
var consentTextsInEffect = map[string]time.Time{
	// The first talent-pool consent text (its name's year is not its date).
	TalentPoolConsentVersion: time.Date(2026, time.November, 23, 0, 0, 0, 0, time.UTC),
}

// ConsentTextInEffect returns the day the consent text version took
// effect, and false for a version this installation does not know.
func ConsentTextInEffect(version string) (time.Time, bool) {
	t, ok := consentTextsInEffect[version]
	return t, ok
}
