package caddymodule

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/hookguard/hookguard/signer"
	"github.com/hookguard/hookguard/verifier"
)

const (
	strongA = "whsec_cwduU7NgUiZHj6Q6ZMq43AEuo9OePyYNsLblBZxopnY="
	strongB = "whsec_yTQS90pS5q+vS1DUZyxoZKUqJXwSShfj"
)

func TestSignProvisionRefusesWeakSecrets(t *testing.T) {
	cases := []struct {
		scheme, secret, rule string
	}{
		{"github", "short", "rule length"},
		{"github", "Password1234567890!", "rule common"},
		{"github", "aaaaaaaaaaaaaaaaaaaaaaaa", "rule variety"},
		{"standard", "whsec_q83vEjRWeJo=", "rule length"},
		// base64 of a password is no key (issue 7, finding 7)
		{"standard", "whsec_UGFzc3dvcmQxMjM0NTY3ODkwIQ==", "rule random"},
		{"standard", "whsec_" + strings.Repeat("A", 44), "rule random"}, // 32 zero bytes
		// a password in base64 or hex is that password (binary review, finding 1)
		{"github", "UGFzc3dvcmQxMjM0NTY3ODkwIQ==", "rule encoded"},
		{"stripe", "UGFzc3dvcmQxMjM0NTY3ODkwIQ==", "rule encoded"},
		{"github", "50617373776f72643132333435363738393021", "rule encoded"},
		{"stripe", "50617373776f72643132333435363738393021", "rule encoded"},
		{"github", "UGFzc3dvcmQxMjM0NTY3ODkwIQ", "rule encoded"},
	}
	// A key of 12 to 15 random bytes is short of the 24 Standard Webhooks
	// asks for, though random (issue 12: no test caught a lower minimum).
	for n := 12; n <= 15; n++ {
		cases = append(cases,
			struct{ scheme, secret, rule string }{"standard", shortKey(n), "rule length"},
			struct{ scheme, secret, rule string }{"svix", shortKey(n), "rule length"})
	}
	for _, c := range cases {
		s := &WebhookSign{Scheme: c.scheme, Secrets: []Secret{{Value: c.secret}}}
		err := provisionSign(t, s)
		if err == nil || !strings.Contains(err.Error(), c.rule) || !strings.Contains(err.Error(), "`caddy webhook secret`") {
			t.Errorf("%s %q: err = %v, want %s and a hint", c.scheme, c.secret, err, c.rule)
		}
		if err != nil && strings.Contains(err.Error(), c.secret) {
			t.Errorf("error quotes the secret: %v", err)
		}
		// The rule, not how the secret breaks it (issue 7, finding 13).
		for _, detail := range []string{"made mostly of", "characters, at least", "decoded bytes, at least", "fp-", "decodes from", "Password"} {
			if err != nil && strings.Contains(err.Error(), detail) {
				t.Errorf("%s %q: error %q tells %q", c.scheme, c.secret, err, detail)
			}
		}
	}
}

// shortKey is a whsec_ key of n random-looking bytes (not text, no
// pattern): its only fault is its length.
func shortKey(n int) string {
	sum := sha256.Sum256([]byte{byte(n)})
	return "whsec_" + base64.StdEncoding.EncodeToString(sum[:n])
}

func provisionSign(t *testing.T, s *WebhookSign) error {
	t.Helper()
	ctx, cancel := newTestContext()
	t.Cleanup(cancel)
	return s.Provision(ctx)
}

func TestSignReplacesIncomingHeadersAndKeepsBody(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	s := &WebhookSign{Scheme: "standard", Secrets: []Secret{{Value: strongA, Label: "a"}, {Value: strongB, Label: "b"}}}
	s.clock = func() time.Time { return now }
	if err := provisionSign(t, s); err != nil {
		t.Fatal(err)
	}
	body := bytes.Repeat([]byte{0xde, 0xad, 0xbe, 0xef, '\n'}, 1000)
	forged := http.Header{
		"Webhook-Signature": {"v1,Zm9yZ2VkIHNpZ25hdHVyZQ=="},
		"Webhook-Id":        {"msg_forged"},
		"Webhook-Timestamp": {"1"},
	}
	r, repl := request(io.MultiReader(bytes.NewReader(body)), forged)
	r.ContentLength = -1
	rec := &recorder{}
	var got http.Header
	next := handlerFunc(func(w http.ResponseWriter, r *http.Request) error {
		got = r.Header.Clone()
		return rec.ServeHTTP(w, r)
	})
	if err := s.ServeHTTP(httptest.NewRecorder(), r, next); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(rec.body, body) || rec.cl != int64(len(body)) {
		t.Fatalf("next got %d bytes (Content-Length %d), want %d", len(rec.body), rec.cl, len(body))
	}
	if strings.Contains(got.Get("Webhook-Signature"), "Zm9yZ2Vk") || got.Get("Webhook-Id") == "msg_forged" || got.Get("Webhook-Timestamp") == "1" {
		t.Fatalf("forged headers passed on: %v", got)
	}
	if n := len(strings.Fields(got.Get("Webhook-Signature"))); n != 2 {
		t.Fatalf("%d signatures for 2 secrets: %q", n, got.Get("Webhook-Signature"))
	}
	if id, _ := repl.GetString("http.webhook.id"); id != got.Get("Webhook-Id") || id == "" {
		t.Fatalf("id placeholder %q, header %q", id, got.Get("Webhook-Id"))
	}
	if ts, _ := repl.GetString("http.webhook.timestamp"); ts != "1800000000" {
		t.Fatalf("timestamp placeholder %q", ts)
	}
	// Each secret's signature verifies on its own, so a receiver can rotate.
	for _, secret := range []string{strongA, strongB} {
		key, _ := s.route.scheme.DecodeSecret(secret)
		if _, err := verifier.Verify(s.route.scheme, got, body, []verifier.Key{{Secret: key}}, time.Minute, now); err != nil {
			t.Fatalf("signature under one secret does not verify: %v", err)
		}
	}
}

func TestSignUnsignedStripsSignatures(t *testing.T) {
	s := &WebhookSign{Scheme: "github", InsecureUnsigned: true}
	if err := provisionSign(t, s); err != nil {
		t.Fatal(err)
	}
	r, _ := request(strings.NewReader("x"), http.Header{"X-Hub-Signature-256": {"sha256=00"}})
	var got http.Header
	if err := s.ServeHTTP(httptest.NewRecorder(), r, handlerFunc(func(w http.ResponseWriter, r *http.Request) error {
		got = r.Header
		return nil
	})); err != nil {
		t.Fatal(err)
	}
	if got.Get("X-Hub-Signature-256") != "" {
		t.Fatal("incoming signature passed on by an unsigned route")
	}
}

func TestSignMaxBody(t *testing.T) {
	s := &WebhookSign{Scheme: "github", MaxBody: 10, Secrets: []Secret{{Value: "kX3vQ9mR2pL8nT5wY7zB4cF6"}}}
	if err := provisionSign(t, s); err != nil {
		t.Fatal(err)
	}
	r, _ := request(io.MultiReader(strings.NewReader("01234567890")), nil)
	r.ContentLength = -1
	rec := &recorder{}
	err := s.ServeHTTP(httptest.NewRecorder(), r, rec)
	if err == nil || rec.called || !strings.Contains(err.Error(), "max_body") {
		t.Fatalf("err=%v called=%v", err, rec.called)
	}
}

func TestSignCaddyfile(t *testing.T) {
	var s WebhookSign
	if err := s.UnmarshalCaddyfile(caddyfile.NewTestDispenser(`webhook_sign hmac {env.K} {
		header X-Sig
		encoding base64
		max_body 1MiB
	}`)); err != nil {
		t.Fatal(err)
	}
	if s.Scheme != "hmac" || s.Header != "X-Sig" || s.MaxBody != 1<<20 || len(s.Secrets) != 1 {
		t.Fatalf("parsed %+v", s)
	}
	s = WebhookSign{}
	if err := s.UnmarshalCaddyfile(caddyfile.NewTestDispenser("webhook_sign standard {env.K} {\n keep_header Authorization\n keep_header cookie\n}")); err != nil {
		t.Fatal(err)
	}
	if strings.Join(s.KeepHeaders, ",") != "Authorization,cookie" {
		t.Fatalf("keep_header parsed as %q", s.KeepHeaders)
	}
	for in, want := range map[string]string{
		"webhook_sign standard":                                     "generate one with `caddy webhook secret`",
		"webhook_sign standard s {\n tolerance 5m\n}":               `unknown subdirective "tolerance"`,
		"webhook_sign nosuch s":                                     `unknown scheme "nosuch"`,
		"webhook_sign hmac s {\n header X\n signed_content nope\n}": "{body} is missing",
		"webhook_sign standard s {\n keep_header X-Api-Key\n}":      "header_up -Name",
	} {
		var s WebhookSign
		err := s.UnmarshalCaddyfile(caddyfile.NewTestDispenser(in))
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "Testfile:") {
			t.Errorf("%q: err = %v, want %q with a line", in, err, want)
		}
	}
}

type handlerFunc func(http.ResponseWriter, *http.Request) error

func (f handlerFunc) ServeHTTP(w http.ResponseWriter, r *http.Request) error { return f(w, r) }

func TestSignGitHubDropsLegacyHeader(t *testing.T) {
	s := &WebhookSign{Scheme: "github", Secrets: []Secret{{Value: "kX3vQ9mR2pL8nT5wY7zB4cF6"}}}
	if err := provisionSign(t, s); err != nil {
		t.Fatal(err)
	}
	r, _ := request(strings.NewReader("{}"), http.Header{"X-Hub-Signature": {"sha1=0000"}, "X-Hub-Signature-256": {"sha256=0000"}})
	var got http.Header
	if err := s.ServeHTTP(httptest.NewRecorder(), r, handlerFunc(func(w http.ResponseWriter, r *http.Request) error {
		got = r.Header
		return nil
	})); err != nil {
		t.Fatal(err)
	}
	if got.Get("X-Hub-Signature") != "" || got.Get("X-Hub-Signature-256") == "sha256=0000" || got.Get("X-Hub-Signature-256") == "" {
		t.Fatalf("incoming github signatures not replaced: %v", got)
	}
}

// TestSignTrustsOnlyVerifiedDeliveries: the id comes from the request vars
// only when webhook_verify put its own unexported type there; a value
// anyone can set under the same name (the vars directive sets strings)
// gets a fresh id. A verified delivery whose id is not signed gets the
// derived id, the same for the same verified signature.
func TestSignTrustsOnlyVerifiedDeliveries(t *testing.T) {
	s := &WebhookSign{Scheme: "standard", Secrets: []Secret{{Value: strongA}}}
	if err := provisionSign(t, s); err != nil {
		t.Fatal(err)
	}
	idOf := func(v any) string {
		t.Helper()
		r, _ := request(strings.NewReader("{}"), nil)
		r = r.WithContext(context.WithValue(r.Context(), caddyhttp.VarsCtxKey, map[string]any{verifiedVar: v}))
		var id string
		if err := s.ServeHTTP(httptest.NewRecorder(), r, handlerFunc(func(w http.ResponseWriter, r *http.Request) error {
			id = r.Header.Get("Webhook-Id")
			return nil
		})); err != nil {
			t.Fatal(err)
		}
		return id
	}
	if id := idOf("msg_forged"); id == "msg_forged" || id == "" {
		t.Errorf("a string var set the id: %q", id)
	}
	if id := idOf(&verifiedDelivery{scheme: "standard", id: "msg_sender"}); id != "msg_sender" {
		t.Errorf("the sender's signed id was not kept: %q", id)
	}
	gh := &verifiedDelivery{scheme: "github", digest: []byte("matched signature")}
	a, b := idOf(gh), idOf(gh)
	if a != b || !strings.HasPrefix(a, "msg_") || len(a) != len(signer.NewID()) {
		t.Errorf("derived ids %q, %q: want equal, in msg_ form", a, b)
	}
	if c := idOf(&verifiedDelivery{scheme: "github", digest: []byte("another signature")}); c == a {
		t.Errorf("two signatures give one id %q", c)
	}
}
