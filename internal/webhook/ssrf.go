package webhook

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"syscall"
	"time"
)

// A webhook URL is chosen by a company's user, so an attempt could aim at
// the installation's own network: the database, the cloud's metadata
// service, an admin port on loopback. Every connection is checked when it
// is made (net.Dialer.Control sees the address actually dialled, after DNS
// resolution, so a name that resolves to a public address when subscribed
// and to a private one later is refused all the same), and the
// subscription is checked when saved, for a clear message.

// errRefusedAddress is the refusal of a connection to a non-public address.
var errRefusedAddress = errors.New("webhook: address not allowed")

// refused lists the ranges no delivery may reach, beside what netip's
// predicates name (loopback, private, link-local, multicast, unspecified).
var refused = func() []netip.Prefix {
	var out []netip.Prefix
	for _, s := range []string{
		"0.0.0.0/8",          // "this network"
		"100.64.0.0/10",      // carrier-grade NAT (RFC 6598), also Alibaba's metadata address
		"192.0.0.0/24",       // IETF protocol assignments
		"192.0.2.0/24",       // documentation
		"198.18.0.0/15",      // benchmarking
		"198.51.100.0/24",    // documentation
		"203.0.113.0/24",     // documentation
		"240.0.0.0/4",        // reserved, and the broadcast address
		"64:ff9b:1::/48",     // local-use NAT64
		"100::/64",           // discard-only
		"2001:db8::/32",      // documentation
		"fec0::/10",          // deprecated site-local
		"fd00:ec2::254/128",  // AWS's metadata address over IPv6 (also ULA)
		"169.254.169.254/32", // cloud metadata (also link-local)
	} {
		out = append(out, netip.MustParsePrefix(s))
	}
	return out
}()

// Public reports whether a delivery may connect to addr: a global unicast
// address outside every private, shared, reserved and special range, with
// IPv4-mapped and -translated forms judged by the IPv4 address they hold.
func Public(addr netip.Addr) bool {
	addr = addr.Unmap()
	if addr.Is6() {
		// NAT64 (64:ff9b::/96) and 6to4 (2002::/16) embed an IPv4 address.
		b := addr.As16()
		switch {
		case netip.MustParsePrefix("64:ff9b::/96").Contains(addr):
			return Public(netip.AddrFrom4([4]byte(b[12:16])))
		case netip.MustParsePrefix("2002::/16").Contains(addr):
			return Public(netip.AddrFrom4([4]byte(b[2:6])))
		}
	}
	if !addr.IsValid() || addr.IsLoopback() || addr.IsPrivate() || addr.IsLinkLocalUnicast() || addr.IsLinkLocalMulticast() ||
		addr.IsInterfaceLocalMulticast() || addr.IsMulticast() || addr.IsUnspecified() || !addr.IsGlobalUnicast() {
		return false
	}
	for _, p := range refused {
		if p.Contains(addr) {
			return false
		}
	}
	return true
}

// control refuses, at connection time, any address that is not Public.
func control(network, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("%w: %s", errRefusedAddress, address)
	}
	if !Public(ap.Addr()) {
		return fmt.Errorf("%w: %s", errRefusedAddress, ap.Addr())
	}
	return nil
}

// httpClient is the client deliveries are sent with.
type httpClient struct{ *http.Client }

// newHTTPClient returns the client of deliveries: no proxy from the
// environment (it would connect for us, past the check), no redirects
// followed (a 3xx is an answer, not a new target), connections checked by
// control unless private addresses are allowed.
func newHTTPClient(allowPrivate bool) *httpClient {
	dialer := &net.Dialer{Timeout: Timeout, KeepAlive: 30 * time.Second}
	if !allowPrivate {
		dialer.Control = control
	}
	transport := &http.Transport{
		Proxy:                 nil,
		DialContext:           dialer.DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          20,
		MaxIdleConnsPerHost:   2,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   Timeout,
		ResponseHeaderTimeout: Timeout,
	}
	return &httpClient{&http.Client{
		Transport: transport,
		Timeout:   Timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}}
}

// checkHost refuses, at subscription time, a host that is or resolves to
// an address a delivery may not reach. The delivery checks again when it
// connects: this is for the message.
func (s *Service) checkHost(ctx context.Context, host string) error {
	if s.opts.AllowPrivate {
		return nil
	}
	if a, err := netip.ParseAddr(host); err == nil {
		if !Public(a) {
			return errRefusedAddress
		}
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	addrs, err := s.opts.LookupIP(ctx, host)
	if err != nil || len(addrs) == 0 {
		return errUnresolvable
	}
	for _, a := range addrs {
		if !Public(a) {
			return errRefusedAddress
		}
	}
	return nil
}

var errUnresolvable = errors.New("webhook: host not found")
