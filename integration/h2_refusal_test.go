package integration

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// A refusal on HTTP/2 before the body is read (here a malformed signature
// header, refused before a byte of the body is wanted) reaches the sender
// as a 401 (outside review, finding N2). Answered at once, the response
// goes out while the client is still sending, and Go's HTTP/2 server
// follows it with RST_STREAM(NO_ERROR), as RFC 9113 8.1 allows. Go's client
// copes. curl 7.88 (nghttp2) loses the response about half the time when
// it ends in its HEADERS frame (an error with no body, as Caddy's default
// error path and a stock "error 401" give); with a handle_errors that
// writes a body it does not. The body of a malformed request is still
// never read, on HTTP/2 as on HTTP/1.

const h2Path = "/gh"

// h2RefusalSite is a tls internal site on caddytest's HTTPS port with a
// github webhook_verify in front of the app up, and handle_errors if
// errBody is not "".
func h2RefusalSite(gh string, up *upstream, errBody string) string {
	errors := ""
	if errBody != "" {
		errors = fmt.Sprintf("\thandle_errors {\n\t\trespond %q\n\t}\n", errBody)
	}
	return fmt.Sprintf(`
https://localhost:%d {
	tls internal
	handle %s {
		webhook_verify github %q
		reverse_proxy %s
	}
%s}
`, httpsPort, h2Path, gh, up.addr(), errors)
}

// h2Client is an HTTP/2 client for the test's Caddy, which dials every
// name to 127.0.0.1 and trusts any certificate (Caddy's local CA).
func h2Client() *http.Client {
	return &http.Client{
		Timeout: 10 * time.Second,
		Transport: &http.Transport{
			ForceAttemptHTTP2: true,
			TLSClientConfig:   &tls.Config{InsecureSkipVerify: true, ServerName: "localhost"}, //nolint:gosec // Caddy's local CA, in a test
			DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
				_, port, _ := net.SplitHostPort(addr)
				return (&net.Dialer{}).DialContext(ctx, network, net.JoinHostPort("127.0.0.1", port))
			},
		},
	}
}

// TestH2EarlyRefusal sends 30 POSTs with a malformed signature over HTTP/2
// through Go's client, without and with handle_errors: every one gets its
// 401 (and handle_errors' body), and nothing reaches the app. If curl is
// installed with HTTP/2, it is asked too, as the review did, where
// handle_errors writes a body.
func TestH2EarlyRefusal(t *testing.T) {
	skipShort(t)
	up := newUpstream(t)
	gh := signSecret(t, "github")
	for _, errBody := range []string{"", "refused {err.status_code}"} {
		name, wantBody := "no handle_errors", ""
		if errBody != "" {
			name, wantBody = "handle_errors", "refused 401"
		}
		t.Run(name, func(t *testing.T) {
			loadConfig(t, h2RefusalSite(gh, up, errBody))
			waitH2(t)
			url := fmt.Sprintf("https://localhost:%d%s", httpsPort, h2Path)

			client := h2Client()
			for i := range 30 {
				req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(`{"zen":"h2"}`))
				if err != nil {
					t.Fatal(err)
				}
				req.Header.Set("X-Hub-Signature-256", "sha256=00")
				resp, err := client.Do(req)
				if err != nil {
					t.Fatalf("Go client, POST %d: %v", i, err)
				}
				body, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				if err != nil || resp.ProtoMajor != 2 || resp.StatusCode != http.StatusUnauthorized || string(body) != wantBody {
					t.Fatalf("Go client, POST %d: %s %d %q (read error %v), want HTTP/2 401 %q", i, resp.Proto, resp.StatusCode, body, err, wantBody)
				}
			}

			// curl 7.88 (nghttp2) loses a response that ends in its
			// HEADERS frame while it is still uploading, which Go's
			// HTTP/2 server follows with RST_STREAM(NO_ERROR) (RFC 9113
			// 8.1 allows it; a stock "error 401" route does the same). A
			// handle_errors that writes a body avoids it: asked there.
			if curl, err := exec.LookPath("curl"); err == nil && curlHasHTTP2(curl) && errBody != "" {
				failed := 0
				for i := range 30 {
					out, err := exec.Command(curl, "-sk", "--http2", "--max-time", "10",
						"--resolve", fmt.Sprintf("localhost:%d:127.0.0.1", httpsPort),
						"-X", "POST", url, "-H", "X-Hub-Signature-256: sha256=00", "--data-binary", "x",
						"-o", "/dev/null", "-w", "%{http_code} %{http_version}").Output()
					if string(out) != "401 2" {
						failed++
						t.Logf("curl, POST %d: %q (%v), want \"401 2\"", i, out, err)
					}
				}
				if failed > 0 {
					t.Errorf("curl: %d of 30 POSTs not answered with 401", failed)
				}
				// A body of 300 KiB, never read.
				big := filepath.Join(t.TempDir(), "big")
				if err := os.WriteFile(big, bytes.Repeat([]byte("x"), 300<<10), 0o600); err != nil {
					t.Fatal(err)
				}
				failed = 0
				for i := range 10 {
					out, err := exec.Command(curl, "-sk", "--http2", "--max-time", "10",
						"--resolve", fmt.Sprintf("localhost:%d:127.0.0.1", httpsPort),
						"-X", "POST", url, "-H", "X-Hub-Signature-256: sha256=00", "--data-binary", "@"+big,
						"-o", "/dev/null", "-w", "%{http_code} %{http_version}").Output()
					if string(out) != "401 2" {
						failed++
						t.Logf("curl, 300 KiB POST %d: %q (%v), want \"401 2\"", i, out, err)
					}
				}
				if failed > 0 {
					t.Errorf("curl: %d of 10 POSTs of 300 KiB not answered with 401", failed)
				}
			}

			if n := up.count(); n != 0 {
				t.Fatalf("%d refused requests reached the app", n)
			}
		})
	}
}

// waitH2 waits until the site's certificate is issued (tls internal does
// it in the background) and a TLS handshake negotiates h2.
func waitH2(t *testing.T) {
	t.Helper()
	var err error
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		var conn *tls.Conn
		conn, err = tls.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", httpsPort), &tls.Config{
			ServerName: "localhost", InsecureSkipVerify: true, NextProtos: []string{"h2"}, //nolint:gosec // Caddy's local CA, in a test
		})
		if err == nil {
			p := conn.ConnectionState().NegotiatedProtocol
			conn.Close()
			if p == "h2" {
				return
			}
			err = fmt.Errorf("negotiated %q", p)
		}
	}
	t.Fatalf("no HTTP/2 over TLS on port %d: %v", httpsPort, err)
}

// curlHasHTTP2 reports whether curl lists HTTP2 among its features.
func curlHasHTTP2(curl string) bool {
	out, err := exec.Command(curl, "--version").Output()
	return err == nil && bytes.Contains(out, []byte("HTTP2"))
}
