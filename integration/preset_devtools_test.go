package integration

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"code.gitea.io/sdk/gitea"
)

// The devtools family end to end (preset/devtools.go): every case of its
// vectors through a real Caddy, Linear's body timestamp against the real
// clock, and the Gitea Go SDK on both sides of the gateway.

// devtoolsVector is one case of preset/testdata/vectors/<preset>.json.
type devtoolsVector struct {
	Name    string            `json:"name"`
	Secret  string            `json:"secret"`
	Headers map[string]string `json:"headers"`
	Body    string            `json:"body"`
	Valid   bool              `json:"valid"`
}

func loadDevtoolsVectors(t *testing.T, preset string) []devtoolsVector {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "preset", "testdata", "vectors", preset+".json"))
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Cases []devtoolsVector `json:"cases"`
	}
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	return f.Cases
}

// devtoolsHeader is a vector's headers as a request carries them, without
// Content-Type (send sets its own).
func devtoolsHeader(c devtoolsVector) http.Header {
	h := http.Header{}
	for k, v := range c.Headers {
		if !strings.EqualFold(k, "Content-Type") {
			h.Set(k, v)
		}
	}
	return h
}

// TestDevtoolsVectorsThroughCaddy sends every case of the devtools
// vectors that carries no timestamp (all but Linear's, which the next test
// sends at the real time) to a webhook_verify route with the case's
// secret: valid ones reach the upstream with the body byte for byte, the
// others get 401 and nothing reaches it.
func TestDevtoolsVectorsThroughCaddy(t *testing.T) {
	up := newUpstream(t)
	type sent struct {
		preset, path string
		c            devtoolsVector
	}
	var all []sent
	var routes strings.Builder
	for _, p := range []string{"gitea", "forgejo", "gogs", "jira", "circleci", "sentry", "vercel", "netlify", "figma", "segment"} {
		for i, c := range loadDevtoolsVectors(t, p) {
			path := fmt.Sprintf("/dt/%s/%d", p, i)
			fmt.Fprintf(&routes, "\thandle %s {\n\t\twebhook_verify %s %q\n\t\timport proxy\n\t}\n", path, p, c.Secret)
			all = append(all, sent{p, path, c})
		}
	}
	loadConfig(t, proxySnippet(up)+fmt.Sprintf("\nhttp://localhost:%d {\n%s%s}\n", httpPort, routes.String(), errorsBlock))
	for _, s := range all {
		t.Run(s.preset+"/"+s.c.Name, func(t *testing.T) {
			up.reset()
			body := []byte(s.c.Body)
			a := send(t, delivery{Path: s.path, Body: body, Header: devtoolsHeader(s.c)})
			if !s.c.Valid {
				wantRejected(t, a, http.StatusUnauthorized, up, 0)
				return
			}
			wantStatus(t, a, http.StatusOK)
			got := up.only(t)
			wantBodyThrough(t, got, body)
			if got.Header.Get("X-Webhook-Scheme") != s.preset || got.Header.Get("X-Webhook-Verified") != "true" {
				t.Errorf("placeholders: scheme %q, verified %q", got.Header.Get("X-Webhook-Scheme"), got.Header.Get("X-Webhook-Verified"))
			}
		})
	}
}

// TestLinearThroughCaddy: Linear's timestamp is the webhookTimestamp (ms)
// inside the signed body; a request older or newer than a minute is
// refused, and a route may set its own tolerance (the scheme counts as
// timestamped).
func TestLinearThroughCaddy(t *testing.T) {
	up := newUpstream(t)
	secret, other := "lin_wh_"+randomHex(t, 16), "lin_wh_"+randomHex(t, 16)
	loadConfig(t, proxySnippet(up)+fmt.Sprintf(`
http://localhost:%d {
	handle /linear {
		webhook_verify linear %q
		import proxy
	}
	handle /linear-5m {
		webhook_verify linear %q {
			tolerance 5m
		}
		import proxy
	}
%s}
`, httpPort, secret, secret, errorsBlock))
	mk := func(at time.Time) []byte {
		return []byte(`{"action":"create","type":"Issue","data":{"id":"` + randomHex(t, 8) + `"},"webhookTimestamp":` + strconv.FormatInt(at.UnixMilli(), 10) + `}`)
	}
	sign := func(key string, body []byte) http.Header {
		m := hmac.New(sha256.New, []byte(key))
		m.Write(body)
		return http.Header{"Linear-Signature": {hex.EncodeToString(m.Sum(nil))}, "Linear-Delivery": {"dlv-" + randomHex(t, 8)}, "Linear-Event": {"Issue"}}
	}
	now := time.Now()
	fresh, stale, future := mk(now), mk(now.Add(-2*time.Minute)), mk(now.Add(2*time.Minute))
	tampered := bytes.Replace(fresh, []byte(`"create"`), []byte(`"remove"`), 1)
	noTS := []byte(`{"action":"create","type":"Issue"}`)
	missing := sign(secret, fresh)
	missing.Del("Linear-Signature")
	for _, tc := range []struct {
		name, path string
		body       []byte
		h          http.Header
		ok         bool
	}{
		{"fresh", "/linear", fresh, sign(secret, fresh), true},
		{"stale", "/linear", stale, sign(secret, stale), false},
		{"future", "/linear", future, sign(secret, future), false},
		{"stale within a 5m tolerance", "/linear-5m", stale, sign(secret, stale), true},
		{"tampered body", "/linear", tampered, sign(secret, fresh), false},
		{"wrong secret", "/linear", fresh, sign(other, fresh), false},
		{"missing signature", "/linear", fresh, missing, false},
		{"no webhookTimestamp", "/linear", noTS, sign(secret, noTS), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			up.reset()
			a := send(t, delivery{Path: tc.path, Body: tc.body, Header: tc.h})
			if !tc.ok {
				wantRejected(t, a, http.StatusUnauthorized, up, 0)
				return
			}
			wantStatus(t, a, http.StatusOK)
			got := up.only(t)
			wantBodyThrough(t, got, tc.body)
			if got.Header.Get("X-Webhook-Id") != tc.h.Get("Linear-Delivery") || got.Header.Get("X-Webhook-Timestamp") == "" {
				t.Errorf("id %q, timestamp %q", got.Header.Get("X-Webhook-Id"), got.Header.Get("X-Webhook-Timestamp"))
			}
		})
	}
}

// TestGiteaSDK: the Gitea Go SDK (code.gitea.io/sdk/gitea) judges the
// gitea and forgejo vectors as they do, and its own middleware,
// VerifyWebhookSignatureMiddleware, accepts what webhook_sign gitea sends,
// with the body byte for byte.
func TestGiteaSDK(t *testing.T) {
	for preset, header := range map[string]string{"gitea": "X-Gitea-Signature", "forgejo": "X-Forgejo-Signature"} {
		for _, c := range loadDevtoolsVectors(t, preset) {
			sig, present := c.Headers[header]
			ok := false
			if present {
				ok, _ = gitea.VerifyWebhookSignature(c.Secret, sig, []byte(c.Body))
			}
			if ok != c.Valid {
				t.Errorf("%s/%s: the SDK says %v, the vector %v", preset, c.Name, ok, c.Valid)
			}
		}
	}

	secret := "gitea-" + randomHex(t, 16)
	var got seen[[]byte]
	recv := httptest.NewServer(gitea.VerifyWebhookSignatureMiddleware(secret)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got.add(b)
		io.WriteString(w, "gitea sdk accepted")
	})))
	t.Cleanup(recv.Close)
	loadConfig(t, fmt.Sprintf(`
http://localhost:%d {
	handle /sign/gitea {
		webhook_sign gitea %q
		reverse_proxy %s
	}
	handle /sign/gitea-wrong {
		webhook_sign gitea %q
		reverse_proxy %s
	}
%s}
`, httpPort, secret, recv.URL, "not-"+secret, recv.URL, errorsBlock))
	for _, size := range []int{0, 1 << 10, 1 << 20} {
		body := randomBody(t, size)
		got.reset()
		a := send(t, delivery{Path: "/sign/gitea", Body: body})
		if a.Status != http.StatusOK || a.Body != "gitea sdk accepted" {
			t.Fatalf("%d bytes: the SDK's middleware answered %d %q", size, a.Status, a.Body)
		}
		if b := got.only(t); !bytes.Equal(b, body) {
			t.Fatalf("%d bytes: the receiver got %d bytes, not the body", size, len(b))
		}
	}
	// Control: signed with another secret, the SDK refuses it.
	if a := send(t, delivery{Path: "/sign/gitea-wrong", Body: []byte(`{"ref":"refs/heads/main"}`)}); a.Status != http.StatusUnauthorized {
		t.Fatalf("another secret: the SDK's middleware answered %d %q, want 401", a.Status, a.Body)
	}
}
