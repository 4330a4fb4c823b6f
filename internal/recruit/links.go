package recruit

import "strings"

// SetBaseURL sets the address every link in an email to a candidate or a
// colleague starts with, when the configuration names none: serve derives
// it from its listener, so that no email ever carries a relative link.
func (s *Service) SetBaseURL(u string) { s.base.Store(strings.TrimSuffix(u, "/")) }

// baseURL is the configured address, or the one serve derived.
func (s *Service) baseURL() string {
	u, _ := s.base.Load().(string)
	return u
}

// BaseURL is the address every link in an email starts with: the
// configured one, or the one serve derived ("" until then).
func (s *Service) BaseURL() string { return s.baseURL() }
