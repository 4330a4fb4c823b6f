package recruit

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/audit"
	"github.com/kandidat/kandidat/internal/fault"
	"github.com/kandidat/kandidat/internal/id"
	"github.com/kandidat/kandidat/internal/notify"
	"github.com/kandidat/kandidat/internal/search"
)

// Matching ranks the company's pool for a position: the words of the
// position's title, the most distinctive words of its description and its
// required skills, OR-ed through the full-text index (a candidate holding
// more of them, and rarer ones, ranks higher: bm25 or ts_rank), plus a
// boost for every required skill the candidate's profile names. Only
// candidates the user may see (the candidate list's rule, as SQL) with a
// valid processing basis are offered. Each match says why: the terms its
// entry holds and the required skills it has.

// Match is a candidate ranked for a position.
type Match struct {
	CandidateID, Name string
	// Title and City are the candidate's current title and city ("" when
	// not known).
	Title, City string
	// Score is the rank's strength relative to the best match (1).
	Score float64
	// MatchedTerms are the position's terms the candidate's entry holds;
	// MatchedSkills the required skills their profile names.
	MatchedTerms  []string
	MatchedSkills []string
	// Applied: the candidate already has an application to the position.
	Applied bool
	// Invited: the candidate was invited to apply to it.
	Invited bool
}

// MatchQuery is what a position is matched by.
type MatchQuery struct {
	Terms  []string
	Skills []Skill
}

// Limits of matching.
const (
	// maxDescriptionTerms is how many words of a description are searched.
	maxDescriptionTerms = 20
	// maxRequiredSkills bounds the skills a position requires.
	maxRequiredSkills = 30
	// MaxMatches is the longest list of matches, and the largest selection
	// an action on matches takes.
	MaxMatches = 100
	// matchCandidates is how many candidates each ranking (text, skills)
	// gives before the two are merged.
	matchCandidates = 200
	// skillBoost is what a required skill the candidate has adds to a text
	// score of 0..1 (the best text match's is 1).
	skillBoost = 0.5
)

// validBasis is the SQL condition that the candidate in column col has a
// processing basis in force at now (an application within its purpose, or
// a consent): basis.go keeps when it ends on the candidate's row. The
// company is $1 and values go through arg.
func validBasis(col string, arg func(any) string, now time.Time) string {
	return `EXISTS (SELECT 1 FROM candidates bc WHERE bc.tenant_id = $1 AND bc.id = ` + col + ` AND bc.basis_until > ` + arg(now) + `)`
}

// visibleCandidate is the SQL condition that the actor may see the
// candidate in column col: one of their applications is visible to them,
// by the candidate list's rule (visibleApplications), with no query per
// row. It is "" when they may see none.
func visibleCandidate(a access.Actor, col string, arg func(any) string) string {
	vis := visibleApplications(a, "va", "vp", arg)
	if vis == "" || vis == "TRUE" {
		return vis
	}
	return `EXISTS (SELECT 1 FROM applications va JOIN positions vp ON vp.tenant_id = va.tenant_id AND vp.id = va.position_id
		WHERE va.tenant_id = $1 AND va.candidate_id = ` + col + ` AND ` + vis + `)`
}

// offered is the condition of a candidate matching may offer the actor.
func offered(a access.Actor, now time.Time) (search.Where, bool) {
	if !a.Can(access.ViewSharedPool) && !(a.Can(access.ViewApplications) && a.Can(access.ViewPositions)) {
		return nil, false
	}
	return func(col string, arg func(any) string) string {
		return visibleCandidate(a, col, arg) + " AND " + validBasis(col, arg, now)
	}, true
}

// stopWords are the five languages' commonest words, folded: a
// description's words that say nothing of the position.
var stopWords = func() map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(`
		a about above after all also an and any are as at be been being but by can could did do does for from had has have he her
		here his how i if in into is it its just may more most must no not of on one only or other our out over own same she should
		so some such than that the their them then there these they this those through to too under up very was we were what when
		where which while who whom why will with would you your yours us per via within without etc
		a aby ale ani az by byl byla byli bylo byt co do i jak jako je jeho jej jejich jen jsem jsme jsou jste k kde kdo kdyz ke
		ktera ktere kteri ktery kterou mezi mit na nad nas nebo neni ni o od ou pak po pod pokud pro proto pri s se si sve svou
		ta tak take tam te tedy ten to tu tuto ty u uz v ve vsak z za ze
		aj ako alebo ani az bol bola boli bolo by byt co do ho i ich je jeho jej ju k kde ked ktora ktore ktori ktory ku ma mat
		medzi na nad nas nie o od po pod podla pre preto pri s sa si so su sme ste ta tak tiez to tu ty uz v vo za ze
		alla allt att av blev bli blir da de dem den denna deras dess det detta dig din dina dit du efter eller en ett fick for fran
		fatt ha hade han hans har hennes honom hon hur i icke ingen inom inte jag ju kan kunde man med mellan men mig min mina mitt
		mot mycket ni nu nagon nar och om oss pa samma sedan sig sin sina sitt ska skall skulle som till under upp ut utan vad var
		vara varit varje vars vi vid vilka vilken vilket vara aven ar
		alle at av bare begge ble blei bli blir da de deg dei deim deira deires dem den denne der dere deres det dette di din disse
		ditt du dykk eg ein eit eitt eller elles en enn er et ett etter for fordi fra ha hadde han hans har hennar henne hennes her
		hjaa ho hoe honom hoss hossen hun hva hvem hver hvilke hvilken hvis hvor hvordan hvorfor i ikke ikkje ingen ingi inkje inn
		inni ja jeg kan kom korleis kva kvar kven kvi kunne man mange me med meg mellom men mi min mine mitt mot mykje ned no noe
		noen noka noko nokon nokor nokre nar og ogsa om opp oss over pa sa samme seg selv si sia sidan siden sin sine sitt sjol skal
		skulle slik so som somme somt til um upp ut uten var vart varte ved vere verte vi vil ville vore vors vort vaere vart`) {
		m[w] = true
	}
	return m
}()

// usefulTerm reports whether a folded word may be searched for a
// position: not a stop word, at least three letters, not a number.
func usefulTerm(t string) bool {
	return !stopWords[t] && utf8.RuneCountInString(t) >= 3 && strings.ContainsFunc(t, unicode.IsLetter)
}

// matchTerms are the words a position is matched by: its title's, then the
// description's most distinctive (the most frequent, the longer first
// among equals), at most maxDescriptionTerms of them.
func matchTerms(title, description string) []string {
	var out []string
	seen := map[string]bool{}
	for _, t := range search.Terms(title) {
		if usefulTerm(t) && !seen[t] {
			seen[t] = true
			out = append(out, t)
		}
	}
	count := map[string]int{}
	for _, t := range search.Terms(description) {
		if usefulTerm(t) && !seen[t] {
			count[t]++
		}
	}
	words := slices.Collect(maps.Keys(count))
	slices.SortFunc(words, func(x, y string) int {
		return cmp.Or(count[y]-count[x], len(y)-len(x), strings.Compare(x, y))
	})
	return append(out, words[:min(len(words), maxDescriptionTerms)]...)
}

// Matches ranks the candidates of the company's pool the actor may see,
// with a valid processing basis, for a position whose applications they
// may see: at most limit (MaxMatches), best first, each with what it
// matched. Candidates already in the position's pipeline are marked
// Applied, not left out.
func (s *Service) Matches(ctx context.Context, a access.Actor, positionID string, limit int) (out []Match, err error) {
	out, _, err = s.matches(ctx, a, positionID, limit)
	return out, err
}

// MatchesWith is Matches with what the position is matched by.
func (s *Service) MatchesWith(ctx context.Context, a access.Actor, positionID string, limit int) ([]Match, *MatchQuery, error) {
	return s.matches(ctx, a, positionID, limit)
}

func (s *Service) matches(ctx context.Context, a access.Actor, positionID string, limit int) ([]Match, *MatchQuery, error) {
	if limit <= 0 || limit > MaxMatches {
		limit = MaxMatches
	}
	var out []Match
	mq := &MatchQuery{}
	err := s.db.ReadTx(ctx, a.TenantID, func(tx *sql.Tx) error {
		p, err := s.authorizePosition(ctx, tx, a, access.ViewApplications, positionID)
		if err != nil {
			return err
		}
		if mq.Skills, err = positionSkills(ctx, tx, a.TenantID, positionID); err != nil {
			return err
		}
		mq.Terms = matchTerms(p.Title, p.Description)
		where, ok := offered(a, s.now())
		if !ok {
			return nil
		}
		texts := slices.Clone(mq.Terms)
		for _, sk := range mq.Skills {
			texts = append(texts, sk.Name)
		}
		hits, err := s.index().RankedWhere(ctx, tx, a.TenantID, search.AnyOf(texts), matchCandidates, where)
		if err != nil {
			return err
		}
		text := map[string]float64{}
		best := 0.0
		for _, h := range hits {
			text[h.CandidateID] = h.Score
			best = max(best, h.Score)
		}
		skills, err := skilledCandidates(ctx, tx, a.TenantID, mq.Skills, where)
		if err != nil {
			return err
		}
		score := map[string]float64{}
		for c, v := range text {
			if best > 0 {
				score[c] = v / best
			}
		}
		for c, n := range skills {
			score[c] += skillBoost * float64(n)
		}
		ids := slices.Collect(maps.Keys(score))
		slices.SortFunc(ids, func(x, y string) int { return cmp.Or(cmp.Compare(score[y], score[x]), strings.Compare(x, y)) })
		ids = ids[:min(len(ids), limit)]
		if len(ids) == 0 {
			return nil
		}
		top := score[ids[0]]
		byID := make(map[string]*Match, len(ids))
		out = make([]Match, len(ids))
		for i, c := range ids {
			out[i] = Match{CandidateID: c, Score: score[c] / top}
			byID[c] = &out[i]
		}
		if err := fillMatches(ctx, tx, a.TenantID, positionID, mq.Skills, byID); err != nil {
			return err
		}
		terms, err := s.index().TermsOf(ctx, tx, a.TenantID, mq.Terms, ids)
		if err != nil {
			return err
		}
		for c, ts := range terms {
			if m := byID[c]; m != nil {
				m.MatchedTerms = ts
			}
		}
		return nil
	})
	if err != nil {
		return nil, nil, s.finish(ctx, a, err)
	}
	return out, mq, nil
}

// skilledCandidates are the candidates where holds for who have the most
// of the required skills (at most matchCandidates), with how many they
// have.
func skilledCandidates(ctx context.Context, q querier, tenantID string, skills []Skill, where search.Where) (map[string]int, error) {
	out := map[string]int{}
	if len(skills) == 0 {
		return out, nil
	}
	args := []any{tenantID}
	arg := func(v any) string {
		args = append(args, v)
		return fmt.Sprintf("$%d", len(args))
	}
	in := make([]string, len(skills))
	for i, sk := range skills {
		in[i] = arg(sk.ID)
	}
	rows, err := q.QueryContext(ctx, `SELECT cs.candidate_id, count(*) FROM candidate_skills cs
		WHERE cs.tenant_id = $1 AND cs.skill_id IN (`+strings.Join(in, ", ")+`) AND `+where("cs.candidate_id", arg)+`
		GROUP BY cs.candidate_id ORDER BY count(*) DESC, cs.candidate_id LIMIT `+fmt.Sprint(matchCandidates), args...)
	if err != nil {
		return nil, fmt.Errorf("match skills: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var c string
		var n int
		if err := rows.Scan(&c, &n); err != nil {
			return nil, err
		}
		out[c] = n
	}
	return out, rows.Err()
}

// fillMatches reads the matches' names, titles and cities, the required
// skills each has, and whether each applied or was invited.
func fillMatches(ctx context.Context, q querier, tenantID, positionID string, skills []Skill, byID map[string]*Match) error {
	args := []any{tenantID, positionID}
	in := make([]string, 0, len(byID))
	for c := range byID {
		args = append(args, c)
		in = append(in, fmt.Sprintf("$%d", len(args)))
	}
	ids := strings.Join(in, ", ")
	rows, err := q.QueryContext(ctx, `SELECT c.id, c.name, c.title, c.city,
		EXISTS (SELECT 1 FROM applications x WHERE x.tenant_id = c.tenant_id AND x.candidate_id = c.id AND x.position_id = $2),
		EXISTS (SELECT 1 FROM match_invitations mi WHERE mi.tenant_id = c.tenant_id AND mi.position_id = $2 AND mi.candidate_id = c.id)
		FROM candidates c WHERE c.tenant_id = $1 AND c.id IN (`+ids+`)`, args...)
	if err != nil {
		return fmt.Errorf("read matches: %w", err)
	}
	for rows.Next() {
		var m Match
		if err := rows.Scan(&m.CandidateID, &m.Name, &m.Title, &m.City, &m.Applied, &m.Invited); err != nil {
			rows.Close()
			return err
		}
		if t := byID[m.CandidateID]; t != nil {
			t.Name, t.Title, t.City, t.Applied, t.Invited = m.Name, m.Title, m.City, m.Applied, m.Invited
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	if len(skills) == 0 {
		return nil
	}
	names := map[string]string{}
	args = []any{tenantID}
	arg := func(v any) string {
		args = append(args, v)
		return fmt.Sprintf("$%d", len(args))
	}
	skillIn := make([]string, len(skills))
	for i, sk := range skills {
		names[sk.ID] = sk.Name
		skillIn[i] = arg(sk.ID)
	}
	in = in[:0]
	for c := range byID {
		in = append(in, arg(c))
	}
	rows, err = q.QueryContext(ctx, `SELECT cs.candidate_id, cs.skill_id FROM candidate_skills cs
		WHERE cs.tenant_id = $1 AND cs.candidate_id IN (`+strings.Join(in, ", ")+`) AND cs.skill_id IN (`+strings.Join(skillIn, ", ")+`)`, args...)
	if err != nil {
		return fmt.Errorf("read matched skills: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var c, sk string
		if err := rows.Scan(&c, &sk); err != nil {
			return err
		}
		if m := byID[c]; m != nil {
			m.MatchedSkills = append(m.MatchedSkills, names[sk])
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	for _, m := range byID {
		slices.Sort(m.MatchedSkills)
	}
	return nil
}

// MatchResult says how an action on matches went.
type MatchResult struct {
	// Done: applications added or invitations sent.
	Done int
	// Already: the candidates already in the pipeline or invited before.
	Already int
	// Refused: candidates the actor may not see, without a valid basis, or gone.
	Refused int
}

// checkSelection validates a selection of candidates.
func checkSelection(ids []string) ([]string, error) {
	slices.Sort(ids)
	ids = slices.Compact(ids)
	if len(ids) == 0 || len(ids) > MaxMatches || slices.ContainsFunc(ids, func(c string) bool { return !id.Valid(c) }) {
		return nil, fault.Field("selection", "error.match_selection")
	}
	return ids, nil
}

// offeredAmong returns which of ids matching may offer the actor now.
func offeredAmong(ctx context.Context, q querier, a access.Actor, ids []string, now time.Time) (map[string]bool, error) {
	out := map[string]bool{}
	where, ok := offered(a, now)
	if !ok {
		return out, nil
	}
	args := []any{a.TenantID}
	arg := func(v any) string {
		args = append(args, v)
		return fmt.Sprintf("$%d", len(args))
	}
	in := make([]string, len(ids))
	for i, c := range ids {
		in[i] = arg(c)
	}
	rows, err := q.QueryContext(ctx, `SELECT c.id FROM candidates c WHERE c.tenant_id = $1 AND c.id IN (`+strings.Join(in, ", ")+`) AND `+where("c.id", arg), args...)
	if err != nil {
		return nil, fmt.Errorf("check matches: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			return nil, err
		}
		out[c] = true
	}
	return out, rows.Err()
}

// AddMatches adds the selected candidates to the position's pipeline: an
// application of each at the pipeline's first stage, with the source
// "match". The actor must be allowed to add candidates to the position,
// and may add only candidates matching would offer them. A candidate with
// an application to the position keeps it (Already): one application per
// candidate and position, however often or by how many at once.
func (s *Service) AddMatches(ctx context.Context, a access.Actor, positionID string, candidateIDs []string) (*MatchResult, error) {
	ids, err := checkSelection(candidateIDs)
	if err != nil {
		return nil, err
	}
	res := &MatchResult{}
	err = s.db.InTx(ctx, a.TenantID, func(tx *sql.Tx) error {
		*res = MatchResult{}
		p, err := s.authorizePosition(ctx, tx, a, access.AddCandidates, positionID)
		if err != nil {
			return err
		}
		// The position's row is the lock: adds to one position run one
		// after the other, so the check below sees the other's insert.
		if _, err := tx.ExecContext(ctx, `UPDATE positions SET updated_at = updated_at WHERE tenant_id = $1 AND id = $2`, a.TenantID, p.ID); err != nil {
			return fmt.Errorf("lock position: %w", err)
		}
		stages, err := positionStages(ctx, tx, a.TenantID, p.ID)
		if err != nil {
			return err
		}
		if len(stages) == 0 {
			return ErrState
		}
		first := stages[0]
		now := s.now().UTC()
		ok, err := offeredAmong(ctx, tx, a, ids, now)
		if err != nil {
			return err
		}
		for _, c := range ids {
			if !ok[c] {
				res.Refused++
				continue
			}
			var n int
			if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM applications WHERE tenant_id = $1 AND position_id = $2 AND candidate_id = $3`,
				a.TenantID, p.ID, c).Scan(&n); err != nil {
				return fmt.Errorf("find application: %w", err)
			}
			if n > 0 {
				res.Already++
				continue
			}
			appID := id.New()
			if _, err := tx.ExecContext(ctx, `INSERT INTO applications (tenant_id, id, position_id, candidate_id, stage, stage_id, source, receipt, created_at, updated_at)
				VALUES ($1, $2, $3, $4, $5, $6, 'match', FALSE, $7, $7)`, a.TenantID, appID, p.ID, c, string(first.Kind), first.ID, now); err != nil {
				return fmt.Errorf("insert application: %w", err)
			}
			if err := s.audit.Record(ctx, tx, audit.Event{TenantID: a.TenantID, Action: audit.ApplicationCreated, Actor: audit.ActorOf(a),
				Objects: []audit.Ref{{Kind: "application", ID: appID}, {Kind: "candidate", ID: c}, {Kind: "position", ID: p.ID}},
				Details: map[string]string{"via": "match", "stage": string(first.Kind)}}); err != nil {
				return err
			}
			res.Done++
		}
		return nil
	})
	if err != nil {
		return nil, s.finish(ctx, a, err)
	}
	return res, nil
}

// ErrNotPublished: an invitation to apply needs the position on the career page.
var ErrNotPublished = fault.New(fault.ErrConflict, "position not published", "error.match_not_published")

// InviteMatches emails the selected candidates an invitation to apply to
// the position, with the link to its career page, in the position's
// language. The actor must be allowed to add candidates to the position
// (and the position be published); only candidates matching would offer
// them are invited. A candidate is invited at most once per position: the
// invitation is spent by a conditional write in the transaction that
// queues the email, so neither a second click nor a colleague's click at
// the same moment sends another.
func (s *Service) InviteMatches(ctx context.Context, a access.Actor, positionID string, candidateIDs []string) (*MatchResult, error) {
	ids, err := checkSelection(candidateIDs)
	if err != nil {
		return nil, err
	}
	t, err := s.tenants.ByID(ctx, a.TenantID)
	if err != nil {
		return nil, err
	}
	res := &MatchResult{}
	err = s.db.InTx(ctx, a.TenantID, func(tx *sql.Tx) error {
		*res = MatchResult{}
		p, err := s.authorizePosition(ctx, tx, a, access.AddCandidates, positionID)
		if err != nil {
			return err
		}
		if p.Status != Published {
			return ErrNotPublished
		}
		now := s.now().UTC()
		ok, err := offeredAmong(ctx, tx, a, ids, now)
		if err != nil {
			return err
		}
		link := s.baseURL() + "/careers/" + t.Slug + "/" + p.ID
		for _, c := range ids {
			if !ok[c] {
				res.Refused++
				continue
			}
			r, err := tx.ExecContext(ctx, `INSERT INTO match_invitations (tenant_id, position_id, candidate_id, invited_by, queue_id, created_at)
				VALUES ($1, $2, $3, $4, '', $5) ON CONFLICT (tenant_id, position_id, candidate_id) DO NOTHING`, a.TenantID, p.ID, c, a.UserID, now)
			if err != nil {
				return fmt.Errorf("record invitation: %w", err)
			}
			if n, err := r.RowsAffected(); err != nil {
				return err
			} else if n != 1 {
				res.Already++
				continue
			}
			var name, email string
			if err := tx.QueryRowContext(ctx, `SELECT name, email FROM candidates WHERE tenant_id = $1 AND id = $2`, a.TenantID, c).Scan(&name, &email); err != nil {
				return fmt.Errorf("read candidate: %w", err)
			}
			i18n := s.career.I18n
			subject := i18n.T(p.Language, "match.email.subject", "position", p.Title, "company", t.Name)
			body := i18n.T(p.Language, "match.email.body", "name", name, "position", p.Title, "company", t.Name, "url", link)
			queueID, err := s.career.Queue.EnqueueID(ctx, tx, a.TenantID, notify.Message{To: []string{email}, Subject: subject, Text: body})
			if err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `UPDATE match_invitations SET queue_id = $4 WHERE tenant_id = $1 AND position_id = $2 AND candidate_id = $3`,
				a.TenantID, p.ID, c, queueID); err != nil {
				return fmt.Errorf("record invitation: %w", err)
			}
			if err := s.audit.Record(ctx, tx, audit.Event{TenantID: a.TenantID, Action: audit.CandidateInvitedToApply, Actor: audit.ActorOf(a),
				Objects: []audit.Ref{{Kind: "candidate", ID: c}, {Kind: "position", ID: p.ID}}}); err != nil {
				return err
			}
			res.Done++
		}
		return nil
	})
	if err != nil {
		return nil, s.finish(ctx, a, err)
	}
	return res, nil
}
