package web

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/kandidat/kandidat/internal/backup"
)

// BackupStatus is what the operator page needs of the backup scheduler.
type BackupStatus interface {
	Status(ctx context.Context) backup.Status
}

// backupsPage is the operator page's data.
type backupsPage struct {
	Status     backup.Status
	Configured bool
	Now        time.Time
}

// Age is how long ago t was, rounded for a person.
func (backupsPage) Age(now, t time.Time) string {
	d := now.Sub(t)
	switch {
	case d < time.Minute:
		return d.Round(time.Second).String()
	case d < 48*time.Hour:
		return d.Round(time.Minute).String()
	}
	return d.Round(time.Hour).String()
}

// handleBackups shows the installation's backups: per target the age of
// the newest good backup, its schedule and retention, the last failure,
// whether it is behind, the newest verify; and the point-in-time window.
// ?format=json (or Accept: application/json) answers the same as JSON for
// monitoring scripts.
func (s *Server) handleBackups(w http.ResponseWriter, r *http.Request) {
	data := backupsPage{Now: time.Now()}
	if s.Backups != nil {
		data.Status = s.Backups.Status(r.Context())
		data.Configured = len(data.Status.Targets) > 0
		data.Now = data.Status.At
	}
	if r.URL.Query().Get("format") == "json" || strings.Contains(r.Header.Get("Accept"), "application/json") {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		json.NewEncoder(w).Encode(backupsJSON(data))
		return
	}
	p := s.newPage(r, "ops.backups.title")
	p.Data = data
	s.render(w, r, http.StatusOK, "ops_backups", p)
}

type targetJSON struct {
	Name             string     `json:"name"`
	Location         string     `json:"location"`
	Schedule         string     `json:"schedule,omitempty"`
	Keep             int        `json:"keep,omitempty"`
	MaxAge           string     `json:"max_age,omitempty"`
	Newest           string     `json:"newest_backup,omitempty"`
	NewestAt         *time.Time `json:"newest_backup_at,omitempty"`
	NewestAgeSeconds *float64   `json:"newest_backup_age_seconds,omitempty"`
	Backups          int        `json:"backups"`
	Incomplete       int        `json:"incomplete"`
	Behind           bool       `json:"behind"`
	LastError        string     `json:"last_error,omitempty"`
	Failures         int        `json:"failures"`
	NextTry          *time.Time `json:"next_try,omitempty"`
	VerifiedBackup   string     `json:"verified_backup,omitempty"`
	VerifiedAt       *time.Time `json:"verified_at,omitempty"`
	VerifiedOK       *bool      `json:"verified_ok,omitempty"`
	VerifyProblem    string     `json:"verify_problem,omitempty"`
}

func backupsJSON(d backupsPage) any {
	targets := []targetJSON{}
	for _, t := range d.Status.Targets {
		j := targetJSON{Name: t.Name, Location: t.Location, Keep: t.Keep, Backups: t.Backups, Incomplete: t.Incomplete,
			Behind: t.Behind, LastError: t.LastError, Failures: t.Failures}
		if t.Every > 0 {
			j.Schedule = t.Every.String()
		}
		if t.MaxAge > 0 {
			j.MaxAge = t.MaxAge.String()
		}
		if t.Newest != nil {
			at, age := t.Newest.Time, d.Now.Sub(t.Newest.Time).Seconds()
			j.Newest, j.NewestAt, j.NewestAgeSeconds = t.Newest.ID, &at, &age
		}
		if !t.NextTry.IsZero() {
			next := t.NextTry
			j.NextTry = &next
		}
		if v := t.Verified; v != nil {
			at, ok := v.At, v.OK
			j.VerifiedBackup, j.VerifiedAt, j.VerifiedOK, j.VerifyProblem = v.ID, &at, &ok, v.Problem
		}
		targets = append(targets, j)
	}
	out := map[string]any{"targets": targets, "recipients": d.Status.Recipients, "restore_drill": d.Status.Drill}
	if pt := d.Status.PITR; pt.Configured {
		p := map[string]any{"error": pt.Error}
		if !pt.From.IsZero() {
			p["from"], p["to"] = pt.From, pt.To
		}
		out["pitr"] = p
	}
	return out
}
