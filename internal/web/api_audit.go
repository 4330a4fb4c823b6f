package web

import (
	"net/http"
	"slices"
	"time"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/audit"
	"github.com/kandidat/kandidat/internal/fault"
)

// apiAuditRecord is a record of the audit trail.
type apiAuditRecord struct {
	ID    string    `json:"id"`
	Track string    `json:"track" enum:"@tracks"`
	Seq   int64     `json:"seq" doc:"Its place in the chain of its company and track."`
	Time  time.Time `json:"time"`
	Actor apiActor  `json:"actor"`
	// Action is one of the catalogue's.
	Action    string            `json:"action"`
	Objects   []apiObjectRef    `json:"objects" doc:"What it is about, by kind and id."`
	RequestID string            `json:"request_id"`
	Details   map[string]string `json:"details" doc:"The action's declared details: ids and closed values, never personal text."`
	PrevHash  string            `json:"prev_hash"`
	Hash      string            `json:"hash" doc:"SHA-256 over the record and the previous hash (the chain verifies the trail)."`
}

// apiActor is who acted.
type apiActor struct {
	Kind string `json:"kind" enum:"user,api_token,candidate,reporter,system,operator,anonymous"`
	ID   string `json:"id"`
}

// apiObjectRef names an object.
type apiObjectRef struct {
	Kind string `json:"kind"`
	ID   string `json:"id"`
}

func (s *Server) apiAudit(a *apiRouter) {
	tracks := make([]string, 0, len(audit.Tracks))
	for _, t := range audit.Tracks {
		tracks = append(tracks, string(t))
	}
	actions := make([]string, 0, len(audit.Catalogue))
	for act := range audit.Catalogue {
		actions = append(actions, string(act))
	}
	slices.Sort(actions)
	a.handle(apiOp{Method: http.MethodGet, Path: "/audit", ID: "listAudit", Tag: "audit",
		Summary: "Read the company's audit trail, newest first (each page read is itself recorded, as an export)",
		Scope:   access.ViewAudit, Result: apiAuditRecord{}, Page: true,
		Query: []apiParam{
			{Name: "track", Doc: "Only records of this track.", Enum: tracks},
			{Name: "action", Doc: "Only records of this action.", Enum: actions},
			{Name: "actor", Doc: "Only records of this actor (a user's, token's or job's id)."},
			{Name: "object", Doc: "Only records about this object: kind:id, or a bare id."},
			{Name: "from", Doc: "From this moment (RFC 3339) or day (YYYY-MM-DD, UTC), included."},
			{Name: "to", Doc: "Until this moment (RFC 3339, excluded) or day (YYYY-MM-DD, UTC, included)."},
			apiLimitParam, apiCursorParam,
		}}, s.apiListAudit)
}

func (s *Server) apiListAudit(c *apiCall) error {
	limit, err := c.limit()
	if err != nil {
		return err
	}
	after, err := c.cursor()
	if err != nil {
		return err
	}
	f := audit.Filter{After: after, Limit: limit}
	q := map[string]string{}
	for _, name := range []string{"track", "action", "actor", "object", "from", "to"} {
		if q[name], err = c.query(name); err != nil {
			return err
		}
	}
	f.Track, f.Action, f.ActorID = audit.Track(q["track"]), audit.Action(q["action"]), q["actor"]
	if q["object"] != "" {
		f.ObjectKind, f.ObjectID = audit.ParseObject(q["object"])
	}
	bad := map[string]string{}
	if f.From, err = apiMoment(q["from"], false); err != nil {
		bad["from"] = "error.api_time"
	}
	if f.To, err = apiMoment(q["to"], true); err != nil {
		bad["to"] = "error.api_time"
	}
	if len(bad) > 0 {
		return &fault.Invalid{Fields: bad}
	}
	recs, next, err := s.Audit.Read(c.ctx(), c.actor, f)
	if err != nil {
		return err
	}
	out := make([]apiAuditRecord, 0, len(recs))
	for _, r := range recs {
		objs := make([]apiObjectRef, 0, len(r.Objects))
		for _, o := range r.Objects {
			objs = append(objs, apiObjectRef{Kind: o.Kind, ID: o.ID})
		}
		details := r.Details
		if details == nil {
			details = map[string]string{}
		}
		out = append(out, apiAuditRecord{ID: r.ID, Track: string(r.Track), Seq: r.Seq, Time: r.Time.UTC(), Actor: apiActor{Kind: string(r.Actor.Kind), ID: r.Actor.ID},
			Action: string(r.Action), Objects: objs, RequestID: r.RequestID, Details: details, PrevHash: r.PrevHash, Hash: r.Hash})
	}
	return writePage(c, out, next)
}

// apiMoment reads a moment of a query: RFC 3339, or a day (UTC) whose
// start it is, or whose end when end is true. "" is the zero time.
func apiMoment(v string, end bool) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t.UTC(), nil
	}
	t, err := time.Parse(time.DateOnly, v)
	if err != nil {
		return time.Time{}, err
	}
	if end {
		t = t.AddDate(0, 0, 1)
	}
	return t, nil
}
