package integration

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
	"github.com/stripe/stripe-go/v85/webhook"
	svix "github.com/svix/svix-webhooks/go"

	"github.com/hookguard/hookguard/preset"
	"github.com/hookguard/hookguard/signer"
)

// This file holds the helpers of sign_test.go: webhook receivers that
// check what webhook_sign relayed to them the way the provider's own
// receivers do, with the provider's official Go library where one exists
// (Standard Webhooks, Svix, Stripe) and otherwise with crypto/hmac written
// here from the provider's documentation, independently of packages
// verifier and signer.

// signCheck is a receiver's signature check: nil if it accepts body with
// headers h.
type signCheck func(body []byte, h http.Header) error

// signDelivery is what a receiver got of one relayed request.
type signDelivery struct {
	Host             string
	Header           http.Header
	Body             []byte
	ContentLength    int64
	TransferEncoding []string
	TLS              bool
	// Verdict is the receiver's check: nil if it accepted the signature.
	Verdict error
}

// signReceiver is a webhook receiver behind Caddy: it records every
// request that reaches it and checks its signature; it answers 200 if the
// check accepts it, else 401.
type signReceiver struct {
	srv   *httptest.Server
	check signCheck
	seen[signDelivery]
}

// newSignReceiver starts a receiver, plain HTTP or, with useTLS, HTTPS with
// httptest's self-signed certificate (for 127.0.0.1, ::1 and example.com).
func newSignReceiver(t *testing.T, useTLS bool, check signCheck) *signReceiver {
	t.Helper()
	r := &signReceiver{check: check}
	r.srv = httptest.NewUnstartedServer(http.HandlerFunc(r.serveHTTP))
	// Refused TLS handshakes are the point of some tests; keep them out
	// of the test output.
	r.srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	if useTLS {
		r.srv.StartTLS()
	} else {
		r.srv.Start()
	}
	t.Cleanup(r.srv.Close)
	return r
}

// newSignReceiverWithCert starts an HTTPS receiver that presents cert
// instead of httptest's certificate.
func newSignReceiverWithCert(t *testing.T, cert tls.Certificate, check signCheck) *signReceiver {
	t.Helper()
	r := &signReceiver{check: check}
	r.srv = httptest.NewUnstartedServer(http.HandlerFunc(r.serveHTTP))
	r.srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	r.srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	r.srv.StartTLS()
	t.Cleanup(r.srv.Close)
	return r
}

func (r *signReceiver) serveHTTP(w http.ResponseWriter, req *http.Request) {
	body, err := io.ReadAll(req.Body)
	d := signDelivery{
		Host:             req.Host,
		Header:           req.Header.Clone(),
		Body:             body,
		ContentLength:    req.ContentLength,
		TransferEncoding: slices.Clone(req.TransferEncoding),
		TLS:              req.TLS != nil,
	}
	switch {
	case err != nil:
		d.Verdict = fmt.Errorf("reading body: %w", err)
	case r.check != nil:
		d.Verdict = r.check(body, req.Header)
	}
	r.add(d)
	if d.Verdict != nil {
		http.Error(w, "receiver refused: "+d.Verdict.Error(), http.StatusUnauthorized)
		return
	}
	io.WriteString(w, "receiver accepted")
}

// url is the receiver's base URL (http:// or https://127.0.0.1:port), for
// reverse_proxy.
func (r *signReceiver) url() string { return r.srv.URL }

// hostport is the receiver's 127.0.0.1:port.
func (r *signReceiver) hostport() string { return r.srv.Listener.Addr().String() }

// pemFile writes the receiver's certificate as PEM to a temporary file,
// for tls_trust_pool, and returns its path.
func (r *signReceiver) pemFile(t *testing.T) string {
	t.Helper()
	return signWritePEM(t, r.srv.Certificate())
}

func signWritePEM(t *testing.T, cert *x509.Certificate) string {
	t.Helper()
	f, err := os.CreateTemp(t.TempDir(), "receiver-*.pem")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := pem.Encode(f, &pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw}); err != nil {
		t.Fatal(err)
	}
	return f.Name()
}

// selfSignedCert makes a self-signed certificate for 127.0.0.1 and host,
// unrelated to httptest's: a CA (that signs itself) if isCA, else a leaf,
// as partners' self-signed certificates often are.
func selfSignedCert(t *testing.T, host string, isCA bool) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	usage := x509.KeyUsageDigitalSignature
	if isCA {
		usage |= x509.KeyUsageCertSign
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(time.Now().UnixNano()),
		Subject:               pkix.Name{CommonName: host},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              usage,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  isCA,
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:              []string{host},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// signSecret is a fresh strong secret in the format scheme wants.
func signSecret(t testing.TB, scheme string) string {
	t.Helper()
	s, err := preset.Get(scheme, preset.Options{})
	if err != nil {
		t.Fatal(err)
	}
	secret, err := signer.GenerateSecret(s, signer.DefaultSecretBytes)
	if err != nil {
		t.Fatal(err)
	}
	return secret
}

// signWantRefused checks that Caddy answered with status through
// handle_errors (errorsBlock) and that nothing reached the receiver since
// it had seen before requests.
func signWantRefused(t *testing.T, a answer, status int, r *signReceiver, before int) {
	t.Helper()
	if a.Status != status {
		t.Errorf("status %d, want %d (body %q)", a.Status, status, a.Body)
	}
	if want := fmt.Sprintf("hookguard rejected %d", status); !strings.HasPrefix(a.Body, want) {
		t.Errorf("response body %q does not come from handle_errors (want prefix %q)", a.Body, want)
	}
	if n := r.count(); n != before {
		t.Errorf("receiver saw %d request(s), want none", n-before)
	}
}

// signWantAccepted checks that the receiver got body byte for byte, with
// an exact Content-Length, and that its signature check accepted it.
func signWantAccepted(t *testing.T, a answer, d signDelivery, body []byte) {
	t.Helper()
	if a.Status != http.StatusOK {
		t.Errorf("status %d, want 200 (body %q)", a.Status, a.Body)
	}
	if d.Verdict != nil {
		t.Errorf("receiver's signature check refused the delivery: %v", d.Verdict)
	}
	if got, want := sha256.Sum256(d.Body), sha256.Sum256(body); got != want || len(d.Body) != len(body) {
		t.Errorf("receiver got %d body bytes with SHA-256 %x, want %d bytes with %x", len(d.Body), got, len(body), want)
	}
	if d.ContentLength != int64(len(body)) || len(d.TransferEncoding) != 0 {
		t.Errorf("receiver got Content-Length %d, Transfer-Encoding %q; want Content-Length %d, not chunked",
			d.ContentLength, d.TransferEncoding, len(body))
	}
}

// signOne returns the single value of header name, or an error if there
// is none or several: a receiver must not have to guess which copy counts.
func signOne(h http.Header, name string) (string, error) {
	vs := h.Values(name)
	if len(vs) != 1 || vs[0] == "" {
		return "", fmt.Errorf("header %s has %d values %q, want exactly one", name, len(vs), vs)
	}
	return vs[0], nil
}

// signOnly checks that each header has exactly one value.
func signOnly(h http.Header, names ...string) error {
	for _, n := range names {
		if _, err := signOne(h, n); err != nil {
			return err
		}
	}
	return nil
}

// ---------------------------------------------------- official libraries

// signStandardCheck verifies with the Standard Webhooks Go library.
func signStandardCheck(secret string) signCheck {
	return func(body []byte, h http.Header) error {
		if err := signOnly(h, "Webhook-Id", "Webhook-Timestamp", "Webhook-Signature"); err != nil {
			return err
		}
		wh, err := standardwebhooks.NewWebhook(secret)
		if err != nil {
			return err
		}
		return wh.Verify(body, h)
	}
}

// signSvixCheck verifies with Svix's Go library.
func signSvixCheck(secret string) signCheck {
	return func(body []byte, h http.Header) error {
		if err := signOnly(h, "Svix-Id", "Svix-Timestamp", "Svix-Signature"); err != nil {
			return err
		}
		wh, err := svix.NewWebhook(secret)
		if err != nil {
			return err
		}
		return wh.Verify(body, h)
	}
}

// signStripeCheck verifies with stripe-go's webhook package.
func signStripeCheck(secret string) signCheck {
	return func(body []byte, h http.Header) error {
		sig, err := signOne(h, "Stripe-Signature")
		if err != nil {
			return err
		}
		return webhook.ValidatePayload(body, sig, secret)
	}
}

// ------------------------------------- independent checks from the docs

// signHMAC is HMAC-SHA256 of the parts with key.
func signHMAC(key string, parts ...[]byte) []byte {
	m := hmac.New(sha256.New, []byte(key))
	for _, p := range parts {
		m.Write(p)
	}
	return m.Sum(nil)
}

// signHeaderEqual compares header name's single value with want in
// constant time.
func signHeaderEqual(h http.Header, name, want string) error {
	got, err := signOne(h, name)
	if err != nil {
		return err
	}
	if subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1 {
		return fmt.Errorf("%s does not match", name)
	}
	return nil
}

// signGitHubCheck: GitHub, "Validating webhook deliveries":
// X-Hub-Signature-256 is "sha256=" + hex(HMAC-SHA256(secret, payload)).
func signGitHubCheck(secret string) signCheck {
	return func(body []byte, h http.Header) error {
		return signHeaderEqual(h, "X-Hub-Signature-256", "sha256="+hex.EncodeToString(signHMAC(secret, body)))
	}
}

// signBitbucketCheck: Bitbucket Cloud, "Manage webhooks" (secure
// webhooks): X-Hub-Signature is "sha256=" + hex(HMAC-SHA256(secret, body)).
func signBitbucketCheck(secret string) signCheck {
	return func(body []byte, h http.Header) error {
		return signHeaderEqual(h, "X-Hub-Signature", "sha256="+hex.EncodeToString(signHMAC(secret, body)))
	}
}

// signShopifyCheck: Shopify, "Verify webhooks": X-Shopify-Hmac-Sha256 is
// base64(HMAC-SHA256(secret, raw body)).
func signShopifyCheck(secret string) signCheck {
	return func(body []byte, h http.Header) error {
		return signHeaderEqual(h, "X-Shopify-Hmac-Sha256", base64.StdEncoding.EncodeToString(signHMAC(secret, body)))
	}
}

// signDecsysCheck: DECSYS: X-Decsys-Signature is base64(HMAC-SHA256(secret
// as UTF-8, raw body)), no timestamp.
func signDecsysCheck(secret string) signCheck {
	return func(body []byte, h http.Header) error {
		return signHeaderEqual(h, "X-Decsys-Signature", base64.StdEncoding.EncodeToString(signHMAC(secret, body)))
	}
}

// signSlackCheck: Slack, "Verifying requests from Slack": the base string
// is "v0:" + X-Slack-Request-Timestamp + ":" + body; X-Slack-Signature is
// "v0=" + hex(HMAC-SHA256(signing secret, base string)); a timestamp more
// than five minutes from now is refused.
func signSlackCheck(secret string) signCheck {
	return func(body []byte, h http.Header) error {
		ts, err := signOne(h, "X-Slack-Request-Timestamp")
		if err != nil {
			return err
		}
		unix, err := strconv.ParseInt(ts, 10, 64)
		if err != nil {
			return fmt.Errorf("timestamp %q: %w", ts, err)
		}
		if d := time.Since(time.Unix(unix, 0)); d > 5*time.Minute || d < -5*time.Minute {
			return fmt.Errorf("timestamp %s is %s off", ts, d)
		}
		return signHeaderEqual(h, "X-Slack-Signature", "v0="+hex.EncodeToString(signHMAC(secret, []byte("v0:"+ts+":"), body)))
	}
}

// signGitLabCheck: GitLab sends the secret token as is in X-Gitlab-Token.
func signGitLabCheck(secret string) signCheck {
	return func(_ []byte, h http.Header) error {
		return signHeaderEqual(h, "X-Gitlab-Token", secret)
	}
}

// signReceiverChecks are the receiver checks by scheme.
var signReceiverChecks = map[string]func(secret string) signCheck{
	"standard":  signStandardCheck,
	"svix":      signSvixCheck,
	"stripe":    signStripeCheck,
	"github":    signGitHubCheck,
	"gitlab":    signGitLabCheck,
	"slack":     signSlackCheck,
	"shopify":   signShopifyCheck,
	"decsys":    signDecsysCheck,
	"bitbucket": signBitbucketCheck,
}

// ------------------------------------------------------------ the binary

var (
	signBinOnce sync.Once
	signBinPath string
	signBinErr  error
)

// signBinary builds cmd/hookguard once per test binary and returns its
// path. It is built into a fixed directory under os.TempDir named after
// the module root, so repeated runs overwrite one copy instead of leaving
// a new one each time.
func signBinary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the hookguard binary; skipped under -short")
	}
	signBinOnce.Do(func() {
		root, err := signModuleRoot()
		if err != nil {
			signBinErr = err
			return
		}
		sum := sha256.Sum256([]byte(root))
		dir := filepath.Join(os.TempDir(), "hookguard-sign-test-"+hex.EncodeToString(sum[:6]))
		if err := os.MkdirAll(dir, 0o700); err != nil {
			signBinErr = err
			return
		}
		signBinPath = filepath.Join(dir, "hookguard")
		cmd := exec.Command("go", "build", "-o", signBinPath, "./cmd/hookguard")
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			signBinErr = fmt.Errorf("go build ./cmd/hookguard: %v\n%s", err, out)
		}
	})
	if signBinErr != nil {
		t.Fatal(signBinErr)
	}
	return signBinPath
}

// signModuleRoot walks up from the working directory (the package's) to
// the directory holding hookguard's go.mod (not integration/'s own).
func signModuleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if b, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil &&
			slices.Contains(strings.Split(string(b), "\n"), "module github.com/hookguard/hookguard") {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod of github.com/hookguard/hookguard above the test's working directory")
		}
		dir = parent
	}
}

// signRunResult is what a run of the binary printed and how it exited.
type signRunResult struct {
	Stdout, Stderr string
	Code           int
}

// signRun runs the hookguard binary with args, with a private home and
// XDG directories so Caddy's storage and autosave stay in the test's
// temporary directory.
func signRun(t *testing.T, args ...string) signRunResult {
	t.Helper()
	bin := signBinary(t)
	home := t.TempDir()
	cmd := exec.Command(bin, args...)
	cmd.Dir = home
	cmd.Env = append(os.Environ(),
		"HOME="+home,
		"XDG_DATA_HOME="+filepath.Join(home, "data"),
		"XDG_CONFIG_HOME="+filepath.Join(home, "config"),
	)
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	res := signRunResult{Stdout: stdout.String(), Stderr: stderr.String()}
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		res.Code = exit.ExitCode()
	case err != nil:
		t.Fatalf("running hookguard %s: %v", strings.Join(args, " "), err)
	}
	return res
}
