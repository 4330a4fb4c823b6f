package access

import "slices"

// Decision is the answer of a policy function.
type Decision uint8

// Decisions. Hidden is the answer for an object of another company or one
// the actor may not know exists: the caller answers "not found" (404).
// Forbidden is for an object the actor may see but not act on (403).
const (
	Hidden Decision = iota
	Forbidden
	Allow
)

func (d Decision) String() string {
	switch d {
	case Allow:
		return "allow"
	case Forbidden:
		return "forbidden"
	}
	return "hidden"
}

// Position is what the policy needs to know of a position.
type Position struct {
	TenantID string
	OwnerID  string
	// Members are the users (line managers) the position is shared with.
	Members []string
}

// StageKind is the kind of a pipeline stage. A company's stages are its
// own, but each has one of these kinds, and the rules speak of kinds.
type StageKind string

// Stage kinds, in pipeline order.
const (
	StageNew         StageKind = "new"
	StagePreselected StageKind = "preselected"
	StageInterview   StageKind = "interview"
	StageOffer       StageKind = "offer"
	StageHired       StageKind = "hired"
	StageRejected    StageKind = "rejected"
)

// StageKinds lists the kinds in pipeline order.
var StageKinds = []StageKind{StageNew, StagePreselected, StageInterview, StageOffer, StageHired, StageRejected}

// InSharedPool reports whether an application at stage k is in the
// company's shared pool: the candidate was pre-selected, interviewed (an
// offer follows an interview) or hired.
func InSharedPool(k StageKind) bool {
	return k == StagePreselected || k == StageInterview || k == StageOffer || k == StageHired
}

// Application is what the policy needs to know of an application.
type Application struct {
	Position Position
	Stage    StageKind
}

// sees reports whether a may see position o at all.
func (a Actor) sees(o Position) bool {
	if o.TenantID != a.TenantID || a.TenantID == "" || !a.Perms.Has(ViewPositions) {
		return false
	}
	return a.Perms.Has(AllPositions) || (o.OwnerID == a.UserID && a.UserID != "") || slices.Contains(o.Members, a.UserID)
}

// manages reports whether a may change position o: it is theirs, or they
// hold every position.
func (a Actor) manages(o Position) bool {
	return a.Perms.Has(AllPositions) || (o.OwnerID == a.UserID && a.UserID != "")
}

// DecidePosition decides action p on position o. Actions: ViewPositions,
// EditPositions, PublishPositions, ViewApplications (the position's
// pipeline), AddCandidates and MoveStage (moving the position's
// applications through its pipeline).
func DecidePosition(a Actor, p Permission, o Position) Decision {
	if !a.sees(o) {
		return Hidden
	}
	switch p {
	case ViewPositions:
		return Allow
	case ViewApplications:
		if a.Perms.Has(ViewApplications) {
			return Allow
		}
	case EditPositions, PublishPositions, AddCandidates, MoveStage:
		if a.Perms.Has(p) && a.manages(o) {
			return Allow
		}
	}
	return Forbidden
}

// DecideApplication decides action p on application o. An application is
// visible through its position (with ViewApplications) or, read-only,
// through the shared pool. Actions: ViewApplications, MoveStage, Comment,
// Rate, InviteInterview.
func DecideApplication(a Actor, p Permission, o Application) Decision {
	if o.Position.TenantID != a.TenantID || a.TenantID == "" {
		return Hidden
	}
	viaPosition := a.sees(o.Position) && a.Perms.Has(ViewApplications)
	viaPool := a.Perms.Has(ViewSharedPool) && InSharedPool(o.Stage)
	if !viaPosition && !viaPool {
		return Hidden
	}
	switch p {
	case ViewApplications:
		return Allow
	case MoveStage:
		if viaPosition && a.Perms.Has(MoveStage) && a.manages(o.Position) {
			return Allow
		}
	case Comment, Rate, InviteInterview:
		if viaPosition && a.Perms.Has(p) {
			return Allow
		}
	}
	return Forbidden
}
