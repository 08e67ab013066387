package caddymodule

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hookguard/hookguard/preset"
	"github.com/hookguard/hookguard/verifier"
)

// parseHeaders reads the "Name: value" lines sign prints.
func parseHeaders(out string) http.Header {
	h := http.Header{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		name, value, _ := strings.Cut(line, ": ")
		h.Add(name, value)
	}
	return h
}

// TestSignCommandHeaderFlag (issue 12, item 6): -H adds a header as
// curl's does, --H still works, a header given twice is sent twice, one
// given replaces the default Content-Type, and a line without a colon is
// refused.
func TestSignCommandHeaderFlag(t *testing.T) {
	path := writeSecret(t, "kX3vQ9mR2pL8nT5wY7zB4cF6")
	var got http.Header
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r.Header.Clone()
	}))
	defer srv.Close()
	out, stderr, err := runAll(t, "{}", "sign", "--scheme", "github", "--secret-file", path, "--send", srv.URL,
		"-H", "X-Event: push", "--H", "X-Tenant: a", "-H", "X-Tenant: b", "-H", "Content-Type: application/x-www-form-urlencoded")
	if err != nil {
		t.Fatalf("err=%v\n%s%s", err, out, stderr)
	}
	if got.Get("X-Event") != "push" || strings.Join(got.Values("X-Tenant"), ",") != "a,b" || got.Get("Content-Type") != "application/x-www-form-urlencoded" || got.Get("X-Hub-Signature-256") == "" {
		t.Errorf("receiver got headers %v", got)
	}
	if _, _, err := runAll(t, "{}", "sign", "--scheme", "github", "--secret-file", path, "--send", srv.URL, "-H", "X-Event push"); err == nil || !strings.Contains(err.Error(), "write 'Name: value'") {
		t.Errorf("-H without a colon: %v", err)
	}
	if _, stderr, _ := runAll(t, "{}", "sign", "--scheme", "github", "--secret-file", path, "-H", "X-Event: push"); !strings.Contains(stderr, "only apply with --send") {
		t.Errorf("-H without --send: no note on stderr: %q", stderr)
	}
}

// TestSignCommandAt (issue 12, item 6): --at (or --timestamp), a Unix or
// RFC 3339 time, signs as of that moment: the headers verify then and are
// stale now, and a note says so. A scheme without a timestamp says --at
// changes nothing; a time that is neither form is refused.
func TestSignCommandAt(t *testing.T) {
	secret := "kX3vQ9mR2pL8nT5wY7zB4cF6"
	path := writeSecret(t, secret)
	s, _ := preset.Get("slack", preset.Options{})
	keys := []verifier.Key{{Secret: []byte(secret)}}
	body := "token=abc"
	then := time.Unix(1_700_000_000, 0)
	for _, flag := range [][]string{{"--at", "1700000000"}, {"--timestamp", "2023-11-14T22:13:20Z"}, {"--at", "2023-11-14T23:13:20+01:00"}} {
		out, stderr, err := runAll(t, body, append([]string{"sign", "--scheme", "slack", "--secret-file", path}, flag...)...)
		if err != nil {
			t.Fatalf("%v: %v", flag, err)
		}
		h := parseHeaders(out)
		if h.Get("X-Slack-Request-Timestamp") != "1700000000" {
			t.Errorf("%v: timestamp %q", flag, h.Get("X-Slack-Request-Timestamp"))
		}
		if _, err := verifier.Verify(s, h, []byte(body), keys, s.Tolerance, then); err != nil {
			t.Errorf("%v: does not verify as of then: %v", flag, err)
		}
		if _, err := verifier.Verify(s, h, []byte(body), keys, s.Tolerance, time.Now()); !errors.Is(err, &verifier.Error{Reason: verifier.StaleTimestamp}) {
			t.Errorf("%v: not stale now: %v", flag, err)
		}
		if !strings.Contains(stderr, "note: signed as of 2023-11-14T22:13:20Z") || !strings.Contains(stderr, "refuses it as stale (slack's default: 5m0s)") {
			t.Errorf("%v: stderr %q", flag, stderr)
		}
	}
	if _, stderr, err := runAll(t, body, "sign", "--scheme", "github", "--secret-file", path, "--at", "1700000000"); err != nil || !strings.Contains(stderr, "scheme github signs no timestamp: --at changes nothing") {
		t.Errorf("--at with github: err=%v stderr=%q", err, stderr)
	}
	if _, _, err := runAll(t, body, "sign", "--scheme", "slack", "--secret-file", path, "--at", "yesterday"); err == nil || !strings.Contains(err.Error(), `--at "yesterday": give a Unix time (1700000000) or an RFC 3339 time`) {
		t.Errorf("--at yesterday: %v", err)
	}
}

// TestSignCommandCACert (issue 12, item 6): --send to a receiver with a
// self-signed certificate fails with a certificate error that points to
// --cacert; with --cacert of that certificate it succeeds; --cacert of
// another certificate fails; --cacert with --insecure, or of a file with
// no certificate, is refused.
func TestSignCommandCACert(t *testing.T) {
	secret := "whsec_" + base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef"))
	path := writeSecret(t, secret)
	s, _ := preset.Get("standard", preset.Options{})
	key, _ := s.DecodeSecret(secret)
	var got []byte
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, _ = io.ReadAll(r.Body)
		if _, err := verifier.Verify(s, r.Header, got, []verifier.Key{{Secret: key}}, s.Tolerance, time.Now()); err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
		}
	}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshakes
	srv.StartTLS()
	defer srv.Close()
	dir := t.TempDir()
	writePEM := func(name string, der []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	receiverPEM := writePEM("receiver.pem", srv.Certificate().Raw)
	strangerPEM := writePEM("stranger.pem", strangerCert(t))
	body := `{"event":"ping"}`
	sign := func(extra ...string) (string, error) {
		out, _, err := runAll(t, body, append([]string{"sign", "--scheme", "standard", "--secret-file", path, "--send", srv.URL}, extra...)...)
		return out, err
	}

	if _, err := sign(); err == nil || !strings.Contains(err.Error(), "certificate") || !strings.Contains(err.Error(), "give --cacert <its certificate") || !strings.Contains(err.Error(), "--insecure skips the check, as a last resort") {
		t.Errorf("without --cacert: %v", err)
	}
	out, err := sign("--cacert", receiverPEM)
	if err != nil || !strings.Contains(out, "200 OK") || string(got) != body {
		t.Fatalf("--cacert: err=%v out=%q receiver got %q", err, out, got)
	}
	if _, err := sign("--cacert", strangerPEM); err == nil || !strings.Contains(err.Error(), "not one --cacert "+strangerPEM+" vouches for") {
		t.Errorf("--cacert of another certificate: %v", err)
	}
	if _, err := sign("--cacert", receiverPEM, "--insecure"); err == nil || !strings.Contains(err.Error(), "give --cacert or --insecure, not both") {
		t.Errorf("--cacert with --insecure: %v", err)
	}
	if _, err := sign("--cacert", path); err == nil || !strings.Contains(err.Error(), "no PEM certificate in it") {
		t.Errorf("--cacert of a secret file: %v", err)
	}
}

// TestSignCommandWarnings (issue 12, item 6): an empty body read from
// stdin, and a secret webhook_sign would refuse at load, are warned about
// on stderr (naming the rule), and still signed; an empty body from a
// file and a strong secret are not.
func TestSignCommandWarnings(t *testing.T) {
	strong := writeSecret(t, "kX3vQ9mR2pL8nT5wY7zB4cF6")
	weak := writeSecret(t, "Password1234567890!")
	random := make([]byte, 16)
	_, _ = rand.Read(random)
	shortKey := writeSecret(t, "whsec_"+base64.StdEncoding.EncodeToString(random))
	empty := filepath.Join(t.TempDir(), "empty.json")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	const emptyWarning = "warning: the body is empty (nothing on stdin?)"

	out, stderr, err := runAll(t, "", "sign", "--scheme", "github", "--secret-file", strong)
	if err != nil || !strings.Contains(stderr, emptyWarning) || !strings.Contains(out, "X-Hub-Signature-256: sha256=") {
		t.Errorf("empty stdin: err=%v out=%q stderr=%q", err, out, stderr)
	}
	if _, stderr, _ := runAll(t, "", "sign", "--scheme", "github", "--secret-file", strong, "--body", empty); stderr != "" {
		t.Errorf("empty --body file: stderr %q", stderr)
	}
	if _, stderr, _ := runAll(t, "{}", "sign", "--scheme", "github", "--secret-file", strong); stderr != "" {
		t.Errorf("a body and a strong secret: stderr %q", stderr)
	}

	out, stderr, err = runAll(t, "{}", "sign", "--scheme", "github", "--secret-file", weak)
	if err != nil || !strings.Contains(out, "X-Hub-Signature-256") ||
		!strings.Contains(stderr, "warning: the secret in file "+weak+" is weak (breaks rule common): webhook_sign would refuse it at load; `caddy webhook check-secret --scheme github` says why") {
		t.Errorf("weak secret: err=%v stderr=%q", err, stderr)
	}
	if _, stderr, _ := runAll(t, "{}", "sign", "--scheme", "standard", "--secret-file", shortKey); !strings.Contains(stderr, "is weak (breaks rule length)") {
		t.Errorf("16-byte whsec_ key: stderr %q", stderr)
	}
	if strings.Contains(stderr, "Password") {
		t.Error("the warning quotes the secret")
	}
}

// strangerCert is a self-signed certificate for 127.0.0.1 that is not the
// httptest servers': DER.
func strangerCert(t *testing.T) []byte {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "stranger"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	return der
}
