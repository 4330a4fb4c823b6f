package recruit

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/audit"
	"github.com/kandidat/kandidat/internal/fault"
	"github.com/kandidat/kandidat/internal/id"
	"github.com/kandidat/kandidat/internal/search"
)

// A candidate's profile is what a recruiter searches by beyond the name:
// where they live, what they do now and for whom, their skills (from the
// company's vocabulary) and languages, their links, notice period and
// salary expectation. Every change of a field is kept in the profile's
// history (candidate_profile_changes: old and new value, who, when and
// how); the audit trail records only which fields changed.

// Language is a language a candidate speaks: an ISO 639-1 code and a
// level, "native" or a CEFR level C2..A1.
type Language struct {
	Code  string
	Level string
}

// LanguageLevels are the levels a language is spoken at, best first.
var LanguageLevels = []string{"native", "C2", "C1", "B2", "B1", "A2", "A1"}

// SalaryPeriods are the periods a salary expectation is given per.
var SalaryPeriods = []string{"month", "year", "hour"}

// Profile is a candidate's profile.
type Profile struct {
	City, Country   string
	Title, Employer string
	// LinkedIn and Portfolio are absolute https URLs or "".
	LinkedIn, Portfolio string
	// NoticeWeeks is the notice period in weeks; nil: not known.
	NoticeWeeks *int
	// SalaryAmount is in whole units of SalaryCurrency (ISO 4217) per
	// SalaryPeriod; nil: not known.
	SalaryAmount   *int64
	SalaryCurrency string
	SalaryPeriod   string
	Skills         []Skill
	Languages      []Language
}

// Empty reports whether nothing of the profile is known.
func (p *Profile) Empty() bool {
	for _, f := range ProfileFieldNames {
		if p.text(f) != "" {
			return false
		}
	}
	return true
}

// Weeks is the notice period in weeks (0 when not known; see NoticeWeeks).
func (p *Profile) Weeks() int {
	if p.NoticeWeeks == nil {
		return 0
	}
	return *p.NoticeWeeks
}

// Salary is the salary expectation (0 when not known; see SalaryAmount).
func (p *Profile) Salary() int64 {
	if p.SalaryAmount == nil {
		return 0
	}
	return *p.SalaryAmount
}

// ProfileInput is a profile as typed: Notice and SalaryAmount are whole
// numbers or "" (not known); Skills are names (of the vocabulary or new);
// Languages as ParseLanguages reads them.
type ProfileInput struct {
	City, Country       string
	Title, Employer     string
	LinkedIn, Portfolio string
	Notice              string
	SalaryAmount        string
	SalaryCurrency      string
	SalaryPeriod        string
	Skills              []string
	Languages           []Language
}

// The profile's fields as its history names them.
const (
	ProfileCity      = "city"
	ProfileCountry   = "country"
	ProfileTitle     = "title"
	ProfileEmployer  = "employer"
	ProfileLinkedIn  = "linkedin"
	ProfilePortfolio = "portfolio"
	ProfileNotice    = "notice"
	ProfileSalary    = "salary"
	ProfileSkills    = "skills"
	ProfileLanguages = "languages"
)

// ProfileFieldNames lists them in the order the card shows them.
var ProfileFieldNames = []string{ProfileTitle, ProfileEmployer, ProfileCity, ProfileCountry, ProfileSkills, ProfileLanguages,
	ProfileLinkedIn, ProfilePortfolio, ProfileNotice, ProfileSalary}

// Bounds of a profile.
const (
	maxCityRunes  = 100
	maxJobRunes   = 120
	maxLinkBytes  = 300
	maxSkills     = 50
	maxLanguages  = 20
	maxNoticeWeek = 104
	maxSalary     = 1_000_000_000
)

// formField is the name of a profile field in forms and in field errors.
func formField(field string) string { return "profile_" + field }

// ParseLanguages reads languages typed as "sv:native, en:C1" (a code and
// a level, separated by a colon or a space; items by commas, semicolons or
// line breaks). An item it cannot read is kept with an empty level, so
// that validation names the field.
func ParseLanguages(text string) []Language {
	var out []Language
	for _, item := range splitList(text) {
		code, level, ok := strings.Cut(item, ":")
		if !ok {
			code, level, _ = strings.Cut(item, " ")
		}
		out = append(out, Language{Code: strings.TrimSpace(code), Level: strings.TrimSpace(level)})
	}
	return out
}

// SplitSkills reads skills typed as a list separated by commas,
// semicolons or line breaks.
func SplitSkills(text string) []string { return splitList(text) }

func splitList(text string) []string {
	var out []string
	for _, item := range strings.FieldsFunc(text, func(r rune) bool { return r == ',' || r == ';' || r == '\n' || r == '\r' }) {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}

// FormatLanguages is languages as ParseLanguages reads them.
func FormatLanguages(ls []Language) string {
	parts := make([]string, len(ls))
	for i, l := range ls {
		parts[i] = l.Code + ":" + l.Level
	}
	return strings.Join(parts, ", ")
}

// FormatSkills is skills' names as SplitSkills reads them.
func FormatSkills(ss []Skill) string {
	parts := make([]string, len(ss))
	for i, s := range ss {
		parts[i] = s.Name
	}
	return strings.Join(parts, ", ")
}

// clean checks a profile as typed and returns it as stored (skills by name
// only: their ids come from the vocabulary in the transaction). Each bad
// field is named by its form field.
func (in ProfileInput) clean() (*Profile, map[string]string) {
	f := map[string]string{}
	p := &Profile{}
	var ok bool
	if p.City, ok = cleanText(in.City, maxCityRunes, false); !ok {
		f[formField(ProfileCity)] = "error.profile_city"
	}
	p.Country = strings.ToUpper(strings.TrimSpace(in.Country))
	if p.Country != "" && !validCountry(p.Country) {
		f[formField(ProfileCountry)] = "error.country"
	}
	if p.Title, ok = cleanText(in.Title, maxJobRunes, false); !ok {
		f[formField(ProfileTitle)] = "error.profile_text"
	}
	if p.Employer, ok = cleanText(in.Employer, maxJobRunes, false); !ok {
		f[formField(ProfileEmployer)] = "error.profile_text"
	}
	if p.LinkedIn, ok = cleanLink(in.LinkedIn); !ok {
		f[formField(ProfileLinkedIn)] = "error.profile_link"
	}
	if p.Portfolio, ok = cleanLink(in.Portfolio); !ok {
		f[formField(ProfilePortfolio)] = "error.profile_link"
	}
	if n := strings.TrimSpace(in.Notice); n != "" {
		w, err := strconv.Atoi(n)
		if err != nil || w < 0 || w > maxNoticeWeek {
			f[formField(ProfileNotice)] = "error.notice"
		} else {
			p.NoticeWeeks = &w
		}
	}
	if a := strings.TrimSpace(in.SalaryAmount); a != "" {
		// Thousands are often grouped with spaces or commas.
		a = strings.Map(func(r rune) rune {
			if r == ' ' || r == ',' || r == '\u00a0' || r == '\u202f' || r == '\'' {
				return -1
			}
			return r
		}, a)
		n, err := strconv.ParseInt(a, 10, 64)
		if err != nil || n < 0 || n > maxSalary {
			f[formField(ProfileSalary)] = "error.salary"
		} else {
			p.SalaryAmount = &n
		}
		p.SalaryCurrency = strings.ToUpper(strings.TrimSpace(in.SalaryCurrency))
		if !validCurrency(p.SalaryCurrency) {
			f[formField(ProfileSalary)+"_currency"] = "error.currency"
		}
		p.SalaryPeriod = strings.TrimSpace(in.SalaryPeriod)
		if !slices.Contains(SalaryPeriods, p.SalaryPeriod) {
			f[formField(ProfileSalary)+"_period"] = "error.salary_period"
		}
	}
	seen := map[string]bool{}
	for _, name := range in.Skills {
		if strings.TrimSpace(name) == "" {
			continue
		}
		clean, folded, ok := cleanSkill(name)
		if !ok {
			f[formField(ProfileSkills)] = "error.skill"
			break
		}
		if !seen[folded] {
			seen[folded] = true
			p.Skills = append(p.Skills, Skill{Name: clean})
		}
	}
	if len(p.Skills) > maxSkills {
		f[formField(ProfileSkills)] = "error.too_many_skills"
	}
	codes := map[string]bool{}
	for _, l := range in.Languages {
		l.Code = strings.ToLower(strings.TrimSpace(l.Code))
		l.Level = strings.TrimSpace(l.Level)
		if strings.EqualFold(l.Level, "native") {
			l.Level = "native"
		} else {
			l.Level = strings.ToUpper(l.Level)
		}
		if !validLanguage(l.Code) || !slices.Contains(LanguageLevels, l.Level) || codes[l.Code] {
			f[formField(ProfileLanguages)] = "error.profile_language"
			break
		}
		codes[l.Code] = true
		p.Languages = append(p.Languages, l)
	}
	if len(p.Languages) > maxLanguages {
		f[formField(ProfileLanguages)] = "error.profile_language"
	}
	slices.SortFunc(p.Languages, func(a, b Language) int { return strings.Compare(a.Code, b.Code) })
	return p, f
}

// cleanLink is a link as stored: "" or an absolute https URL of at most
// maxLinkBytes with a host and no user name or password in it.
func cleanLink(v string) (string, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return "", true
	}
	if len(v) > maxLinkBytes || !utf8.ValidString(v) || strings.ContainsFunc(v, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) {
		return v, false
	}
	u, err := url.Parse(v)
	if err != nil || !strings.EqualFold(u.Scheme, "https") || u.Host == "" || u.User != nil || u.Opaque != "" || u.Hostname() == "" {
		return v, false
	}
	return v, true
}

// text is a field's value as the history and comparisons read it; "" when
// not known.
func (p *Profile) text(field string) string {
	switch field {
	case ProfileCity:
		return p.City
	case ProfileCountry:
		return p.Country
	case ProfileTitle:
		return p.Title
	case ProfileEmployer:
		return p.Employer
	case ProfileLinkedIn:
		return p.LinkedIn
	case ProfilePortfolio:
		return p.Portfolio
	case ProfileNotice:
		if p.NoticeWeeks == nil {
			return ""
		}
		return strconv.Itoa(*p.NoticeWeeks)
	case ProfileSalary:
		if p.SalaryAmount == nil {
			return ""
		}
		return fmt.Sprintf("%d %s/%s", *p.SalaryAmount, p.SalaryCurrency, p.SalaryPeriod)
	case ProfileSkills:
		return FormatSkills(p.Skills)
	case ProfileLanguages:
		return FormatLanguages(p.Languages)
	}
	return ""
}

// set copies field from q.
func (p *Profile) set(field string, q *Profile) {
	switch field {
	case ProfileCity:
		p.City = q.City
	case ProfileCountry:
		p.Country = q.Country
	case ProfileTitle:
		p.Title = q.Title
	case ProfileEmployer:
		p.Employer = q.Employer
	case ProfileLinkedIn:
		p.LinkedIn = q.LinkedIn
	case ProfilePortfolio:
		p.Portfolio = q.Portfolio
	case ProfileNotice:
		p.NoticeWeeks = q.NoticeWeeks
	case ProfileSalary:
		p.SalaryAmount, p.SalaryCurrency, p.SalaryPeriod = q.SalaryAmount, q.SalaryCurrency, q.SalaryPeriod
	case ProfileSkills:
		p.Skills = q.Skills
	case ProfileLanguages:
		p.Languages = q.Languages
	}
}

// loadProfile reads a candidate's profile.
func loadProfile(ctx context.Context, q querier, tenantID, candidateID string) (*Profile, error) {
	p := &Profile{}
	var notice, salary sql.NullInt64
	err := q.QueryRowContext(ctx, `SELECT city, country, title, employer, linkedin, portfolio, notice_weeks, salary_amount, salary_currency, salary_period
		FROM candidates WHERE tenant_id = $1 AND id = $2`, tenantID, candidateID).
		Scan(&p.City, &p.Country, &p.Title, &p.Employer, &p.LinkedIn, &p.Portfolio, &notice, &salary, &p.SalaryCurrency, &p.SalaryPeriod)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("read profile: %w", err)
	}
	if notice.Valid {
		w := int(notice.Int64)
		p.NoticeWeeks = &w
	}
	if salary.Valid {
		p.SalaryAmount = &salary.Int64
	}
	if p.Skills, err = candidateSkills(ctx, q, tenantID, candidateID); err != nil {
		return nil, err
	}
	rows, err := q.QueryContext(ctx, `SELECT language, level FROM candidate_languages WHERE tenant_id = $1 AND candidate_id = $2 ORDER BY language`, tenantID, candidateID)
	if err != nil {
		return nil, fmt.Errorf("read languages: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var l Language
		if err := rows.Scan(&l.Code, &l.Level); err != nil {
			return nil, err
		}
		p.Languages = append(p.Languages, l)
	}
	return p, rows.Err()
}

// profileWrite is one write of (some fields of) a profile.
type profileWrite struct {
	tenantID, candidateID string
	// fields are the fields written; the others stay as they are.
	fields []string
	// onlyEmpty: a field is written only where nothing is known yet (the
	// career form of a known candidate never changes what staff hold).
	onlyEmpty bool
	// knownSkills: skills the company's vocabulary lacks are left out
	// instead of added (an anonymous form never adds to the vocabulary).
	knownSkills bool
	by          string
	via         string
	now         time.Time
}

// writeProfile writes the fields of p that differ from what is stored, one
// history row per changed field, and returns the fields it changed. It
// first takes the candidate's row with a write (PostgreSQL's row lock; on
// SQLite the transaction holds the database's one writer), then reads the
// profile: two saves at once are serialised, and each history row's old
// value is what was stored when it was written.
func writeProfile(ctx context.Context, tx *sql.Tx, w profileWrite, p *Profile) ([]string, error) {
	res, err := tx.ExecContext(ctx, `UPDATE candidates SET updated_at = updated_at WHERE tenant_id = $1 AND id = $2`, w.tenantID, w.candidateID)
	if err != nil {
		return nil, fmt.Errorf("lock candidate: %w", err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return nil, ErrNotFound
	}
	old, err := loadProfile(ctx, tx, w.tenantID, w.candidateID)
	if err != nil {
		return nil, err
	}
	if slices.Contains(w.fields, ProfileSkills) && len(p.Skills) > 0 && !(w.onlyEmpty && len(old.Skills) > 0) {
		names := make([]string, len(p.Skills))
		for i, s := range p.Skills {
			names[i] = s.Name
		}
		if w.knownSkills {
			p.Skills, err = knownSkills(ctx, tx, w.tenantID, names)
		} else {
			p.Skills, err = ensureSkills(ctx, tx, w.tenantID, names, w.now, formField(ProfileSkills))
		}
		if err != nil {
			return nil, err
		}
		slices.SortFunc(p.Skills, func(a, b Skill) int { return strings.Compare(search.Fold(a.Name), search.Fold(b.Name)) })
	}
	next := *old
	var changed []string
	for _, f := range ProfileFieldNames {
		if !slices.Contains(w.fields, f) {
			continue
		}
		before, after := old.text(f), p.text(f)
		if before == after || (w.onlyEmpty && before != "") {
			continue
		}
		changed = append(changed, f)
		next.set(f, p)
		if _, err := tx.ExecContext(ctx, `INSERT INTO candidate_profile_changes (tenant_id, id, candidate_id, field, old_value, new_value, changed_at, changed_by, via)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`, w.tenantID, id.New(), w.candidateID, f, before, after, w.now, w.by, w.via); err != nil {
			return nil, fmt.Errorf("profile history: %w", err)
		}
	}
	if len(changed) == 0 {
		return nil, nil
	}
	if slices.ContainsFunc(changed, func(f string) bool { return f != ProfileSkills && f != ProfileLanguages }) {
		var notice, salary any
		if next.NoticeWeeks != nil {
			notice = *next.NoticeWeeks
		}
		if next.SalaryAmount != nil {
			salary = *next.SalaryAmount
		} else {
			next.SalaryCurrency, next.SalaryPeriod = "", ""
		}
		if _, err := tx.ExecContext(ctx, `UPDATE candidates SET city = $3, city_folded = $4, country = $5, title = $6, employer = $7, linkedin = $8, portfolio = $9,
			notice_weeks = $10, salary_amount = $11, salary_currency = $12, salary_period = $13, updated_at = $14 WHERE tenant_id = $1 AND id = $2`,
			w.tenantID, w.candidateID, next.City, search.Fold(next.City), next.Country, next.Title, next.Employer, next.LinkedIn, next.Portfolio,
			notice, salary, next.SalaryCurrency, next.SalaryPeriod, w.now); err != nil {
			return nil, fmt.Errorf("write profile: %w", err)
		}
	}
	if slices.Contains(changed, ProfileSkills) {
		if _, err := tx.ExecContext(ctx, `DELETE FROM candidate_skills WHERE tenant_id = $1 AND candidate_id = $2`, w.tenantID, w.candidateID); err != nil {
			return nil, fmt.Errorf("clear skills: %w", err)
		}
		for _, s := range next.Skills {
			if _, err := tx.ExecContext(ctx, `INSERT INTO candidate_skills (tenant_id, candidate_id, skill_id) VALUES ($1, $2, $3)`, w.tenantID, w.candidateID, s.ID); err != nil {
				return nil, fmt.Errorf("write skills: %w", err)
			}
		}
	}
	if slices.Contains(changed, ProfileLanguages) {
		if _, err := tx.ExecContext(ctx, `DELETE FROM candidate_languages WHERE tenant_id = $1 AND candidate_id = $2`, w.tenantID, w.candidateID); err != nil {
			return nil, fmt.Errorf("clear languages: %w", err)
		}
		for _, l := range next.Languages {
			if _, err := tx.ExecContext(ctx, `INSERT INTO candidate_languages (tenant_id, candidate_id, language, level) VALUES ($1, $2, $3, $4)`,
				w.tenantID, w.candidateID, l.Code, l.Level); err != nil {
				return nil, fmt.Errorf("write languages: %w", err)
			}
		}
	}
	return changed, nil
}

// knownSkills are the named skills the company's vocabulary holds, in its
// spelling; the others are left out.
func knownSkills(ctx context.Context, q querier, tenantID string, names []string) ([]Skill, error) {
	var out []Skill
	for _, name := range names {
		_, folded, ok := cleanSkill(name)
		if !ok {
			continue
		}
		var s Skill
		err := q.QueryRowContext(ctx, `SELECT id, name FROM skills WHERE tenant_id = $1 AND folded = $2`, tenantID, folded).Scan(&s.ID, &s.Name)
		if errors.Is(err, sql.ErrNoRows) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("read skill: %w", err)
		}
		if !slices.ContainsFunc(out, func(o Skill) bool { return o.ID == s.ID }) {
			out = append(out, s)
		}
	}
	return out, nil
}

// SaveProfile sets the profile of an application's candidate from its
// card: every field of in (an empty one clears the field). It needs the
// right to work on the application, as the card's other changes of the
// candidate do (MoveStage). Skills the vocabulary lacks join it. Each
// changed field gets a history row; the audit trail names the fields.
func (s *Service) SaveProfile(ctx context.Context, a access.Actor, applicationID string, in ProfileInput) error {
	p, f := in.clean()
	if len(f) > 0 {
		return &fault.Invalid{Fields: f}
	}
	return s.finish(ctx, a, s.db.InTx(ctx, a.TenantID, func(tx *sql.Tx) error {
		app, err := s.authorizeApplication(ctx, tx, a, access.MoveStage, applicationID)
		if err != nil {
			return err
		}
		changed, err := writeProfile(ctx, tx, profileWrite{tenantID: a.TenantID, candidateID: app.Candidate.ID, fields: ProfileFieldNames,
			by: a.UserID, via: string(ViaStaff), now: s.now().UTC()}, p)
		if err != nil || len(changed) == 0 {
			return err
		}
		return s.audit.Record(ctx, tx, audit.Event{TenantID: a.TenantID, Action: audit.CandidateProfileChanged, Actor: audit.ActorOf(a),
			Objects: []audit.Ref{{Kind: "application", ID: applicationID}, {Kind: "candidate", ID: app.Candidate.ID}},
			Details: map[string]string{"fields": strings.Join(changed, ","), "via": string(ViaStaff)}})
	}))
}

// ProfileChange is one change of a profile's field.
type ProfileChange struct {
	Field    string
	Old, New string
	At       time.Time
	// By is the colleague who changed it; "" for the candidate (career
	// page) or an import.
	By  string
	Via string
}

// maxProfileHistory is how many changes the card shows.
const maxProfileHistory = 100

// profileHistory reads a candidate's latest profile changes, newest first.
func profileHistory(ctx context.Context, q querier, tenantID, candidateID string) ([]ProfileChange, error) {
	rows, err := q.QueryContext(ctx, fmt.Sprintf(`SELECT field, old_value, new_value, changed_at, changed_by, via FROM candidate_profile_changes
		WHERE tenant_id = $1 AND candidate_id = $2 ORDER BY changed_at DESC, id DESC LIMIT %d`, maxProfileHistory), tenantID, candidateID)
	if err != nil {
		return nil, fmt.Errorf("profile history: %w", err)
	}
	defer rows.Close()
	var out []ProfileChange
	for rows.Next() {
		var c ProfileChange
		if err := rows.Scan(&c.Field, &c.Old, &c.New, &c.At, &c.By, &c.Via); err != nil {
			return nil, err
		}
		c.At = c.At.UTC()
		out = append(out, c)
	}
	return out, rows.Err()
}

// ProfileAsk is a profile field a position's career form asks for.
type ProfileAsk struct {
	Field    string
	Required bool
}

// ProfileAskFields are the parts of a profile a career form may ask for.
var ProfileAskFields = []string{"city", "title", "employer", "languages", "links", "notice", "salary", "skills"}

// askedFields are the profile's fields each part of the career form holds.
var askedFields = map[string][]string{
	"city": {ProfileCity, ProfileCountry}, "title": {ProfileTitle}, "employer": {ProfileEmployer}, "languages": {ProfileLanguages},
	"links": {ProfileLinkedIn, ProfilePortfolio}, "notice": {ProfileNotice}, "salary": {ProfileSalary}, "skills": {ProfileSkills},
}

// ParseProfileAsks reads positions.profile_fields ("city,skills!").
func ParseProfileAsks(s string) []ProfileAsk {
	var out []ProfileAsk
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		name, req := strings.CutSuffix(part, "!")
		out = append(out, ProfileAsk{Field: name, Required: req})
	}
	return out
}

func formatProfileAsks(asks []ProfileAsk) string {
	parts := make([]string, len(asks))
	for i, a := range asks {
		parts[i] = a.Field
		if a.Required {
			parts[i] += "!"
		}
	}
	return strings.Join(parts, ",")
}

// validProfileAsks: every part known, none twice; the asks come back in
// the order of ProfileAskFields.
func validProfileAsks(asks []ProfileAsk) ([]ProfileAsk, bool) {
	var out []ProfileAsk
	for _, f := range ProfileAskFields {
		n := 0
		for _, a := range asks {
			if a.Field == f {
				n++
				out = append(out, a)
			}
		}
		if n > 1 {
			return nil, false
		}
	}
	return out, len(out) == len(asks)
}

// Ask returns how the form asks for part: "" (not), "optional" or "required".
func Ask(asks []ProfileAsk, part string) string {
	for _, a := range asks {
		if a.Field == part {
			if a.Required {
				return "required"
			}
			return "optional"
		}
	}
	return ""
}

// askedProfile checks the profile a career form sent against what the
// position asks: the fields asked for, with their errors (required ones
// must be given); fields not asked for are ignored.
func askedProfile(in ProfileInput, asks []ProfileAsk, errs map[string]string) (*Profile, []string) {
	p, f := in.clean()
	var fields []string
	for _, a := range asks {
		parts := askedFields[a.Field]
		fields = append(fields, parts...)
		given := false
		for _, part := range parts {
			for _, key := range []string{formField(part), formField(part) + "_currency", formField(part) + "_period"} {
				if msg, bad := f[key]; bad {
					errs[key] = msg
				}
			}
			if p.text(part) != "" {
				given = true
			}
		}
		if a.Required && !given {
			key := formField(parts[0])
			if _, bad := errs[key]; !bad {
				errs[key] = "error.profile_required"
			}
		}
	}
	return p, fields
}

// setProfileAsks sets what a position's career form asks for (nothing to
// do for nil).
func setProfileAsks(ctx context.Context, tx *sql.Tx, tenantID, positionID string, asks []ProfileAsk) error {
	if asks == nil {
		return nil
	}
	if _, err := tx.ExecContext(ctx, `UPDATE positions SET profile_fields = $3 WHERE tenant_id = $1 AND id = $2`, tenantID, positionID, formatProfileAsks(asks)); err != nil {
		return fmt.Errorf("set profile fields: %w", err)
	}
	return nil
}

// importSkills resolves the skills an import names, by folded name: the
// company's vocabulary is read once, and only the names it lacks are added.
func importSkills(ctx context.Context, tx *sql.Tx, tenantID string, names []string, now time.Time) (map[string]Skill, error) {
	out := map[string]Skill{}
	if len(names) == 0 {
		return out, nil
	}
	known, err := companySkills(ctx, tx, tenantID)
	if err != nil {
		return nil, err
	}
	for _, s := range known {
		out[search.Fold(s.Name)] = s
	}
	var missing []string
	for _, n := range names {
		if _, _, ok := cleanSkill(n); ok {
			if _, have := out[search.Fold(strings.Join(strings.Fields(n), " "))]; !have {
				missing = append(missing, n)
			}
		}
	}
	added, err := ensureSkills(ctx, tx, tenantID, missing, now, formField(ProfileSkills))
	if err != nil {
		return nil, err
	}
	for _, s := range added {
		out[search.Fold(s.Name)] = s
	}
	return out, nil
}

// importProfile writes the profile of a candidate an import has just
// added, with a history row via "import" for each field known, at the
// candidate's time.
func importProfile(ctx context.Context, st *txStmts, tenantID, candidateID string, p *Profile, skills map[string]Skill, at time.Time) error {
	for i, sk := range p.Skills {
		s, ok := skills[search.Fold(sk.Name)]
		if !ok {
			return fmt.Errorf("import skill %q: not in the vocabulary", sk.Name)
		}
		p.Skills[i] = s
	}
	slices.SortFunc(p.Skills, func(a, b Skill) int { return strings.Compare(search.Fold(a.Name), search.Fold(b.Name)) })
	var notice, salary any
	if p.NoticeWeeks != nil {
		notice = *p.NoticeWeeks
	}
	if p.SalaryAmount != nil {
		salary = *p.SalaryAmount
	}
	if _, err := st.ExecContext(ctx, `UPDATE candidates SET city = $3, city_folded = $4, country = $5, title = $6, employer = $7, linkedin = $8, portfolio = $9,
		notice_weeks = $10, salary_amount = $11, salary_currency = $12, salary_period = $13 WHERE tenant_id = $1 AND id = $2`,
		tenantID, candidateID, p.City, search.Fold(p.City), p.Country, p.Title, p.Employer, p.LinkedIn, p.Portfolio,
		notice, salary, p.SalaryCurrency, p.SalaryPeriod); err != nil {
		return fmt.Errorf("import profile: %w", err)
	}
	for _, s := range p.Skills {
		if _, err := st.ExecContext(ctx, `INSERT INTO candidate_skills (tenant_id, candidate_id, skill_id) VALUES ($1, $2, $3)`, tenantID, candidateID, s.ID); err != nil {
			return fmt.Errorf("import skills: %w", err)
		}
	}
	for _, l := range p.Languages {
		if _, err := st.ExecContext(ctx, `INSERT INTO candidate_languages (tenant_id, candidate_id, language, level) VALUES ($1, $2, $3, $4)`,
			tenantID, candidateID, l.Code, l.Level); err != nil {
			return fmt.Errorf("import languages: %w", err)
		}
	}
	for _, f := range ProfileFieldNames {
		if v := p.text(f); v != "" {
			if _, err := st.ExecContext(ctx, `INSERT INTO candidate_profile_changes (tenant_id, id, candidate_id, field, old_value, new_value, changed_at, changed_by, via)
				VALUES ($1, $2, $3, $4, '', $5, $6, '', 'import')`, tenantID, id.New(), candidateID, f, v, at); err != nil {
				return fmt.Errorf("import profile history: %w", err)
			}
		}
	}
	return nil
}
