package web

import (
	"fmt"
	"math"
	"net/http"
	"strconv"
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
