package audit

import (
	"context"
	"errors"
	"slices"
	"strconv"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/fault"
)

// ErrNoAuditView: the actor may not read the trail (audit.view).
var ErrNoAuditView = fault.New(fault.ErrForbidden, "not permitted to read the audit trail", "")

// Read returns a page of the actor's company's records matching f, newest
// first, and the cursor of the next page, for an actor holding audit.view
// (the API's reading of the trail). Unlike the trail's page, whose reader
// sits in front of it, a page read by a program may be one of many that
// copy the trail out: each is recorded as an export (format json, its
// count, its track) before it is returned, so the trail shows who read it.
// Bad filters are field errors: track, action, object (an id that names
// objects of several kinds) and cursor.
func (l *Log) Read(ctx context.Context, a access.Actor, f Filter) ([]Record, string, error) {
	if !a.Can(access.ViewAudit) || a.TenantID == "" {
		return nil, "", ErrNoAuditView
	}
	bad := map[string]string{}
	if f.Track != "" && !slices.Contains(Tracks, f.Track) {
		bad["track"] = "error.audit_track"
	}
	if _, ok := Catalogue[f.Action]; f.Action != "" && !ok {
		bad["action"] = "error.audit_action"
	}
	if !f.From.IsZero() && !f.To.IsZero() && !f.From.Before(f.To) {
		bad["to"] = "error.audit_range"
	}
	if len(bad) > 0 {
		return nil, "", &fault.Invalid{Fields: bad}
	}
	recs, next, err := l.List(ctx, a.TenantID, f)
	switch {
	case errors.Is(err, ErrAmbiguousObject):
		return nil, "", fault.Field("object", "error.audit_object_ambiguous")
	case errors.Is(err, ErrInvalidEvent):
		return nil, "", fault.Field("cursor", "error.api_cursor")
	case err != nil:
		return nil, "", err
	}
	if err := l.RecordStandalone(ctx, Event{TenantID: a.TenantID, Action: AuditExported, Actor: ActorOf(a),
		Details: map[string]string{"format": "json", "count": strconv.Itoa(len(recs)), "track": string(f.Track)}}); err != nil {
		return nil, "", err
	}
	return recs, next, nil
}
