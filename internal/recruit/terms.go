package recruit

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/kandidat/kandidat/internal/db"
)

// The candidate list's name filter reads candidate_terms, a small inverted
// index: every word of a candidate's name and email, lower-cased and with
// its diacritics folded, so that "dvorak", "Dvořák" and "dvoř" all find
// David Dvořák by a range of the index (a prefix), never by reading every
// candidate. It is written in the transaction that writes the candidate.

// foldSpecial are letters that do not decompose into a base letter and a mark.
var foldSpecial = map[rune]string{'ø': "o", 'æ': "ae", 'œ': "oe", 'ß': "ss", 'đ': "d", 'ł': "l", 'þ': "th", 'ð': "d", 'ı': "i"}

// Fold lower-cases s and removes its diacritics: "Brännström" is "brannstrom".
func Fold(s string) string {
	var b strings.Builder
	for _, r := range norm.NFD.String(strings.ToLower(s)) {
		if unicode.Is(unicode.Mn, r) {
			continue
		}
		if f, ok := foldSpecial[r]; ok {
			b.WriteString(f)
			continue
		}
		b.WriteRune(r)
	}
	return norm.NFC.String(b.String())
}

// maxTermBytes bounds one indexed word.
const maxTermBytes = 60

// words splits a folded text into the words the index keeps.
func words(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
}

// candidateTerms are the index entries of a candidate: each word of the
// name, the email as a whole, and its local part's words.
func candidateTerms(name, email string) []string {
	var out []string
	add := func(t string) {
		if len(t) > maxTermBytes {
			t = t[:maxTermBytes]
			for !utf8.ValidString(t) {
				t = t[:len(t)-1]
			}
		}
		if t != "" && !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	for _, w := range words(Fold(name)) {
		add(w)
	}
	email = strings.ToLower(email)
	add(email)
	local, _, _ := strings.Cut(email, "@")
	for _, w := range words(Fold(local)) {
		add(w)
	}
	return out
}

// execer runs a statement: a transaction, or a batch's prepared statements.
type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// writeTerms replaces a candidate's index entries inside tx.
func writeTerms(ctx context.Context, tx execer, tenantID, candidateID, name, email string, replace bool) error {
	if replace {
		if _, err := tx.ExecContext(ctx, `DELETE FROM candidate_terms WHERE tenant_id = $1 AND candidate_id = $2`, tenantID, candidateID); err != nil {
			return fmt.Errorf("index candidate: %w", err)
		}
	}
	for _, t := range candidateTerms(name, email) {
		if _, err := tx.ExecContext(ctx, `INSERT INTO candidate_terms (tenant_id, term, candidate_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`,
			tenantID, t, candidateID); err != nil {
			return fmt.Errorf("index candidate: %w", err)
		}
	}
	return nil
}

// termRange is the range of index terms that start with prefix.
func termRange(prefix string) (lo, hi string) {
	return prefix, prefix + "\U0010FFFF"
}

// BackfillTerms indexes the candidates that existed before the index
// (left to do by the migration that created it), in batches, and then
// forgets the task. It does nothing when there is nothing to do.
func (s *Service) BackfillTerms(ctx context.Context) (int, error) {
	var pending int
	if err := s.db.ReadTx(ctx, db.Installation, func(tx *sql.Tx) error {
		return tx.QueryRowContext(ctx, `SELECT count(*) FROM pending_backfills WHERE name = 'candidate_terms'`).Scan(&pending)
	}); err != nil {
		return 0, fmt.Errorf("pending backfills: %w", err)
	}
	if pending == 0 {
		return 0, nil
	}
	type cand struct{ tenant, id, name, email string }
	done := 0
	afterTenant, afterID := "", ""
	for {
		var batch []cand
		err := s.db.InTx(ctx, db.Installation, func(tx *sql.Tx) error { // every company's candidates
			rows, err := tx.QueryContext(ctx, `SELECT tenant_id, id, name, email FROM candidates WHERE (tenant_id, id) > ($1, $2) ORDER BY tenant_id, id LIMIT 1000`,
				afterTenant, afterID)
			if err != nil {
				return err
			}
			for rows.Next() {
				var c cand
				if err := rows.Scan(&c.tenant, &c.id, &c.name, &c.email); err != nil {
					rows.Close()
					return err
				}
				batch = append(batch, c)
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return err
			}
			for _, c := range batch {
				if err := writeTerms(ctx, tx, c.tenant, c.id, c.name, c.email, true); err != nil {
					return err
				}
			}
			if len(batch) == 0 {
				_, err := tx.ExecContext(ctx, `DELETE FROM pending_backfills WHERE name = 'candidate_terms'`)
				return err
			}
			return nil
		})
		if err != nil {
			return done, fmt.Errorf("index candidates: %w", err)
		}
		if len(batch) == 0 {
			return done, nil
		}
		done += len(batch)
		last := batch[len(batch)-1]
		afterTenant, afterID = last.tenant, last.id
	}
}

var errNoTerms = errors.New("no words to search")

// textFilter is the SQL condition on a.candidate_id for a name or email
// filter: every word typed must start a word of the candidate's. The
// company is the query's argument $1.
func textFilter(text string, arg func(any) string) (string, error) {
	ws := words(Fold(text))
	if strings.Contains(text, "@") {
		ws = append(ws[:0], strings.ToLower(strings.TrimSpace(text)))
	}
	if len(ws) == 0 {
		return "", errNoTerms
	}
	if len(ws) > 5 {
		ws = ws[:5]
	}
	var parts []string
	for _, w := range ws {
		if len(w) > maxTermBytes {
			w = w[:maxTermBytes]
			for !utf8.ValidString(w) {
				w = w[:len(w)-1]
			}
		}
		lo, hi := termRange(w)
		// The company as the argument $1, not a.tenant_id: an uncorrelated
		// subquery runs once, not once per application.
		parts = append(parts, "a.candidate_id IN (SELECT t.candidate_id FROM candidate_terms t WHERE t.tenant_id = $1 AND t.term >= "+arg(lo)+" AND t.term < "+arg(hi)+")")
	}
	return strings.Join(parts, " AND "), nil
}
