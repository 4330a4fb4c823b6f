package web

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/audit"
)

// TestCareerLogoAndColour: an HR manager uploads a logo, which loses its
// metadata and shows on the public career page under a versioned URL; a
// file that is not an image, or too large, is explained beside the field
// and changes nothing; the colour is served as a stylesheet of its own with
// readable text; removing the logo removes it from the page.
func TestCareerLogoAndColour(t *testing.T) {
	f := newFixture(t, Options{})
	ctx := context.Background()
	f.publishedPosition(t, "Engineer")
	hrUser, hr := f.roleUser("helga", access.HRManager)
	upload := func(fields map[string]string, files ...[3]string) (*http.Response, string) {
		b, ct := multipartForm(t, fields, files...)
		res := f.do(request{method: "POST", path: "/settings/logo", cookie: hr, body: b, contentType: ct})
		return res, body(t, res)
	}
	for name, tc := range map[string]struct {
		file [3]string
		key  string
	}{
		"html named .png": {[3]string{"logo", "logo.png", "<html><script>alert(1)</script></html>"}, "error.logo_type"},
		"a pdf":           {[3]string{"logo", "logo.png", "%PDF-1.7\n%%EOF"}, "error.logo_type"},
		"too large":       {[3]string{"logo", "big.png", strings.Repeat("x", 300<<10)}, "error.logo_too_large"},
	} {
		res, b := upload(nil, tc.file)
		if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(b, `id="career_logo-error">`+f.srv.I18n.T("en", tc.key)) {
			t.Fatalf("%s: %d, want 422 with %s", name, res.StatusCode, tc.key)
		}
	}
	if co, _ := f.tenants.ByID(ctx, f.company.ID); co.Settings.CareerLogo != "" {
		t.Fatal("a refused upload set a logo")
	}
	photo := photoWithGPS(t)
	if res, b := upload(nil, [3]string{"logo", "logo.jpg", photo}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("upload: %d %s", res.StatusCode, b)
	}
	co, _ := f.tenants.ByID(ctx, f.company.ID)
	if co.Settings.CareerLogo == "" {
		t.Fatal("no logo version after the upload")
	}
	page := body(t, f.do(request{method: "GET", path: "/careers/acme"}))
	want := `src="/careers/acme/logo?v=` + co.Settings.CareerLogo + `"`
	if !strings.Contains(page, want) {
		t.Fatalf("the career page does not show the logo (%s)", want)
	}
	res := f.do(request{method: "GET", path: "/careers/acme/logo?v=" + co.Settings.CareerLogo})
	served, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "image/jpeg" || !strings.Contains(res.Header.Get("Content-Security-Policy"), "sandbox") {
		t.Fatalf("logo: %d %v", res.StatusCode, res.Header)
	}
	if bytes.Contains(served, []byte("Exif")) || len(served) >= len(photo) {
		t.Fatal("the logo kept its EXIF metadata")
	}
	// The colour: a light one gets dark text, a dark one white.
	for colour, text := range map[string]string{"#fdf6b2": "#1d232b", "#1f5f8b": "#fff"} {
		in := co.Profile()
		in.CareerColour = colour
		if err := f.tenants.SaveProfile(ctx, f.actor(hrUser), in); err != nil {
			t.Fatal(err)
		}
		res := f.do(request{method: "GET", path: "/careers/acme/theme.css"})
		css := body(t, res)
		if res.Header.Get("Content-Type") != "text/css; charset=utf-8" || !strings.Contains(css, "--accent: "+colour) || !strings.Contains(css, "--accent-fg: "+text) {
			t.Fatalf("theme for %s: %q", colour, css)
		}
	}
	if !strings.Contains(body(t, f.do(request{method: "GET", path: "/careers/acme"})), `href="/careers/acme/theme.css"`) {
		t.Fatal("the career page does not link its theme")
	}
	// Removed.
	if res, b := upload(map[string]string{"remove": "1"}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("remove: %d %s", res.StatusCode, b)
	}
	if strings.Contains(body(t, f.do(request{method: "GET", path: "/careers/acme"})), "career-logo") {
		t.Fatal("the removed logo is still shown")
	}
	if res := f.do(request{method: "GET", path: "/careers/acme/logo"}); res.StatusCode != http.StatusNotFound {
		t.Fatalf("removed logo: %d", res.StatusCode)
	}
	recs, _, _ := f.audit.List(ctx, f.company.ID, audit.Filter{Action: audit.TenantSettingsChanged})
	logos := 0
	for _, r := range recs {
		if r.Details["fields"] == "career_logo" {
			logos++
		}
	}
	if logos != 2 {
		t.Fatalf("%d logo changes recorded, want 2", logos)
	}
}
