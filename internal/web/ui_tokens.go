package web

import (
	"net/http"
	"net/url"
	"time"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/account"
	"github.com/kandidat/kandidat/internal/fault"
)

// The company's API tokens (api.tokens, api module): the list with each
// token's user, scopes, expiry, last use and a revoke button; a new token
// after re-authentication, whose secret the answer to the form shows once
// and nothing shows again; and service users, the users tokens of an
// integration act as. The account service decides and audits everything;
// docs/api.md is the integrators' side.

// tokenExpiries are the lifetimes the form offers, in days ("never" for
// none); 90 days is the default.
var tokenExpiries = []string{"30", "90", "180", "365", "never"}

const defaultTokenExpiry = "90"

// tokenRow is a token as the list shows it.
type tokenRow struct {
	Token account.Token
	// User is the display name of the user it acts as; Service marks a
	// service user.
	User    string
	Service bool
	// Maker is who made it: a user's name, or "" for the operator.
	Maker                         string
	Created, Expires, Used        string
	Expired, Revoked, NeverExpire bool
}

// scopeChoice is one scope's checkbox of the new token's form.
type scopeChoice struct {
	Name    string
	Checked bool
}

// tokensData is the tokens page.
type tokensData struct {
	Tokens       []tokenRow
	ServiceUsers []*account.User
	// Scopes are the permissions the user may give a token.
	Scopes   []scopeChoice
	Expiries []string
	// Roles a service user may be given.
	Roles []roleOption
	// New: the form of a new token is shown (after re-authentication).
	New bool
	// Secret is a new token's secret, shown this once, with the token.
	Secret  string
	Created *tokenRow
	// Notices after a redirect.
	Revoked        bool
	ServiceCreated string
}

// freshAuth sends a user who has not entered their password in the last
// minutes to re-authenticate, then back to next (as recentAuth does,
// inside the page's own guards).
func (s *Server) freshAuth(next string, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !s.Accounts.RecentlyAuthenticated(stateOf(r).principal) {
			http.Redirect(w, r, "/reauth?next="+url.QueryEscape(next), http.StatusSeeOther)
			return
		}
		h(w, r)
	}
}

// tokenScopes are the permissions a user may tick for a token: those it
// holds, or, for an administrator of the company, every permission (it
// may give a service user's token what it may give a service user; the
// service decides).
func tokenScopes(p *account.Principal, checked map[string]bool) []scopeChoice {
	admin := p.Perms.Has(access.ManageUsers) && p.Perms.Has(access.ManageRoles)
	var out []scopeChoice
	for _, perm := range access.Permissions {
		if admin || p.Perms.Has(perm) {
			out = append(out, scopeChoice{Name: perm.Name(), Checked: checked[perm.Name()]})
		}
	}
	return out
}

func (s *Server) tokensPage(r *http.Request, checked map[string]bool) (*page, error) {
	st := stateOf(r)
	actor := st.principal.Actor()
	ctx := r.Context()
	tokens, err := s.Accounts.Tokens(ctx, actor)
	if err != nil {
		return nil, err
	}
	services, err := s.Accounts.ServiceUsers(ctx, actor)
	if err != nil {
		return nil, err
	}
	pg := s.newPage(r, "tokens.title")
	roles, _, err := s.roleOptions(r, pg)
	if err != nil {
		return nil, err
	}
	// A service user may not manage users or roles (account.ErrServiceUserRole).
	var serviceRoles []roleOption
	for _, o := range roles {
		if o.Value != access.Administrator {
			serviceRoles = append(serviceRoles, o)
		}
	}
	d := tokensData{ServiceUsers: services, Scopes: tokenScopes(st.principal, checked), Expiries: tokenExpiries, Roles: serviceRoles}
	names := map[string]*account.User{}
	for _, t := range tokens {
		d.Tokens = append(d.Tokens, s.tokenRow(r, t, names))
	}
	pg.Data = d
	pg.Form["expires"] = defaultTokenExpiry
	pg.Form["role"] = access.Recruiter
	return pg, nil
}

// tokenRow shows a token with its users' names (read once per user).
func (s *Server) tokenRow(r *http.Request, t account.Token, names map[string]*account.User) tokenRow {
	st := stateOf(r)
	loc := st.tenant.Location()
	show := func(at time.Time) string {
		if at.IsZero() {
			return ""
		}
		return at.In(loc).Format("2006-01-02 15:04 MST")
	}
	user := func(id string) *account.User {
		if u, ok := names[id]; ok {
			return u
		}
		u, err := s.Accounts.UserByID(r.Context(), st.principal.TenantID, id)
		if err != nil {
			u = nil
		}
		names[id] = u
		return u
	}
	row := tokenRow{Token: t, Created: show(t.CreatedAt), Expires: show(t.ExpiresAt), Used: show(t.LastUsedAt),
		Revoked: !t.RevokedAt.IsZero(), NeverExpire: t.ExpiresAt.IsZero()}
	row.Expired = !row.Revoked && !t.Active(time.Now())
	if u := user(t.UserID); u != nil {
		row.User, row.Service = u.DisplayName, u.Service
	}
	if t.CreatedBy != "" {
		if u := user(t.CreatedBy); u != nil {
			row.Maker = u.DisplayName
		}
	}
	return row
}

func (s *Server) handleTokens(w http.ResponseWriter, r *http.Request) {
	pg, err := s.tokensPage(r, nil)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d := pg.Data.(tokensData)
	d.Revoked = r.URL.Query().Get("revoked") == "1"
	if login := r.URL.Query().Get("service"); login != "" {
		for _, u := range d.ServiceUsers {
			if u.Login == login {
				d.ServiceCreated = u.Login
			}
		}
	}
	pg.Data = d
	s.render(w, r, http.StatusOK, "tokens", pg)
}

// handleTokenNew shows the form of a new token (after re-authentication).
func (s *Server) handleTokenNew(w http.ResponseWriter, r *http.Request) {
	pg, err := s.tokensPage(r, nil)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d := pg.Data.(tokensData)
	d.New = true
	pg.Data = d
	s.render(w, r, http.StatusOK, "tokens", pg)
}

// tokenInput reads the form of a new token. An expiry the form does not
// offer is refused as the service refuses a bad date.
func tokenInput(r *http.Request, now time.Time) (account.TokenInput, map[string]bool, error) {
	f := r.PostForm
	in := account.TokenInput{Name: f.Get("name"), UserID: f.Get("user")}
	checked := map[string]bool{}
	for _, name := range f["scopes"] {
		p, ok := access.Parse(name)
		if !ok {
			return in, checked, fault.Field("scopes", "error.api_scopes_required")
		}
		in.Scopes |= access.Of(p)
		checked[name] = true
	}
	switch e := f.Get("expires"); e {
	case "never":
	case "30", "90", "180", "365":
		days := map[string]int{"30": 30, "90": 90, "180": 180, "365": 365}[e]
		in.ExpiresAt = now.AddDate(0, 0, days)
	default:
		return in, checked, fault.Field("expires_at", "error.api_token_expiry")
	}
	return in, checked, nil
}

// handleTokenCreate makes a token and shows its secret, once: the answer
// to the form is the only page that ever holds it.
func (s *Server) handleTokenCreate(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, err)
		return
	}
	in, checked, err := tokenInput(r, time.Now())
	if err == nil {
		var tok account.Token
		var secret string
		tok, secret, err = s.Accounts.CreateToken(r.Context(), stateOf(r).principal.Actor(), in)
		if err == nil {
			pg, perr := s.tokensPage(r, nil)
			if perr != nil {
				s.fail(w, r, perr)
				return
			}
			d := pg.Data.(tokensData)
			row := s.tokenRow(r, tok, map[string]*account.User{})
			d.Secret, d.Created = secret, &row
			pg.Data = d
			s.render(w, r, http.StatusOK, "tokens", pg)
			return
		}
	}
	pg, perr := s.tokensPage(r, checked)
	if perr != nil {
		s.fail(w, r, perr)
		return
	}
	d := pg.Data.(tokensData)
	d.New = true
	pg.Data = d
	s.refuse(w, r, err, pg, s.show("tokens"))
}

func (s *Server) handleTokenRevoke(w http.ResponseWriter, r *http.Request) {
	if err := s.Accounts.RevokeToken(r.Context(), stateOf(r).principal.Actor(), r.PathValue("id")); err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/settings/api-tokens?revoked=1", http.StatusSeeOther)
}

// handleServiceUserCreate makes a service user from the small form of the
// tokens page (re-authenticated, like a new token).
func (s *Server) handleServiceUserCreate(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, err)
		return
	}
	u, err := s.Accounts.CreateServiceUser(r.Context(), stateOf(r).principal.Actor(), r.PostForm.Get("display_name"), r.PostForm.Get("role"))
	if err != nil {
		pg, perr := s.tokensPage(r, nil)
		if perr != nil {
			s.fail(w, r, perr)
			return
		}
		s.refuse(w, r, err, pg, s.show("tokens"))
		return
	}
	http.Redirect(w, r, "/settings/api-tokens?service="+url.QueryEscape(u.Login), http.StatusSeeOther)
}
