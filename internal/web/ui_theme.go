package web

import (
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"

	"github.com/kandidat/kandidat/internal/fault"
	"github.com/kandidat/kandidat/internal/tenant"
)

// handleCareerTheme serves a company's career page colours as a stylesheet
// of its own: the pages allow no inline style (style-src 'self'), and the
// colour, checked to be #rrggbb when saved, is the only thing written.
func (s *Server) handleCareerTheme(w http.ResponseWriter, r *http.Request) {
	t, err := s.Tenants.BySlug(r.Context(), r.PathValue("company"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	css := ""
	if c := t.Settings.CareerColour; c != "" {
		css = fmt.Sprintf(":root { --accent: %s; --accent-fg: %s; }\n", c, textOn(c))
	}
	h := w.Header()
	h.Set("Content-Type", "text/css; charset=utf-8")
	h.Set("Cache-Control", "public, max-age=300")
	w.Write([]byte(css))
}

// textOn is the text colour readable on a background of colour #rrggbb:
// white on dark colours, the page's ink on light ones (WCAG relative
// luminance, the better contrast of the two).
func textOn(colour string) string {
	lum := 0.0
	for i, weight := range []float64{0.2126, 0.7152, 0.0722} {
		v, _ := strconv.ParseUint(colour[1+2*i:3+2*i], 16, 8)
		c := float64(v) / 255
		if c <= 0.03928 {
			c /= 12.92
		} else {
			c = math.Pow((c+0.055)/1.055, 2.4)
		}
		lum += weight * c
	}
	// Contrast with white (1.0) against contrast with the ink #1d232b (~0.016).
	if (1.05)/(lum+0.05) >= (lum+0.05)/(0.016+0.05) {
		return "#fff"
	}
	return "#1d232b"
}

// handleLogoSave sets or removes the career page's logo (company.profile).
// A file too large or not a PNG or JPEG image is explained beside the
// field; the upload is read whole, it is small.
func (s *Server) handleLogoSave(w http.ResponseWriter, r *http.Request) {
	var data []byte
	if err := r.ParseMultipartForm(tenant.MaxLogoBytes); err != nil {
		var maxErr *http.MaxBytesError
		if errors.As(err, &maxErr) {
			s.settingsSaved(w, r, fault.Field("career_logo", "error.logo_too_large"), nil, nil)
			return
		}
		s.settingsSaved(w, r, fault.Field("career_logo", "error.logo_type"), nil, nil)
		return
	}
	if r.PostForm.Get("remove") != "1" {
		file, _, err := r.FormFile("logo")
		if err != nil {
			s.settingsSaved(w, r, fault.Field("career_logo", "error.logo_type"), nil, nil)
			return
		}
		defer file.Close()
		if data, err = io.ReadAll(io.LimitReader(file, tenant.MaxLogoBytes+1)); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	err := s.Tenants.SaveLogo(r.Context(), stateOf(r).principal.Actor(), data)
	s.settingsSaved(w, r, err, nil, nil)
}

// handleCareerLogo serves a company's career page logo. The URL carries
// the logo's version, so it may be cached for long; it is served as the
// image it was checked to be, and nothing in it may run.
func (s *Server) handleCareerLogo(w http.ResponseWriter, r *http.Request) {
	t, err := s.Tenants.BySlug(r.Context(), r.PathValue("company"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	logo, err := s.Tenants.LogoOf(r.Context(), t.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if logo == nil {
		s.renderError(w, r, http.StatusNotFound)
		return
	}
	h := w.Header()
	h.Set("Content-Type", logo.ContentType)
	h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	h.Set("Cache-Control", "public, max-age=86400")
	h.Set("ETag", `"`+t.Settings.CareerLogo+`"`)
	if r.Header.Get("If-None-Match") == `"`+t.Settings.CareerLogo+`"` {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	w.Write(logo.Data)
}
