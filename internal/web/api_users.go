package web

import (
	"net/http"
	"time"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/account"
)

// apiUser is a user of the company: never a credential (password hash,
// second factor, session).
type apiUser struct {
	ID          string `json:"id"`
	Login       string `json:"login"`
	Email       string `json:"email"`
	DisplayName string `json:"display_name"`
	Language    string `json:"language" doc:"The language they chose; empty for the company's."`
	Role        string `json:"role" doc:"A predefined role's name, or a custom role's id (see GET /roles)."`
	// OptionalRights are an HR manager's rights on top of the role.
	OptionalRights     []string  `json:"optional_rights" enum:"@permissions" doc:"An HR manager's rights on top of the role."`
	Permissions        []string  `json:"permissions" enum:"@permissions" doc:"Everything the user may do: role, custom role and optional rights."`
	Status             string    `json:"status" enum:"active,disabled"`
	MustChangePassword bool      `json:"must_change_password"`
	CreatedAt          time.Time `json:"created_at"`
}

// apiRole is a role a user may hold.
type apiRole struct {
	ID          string   `json:"id" doc:"A predefined role's name, or a custom role's id."`
	Name        string   `json:"name"`
	Predefined  bool     `json:"predefined"`
	Permissions []string `json:"permissions" enum:"@permissions"`
	Users       *int     `json:"users" doc:"How many users hold a custom role; null for a predefined one."`
}

// apiToken is an API token of the company: never its secret.
type apiToken struct {
	ID         string     `json:"id"`
	Name       string     `json:"name"`
	UserID     string     `json:"user_id" doc:"The user it acts as."`
	CreatedBy  string     `json:"created_by" doc:"The user who made it."`
	Scopes     []string   `json:"scopes" enum:"@permissions"`
	Prefix     string     `json:"prefix" doc:"The start of its secret, to tell tokens apart."`
	Active     bool       `json:"active" doc:"Neither revoked nor expired."`
	CreatedAt  time.Time  `json:"created_at"`
	ExpiresAt  *time.Time `json:"expires_at" doc:"Null: it does not expire."`
	LastUsedAt *time.Time `json:"last_used_at" doc:"To the minute; null: never used."`
	LastUsedIP string     `json:"last_used_ip"`
	RevokedAt  *time.Time `json:"revoked_at"`
}

// permissionNames lists a set's permissions by name.
func permissionNames(s access.Set) []string {
	out := []string{}
	for _, p := range s.List() {
		out = append(out, p.Name())
	}
	return out
}

func toAPIUser(u *account.User) apiUser {
	return apiUser{ID: u.ID, Login: u.Login, Email: u.Email, DisplayName: u.DisplayName, Language: u.Language, Role: u.Role,
		OptionalRights: permissionNames(u.OptionalRights), Permissions: permissionNames(u.Perms), Status: string(u.Status),
		MustChangePassword: u.MustChangePassword, CreatedAt: u.CreatedAt.UTC()}
}

func (s *Server) apiUsers(a *apiRouter) {
	a.handle(apiOp{Method: http.MethodGet, Path: "/users", ID: "listUsers", Tag: "users", Summary: "List the company's users by name",
		Scope: access.ManageUsers, Result: apiUser{}, Page: true, Query: []apiParam{apiLimitParam, apiCursorParam}}, s.apiListUsers)
	a.handle(apiOp{Method: http.MethodGet, Path: "/users/{id}", ID: "getUser", Tag: "users", Summary: "Get a user",
		Scope: access.ManageUsers, Result: apiUser{}}, s.apiGetUser)
	a.handle(apiOp{Method: http.MethodGet, Path: "/roles", ID: "listRoles", Tag: "users",
		Summary: "List the roles: the predefined ones, then the company's custom roles, with their permissions",
		Scope:   access.ManageRoles, Result: []apiRole{}}, s.apiListRoles)
	a.handle(apiOp{Method: http.MethodGet, Path: "/tokens", ID: "listTokens", Tag: "tokens",
		Summary: "List the company's API tokens, newest first, revoked ones included (never a secret; tokens are made in the application or by `kandidat token create`)",
		Scope:   access.ManageAPITokens, Result: apiToken{}, Page: true, Query: []apiParam{apiLimitParam, apiCursorParam}}, s.apiListTokens)
	a.handle(apiOp{Method: http.MethodDelete, Path: "/tokens/{id}", ID: "revokeToken", Tag: "tokens",
		Summary: "Revoke an API token at once (revoking a revoked one changes nothing)", Scope: access.ManageAPITokens, Status: http.StatusNoContent}, s.apiRevokeToken)
}

func (s *Server) apiListUsers(c *apiCall) error {
	limit, err := c.limit()
	if err != nil {
		return err
	}
	after, err := c.cursor()
	if err != nil {
		return err
	}
	users, next, err := s.Accounts.Users(c.ctx(), c.actor, after, limit)
	if err != nil {
		return err
	}
	out := make([]apiUser, 0, len(users))
	for _, u := range users {
		out = append(out, toAPIUser(u))
	}
	return writePage(c, out, next)
}

func (s *Server) apiGetUser(c *apiCall) error {
	u, err := s.Accounts.User(c.ctx(), c.actor, c.path("id"))
	if err != nil {
		return err
	}
	return c.json(toAPIUser(u))
}

func (s *Server) apiListRoles(c *apiCall) error {
	roles, err := s.Accounts.Roles(c.ctx(), c.actor)
	if err != nil {
		return err
	}
	out := make([]apiRole, 0, len(roles))
	for _, r := range roles {
		ar := apiRole{ID: r.ID, Name: r.Name, Predefined: r.Predefined, Permissions: permissionNames(r.Permissions)}
		if !r.Predefined {
			n := r.Users
			ar.Users = &n
		}
		out = append(out, ar)
	}
	return c.json(out)
}

func (s *Server) apiListTokens(c *apiCall) error {
	limit, err := c.limit()
	if err != nil {
		return err
	}
	after, err := c.cursor()
	if err != nil {
		return err
	}
	tokens, next, err := s.Accounts.TokensPage(c.ctx(), c.actor, after, limit)
	if err != nil {
		return err
	}
	now := time.Now()
	out := make([]apiToken, 0, len(tokens))
	for _, t := range tokens {
		out = append(out, apiToken{ID: t.ID, Name: t.Name, UserID: t.UserID, CreatedBy: t.CreatedBy, Scopes: permissionNames(t.Scopes),
			Prefix: t.Prefix, Active: t.Active(now), CreatedAt: t.CreatedAt, ExpiresAt: timeOrNil(t.ExpiresAt), LastUsedAt: timeOrNil(t.LastUsedAt),
			LastUsedIP: t.LastUsedIP, RevokedAt: timeOrNil(t.RevokedAt)})
	}
	return writePage(c, out, next)
}

func (s *Server) apiRevokeToken(c *apiCall) error {
	if err := s.Accounts.RevokeToken(c.ctx(), c.actor, c.path("id")); err != nil {
		return err
	}
	return c.noContent()
}
