package privacy

import (
	"context"
	"database/sql"
	"fmt"
	"slices"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/audit"
	"github.com/kandidat/kandidat/internal/fault"
	"github.com/kandidat/kandidat/internal/i18n"
	"github.com/kandidat/kandidat/internal/id"
	"github.com/kandidat/kandidat/internal/recruit"
)

// ConsentLanguage is a company's talent-pool consent text in one language:
// the one in force and the versions the company saved, newest first.
type ConsentLanguage struct {
	Language string
	Current  recruit.ConsentText
	Versions []recruit.ConsentText
	// Builtin is the built-in text in the language, with the company's name.
	Builtin string
}

// ConsentTexts returns the company's consent texts in every language, for
// a user holding privacy.settings.
func (s *Service) ConsentTexts(ctx context.Context, a access.Actor) ([]ConsentLanguage, error) {
	if !a.Can(access.PrivacySettings) {
		return nil, ErrForbidden
	}
	byLang := map[string][]recruit.ConsentText{}
	err := s.db.ReadTx(ctx, a.TenantID, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT language, version, body, created_at, created_by FROM consent_texts
			WHERE tenant_id = $1 AND purpose = 'talent_pool' ORDER BY language, version DESC`, a.TenantID)
		if err != nil {
			return fmt.Errorf("list consent texts: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var t recruit.ConsentText
			var n int
			if err := rows.Scan(&t.Language, &n, &t.Body, &t.Since, &t.CreatedBy); err != nil {
				return err
			}
			t.Version, t.Since = recruit.CompanyTextVersion(n), t.Since.UTC()
			byLang[t.Language] = append(byLang[t.Language], t)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, err
	}
	t, err := s.opts.Tenants.ByID(ctx, a.TenantID)
	if err != nil {
		return nil, err
	}
	out := make([]ConsentLanguage, 0, len(i18n.Languages))
	for _, lang := range i18n.Languages {
		l := ConsentLanguage{Language: lang, Versions: byLang[lang], Builtin: s.opts.I18n.T(lang, "career.consent", "company", t.Name)}
		if len(l.Versions) > 0 {
			l.Current = l.Versions[0]
		} else {
			since, _ := recruit.ConsentTextInEffect(recruit.TalentPoolConsentVersion)
			l.Current = recruit.ConsentText{Version: recruit.TalentPoolConsentVersion, Language: lang, Since: since}
		}
		out = append(out, l)
	}
	return out, nil
}

// SaveConsentText saves body as the company's consent text in lang, for a
// user holding privacy.settings. A text that differs from the one in
// force becomes the next version (an old version is never changed, since
// the consent log names the version each candidate saw); the same text
// again changes nothing (saved false). Errors name the field "body_<lang>".
func (s *Service) SaveConsentText(ctx context.Context, a access.Actor, lang, body string) (t recruit.ConsentText, saved bool, err error) {
	if !a.Can(access.PrivacySettings) {
		return t, false, ErrForbidden
	}
	if !slices.Contains(i18n.Languages, lang) {
		return t, false, fault.Field("language", "consent_texts.error.language")
	}
	field := "body_" + lang
	body, ok := cleanNote(body, MaxConsentText)
	switch {
	case body == "":
		return t, false, fault.Field(field, "consent_texts.error.empty")
	case !ok:
		return t, false, fault.Field(field, "consent_texts.error.text")
	}
	err = s.db.InTx(ctx, a.TenantID, func(tx *sql.Tx) error {
		// Two saves of one language at once take their versions in turn.
		if err := s.consentLock(ctx, tx, a.TenantID+"\x00text\x00"+lang); err != nil {
			return err
		}
		cur, err := recruit.CurrentConsentTextTx(ctx, tx, a.TenantID, lang)
		if err != nil {
			return err
		}
		if !cur.Builtin() && cur.Body == body {
			t = cur
			return nil
		}
		now := s.now().UTC()
		if _, err := tx.ExecContext(ctx, `INSERT INTO consent_texts (tenant_id, id, purpose, language, version, body, created_at, created_by)
			SELECT $1, $2, 'talent_pool', $3, COALESCE(MAX(version), 0) + 1, $4, $5, $6 FROM consent_texts
			WHERE tenant_id = $1 AND purpose = 'talent_pool' AND language = $3`, a.TenantID, id.New(), lang, body, now, a.UserID); err != nil {
			return fmt.Errorf("save consent text: %w", err)
		}
		if t, err = recruit.CurrentConsentTextTx(ctx, tx, a.TenantID, lang); err != nil {
			return err
		}
		saved = true
		return s.opts.Audit.Record(ctx, tx, audit.Event{TenantID: a.TenantID, Action: audit.ConsentTextSaved, Actor: audit.ActorOf(a),
			Objects: []audit.Ref{{Kind: "tenant", ID: a.TenantID}},
			Details: map[string]string{"purpose": "talent_pool", "language": lang, "text_version": t.Version}})
	})
	if err != nil {
		return recruit.ConsentText{}, false, err
	}
	return t, saved, nil
}
