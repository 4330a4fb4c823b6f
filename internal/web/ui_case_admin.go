package web

import (
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/fault"
	"github.com/kandidat/kandidat/internal/tenant"
	"github.com/kandidat/kandidat/internal/whistle"
)

// The company's whistleblowing settings and figures (whistleblowing
// module). The settings are the administrator's (company.settings), who
// reads no case: the key escrow (its shares shown once, one per
// custodian) and the archive recipient with the archive signing key to
// give the archive system, both after a recent password. The statistics
// per channel (counts and times, never content) and the panel on the
// dashboard are the case handler's (cases.handle).

// whistleSettingsPath is the administrator's whistleblowing settings
// page; channelsPath, the reporting channels under it.
const (
	whistleSettingsPath = "/settings/whistleblowing"
	channelsPath        = whistleSettingsPath + "/channels"
)

// escrowShare is one custodian's share of a new escrow.
type escrowShare struct {
	Number int
	Value  string
}

// caseSettingsData is the settings page.
type caseSettingsData struct {
	Settings whistle.Settings
	// SigningKey is the archive signing public key, base64 (standard, padded).
	SigningKey string
	// Shares are a new escrow's shares, shown this once.
	Shares    []escrowShare
	Threshold int
	Saved     bool
}

func (s *Server) caseSettingsPage(r *http.Request) (*page, error) {
	st, err := s.Whistle.Settings(r.Context(), stateOf(r).principal.Actor())
	if err != nil {
		return nil, err
	}
	pg := s.newPage(r, "cases.settings.title")
	pg.Data = caseSettingsData{Settings: st, SigningKey: base64.StdEncoding.EncodeToString(s.Whistle.ArchiveSigningKey()),
		Saved: r.URL.Query().Get("saved") == "1"}
	pg.Form["archive_recipient"] = st.ArchiveRecipient
	n, k := st.EscrowShares, st.EscrowThreshold
	if n == 0 {
		n, k = 3, 2
	}
	pg.Form["shares"], pg.Form["threshold"] = strconv.Itoa(n), strconv.Itoa(k)
	return pg, nil
}

func (s *Server) handleCaseSettings(w http.ResponseWriter, r *http.Request) {
	pg, err := s.caseSettingsPage(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "cases_settings", pg)
}

func (s *Server) handleCaseArchiveRecipient(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, err)
		return
	}
	err := s.Whistle.SetArchiveRecipient(r.Context(), stateOf(r).principal.Actor(), strings.TrimSpace(r.PostForm.Get("archive_recipient")))
	if err != nil {
		pg, perr := s.caseSettingsPage(r)
		if perr != nil {
			s.fail(w, r, perr)
			return
		}
		s.refuse(w, r, err, pg, s.show("cases_settings"))
		return
	}
	http.Redirect(w, r, whistleSettingsPath+"?saved=1", http.StatusSeeOther)
}

// handleCaseEscrow sets up the company's escrow and shows its shares
// once: the page is not stored (no-store), and the shares exist nowhere
// else. The handlers' keys are sealed to it at their next unlock or
// enrolment.
func (s *Server) handleCaseEscrow(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, err)
		return
	}
	n, nerr := strconv.Atoi(strings.TrimSpace(r.PostForm.Get("shares")))
	k, kerr := strconv.Atoi(strings.TrimSpace(r.PostForm.Get("threshold")))
	var shares []string
	var err error
	if nerr != nil || kerr != nil {
		err = fault.Field("threshold", "whistle.error.escrow_split")
	} else {
		shares, err = s.Whistle.SetUpEscrow(r.Context(), stateOf(r).principal.Actor(), n, k)
	}
	pg, perr := s.caseSettingsPage(r)
	if perr != nil {
		s.fail(w, r, perr)
		return
	}
	if err != nil {
		s.refuse(w, r, err, pg, s.show("cases_settings"))
		return
	}
	d := pg.Data.(caseSettingsData)
	for i, v := range shares {
		d.Shares = append(d.Shares, escrowShare{Number: i + 1, Value: v})
	}
	d.Threshold = k
	pg.Data = d
	w.Header().Set("Cache-Control", "no-store")
	s.render(w, r, http.StatusOK, "cases_settings", pg)
}

// statusBar is one bar of the chart of cases per status: a <meter>, which
// needs neither script nor inline style and which screen readers announce.
type statusBar struct {
	Status string
	Count  int
	// Max is the channel's largest count, the bar's full length.
	Max int
}

// channelStatsView is a channel's figures with its chart.
type channelStatsView struct {
	S    *whistle.ChannelStats
	Bars []statusBar
}

func (s *Server) handleCaseStats(w http.ResponseWriter, r *http.Request) {
	stats, err := s.Whistle.Stats(r.Context(), stateOf(r).principal.Actor())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var views []channelStatsView
	for _, cs := range stats {
		v := channelStatsView{S: cs}
		top := 1
		for _, st := range whistle.Statuses {
			top = max(top, cs.ByStatus[st])
		}
		for _, st := range whistle.Statuses {
			v.Bars = append(v.Bars, statusBar{Status: st, Count: cs.ByStatus[st], Max: top})
		}
		views = append(views, v)
	}
	pg := s.newPage(r, "cases.stats.title")
	pg.Data = views
	s.render(w, r, http.StatusOK, "cases_stats", pg)
}

// casePanel is the case handler's panel on the dashboard: counts of the
// handler's open cases and their deadlines, metadata only.
type casePanel struct {
	Open         int
	AckSoon      int
	AckLate      int
	FeedbackSoon int
	FeedbackLate int
	Enrolled     bool
	Unlocked     bool
	// More: there are more open cases than the panel counted.
	More bool
}

// Windows of the dashboard's "due soon" counts, in days.
const (
	ackSoonDays      = 2
	feedbackSoonDays = 14
	// casePanelMax bounds the cases the panel reads.
	casePanelMax = 1000
)

// casePanelOf returns the panel of a user who handles cases in a company
// with the whistleblowing module, else nil.
func (s *Server) casePanelOf(w http.ResponseWriter, r *http.Request) (*casePanel, error) {
	st := stateOf(r)
	if st.tenant == nil || !st.tenant.Enabled(tenant.Whistleblowing) || !st.principal.Can(access.HandleCases) || s.Whistle == nil {
		return nil, nil
	}
	ks, unlocked, err := s.caseKeyState(w, r)
	if err != nil {
		return nil, err
	}
	p := &casePanel{Enrolled: ks.Enrolled, Unlocked: unlocked}
	today := caseToday()
	ackSoon, fbSoon := whistle.AddDays(today, ackSoonDays), whistle.AddDays(today, feedbackSoonDays)
	f := whistle.CaseFilter{Status: "open", Limit: 200}
	for {
		list, err := s.Whistle.Cases(r.Context(), st.principal.Actor(), f)
		if err != nil {
			return nil, err
		}
		for _, c := range list {
			p.Open++
			switch {
			case c.AckLate(today):
				p.AckLate++
			case c.AcknowledgedOn == "" && c.Deadlines.AckDue <= ackSoon:
				p.AckSoon++
			}
			switch {
			case c.FeedbackLate(today):
				p.FeedbackLate++
			case c.FeedbackOn == "" && c.Deadlines.FeedbackDue <= fbSoon:
				p.FeedbackSoon++
			}
		}
		if len(list) < f.Limit {
			return p, nil
		}
		if p.Open >= casePanelMax {
			p.More = true
			return p, nil
		}
		last := list[len(list)-1]
		f.AfterDay, f.AfterID = last.ReceivedOn, last.ID
	}
}
