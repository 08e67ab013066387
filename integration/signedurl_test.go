package integration

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hookguard/hookguard/preset"
	"github.com/hookguard/hookguard/scheme"
	"github.com/hookguard/hookguard/signer"
)

func postSigned(t *testing.T, url string, h http.Header, body []byte) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, vs := range h {
		req.Header[k] = vs
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	rb, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(rb)
}

// TestSignedURLBehindRewriteAndPublicURL: a scheme that signs the URL
// checks the URL the sender called, as the request arrived: a rewrite in
// front of webhook_verify changes nothing, and public_url stands in for
// the scheme and host of a route behind another proxy or a tunnel. The
// same signature made for another URL is refused.
func TestSignedURLBehindRewriteAndPublicURL(t *testing.T) {
	skipShort(t)
	up := newUpstream(t)
	secret := rawSecret(t)
	site := proxySnippet(up) + fmt.Sprintf(`
http://localhost:%d {
	handle /rewritten/* {
		rewrite * /internal{uri}
		webhook_verify hmac %q {
			header X-Sig
			signed_content "{method} {url}|{body}"
		}
		import proxy
	}
	handle /tunnel/* {
		webhook_verify hmac %q {
			header X-Sig
			signed_content "{url}|{body}"
			public_url https://hooks.example.com:8443/
		}
		import proxy
	}
}
`, httpPort, secret, secret)
	loadConfig(t, site)
	body := []byte(`{"n":1}`)
	sigFor := func(content, method, url string) http.Header {
		s := &scheme.Scheme{Name: "hmac", HeaderSets: []scheme.Headers{{Signature: "X-Sig"}}, Algorithm: scheme.HMACSHA256, Encoding: scheme.Hex, Content: content}
		if err := s.Init(); err != nil {
			t.Fatal(err)
		}
		return signer.Sign(s, [][]byte{[]byte(secret)}, signer.Message{Body: body, Method: method, URL: url})
	}
	for _, c := range []struct {
		name, path, content, signedURL string
		want                           int
	}{
		{"rewrite: the URL as called", "/rewritten/a?x=1&y=%20", "{method} {url}|{body}", gatewayURL + "/rewritten/a?x=1&y=%20", http.StatusOK},
		{"rewrite: the rewritten URL", "/rewritten/a?x=1&y=%20", "{method} {url}|{body}", gatewayURL + "/internal/rewritten/a?x=1&y=%20", http.StatusUnauthorized},
		{"rewrite: another query", "/rewritten/a?x=1&y=%20", "{method} {url}|{body}", gatewayURL + "/rewritten/a?x=2&y=%20", http.StatusUnauthorized},
		{"public_url", "/tunnel/b?z=9", "{url}|{body}", "https://hooks.example.com:8443/tunnel/b?z=9", http.StatusOK},
		{"public_url: the local URL", "/tunnel/b?z=9", "{url}|{body}", gatewayURL + "/tunnel/b?z=9", http.StatusUnauthorized},
	} {
		up.reset()
		code, text := postSigned(t, gatewayURL+c.path, sigFor(c.content, http.MethodPost, c.signedURL), body)
		if code != c.want {
			t.Errorf("%s: %d %q, want %d", c.name, code, text, c.want)
		}
		if c.want == http.StatusOK {
			if got := up.only(t); !strings.HasPrefix(got.Path, "/internal/rewritten/") && !strings.HasPrefix(got.Path, "/tunnel/") {
				t.Errorf("%s: upstream got %s", c.name, got.Path)
			}
		} else if up.count() != 0 {
			t.Errorf("%s: reached the app", c.name)
		}
	}
}

// TestSlackHandshake: Slack's url_verification, signed as Slack signs it,
// goes on to the app by default and is answered by the gateway with
// handshake answer; an unsigned one is refused either way.
func TestSlackHandshake(t *testing.T) {
	skipShort(t)
	up := newUpstream(t)
	secret := rawSecret(t)
	site := proxySnippet(up) + fmt.Sprintf(`
http://localhost:%d {
	handle /pass {
		webhook_verify slack %q
		import proxy
	}
	handle /answer {
		webhook_verify slack %q {
			handshake answer
		}
		import proxy
	}
}
`, httpPort, secret, secret)
	loadConfig(t, site)
	s, err := preset.Get("slack", preset.Options{})
	if err != nil {
		t.Fatal(err)
	}
	// https://api.slack.com/events/url_verification
	body := []byte(`{"token":"Jhj5dZrVaK7ZwHHjRyZWjbDl","challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P","type":"url_verification"}`)
	h := signer.Sign(s, [][]byte{[]byte(secret)}, signer.Message{Body: body, Time: time.Now()})

	up.reset()
	if code, text := postSigned(t, gatewayURL+"/pass", h, body); code != http.StatusOK || text != "upstream got it" {
		t.Errorf("pass: %d %q, want the app's answer", code, text)
	}
	if up.count() != 1 {
		t.Errorf("pass: the app got %d requests, want 1", up.count())
	}
	up.reset()
	code, text := postSigned(t, gatewayURL+"/answer", h, body)
	if code != http.StatusOK || text != "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P" {
		t.Errorf("answer: %d %q, want the challenge", code, text)
	}
	if up.count() != 0 {
		t.Errorf("answer: reached the app")
	}
	for _, path := range []string{"/pass", "/answer"} {
		if code, _ := postSigned(t, gatewayURL+path, http.Header{}, body); code != http.StatusUnauthorized {
			t.Errorf("%s unsigned: %d, want 401", path, code)
		}
	}
}

// TestSignURLWithPublicURL: webhook_sign with a scheme that signs the URL
// signs public_url followed by the path and query the request is relayed
// with (after a rewrite); such a scheme without public_url fails the load.
func TestSignURLWithPublicURL(t *testing.T) {
	skipShort(t)
	up := newUpstream(t)
	secret := "Wq8-vT3rZk1x-Pn5Ld7sYc2m-Hb9Ga4e"
	site := proxySnippet(up) + fmt.Sprintf(`
http://localhost:%d {
	bind 127.0.0.1
	handle /out/* {
		rewrite * /relayed{uri}
		webhook_sign hmac %q {
			header X-Sig
			signed_content "{method} {url}|{body}"
			public_url https://receiver.example:8443
		}
		import proxy
	}
}
`, httpPort, secret)
	loadConfig(t, site)
	body := []byte(`{"n":2}`)
	up.reset()
	if code, text := postSigned(t, gatewayURL+"/out/x?q=1", http.Header{}, body); code != http.StatusOK {
		t.Fatalf("%d %q", code, text)
	}
	got := up.only(t)
	s := &scheme.Scheme{Name: "hmac", HeaderSets: []scheme.Headers{{Signature: "X-Sig"}}, Algorithm: scheme.HMACSHA256, Encoding: scheme.Hex, Content: "{method} {url}|{body}"}
	if err := s.Init(); err != nil {
		t.Fatal(err)
	}
	want := signer.Sign(s, [][]byte{[]byte(secret)}, signer.Message{Body: body, Method: http.MethodPost, URL: "https://receiver.example:8443/relayed/out/x?q=1"})
	if got.Header.Get("X-Sig") == "" || got.Header.Get("X-Sig") != want.Get("X-Sig") {
		t.Errorf("receiver got X-Sig %q, want the signature of https://receiver.example:8443/relayed/out/x?q=1 (%q)", got.Header.Get("X-Sig"), want.Get("X-Sig"))
	}
	err := postLoad(t, globalOptions+fmt.Sprintf(`
http://localhost:%d {
	webhook_sign hmac %q {
		header X-Sig
		signed_content "{url}|{body}"
	}
	respond 200
}
`, httpPort, secret))
	if err == nil || !strings.Contains(err.Error(), "write public_url") {
		t.Errorf("a URL-signing webhook_sign without public_url: load = %v, want refused", err)
	}
}

// TestSignedURLOpaqueTarget (review F1): a request-target that is neither
// a path nor an absolute URL ("t:9080/a/hook") is no URL a sender calls;
// glued after a Host header of "localhos" it would spell the signed URL of
// another route. It is refused and reaches no app.
func TestSignedURLOpaqueTarget(t *testing.T) {
	skipShort(t)
	up := newUpstream(t)
	other := newUpstream(t)
	secret := rawSecret(t)
	site := proxySnippet(up) + fmt.Sprintf(`
(other) {
	reverse_proxy %s
}
# No host matcher: a request for any Host reaches these routes.
http://:%d {
	handle /a/* {
		webhook_verify hmac %q {
			header X-Sig
			signed_content "{url}{body}"
		}
		import proxy
	}
	handle {
		webhook_verify hmac %q {
			header X-Sig
			signed_content "{url}{body}"
		}
		import other
	}
}
`, other.addr(), httpPort, secret, secret)
	loadConfig(t, site)
	s := &scheme.Scheme{Name: "hmac", HeaderSets: []scheme.Headers{{Signature: "X-Sig"}}, Algorithm: scheme.HMACSHA256, Encoding: scheme.Hex, Content: "{url}{body}"}
	if err := s.Init(); err != nil {
		t.Fatal(err)
	}
	body := `{"a":1}`
	sig := signer.Sign(s, [][]byte{[]byte(secret)}, signer.Message{Body: []byte(body), URL: fmt.Sprintf("http://localhost:%d/a/hook", httpPort)}).Get("X-Sig")
	raw := func(target, host string) string {
		conn, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", httpPort))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: %s\r\nX-Sig: %s\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s", target, host, sig, len(body), body)
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.Status
	}
	if st := raw("/a/hook", fmt.Sprintf("localhost:%d", httpPort)); !strings.HasPrefix(st, "200") {
		t.Fatalf("the sender's own request: %s", st)
	}
	up.reset()
	if st := raw(fmt.Sprintf("t:%d/a/hook", httpPort), "localhos"); !strings.HasPrefix(st, "401") {
		t.Errorf("opaque target: %s, want 401", st)
	}
	if other.count() != 0 || up.count() != 0 {
		t.Errorf("opaque target reached an app")
	}
}
