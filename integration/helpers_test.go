package integration

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2/caddytest"

	// Caddy's standard modules (reverse_proxy, handle_errors, ...) and
	// hookguard's, in the Caddy that caddytest runs in this process.
	_ "github.com/caddyserver/caddy/v2/modules/standard"

	_ "github.com/hookguard/hookguard/caddymodule"
)

// Ports of the in-process Caddy. caddytest's own tests use the same ones;
// they cannot run at the same time anyway (one admin port, 2999).
const (
	httpPort  = 9080
	httpsPort = 9443
	adminPort = 2999
)

// gatewayURL is where the Caddy under test serves the webhook routes.
var gatewayURL = fmt.Sprintf("http://localhost:%d", httpPort)

// globalOptions is the global block every config in this package starts
// with: caddytest's admin port, fixed ports, no trust store changes, and no
// grace period so a reload in the next test is immediate.
var globalOptions = fmt.Sprintf(`{
	admin localhost:%d
	http_port %d
	https_port %d
	skip_install_trust
	grace_period 1ns
}
`, adminPort, httpPort, httpsPort)

// skipShort skips a test that starts Caddy when go test runs with -short.
func skipShort(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("starts Caddy in-process; skipped under -short")
	}
}

// loadConfig (re)loads Caddy with a Caddyfile made of the global options
// and site, starting Caddy in this process on first use, and stops the test
// if the config does not load. It returns the tester, whose client dials
// every host name to 127.0.0.1.
func loadConfig(t *testing.T, site string) *caddytest.Tester {
	t.Helper()
	skipShort(t)
	tester := caddytest.NewTester(t)
	tester.InitServer(globalOptions+site, "caddyfile")
	if t.Failed() {
		t.FailNow()
	}
	settle()
	return tester
}

// settle lets a config load finish taking over: for a few milliseconds
// after /load answers, the old config's server may still accept a
// connection and then close it, and a POST sent on it fails (net/http
// retries only idempotent requests). So: drop the client's idle
// connections, and wait a moment before the next request.
func settle() {
	client.CloseIdleConnections()
	time.Sleep(50 * time.Millisecond)
}

// loadClient opens a connection per request to the admin API (loadVia).
// Every /load replaces the admin server, a failed one twice (the previous
// config is loaded again), and stops the old one a moment later: a POST
// sent on an idle connection to it is reset, and net/http retries only
// idempotent requests.
var loadClient = &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}

// postLoad sends a Caddyfile to the admin API's /load and returns the
// error Caddy answers with, or nil if the config was loaded. Caddy must
// already be running (loadConfig starts it). caddytest.AssertLoadError
// would do the same but panics when the load unexpectedly succeeds.
func postLoad(t *testing.T, caddyfile string) error {
	t.Helper()
	return loadVia(t, caddyfile, false)
}

// postLoadForce is postLoad as `caddy reload --force` does it: with
// Cache-Control: must-revalidate, Caddy loads the config (provisions every
// handler anew, reads secret files again) even if it is unchanged.
func postLoadForce(t *testing.T, caddyfile string) error {
	t.Helper()
	return loadVia(t, caddyfile, true)
}

// forceLoad is postLoadForce that fails the test if the load fails.
func forceLoad(t *testing.T, caddyfile string) {
	t.Helper()
	if err := postLoadForce(t, caddyfile); err != nil {
		t.Fatal(err)
	}
}

func loadVia(t *testing.T, caddyfile string, force bool) error {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, fmt.Sprintf("http://localhost:%d/load", adminPort), strings.NewReader(caddyfile))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "text/caddyfile")
	if force {
		req.Header.Set("Cache-Control", "must-revalidate")
	}
	resp, err := loadClient.Do(req)
	if err != nil {
		t.Fatalf("posting config to the admin API: %v", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode == http.StatusOK {
		settle()
		return nil
	}
	return fmt.Errorf("load: %d %s", resp.StatusCode, body)
}

// runningConfig returns the JSON config Caddy is running, as the admin API
// serves it.
func runningConfig(t *testing.T) string {
	t.Helper()
	resp, err := http.Get(fmt.Sprintf("http://localhost:%d/config/", adminPort))
	if err != nil {
		t.Fatalf("reading the running config: %v", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(body)
}

// received is what the upstream saw of one request.
type received struct {
	Method           string
	Path             string
	Header           http.Header
	ContentLength    int64 // as the upstream's server parsed it; -1 if chunked
	TransferEncoding []string
	Size             int64 // bytes of body actually read
	Digest           [sha256.Size]byte
	ReadErr          error
	Trailer          http.Header // trailers, once the body was read
}

// upstream is the app behind Caddy: it records every request that reaches
// it, body hashed, and answers 200.
type upstream struct {
	srv *httptest.Server
	seen[received]
}

// seen is a test server's record of the requests that reached it.
type seen[T any] struct {
	mu  sync.Mutex
	got []T
}

func (s *seen[T]) add(v T) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.got = append(s.got, v)
}

// count is how many requests have arrived.
func (s *seen[T]) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.got)
}

// reset forgets the requests seen so far.
func (s *seen[T]) reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.got = nil
}

// all returns a copy of the requests seen so far.
func (s *seen[T]) all() []T {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.got)
}

// only returns the single request seen since the last reset, failing the
// test if there were none or several.
func (s *seen[T]) only(t *testing.T) T {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.got) != 1 {
		t.Fatalf("the test server saw %d requests, want exactly 1", len(s.got))
	}
	return s.got[0]
}

func newUpstream(t *testing.T) *upstream {
	t.Helper()
	u := new(upstream)
	u.srv = httptest.NewServer(http.HandlerFunc(u.serveHTTP))
	t.Cleanup(u.srv.Close)
	return u
}

func (u *upstream) serveHTTP(w http.ResponseWriter, r *http.Request) {
	h := sha256.New()
	n, err := io.Copy(h, r.Body)
	rec := received{
		Method:           r.Method,
		Path:             r.URL.Path,
		Header:           r.Header.Clone(),
		ContentLength:    r.ContentLength,
		TransferEncoding: slices.Clone(r.TransferEncoding),
		Size:             n,
		ReadErr:          err,
		Trailer:          r.Trailer.Clone(),
	}
	copy(rec.Digest[:], h.Sum(nil))
	u.add(rec)
	if err != nil {
		http.Error(w, "upstream: reading body: "+err.Error(), http.StatusInternalServerError)
		return
	}
	io.WriteString(w, "upstream got it")
}

// addr is the upstream's host:port, for reverse_proxy.
func (u *upstream) addr() string { return strings.TrimPrefix(u.srv.URL, "http://") }

// delivery is a webhook request to send through the gateway.
type delivery struct {
	Path   string
	Body   []byte
	Header http.Header
	// Chunked sends the body with Transfer-Encoding: chunked and no
	// Content-Length, through a reader the client cannot measure.
	Chunked bool
	// Expect100 adds Expect: 100-continue, so the client sends the body
	// only if the server asks for it.
	Expect100 bool
}

// answer is the gateway's response.
type answer struct {
	Status int
	Body   string
	Header http.Header
	// BodyRead is how many bytes of the request body the client sent.
	BodyRead int64
}

// countingReader is an io.Reader of unknown length (not a *bytes.Reader
// or *strings.Reader, so net/http cannot size it) that counts what was
// read from it.
type countingReader struct {
	r io.Reader
	// n is atomic: the transport may still be writing the body (reading
	// from here) when the answer to an early refusal has come back.
	n atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// client is the HTTP client the tests send webhooks with: caddytest's
// transport (every host name dials 127.0.0.1), with a long wait for
// 100 Continue so that "the body was never asked for" is not a timing
// accident.
var client = func() *http.Client {
	tr := caddytest.CreateTestingTransport()
	tr.ExpectContinueTimeout = 30 * time.Second
	return &http.Client{Transport: tr, Timeout: 60 * time.Second}
}()

// send POSTs d to the gateway and returns its answer.
func send(t *testing.T, d delivery) answer {
	t.Helper()
	return sendTo(t, gatewayURL, d)
}

// sendTo POSTs d to the server at base and returns its answer.
func sendTo(t *testing.T, base string, d delivery) answer {
	t.Helper()
	body := &countingReader{r: bytes.NewReader(d.Body)}
	req, err := http.NewRequest(http.MethodPost, base+d.Path, body)
	if err != nil {
		t.Fatal(err)
	}
	if d.Chunked {
		req.ContentLength = -1
		req.TransferEncoding = []string{"chunked"}
	} else {
		req.ContentLength = int64(len(d.Body))
		if len(d.Body) == 0 {
			req.Body = http.NoBody
		}
	}
	req.Header.Set("Content-Type", "application/octet-stream")
	for k, vs := range d.Header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	if d.Expect100 {
		req.Header.Set("Expect", "100-continue")
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", d.Path, err)
	}
	defer resp.Body.Close()
	rb, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("POST %s: reading response: %v", d.Path, err)
	}
	return answer{Status: resp.StatusCode, Body: string(rb), Header: resp.Header, BodyRead: body.n.Load()}
}

// randomBody returns n random bytes: binary, every byte value possible.
func randomBody(t testing.TB, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

// randomHex returns n random bytes, hex-encoded.
func randomHex(t testing.TB, n int) string {
	return hex.EncodeToString(randomBody(t, n))
}

// rawSecret is a fresh secret used as its UTF-8 bytes.
func rawSecret(t testing.TB) string { return "hg-" + randomHex(t, 16) }

// whsecSecret is a fresh Standard Webhooks / Svix secret: whsec_ + base64.
func whsecSecret(t testing.TB) string {
	return "whsec_" + base64.StdEncoding.EncodeToString(randomBody(t, 24))
}

// stripeSecret is a fresh secret shaped like a Stripe endpoint secret
// (used as its UTF-8 bytes, prefix included).
func stripeSecret(t testing.TB) string { return "whsec_" + randomHex(t, 16) }

// deliveryID is a fresh, unique delivery id.
func deliveryID(t testing.TB) string { return "dlv-" + randomHex(t, 8) }

// wantStatus fails the test unless a has the wanted status.
func wantStatus(t *testing.T, a answer, want int) {
	t.Helper()
	if a.Status != want {
		t.Fatalf("status %d, want %d (body %q)", a.Status, want, a.Body)
	}
}

// wantRejected checks that a was refused with status (through
// handle_errors, which every test site has) and that nothing reached up.
func wantRejected(t *testing.T, a answer, status int, up *upstream, before int) {
	t.Helper()
	if a.Status != status {
		t.Errorf("status %d, want %d (body %q)", a.Status, status, a.Body)
	}
	if want := fmt.Sprintf("hookguard rejected %d", status); !strings.HasPrefix(a.Body, want) {
		t.Errorf("response body %q does not come from handle_errors (want prefix %q)", a.Body, want)
	}
	if n := up.count(); n != before {
		t.Errorf("upstream saw %d request(s) of a rejected webhook", n-before)
	}
}

// wantBodyThrough checks that the upstream got body byte for byte, with
// an exact Content-Length.
func wantBodyThrough(t *testing.T, got received, body []byte) {
	t.Helper()
	if got.ReadErr != nil {
		t.Errorf("upstream: reading body: %v", got.ReadErr)
	}
	if got.Size != int64(len(body)) {
		t.Errorf("upstream read %d body bytes, want %d", got.Size, len(body))
	}
	if got.Digest != sha256.Sum256(body) {
		t.Errorf("upstream body SHA-256 %x, want %x", got.Digest, sha256.Sum256(body))
	}
	if got.ContentLength != int64(len(body)) || len(got.TransferEncoding) != 0 {
		t.Errorf("upstream got Content-Length %d, Transfer-Encoding %q; want Content-Length %d, not chunked",
			got.ContentLength, got.TransferEncoding, len(body))
	}
}

// wantHeadersThrough checks that every header sent reached the upstream
// with the same values.
func wantHeadersThrough(t *testing.T, got received, sent http.Header) {
	t.Helper()
	for k, vs := range sent {
		if g := got.Header.Values(k); !slices.Equal(g, vs) {
			t.Errorf("upstream header %s = %q, want %q as sent", k, g, vs)
		}
	}
}

// lineOf is the 1-based line of the first line of s that contains sub.
func lineOf(t *testing.T, s, sub string) int {
	t.Helper()
	for i, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			return i + 1
		}
	}
	t.Fatalf("%q not in config", sub)
	return 0
}
