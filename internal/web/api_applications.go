package web

import (
	"net/http"
	"strings"
	"time"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/recruit"
)

// apiApplication is an application as the API shows it.
type apiApplication struct {
	ID            string       `json:"id"`
	PositionID    string       `json:"position_id"`
	PositionTitle string       `json:"position_title"`
	Candidate     apiCandidate `json:"candidate" doc:"The person who applied (without their applications)."`
	Stage         string       `json:"stage" enum:"@stages" doc:"The kind of its stage."`
	StageID       string       `json:"stage_id" doc:"Its stage of the position's pipeline (GET /positions/{id}/stages)."`
	StageName     string       `json:"stage_name" doc:"The company's name of the stage; empty for a standard stage, named by its kind."`
	// RejectionReason is set when it is rejected.
	RejectionReason string `json:"rejection_reason" doc:"The id of the reason it was rejected for (GET /rejection-reasons); empty unless rejected."`
	Source          string `json:"source" doc:"The channel it came through (career page, a job board...); empty when added by hand."`
	// CoverLetter is read by the single application only.
	CoverLetter string    `json:"cover_letter,omitempty" doc:"The candidate's own text (on GET /applications/{id} only)."`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at" doc:"When it last changed stage: its version, sent as its ETag."`
}

// apiApplicationInput adds a candidate to a position by hand.
type apiApplicationInput struct {
	Name  string `json:"name" doc:"The candidate's full name."`
	Email string `json:"email" format:"email" doc:"One candidate per email address and company: a known address joins its candidate, whose stored name and phone stay."`
	Phone string `json:"phone,omitempty"`
	Stage string `json:"stage,omitempty" enum:"@stages" doc:"The kind of stage it starts at (new when absent)."`
}

// apiMoveInput moves an application.
type apiMoveInput struct {
	Stage   string `json:"stage,omitempty" enum:"@stages" doc:"Move to the first stage of this kind."`
	StageID string `json:"stage_id,omitempty" doc:"Move to this stage of the position's pipeline (wins over stage)."`
	Reason  string `json:"reason,omitempty" doc:"Required for a move to a rejected stage: the id of one of the company's reasons (GET /rejection-reasons)."`
	Notify  bool   `json:"notify,omitempty" doc:"With a rejection: send the candidate the company's rejection email."`
}

// apiRejectInput rejects an application.
type apiRejectInput struct {
	Reason string `json:"reason" doc:"The id of one of the company's reasons (GET /rejection-reasons)."`
	Notify bool   `json:"notify,omitempty" doc:"Send the candidate the company's rejection email, in the ad's language."`
}

// apiReason is a reason for rejecting.
type apiReason struct {
	ID       string `json:"id"`
	Name     string `json:"name" doc:"Its name: the company's, or a standard reason's in the token's language."`
	Standard bool   `json:"standard" doc:"A standard reason, named by the application."`
}

// apiComment is a colleague's comment on an application.
type apiComment struct {
	ID        string    `json:"id"`
	AuthorID  string    `json:"author_id" doc:"The user who wrote it."`
	Body      string    `json:"body"`
	CreatedAt time.Time `json:"created_at"`
}

// apiCommentInput writes a comment.
type apiCommentInput struct {
	Body string `json:"body" doc:"At most 5000 characters."`
}

// apiRatingInput rates an application.
type apiRatingInput struct {
	Rating string `json:"rating" enum:"@ratings" doc:"The token's user's rating (one per user; a new one replaces theirs)."`
}

// apiInterview is an interview of an application's candidate.
type apiInterview struct {
	ID            string    `json:"id"`
	ApplicationID string    `json:"application_id"`
	StartsAt      time.Time `json:"starts_at" doc:"Its start, with the offset of its time zone."`
	TimeZone      string    `json:"time_zone" doc:"An IANA time zone, e.g. Europe/Oslo."`
	Minutes       int       `json:"minutes"`
	Location      string    `json:"location"`
	VideoLink     string    `json:"video_link"`
	Note          string    `json:"note" doc:"The note the invitation carried to the candidate."`
	Status        string    `json:"status" enum:"@interviewStatuses" doc:"The candidate's answer so far."`
	ResponseNote  string    `json:"response_note" doc:"What the candidate wrote with their answer."`
	Participants  []string  `json:"participants" doc:"The users taking part."`
	CreatedBy     string    `json:"created_by" doc:"The user who invited."`
}

// apiInterviewInput invites the candidate to an interview.
type apiInterviewInput struct {
	Date         string   `json:"date" doc:"The day, YYYY-MM-DD, in time_zone."`
	Time         string   `json:"time" doc:"The start, HH:MM, in time_zone."`
	TimeZone     string   `json:"time_zone" doc:"An IANA time zone, e.g. Europe/Oslo."`
	Minutes      int      `json:"minutes" doc:"15 to 480."`
	Location     string   `json:"location,omitempty" doc:"A place; a location or a video link is required."`
	VideoLink    string   `json:"video_link,omitempty" doc:"An https link."`
	Participants []string `json:"participants,omitempty" doc:"Users of the company who see the application."`
	Note         string   `json:"note,omitempty" doc:"Sent to the candidate with the invitation."`
}

func toAPIApplication(app *recruit.Application, full bool) apiApplication {
	out := apiApplication{ID: app.ID, PositionID: app.Position.ID, PositionTitle: app.Position.Title,
		Candidate: toAPICandidate(app.Candidate), Stage: string(app.Stage), StageID: app.StageID, StageName: app.StageName,
		RejectionReason: app.RejectionReason, Source: app.Source, CreatedAt: app.CreatedAt, UpdatedAt: app.UpdatedAt}
	if full {
		out.CoverLetter = app.CoverLetter
	}
	return out
}

func toAPIApplications(apps []*recruit.Application) []apiApplication {
	out := make([]apiApplication, 0, len(apps))
	for _, app := range apps {
		out = append(out, toAPIApplication(app, false))
	}
	return out
}

func toAPIInterview(iv *recruit.Interview) apiInterview {
	return apiInterview{ID: iv.ID, ApplicationID: iv.ApplicationID, StartsAt: iv.Start, TimeZone: iv.TimeZone, Minutes: int(iv.Duration / time.Minute),
		Location: iv.Location, VideoLink: iv.VideoLink, Note: iv.Note, Status: iv.Status, ResponseNote: iv.ResponseNote,
		Participants: nonNil(iv.Participants), CreatedBy: iv.CreatedBy}
}

func (s *Server) apiApplications(a *apiRouter) {
	a.handle(apiOp{Method: http.MethodGet, Path: "/positions/{id}/applications", ID: "listPositionApplications", Tag: "applications",
		Summary: "List a position's applications, newest first", Scope: access.ViewApplications, Result: apiApplication{}, Page: true,
		Query: []apiParam{{Name: "stage", Doc: "Only applications at stages of this kind.", Enum: apiEnums["stages"]()},
			{Name: "stage_id", Doc: "Only applications at this stage of the pipeline."}, apiLimitParam, apiCursorParam}}, s.apiListPositionApplications)
	a.handle(apiOp{Method: http.MethodPost, Path: "/positions/{id}/applications", ID: "createApplication", Tag: "applications",
		Summary: "Add a candidate to a position by hand (an existing application of the same person to the position is answered as it is)",
		Scope:   access.AddCandidates, Body: apiApplicationInput{}, Result: apiApplication{}, Status: http.StatusCreated}, s.apiCreateApplication)
	a.handle(apiOp{Method: http.MethodGet, Path: "/applications/{id}", ID: "getApplication", Tag: "applications", Summary: "Get an application",
		Scope: access.ViewApplications, Result: apiApplication{}}, s.apiGetApplication)
	a.handle(apiOp{Method: http.MethodPost, Path: "/applications/{id}/move", ID: "moveApplication", Tag: "applications",
		Summary: "Move an application to another stage (with If-Match, only from the version read)", Scope: access.MoveStage,
		Body: apiMoveInput{}, Result: apiApplication{}, Errors: []int{412}}, s.apiMoveApplication)
	a.handle(apiOp{Method: http.MethodPost, Path: "/applications/{id}/reject", ID: "rejectApplication", Tag: "applications",
		Summary: "Reject an application, optionally emailing the candidate (with If-Match, only from the version read)", Scope: access.MoveStage,
		Body: apiRejectInput{}, Result: apiApplication{}, Errors: []int{412}}, s.apiRejectApplication)
	a.handle(apiOp{Method: http.MethodPost, Path: "/applications/{id}/rating", ID: "rateApplication", Tag: "applications",
		Summary: "Rate an application as the token's user", Scope: access.Rate, Body: apiRatingInput{}, Status: http.StatusNoContent}, s.apiRateApplication)
	a.handle(apiOp{Method: http.MethodGet, Path: "/rejection-reasons", ID: "listRejectionReasons", Tag: "applications",
		Summary: "List the company's reasons for rejecting", Scope: access.ViewApplications, Result: []apiReason{}}, s.apiListReasons)

	a.handle(apiOp{Method: http.MethodGet, Path: "/applications/{id}/comments", ID: "listComments", Tag: "comments",
		Summary: "List the comments on an application, oldest first", Scope: access.ViewApplications, Result: apiComment{}, Page: true,
		Query: []apiParam{apiLimitParam, apiCursorParam}}, s.apiListComments)
	a.handle(apiOp{Method: http.MethodPost, Path: "/applications/{id}/comments", ID: "createComment", Tag: "comments",
		Summary: "Comment on an application as the token's user", Scope: access.Comment, Body: apiCommentInput{}, Result: apiComment{},
		Status: http.StatusCreated}, s.apiCreateComment)

	a.handle(apiOp{Method: http.MethodGet, Path: "/applications/{id}/labels", ID: "listLabels", Tag: "labels",
		Summary: "List the labels on an application", Scope: access.ViewApplications, Result: []string{}}, s.apiListLabels)
	a.handle(apiOp{Method: http.MethodPut, Path: "/applications/{id}/labels/{label}", ID: "addLabel", Tag: "labels",
		Summary: "Put a label on an application (a label it has already is left as it is)", Scope: access.MoveStage,
		Status: http.StatusNoContent, Errors: []int{422}}, s.apiLabel(true))
	a.handle(apiOp{Method: http.MethodDelete, Path: "/applications/{id}/labels/{label}", ID: "removeLabel", Tag: "labels",
		Summary: "Take a label off an application", Scope: access.MoveStage,
		Status: http.StatusNoContent, Errors: []int{422}}, s.apiLabel(false))

	a.handle(apiOp{Method: http.MethodGet, Path: "/applications/{id}/interviews", ID: "listInterviews", Tag: "interviews",
		Summary: "List the interviews of an application, earliest first", Scope: access.ViewApplications, Result: apiInterview{}, Page: true,
		Query: []apiParam{apiLimitParam, apiCursorParam}}, s.apiListInterviews)
	a.handle(apiOp{Method: http.MethodPost, Path: "/applications/{id}/interviews", ID: "createInterview", Tag: "interviews",
		Summary: "Invite the candidate to an interview: the email carries a calendar file and a link to answer", Scope: access.InviteInterview,
		Body: apiInterviewInput{}, Result: apiInterview{}, Status: http.StatusCreated}, s.apiCreateInterview)
}

func (s *Server) apiListPositionApplications(c *apiCall) error {
	limit, err := c.limit()
	if err != nil {
		return err
	}
	after, err := c.cursor()
	if err != nil {
		return err
	}
	stage, err := c.query("stage")
	if err != nil {
		return err
	}
	stageID, err := c.query("stage_id")
	if err != nil {
		return err
	}
	page, err := s.Recruit.PositionApplicationsPage(c.ctx(), c.actor, c.path("id"), recruit.PositionApplicationsFilter{
		Stage: access.StageKind(stage), StageID: stageID, After: after, Limit: limit})
	if err != nil {
		return err
	}
	return writePage(c, toAPIApplications(page.Applications), page.Next)
}

func (s *Server) apiCreateApplication(c *apiCall) error {
	var in apiApplicationInput
	if err := c.decode(&in); err != nil {
		return err
	}
	stage := access.StageKind(in.Stage)
	if in.Stage == "" {
		stage = access.StageNew
	}
	app, err := s.Recruit.AddCandidate(c.ctx(), c.actor, c.path("id"), recruit.CandidateInput{Name: in.Name, Email: in.Email, Phone: in.Phone},
		stage, recruit.ViaStaff)
	if err != nil {
		return err
	}
	return s.apiWriteApplication(c, app.ID, location("applications", app.ID))
}

// apiWriteApplication answers with an application as it is now, with its
// ETag (and its Location when it was just made).
func (s *Server) apiWriteApplication(c *apiCall, id, loc string) error {
	app, err := s.Recruit.Application(c.ctx(), c.actor, id)
	if err != nil {
		return err
	}
	return c.object(app.UpdatedAt, loc, toAPIApplication(app, true))
}

func (s *Server) apiGetApplication(c *apiCall) error {
	return s.apiWriteApplication(c, c.path("id"), "")
}

// apiMove moves an application, conditionally when the request carries
// If-Match (a move is an action, not an edit: If-Match is offered, not
// required).
func (s *Server) apiMove(c *apiCall, to recruit.MoveInput) error {
	id := c.path("id")
	var err error
	if strings.TrimSpace(c.r.Header.Get("If-Match")) == "" {
		err = s.Recruit.Move(c.ctx(), c.actor, id, to)
	} else {
		version, verr := c.ifMatch()
		if verr != nil {
			// A version that names no time the service wrote cannot match;
			// the service decides first whether the caller may know the
			// application at all.
			version = time.Unix(0, 1)
		}
		err = s.Recruit.MoveIf(c.ctx(), c.actor, id, to, version)
	}
	if err != nil {
		return err
	}
	return s.apiWriteApplication(c, id, "")
}

func (s *Server) apiMoveApplication(c *apiCall) error {
	var in apiMoveInput
	if err := c.decode(&in); err != nil {
		return err
	}
	return s.apiMove(c, recruit.MoveInput{Kind: access.StageKind(in.Stage), StageID: in.StageID, Reason: in.Reason, Notify: in.Notify})
}

func (s *Server) apiRejectApplication(c *apiCall) error {
	var in apiRejectInput
	if err := c.decode(&in); err != nil {
		return err
	}
	return s.apiMove(c, recruit.MoveInput{Kind: access.StageRejected, Reason: in.Reason, Notify: in.Notify})
}

func (s *Server) apiRateApplication(c *apiCall) error {
	var in apiRatingInput
	if err := c.decode(&in); err != nil {
		return err
	}
	if err := s.Recruit.Rate(c.ctx(), c.actor, c.path("id"), in.Rating); err != nil {
		return err
	}
	return c.noContent()
}

func (s *Server) apiListReasons(c *apiCall) error {
	reasons, err := s.Recruit.Reasons(c.ctx(), c.actor)
	if err != nil {
		return err
	}
	out := make([]apiReason, 0, len(reasons))
	for _, r := range reasons {
		name, standard := r.Name, r.Name == ""
		if standard {
			name = s.I18n.T(c.lang, "rejection."+r.ID)
		}
		out = append(out, apiReason{ID: r.ID, Name: name, Standard: standard})
	}
	return c.json(out)
}

func (s *Server) apiListComments(c *apiCall) error {
	limit, err := c.limit()
	if err != nil {
		return err
	}
	after, err := c.cursor()
	if err != nil {
		return err
	}
	comments, next, err := s.Recruit.CommentsPage(c.ctx(), c.actor, c.path("id"), after, limit)
	if err != nil {
		return err
	}
	out := make([]apiComment, 0, len(comments))
	for _, cm := range comments {
		out = append(out, apiComment{ID: cm.ID, AuthorID: cm.AuthorID, Body: cm.Body, CreatedAt: cm.CreatedAt})
	}
	return writePage(c, out, next)
}

func (s *Server) apiCreateComment(c *apiCall) error {
	var in apiCommentInput
	if err := c.decode(&in); err != nil {
		return err
	}
	cm, err := s.Recruit.AddComment(c.ctx(), c.actor, c.path("id"), in.Body)
	if err != nil {
		return err
	}
	return c.json(apiComment{ID: cm.ID, AuthorID: cm.AuthorID, Body: cm.Body, CreatedAt: cm.CreatedAt})
}

func (s *Server) apiListLabels(c *apiCall) error {
	labels, err := s.Recruit.Labels(c.ctx(), c.actor, c.path("id"))
	if err != nil {
		return err
	}
	return c.json(nonNil(labels))
}

func (s *Server) apiLabel(add bool) apiHandler {
	return func(c *apiCall) error {
		var err error
		if add {
			err = s.Recruit.AddLabel(c.ctx(), c.actor, c.path("id"), c.path("label"))
		} else {
			err = s.Recruit.RemoveLabel(c.ctx(), c.actor, c.path("id"), c.path("label"))
		}
		if err != nil {
			return err
		}
		return c.noContent()
	}
}

func (s *Server) apiListInterviews(c *apiCall) error {
	limit, err := c.limit()
	if err != nil {
		return err
	}
	after, err := c.cursor()
	if err != nil {
		return err
	}
	ivs, next, err := s.Recruit.InterviewsPage(c.ctx(), c.actor, c.path("id"), after, limit)
	if err != nil {
		return err
	}
	out := make([]apiInterview, 0, len(ivs))
	for _, iv := range ivs {
		out = append(out, toAPIInterview(iv))
	}
	return writePage(c, out, next)
}

func (s *Server) apiCreateInterview(c *apiCall) error {
	var in apiInterviewInput
	if err := c.decode(&in); err != nil {
		return err
	}
	iv, err := s.Recruit.InviteInterview(c.ctx(), c.actor, c.path("id"), recruit.InterviewInput{Date: in.Date, Time: in.Time, TimeZone: in.TimeZone,
		Minutes: in.Minutes, Location: in.Location, VideoLink: in.VideoLink, Participants: in.Participants, Note: in.Note})
	if err != nil {
		return err
	}
	return c.json(toAPIInterview(iv))
}
