package importer

import (
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/fault"
	"github.com/kandidat/kandidat/internal/recruit"
	"github.com/kandidat/kandidat/internal/search"
)

// Problem is what the check found in a row: its line, the field (or
// column) and a message key. A note (Note) says what the import will do
// with a row it accepts (merge it, skip it as imported before); any other
// problem keeps the row out.
type Problem struct {
	Line  int    `json:"line"`
	Field string `json:"field,omitempty"`
	Key   string `json:"key"`
	Note  bool   `json:"note,omitempty"`
}

// row is a record made into what the importer writes.
type row struct {
	line        int
	key         string
	person      recruit.ImportPerson
	position    string // title
	positionRef string
	stage       access.StageKind
	applied     time.Time
	source      string
	labels      []string
	comment     string
	documents   []string
}

// plan is a mapping made ready for a file's header: the columns feeding
// each field, in the file's order.
type plan struct {
	m    *Mapping
	cols map[string][]string
}

func newPlan(m *Mapping, header []string) *plan {
	p := &plan{m: m, cols: map[string][]string{}}
	for _, col := range header {
		if f, ok := m.Columns[col]; ok {
			p.cols[f] = append(p.cols[f], col)
		}
	}
	return p
}

// value is the field's value in rec: the first non-empty mapped column,
// else the mapping's default.
func (p *plan) value(rec Record, field string) (string, string) {
	for _, col := range p.cols[field] {
		if v := rec.Values[col]; strings.TrimSpace(v) != "" {
			return v, col
		}
	}
	return p.m.Defaults[field], ""
}

// formula reports whether a cell would be read as a formula by a
// spreadsheet that opens an export of it: it starts with =, @, a tab or a
// carriage return, or with + or - followed by something else than a digit.
func formula(v string) bool {
	if v == "" {
		return false
	}
	switch v[0] {
	case '=', '@', '\t', '\r':
		return true
	case '+', '-':
		return len(v) > 1 && (v[1] < '0' || v[1] > '9')
	}
	return false
}

// dateLayouts are the dates a file may hold: ISO dates and times (with or
// without a zone, as SQL exports write them) and the dotted European day.
var dateLayouts = []string{time.RFC3339, "2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02 15:04", "2006-01-02", "2006/01/02", "02.01.2006", "2.1.2006"}

func parseDate(v string) (time.Time, bool) {
	v = strings.TrimSpace(v)
	for _, l := range dateLayouts {
		if t, err := time.Parse(l, v); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

// splitItems splits a list cell at semicolons, commas or line breaks.
func splitItems(v string) []string {
	var out []string
	for _, s := range strings.FieldsFunc(v, func(r rune) bool { return r == ';' || r == ',' || r == '\n' || r == '\r' || r == '|' }) {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// profileFields are the recruit profile's form fields by import field.
var profileFields = map[string]string{"profile_city": FieldCity, "profile_country": FieldCountry, "profile_title": FieldTitle,
	"profile_employer": FieldEmployer, "profile_linkedin": FieldLinks, "profile_portfolio": FieldLinks, "profile_skills": FieldSkills,
	"profile_languages": FieldLanguages}

// makeRow checks a record against the plan and returns the row, or the
// problems that keep it out. now bounds dates; withUser says whether a
// user acts (comments need an author).
func (p *plan) makeRow(tenantID string, rec Record, now time.Time, withUser bool) (row, []Problem) {
	r := row{line: rec.Line}
	var probs []Problem
	bad := func(field, key string) { probs = append(probs, Problem{Line: rec.Line, Field: field, Key: key}) }
	if rec.Problem != "" {
		bad("", rec.Problem)
		return r, probs
	}
	// Every cell that feeds a field: length and formulas.
	vals := map[string]string{}
	for _, f := range Fields {
		v, _ := p.value(rec, f)
		if v == "" {
			continue
		}
		if utf8.RuneCountInString(v) > MaxCellRunes {
			bad(f, "import.too_long")
			continue
		}
		if formula(v) {
			bad(f, "import.formula")
			continue
		}
		vals[f] = strings.TrimSpace(v)
	}
	if len(probs) > 0 {
		return r, probs
	}
	name := vals[FieldFullName]
	if name == "" {
		name = strings.TrimSpace(vals[FieldGivenName] + " " + vals[FieldFamilyName])
	}
	in, err := recruit.ValidateCandidate(recruit.CandidateInput{Name: name, Email: vals[FieldEmail], Phone: vals[FieldPhone]})
	if msgs := fault.Messages(err); msgs != nil {
		for field, key := range msgs {
			if field == "name" {
				field = FieldFullName
			}
			bad(field, key)
		}
	}
	r.person.Candidate = in
	prof := recruit.ProfileInput{City: vals[FieldCity], Country: vals[FieldCountry], Title: vals[FieldTitle], Employer: vals[FieldEmployer],
		Skills: splitItems(vals[FieldSkills]), Languages: recruit.ParseLanguages(vals[FieldLanguages])}
	for _, l := range strings.Fields(strings.NewReplacer(";", " ", ",", " ").Replace(vals[FieldLinks])) {
		switch {
		case strings.Contains(strings.ToLower(l), "linkedin.com") && prof.LinkedIn == "":
			prof.LinkedIn = l
		case prof.Portfolio == "":
			prof.Portfolio = l
		}
	}
	for field, key := range recruit.ValidateProfile(prof) {
		f := profileFields[field]
		if f == "" {
			f = field
		}
		bad(f, key)
	}
	if prof.City+prof.Country+prof.Title+prof.Employer+prof.LinkedIn+prof.Portfolio != "" || len(prof.Skills) > 0 || len(prof.Languages) > 0 {
		r.person.Profile = &prof
	}
	// Dates.
	date := func(f string) time.Time {
		v := vals[f]
		if v == "" {
			return time.Time{}
		}
		t, ok := parseDate(v)
		if !ok {
			bad(f, "import.date")
			return time.Time{}
		}
		if t.After(now.Add(24 * time.Hour)) {
			bad(f, "import.date_future")
			return time.Time{}
		}
		return t
	}
	applied, basisDate := date(FieldApplied), date(FieldBasisDate)
	if applied.IsZero() {
		applied = basisDate
	}
	if basisDate.IsZero() {
		basisDate = applied
	}
	// The processing basis: required, with its date (and, for a consent,
	// its evidence).
	switch basis := search.Fold(vals[FieldBasis]); basis {
	case BasisPurpose:
		if basisDate.IsZero() {
			bad(FieldBasisDate, "import.no_basis_date")
		}
	case BasisConsent:
		if basisDate.IsZero() {
			bad(FieldBasisDate, "import.no_basis_date")
		}
		ev := vals[FieldConsentEvidence]
		if ev == "" {
			bad(FieldConsentEvidence, "import.no_consent_evidence")
		} else if utf8.RuneCountInString(ev) > 2000 {
			bad(FieldConsentEvidence, "import.too_long")
		}
		r.person.Consent = &recruit.ImportConsent{At: basisDate, Evidence: ev}
	case "":
		bad(FieldBasis, "import.no_basis")
	default:
		bad(FieldBasis, "import.unknown_basis")
	}
	r.person.At, r.applied = basisDate, applied
	// The application.
	r.position, r.positionRef = vals[FieldPosition], vals[FieldPositionRef]
	hasPosition := r.position != "" || r.positionRef != ""
	r.stage = access.StageNew
	if v := vals[FieldStage]; v != "" {
		k, ok := p.m.Stages[search.Fold(v)]
		if !ok && slices.Contains(access.StageKinds, access.StageKind(search.Fold(v))) {
			k, ok = search.Fold(v), true
		}
		switch {
		case !ok:
			bad(FieldStage, "import.unknown_stage")
		case !hasPosition:
			bad(FieldStage, "import.needs_position")
		default:
			r.stage = access.StageKind(k)
		}
	}
	if utf8.RuneCountInString(r.position) > 200 {
		bad(FieldPosition, "import.too_long")
	}
	r.source = vals[FieldSource]
	for _, l := range splitItems(vals[FieldLabels]) {
		if !recruit.ValidLabel(l) {
			bad(FieldLabels, "error.label")
			break
		}
		r.labels = append(r.labels, l)
	}
	r.comment = vals[FieldComment]
	if (len(r.labels) > 0 || r.comment != "") && !hasPosition {
		bad(FieldLabels, "import.needs_position")
	}
	if r.comment != "" && !withUser {
		bad(FieldComment, "import.comment_needs_user")
	}
	for _, d := range splitDocuments(vals[FieldDocuments]) {
		if !safeName(d) {
			bad(FieldDocuments, "import.document_path")
			continue
		}
		r.documents = append(r.documents, d)
	}
	r.key = rowKey(tenantID, vals)
	return r, probs
}

// splitDocuments splits a cell of file names at semicolons or bars (a
// file name may hold a comma).
func splitDocuments(v string) []string {
	var out []string
	for _, s := range strings.FieldsFunc(v, func(r rune) bool { return r == ';' || r == '|' || r == '\n' }) {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// rowKey is the key of a row: the hash of the source's external id, or of
// the row's normalised fields, with the company's id.
func rowKey(tenantID string, vals map[string]string) string {
	h := sha256.New()
	h.Write([]byte(tenantID + "\x00"))
	if ext := vals[FieldExternalID]; ext != "" {
		h.Write([]byte("external\x00" + ext))
		return hex.EncodeToString(h.Sum(nil))
	}
	keys := make([]string, 0, len(vals))
	for k := range vals {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	h.Write([]byte("row"))
	for _, k := range keys {
		v := vals[k]
		if k == FieldEmail {
			v = recruit.NormalizeEmail(v)
		}
		h.Write([]byte("\x00" + k + "=" + strings.Join(strings.Fields(v), " ")))
	}
	return hex.EncodeToString(h.Sum(nil))
}

// positionKey is the key of a position the file names by an external id.
func positionKey(tenantID, ref string) string {
	s := sha256.Sum256([]byte(tenantID + "\x00position\x00" + ref))
	return hex.EncodeToString(s[:])
}
