package web

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/fault"
	"github.com/kandidat/kandidat/internal/privacy"
)

// apiConsent is a candidate's talent-pool consent: its state and the
// candidate's consent log.
type apiConsent struct {
	CandidateID string             `json:"candidate_id"`
	State       string             `json:"state" enum:"granted,expired,refused,withdrawn,none"`
	Until       *time.Time         `json:"until" doc:"When the consent in force ends; null when none is in force."`
	Pending     *apiConsentRequest `json:"pending" doc:"A request for consent waiting for the candidate's answer; null when none waits."`
	Entries     []apiConsentEntry  `json:"entries" doc:"The candidate's consent log, newest first (the latest 50)."`
}

// apiConsentRequest is a request for consent sent to the candidate.
type apiConsentRequest struct {
	Kind      string    `json:"kind" enum:"request,renewal"`
	CreatedAt time.Time `json:"created_at"`
	ExpiresAt time.Time `json:"expires_at"`
}

// apiConsentEntry is one entry of the consent log.
type apiConsentEntry struct {
	ID          string     `json:"id"`
	Event       string     `json:"event" enum:"granted,refused,withdrawn"`
	Referral    string     `json:"referral" doc:"How it was given: career_page, email_link, request, renewal, manual, self_service, import."`
	TextVersion string     `json:"text_version" doc:"The version of the consent text it answered."`
	Language    string     `json:"language"`
	Evidence    string     `json:"evidence" doc:"For a consent entered by hand: how it was given and where the proof is."`
	ValidUntil  *time.Time `json:"valid_until" doc:"When a grant ends; null for a refusal or withdrawal."`
	RecordedBy  string     `json:"recorded_by" doc:"The user who entered it; empty when the candidate gave it."`
	CreatedAt   time.Time  `json:"created_at"`
}

// apiManualConsent records a consent the candidate gave elsewhere.
type apiManualConsent struct {
	Date     string `json:"date" format:"date" doc:"The day it was given (YYYY-MM-DD, the company's calendar): not in the future, and recent enough to be valid."`
	Months   int    `json:"months,omitempty" doc:"How long it is valid, 1 to 36 months (default: the company's)."`
	Evidence string `json:"evidence" doc:"How it was given and where the proof is."`
}

// apiWithdrawal records that the candidate withdrew their consent.
type apiWithdrawal struct {
	Note string `json:"note,omitempty" doc:"How the candidate said so."`
}

// apiErase confirms an erasure.
type apiErase struct {
	Confirm bool `json:"confirm" doc:"Must be true: everything held about the candidate is erased for good."`
}

func (s *Server) apiPrivacy(a *apiRouter) {
	a.handle(apiOp{Method: http.MethodGet, Path: "/candidates/{id}/consents", ID: "getConsents", Tag: "privacy",
		Summary: "A candidate's consent and consent log (applications.view on the candidate, or privacy.settings)", Result: apiConsent{}}, s.apiGetConsents)
	a.handle(apiOp{Method: http.MethodPost, Path: "/candidates/{id}/consents", ID: "recordConsent", Tag: "privacy",
		Summary: "Record a consent the candidate gave elsewhere (applications.move on the candidate, or privacy.settings)",
		Body:    apiManualConsent{}, Result: apiConsent{}}, s.apiRecordConsent)
	a.handle(apiOp{Method: http.MethodPost, Path: "/candidates/{id}/consents/withdraw", ID: "withdrawConsent", Tag: "privacy",
		Summary: "Record that the candidate withdrew their consent (applications.move on the candidate, or privacy.settings)",
		Body:    apiWithdrawal{}, Result: apiConsent{}}, s.apiWithdrawConsent)
	a.handle(apiOp{Method: http.MethodGet, Path: "/candidates/{id}/export", ID: "exportCandidate", Tag: "privacy",
		Summary: "Everything held about a candidate (Art. 15/20), as the data.json of the card's export; recorded on the GDPR track (positions.all or privacy.settings)",
		Result:  privacy.Data{}}, s.apiExportCandidate)
	a.handle(apiOp{Method: http.MethodPost, Path: "/candidates/{id}/erase", ID: "eraseCandidate", Tag: "privacy",
		Summary: "Erase a candidate for good, in every position (also needs positions.all)", Scope: access.EraseCandidates,
		Body: apiErase{}, Status: http.StatusNoContent}, s.apiEraseCandidate)
}

// apiConsentOf writes a candidate's consent as it is now.
func (s *Server) apiConsentOf(c *apiCall, candidateID string) error {
	cc, err := s.Privacy.CandidateConsent(c.ctx(), c.actor, candidateID)
	if err != nil {
		return err
	}
	out := apiConsent{CandidateID: cc.CandidateID, State: cc.State, Until: timeOrNil(cc.Until), Entries: []apiConsentEntry{}}
	if cc.Pending != nil {
		out.Pending = &apiConsentRequest{Kind: cc.Pending.Kind, CreatedAt: cc.Pending.CreatedAt, ExpiresAt: cc.Pending.ExpiresAt}
	}
	for _, e := range cc.History {
		out.Entries = append(out.Entries, apiConsentEntry{ID: e.ID, Event: e.Event, Referral: e.Referral, TextVersion: e.TextVersion,
			Language: e.Language, Evidence: e.Evidence, ValidUntil: timeOrNil(e.ValidUntil), RecordedBy: e.RecordedBy, CreatedAt: e.CreatedAt})
	}
	return c.json(out)
}

// timeOrNil is nil for the zero time.
func timeOrNil(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func (s *Server) apiGetConsents(c *apiCall) error {
	return s.apiConsentOf(c, c.path("id"))
}

func (s *Server) apiRecordConsent(c *apiCall) error {
	var in apiManualConsent
	if err := c.decode(&in); err != nil {
		return err
	}
	months := ""
	if in.Months != 0 {
		months = strconv.Itoa(in.Months)
	}
	id := c.path("id")
	_, err := s.Privacy.RecordManualConsent(c.ctx(), c.actor, id, privacy.ManualConsent{Date: in.Date, Months: months, Evidence: in.Evidence})
	if err != nil {
		return renameFields(err, map[string]string{"consent_date": "date", "consent_months": "months", "consent_evidence": "evidence"})
	}
	return s.apiConsentOf(c, id)
}

func (s *Server) apiWithdrawConsent(c *apiCall) error {
	var in apiWithdrawal
	if err := c.decode(&in); err != nil {
		return err
	}
	id := c.path("id")
	if err := s.Privacy.RecordWithdrawal(c.ctx(), c.actor, id, in.Note); err != nil {
		return renameFields(err, map[string]string{"withdrawal_note": "note"})
	}
	return s.apiConsentOf(c, id)
}

func (s *Server) apiExportCandidate(c *apiCall) error {
	ex, err := s.Privacy.ExportCandidateByID(c.ctx(), c.actor, c.path("id"))
	if err != nil {
		return err
	}
	return c.json(ex.Data())
}

func (s *Server) apiEraseCandidate(c *apiCall) error {
	var in apiErase
	if err := c.decode(&in); err != nil {
		return err
	}
	// A stray or half-built request erases nothing.
	if !in.Confirm {
		return fault.Field("confirm", "error.api_erase_confirm")
	}
	if err := s.Privacy.EraseCandidateByID(c.ctx(), c.actor, c.path("id")); err != nil {
		return err
	}
	return c.noContent()
}

// renameFields gives the fields of a validation error the names of the
// API's JSON fields where the service names them after the card's form.
func renameFields(err error, names map[string]string) error {
	var inv *fault.Invalid
	if !errors.As(err, &inv) {
		return err
	}
	out := &fault.Invalid{Fields: map[string]string{}}
	for f, key := range inv.Fields {
		if n, ok := names[f]; ok {
			f = n
		}
		out.Fields[f] = key
	}
	return out
}
