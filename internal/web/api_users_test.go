package web

import (
	"context"
	"database/sql"
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/account"
	"github.com/kandidat/kandidat/internal/tenant"
)

func TestAPIUsersAndRoles(t *testing.T) {
	f := newAPIFixture(t)
	ctx := context.Background()
	adminActor, admin := f.token("administrator")
	hr, hrTok := f.token("hr_manager")
	// Ada has a password and a second factor: neither may leave.
	ada := f.user("ada", false)
	enrol, err := f.accounts.BeginTOTP(ctx, access.Actor{TenantID: ada.TenantID, UserID: ada.ID})
	if err != nil {
		t.Fatal(err)
	}
	role, err := f.accounts.SaveRole(ctx, adminActor, "", account.RoleInput{Name: "Reader", Permissions: []string{"positions.view", "applications.view"}})
	if err != nil {
		t.Fatal(err)
	}
	credentials := []string{enrol.Secret}
	if err := f.db.ReadTx(ctx, f.company.ID, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT password_hash FROM users WHERE tenant_id = $1 AND password_hash <> ''`, f.company.ID)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var h string
			if err := rows.Scan(&h); err != nil {
				return err
			}
			credentials = append(credentials, h)
		}
		return rows.Err()
	}); err != nil {
		t.Fatal(err)
	}
	if len(credentials) < 4 {
		t.Fatalf("%d password hashes to look for", len(credentials))
	}

	// Every user, page by page, by name; nothing of a credential.
	ids, path := map[string]map[string]any{}, "/api/v1/users?limit=2"
	for path != "" {
		res := f.call(admin, "GET", path, nil)
		if res.StatusCode != 200 {
			t.Fatalf("%s: %d %s", path, res.StatusCode, res.Body)
		}
		for _, secret := range append(credentials, "argon2", "totp", "password_hash", "secret") {
			if strings.Contains(strings.ToLower(string(res.Body)), strings.ToLower(secret)) {
				t.Fatalf("the users list shows %q: %s", secret, res.Body)
			}
		}
		body := res.json(t)
		for _, u := range body["data"].([]any) {
			m := u.(map[string]any)
			ids[m["id"].(string)] = m
		}
		path = ""
		if next, ok := body["next_cursor"].(string); ok {
			path = "/api/v1/users?limit=2&cursor=" + url.QueryEscape(next)
		}
	}
	if len(ids) != 3 || ids[ada.ID]["login"] != "ada" || ids[hr.UserID]["role"] != "hr_manager" {
		t.Fatalf("users %v", ids)
	}
	perms, _ := ids[hr.UserID]["permissions"].([]any)
	if len(perms) != len(access.RoleSet("hr_manager").List()) {
		t.Fatalf("hr manager's permissions %v", perms)
	}
	res := f.call(admin, "GET", "/api/v1/users/"+ada.ID, nil)
	if res.StatusCode != 200 || res.json(t)["display_name"] != "Ada ada" || strings.Contains(string(res.Body), credentials[1]) {
		t.Fatalf("get user: %d %s", res.StatusCode, res.Body)
	}
	// Roles: the predefined ones with their permissions, then the company's.
	res = f.call(admin, "GET", "/api/v1/roles", nil)
	if res.StatusCode != 200 {
		t.Fatalf("roles: %d %s", res.StatusCode, res.Body)
	}
	var roles []map[string]any
	if err := json.Unmarshal(res.Body, &roles); err != nil {
		t.Fatal(err)
	}
	if len(roles) != len(access.Roles)+1 || roles[0]["id"] != "administrator" || roles[0]["users"] != nil ||
		roles[len(roles)-1]["id"] != role.ID || roles[len(roles)-1]["users"] != float64(0) || len(roles[len(roles)-1]["permissions"].([]any)) != 2 {
		t.Fatalf("roles %s", res.Body)
	}

	other := f.kit.Company(t, tenant.CreateInput{Slug: "other", Name: "Other Ltd"})
	oUser := f.member(other, "administrator")
	runAPICases(t, f, []apiCase{
		{name: "users without users.manage", token: hrTok, method: "GET", path: "/api/v1/users", status: 403, problem: "insufficient-scope"},
		{name: "user without users.manage", token: hrTok, method: "GET", path: "/api/v1/users/" + ada.ID, status: 403, problem: "insufficient-scope"},
		{name: "roles without roles.manage", token: hrTok, method: "GET", path: "/api/v1/roles", status: 403, problem: "insufficient-scope"},
		{name: "another company's user", token: admin, method: "GET", path: "/api/v1/users/" + oUser.UserID, status: 404, problem: "not-found"},
		{name: "malformed id", token: admin, method: "GET", path: "/api/v1/users/ada", status: 404, problem: "not-found"},
		{name: "huge page", token: admin, method: "GET", path: "/api/v1/users?limit=101", status: 422, problem: "validation", fields: []string{"limit"}},
	})
}

func TestAPITokens(t *testing.T) {
	f := newAPIFixture(t)
	adminActor, admin := f.token("administrator")
	_, hrTok := f.token("hr_manager")
	_, other := f.token("administrator", access.ViewAudit)
	// Every token, page by page, newest first; never a secret.
	seen, path := []string{}, "/api/v1/tokens?limit=2"
	for path != "" {
		res := f.call(admin, "GET", path, nil)
		if res.StatusCode != 200 {
			t.Fatalf("%s: %d %s", path, res.StatusCode, res.Body)
		}
		for _, secret := range []string{admin, hrTok, other, strings.TrimPrefix(other, account.TokenPrefix)} {
			if strings.Contains(string(res.Body), secret) {
				t.Fatalf("the tokens list shows a secret: %s", res.Body)
			}
		}
		body := res.json(t)
		for _, tk := range body["data"].([]any) {
			m := tk.(map[string]any)
			if m["active"] != true || m["revoked_at"] != nil || !strings.HasPrefix(m["prefix"].(string), account.TokenPrefix) {
				t.Fatalf("token %v", m)
			}
			seen = append(seen, m["id"].(string))
		}
		path = ""
		if next, ok := body["next_cursor"].(string); ok {
			path = "/api/v1/tokens?limit=2&cursor=" + url.QueryEscape(next)
		}
	}
	if len(seen) != 3 || seen[0] < seen[1] || seen[1] < seen[2] {
		t.Fatalf("tokens %v: want 3, newest first", seen)
	}
	// Revoke the newest (the audit.view one): it stops at once.
	res := f.call(admin, "DELETE", "/api/v1/tokens/"+seen[0], nil)
	if res.StatusCode != 204 {
		t.Fatalf("revoke: %d %s", res.StatusCode, res.Body)
	}
	if res := f.call(other, "GET", "/api/v1/audit", nil); res.StatusCode != 401 {
		t.Fatalf("a revoked token: %d", res.StatusCode)
	}
	if res := f.call(admin, "DELETE", "/api/v1/tokens/"+seen[0], nil); res.StatusCode != 204 {
		t.Fatalf("revoking again: %d %s", res.StatusCode, res.Body)
	}
	list, err := f.accounts.Tokens(context.Background(), adminActor)
	if err != nil || list[0].ID != seen[0] || list[0].RevokedAt.IsZero() {
		t.Fatalf("tokens after revoking: %+v %v", list, err)
	}
	oc := f.kit.Company(t, tenant.CreateInput{Slug: "other", Name: "Other Ltd"})
	f.enableAPI(oc)
	_, oTok := f.tokenIn(oc, "administrator")
	oList, err := f.accounts.Tokens(context.Background(), f.member(oc, "administrator"))
	if err != nil || len(oList) != 1 {
		t.Fatal(oList, err)
	}
	runAPICases(t, f, []apiCase{
		{name: "list without api.tokens", token: hrTok, method: "GET", path: "/api/v1/tokens", status: 403, problem: "insufficient-scope"},
		{name: "revoke without api.tokens", token: hrTok, method: "DELETE", path: "/api/v1/tokens/" + seen[1], status: 403, problem: "insufficient-scope"},
		{name: "revoke another company's", token: admin, method: "DELETE", path: "/api/v1/tokens/" + oList[0].ID, status: 404, problem: "not-found"},
		{name: "revoke an unknown one", token: admin, method: "DELETE", path: "/api/v1/tokens/0190c0de-0000-7000-8000-000000000000", status: 404, problem: "not-found"},
	})
	if res := f.call(oTok, "GET", "/api/v1/tokens", nil); res.StatusCode != 200 || len(res.json(t)["data"].([]any)) != 1 {
		t.Fatalf("the other company's token after the attempt: %d %s", res.StatusCode, res.Body)
	}
}
