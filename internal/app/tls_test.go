package app

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"log"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/letsencrypt/pebble/v2/ca"
	pebbledb "github.com/letsencrypt/pebble/v2/db"
	"github.com/letsencrypt/pebble/v2/va"
	"github.com/letsencrypt/pebble/v2/wfe"
	"github.com/miekg/dns"

	"github.com/kandidat/kandidat/internal/config"
	"github.com/kandidat/kandidat/internal/db/dbtest"
)

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// serveApp opens an installation with cfg and serves it with o until the
// test ends, and returns its base URL.
func serveApp(t *testing.T, cfg *config.Config, o ServeOptions) string {
	t.Helper()
	if err := cfg.Validate(config.Server); err != nil {
		t.Fatalf("configuration: %v", err)
	}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	a, err := Open(context.Background(), cfg, logger, OpenOptions{Migrate: true, CreateMasterKey: true})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	o.Ready = func(u string) { ready <- u }
	go func() { done <- a.Serve(ctx, o) }()
	t.Cleanup(func() {
		cancel()
		<-done
		a.Close()
	})
	select {
	case u := <-ready:
		return u
	case err := <-done:
		t.Fatalf("serve: %v", err)
	}
	return ""
}

func testConfig(t *testing.T) *config.Config {
	c := config.Default()
	c.DataDir = t.TempDir()
	c.DatabaseURL = dbtest.URL(t)
	c.ShutdownTimeout = 5 * time.Second
	return &c
}

// TestACMEWithPebble obtains a certificate from Pebble, Let's Encrypt's test
// CA, started in the test: Pebble validates the TLS-ALPN-01 challenge by
// connecting to Kandidat's HTTPS port (a DNS stub points the name at
// loopback), issues the certificate, and Kandidat serves it with TLS 1.2 at
// least, HSTS and an HTTP-to-HTTPS redirect.
func TestACMEWithPebble(t *testing.T) {
	t.Setenv("PEBBLE_VA_NOSLEEP", "1")
	const domain = "jobs.kandidat.test"
	tlsPort, redirectPort := freePort(t), freePort(t)

	// A DNS server that answers every A question with 127.0.0.1.
	dnsLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dnsSrv := &dns.Server{Listener: dnsLn, Net: "tcp", Handler: dns.HandlerFunc(func(w dns.ResponseWriter, q *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(q)
		for _, question := range q.Question {
			if question.Qtype == dns.TypeA {
				m.Answer = append(m.Answer, &dns.A{Hdr: dns.RR_Header{Name: question.Name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 60}, A: net.IPv4(127, 0, 0, 1)})
			}
		}
		w.WriteMsg(m)
	})}
	go dnsSrv.ActivateAndServe()
	defer dnsSrv.Shutdown()

	// Pebble, in process.
	logger := log.New(io.Discard, "", 0)
	store := pebbledb.NewMemoryStore()
	authority := ca.New(logger, store, "", "ecdsa", 0, 1, map[string]ca.Profile{"default": {Description: "default"}})
	validator := va.New(logger, 0, tlsPort, false, dnsLn.Addr().String(), store)
	front := wfe.New(logger, store, validator, authority, nil, false, false, 3, 5)
	pebble := httptest.NewTLSServer(front.Handler())
	defer pebble.Close()

	cfg := testConfig(t)
	cfg.Addr = "127.0.0.1:" + strconv.Itoa(tlsPort)
	cfg.ACMEDomain = domain
	cfg.ACMEEmail = "ops@kandidat.test"
	cfg.ACMEDirectoryURL = pebble.URL + wfe.DirectoryPath
	cfg.HTTPRedirectAddr = "127.0.0.1:" + strconv.Itoa(redirectPort)
	cfg.Demo = true
	base := serveApp(t, cfg, ServeOptions{ACMEHTTPClient: pebble.Client()})
	if want := "https://" + domain + ":" + strconv.Itoa(tlsPort); base != want {
		t.Fatalf("base URL %q, want %q", base, want)
	}

	roots := x509.NewCertPool()
	roots.AddCert(authority.GetRootCert(0).Cert)
	dial := func(c *tls.Config) (*tls.Conn, error) {
		return tls.DialWithDialer(&net.Dialer{Timeout: 30 * time.Second}, "tcp", cfg.Addr, c)
	}
	// The first handshake makes Kandidat order the certificate.
	conn, err := dial(&tls.Config{ServerName: domain, RootCAs: roots})
	if err != nil {
		t.Fatalf("TLS with the certificate from Pebble: %v", err)
	}
	state := conn.ConnectionState()
	conn.Close()
	if leaf := state.PeerCertificates[0]; leaf.Subject.CommonName != domain && (len(leaf.DNSNames) == 0 || leaf.DNSNames[0] != domain) {
		t.Fatalf("certificate for %v, want %s", leaf.DNSNames, domain)
	}

	// TLS 1.1 is refused.
	if c, err := dial(&tls.Config{ServerName: domain, RootCAs: roots, MaxVersion: tls.VersionTLS11}); err == nil {
		c.Close()
		t.Fatal("a TLS 1.1 handshake succeeded")
	}

	client := &http.Client{Transport: &http.Transport{
		TLSClientConfig: &tls.Config{ServerName: domain, RootCAs: roots},
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, cfg.Addr)
		},
	}, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := client.Get(base + "/signin")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK || res.Header.Get("Strict-Transport-Security") == "" {
		t.Fatalf("HTTPS sign-in page: %d, HSTS %q", res.StatusCode, res.Header.Get("Strict-Transport-Security"))
	}
	plain := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err = plain.Get("http://" + cfg.HTTPRedirectAddr + "/signin?x=1")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusPermanentRedirect || res.Header.Get("Location") != base+"/signin?x=1" {
		t.Fatalf("plain HTTP: %d to %q, want 308 to %s/signin?x=1", res.StatusCode, res.Header.Get("Location"), base)
	}
	// The certificate is cached in the data directory for the next start.
	if entries, _ := os.ReadDir(filepath.Join(cfg.DataDir, "acme")); len(entries) == 0 {
		t.Fatal("no certificate cached in the data directory")
	}
}

// TestTLSFromFiles serves a certificate from PEM files.
func TestTLSFromFiles(t *testing.T) {
	dir := t.TempDir()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "localhost"},
		DNSNames: []string{"localhost"}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, _ := x509.MarshalECPrivateKey(key)
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600)

	cfg := testConfig(t)
	cfg.Addr = "127.0.0.1:0"
	cfg.TLSCert, cfg.TLSKey = certFile, keyFile
	base := serveApp(t, cfg, ServeOptions{})
	if !strings.HasPrefix(base, "https://127.0.0.1:") {
		t.Fatalf("base URL %q, want https", base)
	}
	cert, _ := x509.ParseCertificate(der)
	roots := x509.NewCertPool()
	roots.AddCert(cert)
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}}}
	res, err := client.Get(base + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK || res.TLS == nil || res.TLS.Version < tls.VersionTLS12 {
		t.Fatalf("healthz over TLS: %d %+v", res.StatusCode, res.TLS)
	}
	res, err = client.Get(base + "/signin")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.Header.Get("Strict-Transport-Security") == "" {
		t.Fatal("no HSTS over TLS")
	}
}

// TestServerLogWithholdsAddresses: net/http's own messages (a failed TLS
// handshake) reach the log without the client's address.
func TestServerLogWithholdsAddresses(t *testing.T) {
	var buf bytes.Buffer
	l := slog.NewLogLogger(addressless{slog.NewJSONHandler(&buf, nil)}, slog.LevelWarn)
	l.Printf("http: TLS handshake error from 203.0.113.77:4444: EOF")
	l.Printf("http: TLS handshake error from [2001:db8::1]:4444: EOF")
	if s := buf.String(); strings.Contains(s, "203.0.113.77") || strings.Contains(s, "2001:db8") || !strings.Contains(s, "address withheld") {
		t.Fatalf("log: %s", s)
	}
}
