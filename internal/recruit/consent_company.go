package recruit

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/id"
)

// A company may word the talent-pool consent in its own words, per
// language (privacy.Service.SaveConsentText keeps the versions in
// consent_texts). Its versions are named "company:<n>" in the consent log,
// beside the language; a language without a company text has the built-in
// text (the catalogue's career.consent, TalentPoolConsentVersion).

// CompanyTextPrefix starts the version name of a company's own text.
const CompanyTextPrefix = "company:"

// ConsentText is a version of the talent-pool consent text in one language.
type ConsentText struct {
	// Version is TalentPoolConsentVersion or "company:<n>".
	Version  string
	Language string
	// Body is the company's text (plain paragraphs or the small markdown of
	// the ads); "" for the built-in text, which the page takes from the
	// catalogue in Language.
	Body string
	// Since is when the version took effect.
	Since time.Time
	// CreatedBy is the user who wrote a company text.
	CreatedBy string
}

// Builtin reports whether t is the installation's own text.
func (t ConsentText) Builtin() bool { return !strings.HasPrefix(t.Version, CompanyTextPrefix) }

// CompanyTextVersion names version n of a company's text.
func CompanyTextVersion(n int) string { return CompanyTextPrefix + strconv.Itoa(n) }

// builtinConsentText is the built-in text in lang.
func builtinConsentText(lang string) ConsentText {
	since, _ := ConsentTextInEffect(TalentPoolConsentVersion)
	return ConsentText{Version: TalentPoolConsentVersion, Language: lang, Since: since}
}

// CurrentConsentTextTx returns the consent text in force for lang inside
// q, a transaction declared to the company: the company's newest version
// in that language, or the built-in text.
func CurrentConsentTextTx(ctx context.Context, q *sql.Tx, tenantID, lang string) (ConsentText, error) {
	return currentConsentText(ctx, q, tenantID, lang)
}

func currentConsentText(ctx context.Context, q querier, tenantID, lang string) (ConsentText, error) {
	t := ConsentText{Language: lang}
	var n int
	err := q.QueryRowContext(ctx, `SELECT version, body, created_at, created_by FROM consent_texts
		WHERE tenant_id = $1 AND purpose = 'talent_pool' AND language = $2 ORDER BY version DESC LIMIT 1`, tenantID, lang).
		Scan(&n, &t.Body, &t.Since, &t.CreatedBy)
	if errors.Is(err, sql.ErrNoRows) {
		return builtinConsentText(lang), nil
	}
	if err != nil {
		return ConsentText{}, fmt.Errorf("read consent text: %w", err)
	}
	t.Version, t.Since = CompanyTextVersion(n), t.Since.UTC()
	return t, nil
}

// ConsentTextOfTx returns the text a candidate saw: version in lang
// (the built-in text for TalentPoolConsentVersion), inside q. A version
// the company does not hold is ErrNotFound.
func ConsentTextOfTx(ctx context.Context, q *sql.Tx, tenantID, lang, version string) (ConsentText, error) {
	return consentTextOf(ctx, q, tenantID, lang, version)
}

func consentTextOf(ctx context.Context, q querier, tenantID, lang, version string) (ConsentText, error) {
	n, ok := strings.CutPrefix(version, CompanyTextPrefix)
	if !ok {
		if _, known := ConsentTextInEffect(version); !known {
			return ConsentText{}, ErrNotFound
		}
		t := builtinConsentText(lang)
		t.Version = version
		t.Since, _ = ConsentTextInEffect(version)
		return t, nil
	}
	v, err := strconv.Atoi(n)
	if err != nil || v <= 0 {
		return ConsentText{}, ErrNotFound
	}
	t := ConsentText{Version: version, Language: lang}
	err = q.QueryRowContext(ctx, `SELECT body, created_at, created_by FROM consent_texts
		WHERE tenant_id = $1 AND purpose = 'talent_pool' AND language = $2 AND version = $3`, tenantID, lang, v).
		Scan(&t.Body, &t.Since, &t.CreatedBy)
	if errors.Is(err, sql.ErrNoRows) {
		return ConsentText{}, ErrNotFound
	}
	if err != nil {
		return ConsentText{}, fmt.Errorf("read consent text: %w", err)
	}
	t.Since = t.Since.UTC()
	return t, nil
}

// CurrentConsentText returns the consent text the career page shows in
// lang: the company's newest version in that language, or the built-in one.
func (s *Service) CurrentConsentText(ctx context.Context, tenantID, lang string) (t ConsentText, err error) {
	err = s.db.ReadTx(ctx, tenantID, func(tx *sql.Tx) error {
		t, err = currentConsentText(ctx, tx, tenantID, lang)
		return err
	})
	return t, err
}

// VisibleCandidates returns which of the candidates in ids the actor may
// see, inside q (a transaction declared to the actor's company), by the
// candidate list's rule: one of their applications is visible to them.
func VisibleCandidates(ctx context.Context, q *sql.Tx, a access.Actor, ids []string) (map[string]bool, error) {
	out := map[string]bool{}
	if len(ids) == 0 {
		return out, nil
	}
	args := []any{a.TenantID}
	arg := func(v any) string {
		args = append(args, v)
		return fmt.Sprintf("$%d", len(args))
	}
	vis := visibleCandidate(a, "c.id", arg)
	if vis == "" {
		return out, nil
	}
	args, in := InList(args, ids)
	query := `SELECT c.id FROM candidates c WHERE c.tenant_id = $1 AND c.id IN (` + in + `)`
	if vis != "TRUE" {
		query += " AND " + vis
	}
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("check visible candidates: %w", err)
	}
	found, err := ScanIDs(rows)
	if err != nil {
		return nil, fmt.Errorf("check visible candidates: %w", err)
	}
	for _, c := range found {
		out[c] = true
	}
	return out, nil
}

// CandidatesOfApplications returns the candidates of the applications in
// applicationIDs that the actor may see (the rule of Application, for many
// rows in one query), each once, in the order of their first application
// in the list, inside q (a transaction declared to the actor's company).
// Ids of applications they may not see, or that are gone, are skipped.
func CandidatesOfApplications(ctx context.Context, q *sql.Tx, a access.Actor, applicationIDs []string) ([]string, error) {
	var valid []string
	for _, v := range applicationIDs {
		if id.Valid(v) {
			valid = append(valid, v)
		}
	}
	if len(valid) == 0 {
		return nil, nil
	}
	args := []any{a.TenantID}
	arg := func(v any) string {
		args = append(args, v)
		return fmt.Sprintf("$%d", len(args))
	}
	vis := visibleApplications(a, "a", "p", arg)
	if vis == "" {
		return nil, nil
	}
	args, in := InList(args, valid)
	query := `SELECT a.id, a.candidate_id FROM applications a JOIN positions p ON p.tenant_id = a.tenant_id AND p.id = a.position_id
		WHERE a.tenant_id = $1 AND a.id IN (` + in + `) AND ` + vis
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("read applications: %w", err)
	}
	defer rows.Close()
	of := map[string]string{}
	for rows.Next() {
		var app, cand string
		if err := rows.Scan(&app, &cand); err != nil {
			return nil, fmt.Errorf("read applications: %w", err)
		}
		of[app] = cand
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read applications: %w", err)
	}
	seen := map[string]bool{}
	var out []string
	for _, app := range valid {
		if c, ok := of[app]; ok && !seen[c] {
			seen[c] = true
			out = append(out, c)
		}
	}
	return out, nil
}
