package recruit

import (
	"context"
	"database/sql"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/audit"
)

// CardView is everything the candidate card shows, read at once.
type CardView struct {
	Application *Application
	Comments    []Comment
	Documents   []Document
	Interviews  []*Interview
	Details     *CardDetails
	Messages    []Message
	// Others are the candidate's other applications the actor may see.
	Others  []*Application
	Tasks   []Task
	Reasons []Reason
	// Stages is the position's pipeline when the actor may move the application.
	Stages []Stage
	// Profile is the candidate's profile, ProfileHistory its latest changes, newest first.
	Profile        *Profile
	ProfileHistory []ProfileChange
}

// CardView reads an application's card in one read transaction, after one
// decision, and writes the read of the candidate's data to the security
// log (as Application does).
func (s *Service) CardView(ctx context.Context, a access.Actor, applicationID string) (*CardView, error) {
	v := &CardView{}
	err := s.read(ctx, a, func(q querier) error {
		app, err := s.authorizeApplication(ctx, q, a, access.ViewApplications, applicationID)
		if err != nil {
			return err
		}
		v.Application = app
		if v.Comments, err = listComments(ctx, q, a.TenantID, app.ID); err != nil {
			return err
		}
		if v.Documents, err = listDocuments(ctx, q, a.TenantID, app.ID); err != nil {
			return err
		}
		if v.Interviews, err = s.listInterviews(ctx, q, a.TenantID, `i.application_id = $2`, app.ID); err != nil {
			return err
		}
		if v.Details, err = cardDetails(ctx, q, a.TenantID, app.ID, a.UserID); err != nil {
			return err
		}
		if v.Messages, err = listMessages(ctx, q, a.TenantID, app.ID); err != nil {
			return err
		}
		if v.Others, err = otherApplications(ctx, q, a, app); err != nil {
			return err
		}
		if v.Tasks, err = listTasks(ctx, q, a.TenantID, app.ID); err != nil {
			return err
		}
		if v.Reasons, err = companyReasons(ctx, q, a.TenantID); err != nil {
			return err
		}
		if v.Profile, err = loadProfile(ctx, q, a.TenantID, app.Candidate.ID); err != nil {
			return err
		}
		if v.ProfileHistory, err = profileHistory(ctx, q, a.TenantID, app.Candidate.ID); err != nil {
			return err
		}
		if Decide(a, access.MoveStage, app) {
			if v.Stages, err = positionStages(ctx, q, a.TenantID, app.Position.ID); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, s.finish(ctx, a, err)
	}
	if v.Details.History, err = s.history(ctx, a.TenantID, applicationID); err != nil {
		return nil, err
	}
	err = s.db.InTxNoFlush(ctx, a.TenantID, func(tx *sql.Tx) error {
		return s.audit.Record(ctx, tx, audit.Event{TenantID: a.TenantID, Action: audit.AccessDecided, Actor: audit.ActorOf(a),
			Objects: []audit.Ref{{Kind: "application", ID: applicationID}, {Kind: "candidate", ID: v.Application.Candidate.ID}},
			Details: map[string]string{"permission": access.ViewApplications.Name(), "decision": access.Allow.String()}})
	})

	if err != nil {
		return nil, err
	}
	return v, nil
}
