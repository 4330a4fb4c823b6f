package web

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/account"
	"github.com/kandidat/kandidat/internal/fault"
	"github.com/kandidat/kandidat/internal/whistle"
)

// The company's reporting channels (company.settings, whistleblowing
// module: the administrator's, who reads no case): the list with each
// channel's public address, and one form per channel for its languages,
// texts, categories, questions, handlers and retention.
// The form works without JavaScript: texts per language are textareas,
// one category or answer a line (the Nth line of each language is the same
// category), and the questions a table with two empty rows to add to.

// emptyQuestionRows are the blank question rows the form offers to add questions.
const emptyQuestionRows = 2

// channelRow is a line of the channel list.
type channelRow struct {
	C         *whistle.Channel
	Handlers  int
	Enrolled  int
	PublicURL string
}

// channelsData is the channel list.
type channelsData struct {
	Rows  []channelRow
	Saved bool
}

// langText is one language's text of a field.
type langText struct {
	Lang, Value string
}

// channelLang is one language's block of the form.
type channelLang struct {
	Code       string
	Enabled    bool
	Intro      string
	Categories string
}

// questionRow is a row of the questions table.
type questionRow struct {
	Row      int
	Key      string
	Kind     string
	Required bool
	Labels   []langText
	Choices  []langText
}

// handlerChoice is a case handler's checkbox.
type handlerChoice struct {
	ID, Name          string
	Checked, Enrolled bool
}

// channelFormData is a channel's form.
type channelFormData struct {
	ID, Version       string
	Name, Slug        string
	DefaultLanguage   string
	Langs             []channelLang
	Questions         []questionRow
	Kinds             []string
	AllowIdentified   bool
	Active            bool
	RetentionDays     string
	Handlers          []handlerChoice
	NoEnrolledHandler bool
	PublicURL         string
	Saved             bool
}

// publicReportURL is a channel's public address.
func (s *Server) publicReportURL(r *http.Request, slug string) string {
	return "/report/" + stateOf(r).tenant.Slug + "/" + slug
}

func (s *Server) handleCaseChannels(w http.ResponseWriter, r *http.Request) {
	a := stateOf(r).principal.Actor()
	chans, err := s.Whistle.Channels(r.Context(), a)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	enrolled, err := s.Whistle.EnrolledHandlers(r.Context(), a)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d := channelsData{Saved: r.URL.Query().Get("saved") == "1"}
	for _, c := range chans {
		row := channelRow{C: c, Handlers: len(c.Handlers), PublicURL: s.publicReportURL(r, c.Slug)}
		for _, u := range c.Handlers {
			if slices.Contains(enrolled, u) {
				row.Enrolled++
			}
		}
		d.Rows = append(d.Rows, row)
	}
	pg := s.newPage(r, "cases.channels.title")
	pg.Data = d
	s.render(w, r, http.StatusOK, "cases_channels", pg)
}

// channelValues writes a channel as the form's values, so that a stored
// channel and a refused submission are shown by the same code.
func channelValues(c *whistle.Channel) url.Values {
	v := url.Values{}
	v.Set("name", c.Name)
	v.Set("slug", c.Slug)
	v.Set("default_language", c.DefaultLanguage)
	v["languages"] = slices.Clone(c.Languages)
	for _, l := range whistle.Languages {
		v.Set("intro_"+l, c.Intro[l])
		var lines []string
		for _, cat := range c.Categories {
			lines = append(lines, cat.Labels[l])
		}
		v.Set("categories_"+l, strings.Join(lines, "\n"))
	}
	v.Set("category_keys", strings.Join(choiceKeys(c.Categories), ","))
	for i, q := range c.Questions {
		p := fmt.Sprintf("q%d_", i)
		v.Set(p+"key", q.Key)
		v.Set(p+"kind", q.Kind)
		if q.Required {
			v.Set(p+"required", "1")
		}
		v.Set(p+"choice_keys", strings.Join(choiceKeys(q.Choices), ","))
		for _, l := range whistle.Languages {
			v.Set(p+"label_"+l, q.Labels[l])
			var lines []string
			for _, ch := range q.Choices {
				lines = append(lines, ch.Labels[l])
			}
			v.Set(p+"choices_"+l, strings.Join(lines, "\n"))
		}
	}
	v.Set("questions", strconv.Itoa(len(c.Questions)))
	if c.AllowIdentified {
		v.Set("allow_identified", "1")
	}
	if c.Active {
		v.Set("active", "1")
	}
	v.Set("retention_days", strconv.Itoa(c.RetentionDays))
	v["handlers"] = slices.Clone(c.Handlers)
	if c.ID != "" {
		v.Set("version", strconv.Itoa(c.Version))
	}
	return v
}

func choiceKeys(cs []whistle.Choice) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.Key
	}
	return out
}

// lines splits a textarea into its non-blank lines, trimmed.
func lines(s string) []string {
	var out []string
	for l := range strings.SplitSeq(strings.ReplaceAll(s, "\r\n", "\n"), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// choicesOf reads one choice per line and language (prefix + lang), the
// Nth line of each language being the same choice; its key is the one the
// same position had (keys, comma-separated), else the next free
// prefixKey+number.
func choicesOf(v url.Values, prefix string, langs []string, keys, prefixKey string) []whistle.Choice {
	old := strings.Split(keys, ",")
	per := map[string][]string{}
	n := 0
	for _, l := range langs {
		per[l] = lines(v.Get(prefix + l))
		n = max(n, len(per[l]))
	}
	used := map[string]bool{}
	out := make([]whistle.Choice, n)
	for i := range n {
		out[i].Labels = map[string]string{}
		for _, l := range langs {
			if i < len(per[l]) {
				out[i].Labels[l] = per[l][i]
			}
		}
		if i < len(old) && old[i] != "" && !used[old[i]] {
			out[i].Key = old[i]
			used[old[i]] = true
		}
	}
	next := 1
	for i := range out {
		for out[i].Key == "" {
			if k := prefixKey + strconv.Itoa(next); !used[k] && !slices.Contains(old, k) {
				out[i].Key = k
				used[k] = true
			}
			next++
		}
	}
	return out
}

// channelOf reads the form into a channel; rowOf maps the index of each
// question kept to its row of the table (rows without a label are dropped).
func channelOf(v url.Values, id string) (whistle.Channel, []int, error) {
	c := whistle.Channel{ID: id, Name: v.Get("name"), Slug: v.Get("slug"), DefaultLanguage: v.Get("default_language"),
		Intro: map[string]string{}, AllowIdentified: v.Get("allow_identified") == "1", Active: v.Get("active") == "1",
		Handlers: slices.Compact(slices.Sorted(slices.Values(v["handlers"])))}
	for _, l := range whistle.Languages {
		if slices.Contains(v["languages"], l) {
			c.Languages = append(c.Languages, l)
		}
	}
	langs := c.Languages
	for _, l := range langs {
		if t := strings.TrimSpace(v.Get("intro_" + l)); t != "" {
			c.Intro[l] = strings.ReplaceAll(t, "\r\n", "\n")
		}
	}
	c.Categories = choicesOf(v, "categories_", langs, v.Get("category_keys"), "c")
	days, err := strconv.Atoi(strings.TrimSpace(v.Get("retention_days")))
	if err != nil {
		return c, nil, fault.Field("retention_days", "whistle.error.retention")
	}
	c.RetentionDays = days
	if id != "" {
		if c.Version, err = strconv.Atoi(v.Get("version")); err != nil {
			return c, nil, whistle.ErrStale
		}
	}
	rows, _ := strconv.Atoi(v.Get("questions"))
	rows = min(max(rows, 0), 30) + emptyQuestionRows
	var rowOf []int
	used := map[string]bool{}
	for i := range rows {
		p := fmt.Sprintf("q%d_", i)
		q := whistle.Question{Key: v.Get(p + "key"), Kind: v.Get(p + "kind"), Required: v.Get(p+"required") == "1", Labels: map[string]string{}}
		for _, l := range langs {
			if t := strings.TrimSpace(v.Get(p + "label_" + l)); t != "" {
				q.Labels[l] = t
			}
		}
		if len(q.Labels) == 0 {
			continue
		}
		if q.Kind == whistle.QuestionChoice {
			q.Choices = choicesOf(v, p+"choices_", langs, v.Get(p+"choice_keys"), "a")
		}
		if used[q.Key] {
			q.Key = ""
		}
		used[q.Key] = q.Key != ""
		c.Questions = append(c.Questions, q)
		rowOf = append(rowOf, i)
	}
	next := 1
	for i := range c.Questions {
		for c.Questions[i].Key == "" {
			if k := "q" + strconv.Itoa(next); !used[k] {
				c.Questions[i].Key = k
				used[k] = true
			}
			next++
		}
	}
	return c, rowOf, nil
}

// caseHandlersOf lists the company's users who may handle cases, marking
// those who have a case key.
func (s *Server) caseHandlersOf(r *http.Request) ([]handlerChoice, error) {
	a := stateOf(r).principal.Actor()
	users, err := s.Accounts.ListUsers(r.Context(), a.TenantID)
	if err != nil {
		return nil, err
	}
	enrolled, err := s.Whistle.EnrolledHandlers(r.Context(), a)
	if err != nil {
		return nil, err
	}
	var out []handlerChoice
	for _, u := range users {
		if u.Service || u.Status != account.Active || !u.Perms.Has(access.HandleCases) {
			continue
		}
		out = append(out, handlerChoice{ID: u.ID, Name: u.DisplayName, Enrolled: slices.Contains(enrolled, u.ID)})
	}
	return out, nil
}

// channelForm builds the form's page from its values.
func (s *Server) channelForm(r *http.Request, id string, v url.Values) (*page, error) {
	hs, err := s.caseHandlersOf(r)
	if err != nil {
		return nil, err
	}
	title := "cases.channels.new"
	if id != "" {
		title = "cases.channels.edit"
	}
	pg := s.newPage(r, title)
	d := channelFormData{ID: id, Version: v.Get("version"), Name: v.Get("name"), Slug: v.Get("slug"), DefaultLanguage: v.Get("default_language"),
		Kinds: whistle.QuestionKinds, AllowIdentified: v.Get("allow_identified") == "1", Active: v.Get("active") == "1",
		RetentionDays: v.Get("retention_days"), Saved: r.URL.Query().Get("saved") == "1"}
	if d.DefaultLanguage == "" {
		d.DefaultLanguage = whistle.Languages[0]
	}
	if d.Slug != "" && id != "" {
		d.PublicURL = s.publicReportURL(r, d.Slug)
	}
	for _, l := range whistle.Languages {
		d.Langs = append(d.Langs, channelLang{Code: l, Enabled: slices.Contains(v["languages"], l), Intro: v.Get("intro_" + l),
			Categories: v.Get("categories_" + l)})
	}
	pg.Form["category_keys"] = v.Get("category_keys")
	rows, _ := strconv.Atoi(v.Get("questions"))
	rows = min(max(rows, 0), 30)
	for i := range rows + emptyQuestionRows {
		p := fmt.Sprintf("q%d_", i)
		q := questionRow{Row: i, Key: v.Get(p + "key"), Kind: v.Get(p + "kind"), Required: v.Get(p+"required") == "1"}
		if i >= rows {
			q.Key = "" // a new row: its key is given on saving
		}
		pg.Form[p+"choice_keys"] = v.Get(p + "choice_keys")
		for _, l := range whistle.Languages {
			q.Labels = append(q.Labels, langText{Lang: l, Value: v.Get(p + "label_" + l)})
			q.Choices = append(q.Choices, langText{Lang: l, Value: v.Get(p + "choices_" + l)})
		}
		d.Questions = append(d.Questions, q)
	}
	enrolled := 0
	for _, h := range hs {
		h.Checked = slices.Contains(v["handlers"], h.ID)
		if h.Checked && h.Enrolled {
			enrolled++
		}
		d.Handlers = append(d.Handlers, h)
	}
	d.NoEnrolledHandler = enrolled == 0
	pg.Data = d
	return pg, nil
}

func (s *Server) handleCaseChannelNew(w http.ResponseWriter, r *http.Request) {
	v := url.Values{}
	v.Set("default_language", stateOf(r).tenant.DefaultLanguage)
	if !slices.Contains(whistle.Languages, v.Get("default_language")) {
		v.Set("default_language", whistle.Languages[0])
	}
	v["languages"] = []string{v.Get("default_language")}
	v.Set("retention_days", "365")
	v.Set("active", "1")
	v.Set("questions", "0")
	pg, err := s.channelForm(r, "", v)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "cases_channels_edit", pg)
}

func (s *Server) handleCaseChannel(w http.ResponseWriter, r *http.Request) {
	c, err := s.Whistle.Channel(r.Context(), stateOf(r).principal.Actor(), r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	pg, err := s.channelForm(r, c.ID, channelValues(c))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "cases_channels_edit", pg)
}

func (s *Server) handleCaseChannelSave(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, err)
		return
	}
	id := r.PathValue("id")
	a := stateOf(r).principal.Actor()
	if id != "" {
		// An unknown channel (or another company's) is a 404, not a form.
		if _, err := s.Whistle.Channel(r.Context(), a, id); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	c, rowOf, err := channelOf(r.PostForm, id)
	if err == nil {
		// Only the company's case handlers are offered; the service checks
		// the users are active members of the company.
		hs, herr := s.caseHandlersOf(r)
		if herr != nil {
			s.fail(w, r, herr)
			return
		}
		for _, u := range c.Handlers {
			if !slices.ContainsFunc(hs, func(h handlerChoice) bool { return h.ID == u }) {
				err = fault.Field("handlers", "whistle.error.handlers")
			}
		}
	}
	if err == nil {
		id, err = s.Whistle.SaveChannel(r.Context(), a, c)
	}
	if err != nil {
		msgs := fault.Messages(err)
		if msgs == nil {
			s.fail(w, r, err)
			return
		}
		pg, perr := s.channelForm(r, r.PathValue("id"), r.PostForm)
		if perr != nil {
			s.fail(w, r, perr)
			return
		}
		for f, key := range msgs {
			// The service names the Nth question kept; the form, its row.
			if n, ok := strings.CutPrefix(f, "question_"); ok {
				if i, err := strconv.Atoi(n); err == nil && i < len(rowOf) {
					f = fmt.Sprintf("q%d", rowOf[i])
				}
			}
			pg.Errors[f] = key
		}
		s.render(w, r, statusOf(err), "cases_channels_edit", pg)
		return
	}
	http.Redirect(w, r, channelsPath+"/"+id+"?saved=1", http.StatusSeeOther)
}
