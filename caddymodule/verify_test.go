package caddymodule

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/hookguard/hookguard/preset"
	"github.com/hookguard/hookguard/signer"
)

func provision(t *testing.T, v *WebhookVerify) error {
	t.Helper()
	ctx, cancel := newTestContext()
	t.Cleanup(cancel)
	return v.Provision(ctx)
}

// newTestContext is a Context as Provision gets one, with a storage of its
// own for the fingerprint key (testStorage).
func newTestContext() (caddy.Context, context.CancelFunc) {
	return caddy.NewContext(caddy.Context{Context: context.WithValue(context.Background(), storageCtxKey{}, testStorage())})
}

// recorder is a next handler that remembers what it got.
type recorder struct {
	called bool
	body   []byte
	cl     int64
}

func (rec *recorder) ServeHTTP(w http.ResponseWriter, r *http.Request) error {
	rec.called = true
	rec.cl = r.ContentLength
	rec.body, _ = io.ReadAll(r.Body)
	return nil
}

func request(body io.Reader, h http.Header) (*http.Request, *caddy.Replacer) {
	r := httptest.NewRequest(http.MethodPost, "/hook", body)
	for k, v := range h {
		r.Header[k] = v
	}
	repl := caddy.NewReplacer()
	return r.WithContext(context.WithValue(r.Context(), caddy.ReplacerCtxKey, repl)), repl
}

func signedGitHub(t testing.TB, secret string, body []byte) http.Header {
	t.Helper()
	s, err := preset.Get("github", preset.Options{})
	if err != nil {
		t.Fatal(err)
	}
	h := signer.Sign(s, [][]byte{[]byte(secret)}, signer.Message{Body: body, ID: "d-1"})
	return h
}

func TestServeHTTPPassesExactBody(t *testing.T) {
	v := &WebhookVerify{Scheme: "github", Secrets: []Secret{{Value: "s3cret-For-Tests!", Label: "main"}}}
	if err := provision(t, v); err != nil {
		t.Fatal(err)
	}
	for _, size := range []int{0, 1, 4096, 100_000} {
		body := bytes.Repeat([]byte{0, 1, 2, 0xff}, size/4+1)[:size]
		// A reader without Len makes httptest leave ContentLength unknown,
		// like a chunked request.
		for _, chunked := range []bool{false, true} {
			var rd io.Reader = bytes.NewReader(body)
			if chunked {
				rd = io.MultiReader(rd)
			}
			r, repl := request(rd, signedGitHub(t, "s3cret-For-Tests!", body))
			if chunked {
				r.ContentLength = -1
			}
			rec := &recorder{}
			if err := v.ServeHTTP(httptest.NewRecorder(), r, rec); err != nil {
				t.Fatalf("size %d chunked %v: %v", size, chunked, err)
			}
			if !rec.called || sha256.Sum256(rec.body) != sha256.Sum256(body) || rec.cl != int64(size) {
				t.Fatalf("size %d chunked %v: next got %d bytes (Content-Length %d)", size, chunked, len(rec.body), rec.cl)
			}
			if got, _ := repl.GetString("http.webhook.key"); got != "main" {
				t.Errorf("key placeholder = %q", got)
			}
			if got, _ := repl.GetString("http.webhook.id"); got != "d-1" {
				t.Errorf("id placeholder = %q", got)
			}
		}
	}
}

func TestServeHTTPRejects(t *testing.T) {
	v := &WebhookVerify{Scheme: "github", Secrets: []Secret{{Value: "s3cret-For-Tests!"}}, MaxBody: 64}
	if err := provision(t, v); err != nil {
		t.Fatal(err)
	}
	body := []byte(`{"ok":true}`)
	good := signedGitHub(t, "s3cret-For-Tests!", body)
	big := bytes.Repeat([]byte("x"), 65)
	cases := []struct {
		name   string
		body   io.Reader
		h      http.Header
		cl     int64
		status int
	}{
		{"tampered", strings.NewReader(`{"ok":false}`), good, -2, 401},
		{"wrong secret", bytes.NewReader(body), signedGitHub(t, "other-secret-For-Tests!", body), -2, 401},
		{"missing", bytes.NewReader(body), http.Header{}, -2, 401},
		{"too large by Content-Length", bytes.NewReader(big), signedGitHub(t, "s3cret-For-Tests!", big), -2, 413},
		{"too large chunked", io.MultiReader(bytes.NewReader(big)), signedGitHub(t, "s3cret-For-Tests!", big), -1, 413},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r, _ := request(c.body, c.h)
			if c.cl != -2 {
				r.ContentLength = c.cl
			}
			rec := &recorder{}
			err := v.ServeHTTP(httptest.NewRecorder(), r, rec)
			var he caddyhttp.HandlerError
			if !errors.As(err, &he) || he.StatusCode != c.status {
				t.Fatalf("err = %v, want status %d", err, c.status)
			}
			if rec.called {
				t.Fatal("next handler was called for a rejected request")
			}
			if strings.Contains(err.Error(), "s3cret") {
				t.Fatalf("error text leaks the secret: %v", err)
			}
		})
	}
}

func TestProvisionSecrets(t *testing.T) {
	t.Setenv("HG_TEST_SECRET", "from-env-Secret-123")
	t.Setenv("HG_EMPTY", "")
	cases := []struct {
		name    string
		v       WebhookVerify
		wantErr string
	}{
		{"env", WebhookVerify{Scheme: "github", Secrets: []Secret{{Value: "{env.HG_TEST_SECRET}"}}}, ""},
		{"missing env", WebhookVerify{Scheme: "github", Secrets: []Secret{{Value: "{env.HG_NOT_SET_ANYWHERE}"}}}, "{env.HG_NOT_SET_ANYWHERE} did not resolve"},
		{"empty env", WebhookVerify{Scheme: "github", Secrets: []Secret{{Value: "{env.HG_EMPTY}"}}}, "did not resolve"},
		{"no secret", WebhookVerify{Scheme: "github"}, "no secret is configured"},
		{"bad whsec", WebhookVerify{Scheme: "standard", Secrets: []Secret{{Value: "whsec_!!!notbase64"}}}, "whsec_ followed by base64"},
		{"expired", WebhookVerify{Scheme: "github", Secrets: []Secret{{Value: "x-Secret-1234567", NotAfter: "2001-01-01T00:00:00Z"}}}, "every secret has expired"},
		// insecure_unsigned is for a route with no secret, never one whose
		// secret failed to load (issue 7, finding 8).
		{"unsigned with empty env", WebhookVerify{Scheme: "github", InsecureUnsigned: true, Secrets: []Secret{{Value: "{env.HG_EMPTY}"}}}, "{env.HG_EMPTY} did not resolve"},
		{"unsigned with missing env", WebhookVerify{Scheme: "github", InsecureUnsigned: true, Secrets: []Secret{{Value: "{env.HG_NOT_SET_ANYWHERE}"}}}, "{env.HG_NOT_SET_ANYWHERE} did not resolve"},
		{"unsigned with empty value", WebhookVerify{Scheme: "github", InsecureUnsigned: true, Secrets: []Secret{{Value: ""}}}, "secret 1 is empty"},
		{"hmac without header", WebhookVerify{Scheme: "hmac", Secrets: []Secret{{Value: "x"}}}, "needs a header"},
		{"preset with generic field", WebhookVerify{Scheme: "github", SchemeFields: SchemeFields{Header: "X"}, Secrets: []Secret{{Value: "x"}}}, "only for hmac and token"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v := c.v
			err := provision(t, &v)
			if c.wantErr == "" && err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if c.wantErr != "" && (err == nil || !strings.Contains(err.Error(), c.wantErr)) {
				t.Fatalf("err = %v, want it to contain %q", err, c.wantErr)
			}
			if err != nil && strings.Contains(err.Error(), "Secret-123") {
				t.Fatalf("error leaks the secret: %v", err)
			}
		})
	}
}

// TestProvisionRefusesBlankSecrets: a secret that resolves to whitespace
// only is a key anyone can compute, refused like an empty one, by both
// directives and whatever the route says (binary review, finding 2).
func TestProvisionRefusesBlankSecrets(t *testing.T) {
	t.Setenv("HG_SPACES", "   ")
	t.Setenv("HG_TABS", "\t \t")
	dir := t.TempDir()
	newlines := filepath.Join(dir, "newlines.secret")
	spaces := filepath.Join(dir, "spaces.secret")
	if err := os.WriteFile(newlines, []byte("\n\n"), 0o600); err != nil { // {file.*} drops one trailing newline
		t.Fatal(err)
	}
	if err := os.WriteFile(spaces, []byte("  \n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct{ name, value, want string }{
		{"env of spaces", "{env.HG_SPACES}", "secret 1: {env.HG_SPACES} resolved to only whitespace"},
		{"env of tabs", "{env.HG_TABS}", "secret 1: {env.HG_TABS} resolved to only whitespace"},
		{"file of newlines", "{file." + newlines + "}", "secret 1: {file." + newlines + "} resolved to only whitespace"},
		{"file of spaces", "{file." + spaces + "}", "secret 1: {file." + spaces + "} resolved to only whitespace"},
		{"literal spaces", "   ", "secret 1 is only whitespace"},
	}
	for _, c := range cases {
		for _, unsigned := range []bool{false, true} {
			v := &WebhookVerify{Scheme: "github", InsecureUnsigned: unsigned, Secrets: []Secret{{Value: c.value}}}
			s := &WebhookSign{Scheme: "github", Secrets: []Secret{{Value: c.value}}}
			for directive, err := range map[string]error{"webhook_verify": provision(t, v), "webhook_sign": provisionSign(t, s)} {
				if err == nil || !strings.Contains(err.Error(), c.want) {
					t.Errorf("%s, %s (insecure_unsigned %v): err = %v, want %q", c.name, directive, unsigned, err, c.want)
				}
			}
		}
	}
	// The second secret is named as the second.
	v := &WebhookVerify{Scheme: "github", Secrets: []Secret{{Value: "from-env-Secret-123"}, {Value: "{env.HG_SPACES}"}}}
	if err := provision(t, v); err == nil || !strings.Contains(err.Error(), "secret 2: {env.HG_SPACES}") {
		t.Errorf("second secret blank: err = %v", err)
	}
}

func TestInsecureUnsignedPassesUnverified(t *testing.T) {
	v := &WebhookVerify{Scheme: "github", InsecureUnsigned: true}
	if err := provision(t, v); err != nil {
		t.Fatal(err)
	}
	r, repl := request(strings.NewReader("hi"), nil)
	rec := &recorder{}
	if err := v.ServeHTTP(httptest.NewRecorder(), r, rec); err != nil || !rec.called {
		t.Fatalf("err=%v called=%v", err, rec.called)
	}
	if got, _ := repl.GetString("http.webhook.verified"); got != "false" {
		t.Fatalf("verified = %q, want false", got)
	}
}

func TestTimestampedToleranceFromConfig(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	zero := caddy.Duration(0)
	for _, tc := range []struct {
		tol  *caddy.Duration
		pass bool
	}{{nil, false}, {&zero, true}} {
		v := &WebhookVerify{Scheme: "standard", Tolerance: tc.tol, Secrets: []Secret{{Value: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}}}
		v.clock = func() time.Time { return now }
		if err := provision(t, v); err != nil {
			t.Fatal(err)
		}
		key, _ := v.route.scheme.DecodeSecret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
		body := []byte("{}")
		h := signer.Sign(v.route.scheme, [][]byte{key}, signer.Message{Body: body, ID: "msg_1", Time: now.Add(-time.Hour)})
		r, _ := request(bytes.NewReader(body), h)
		rec := &recorder{}
		err := v.ServeHTTP(httptest.NewRecorder(), r, rec)
		if (err == nil) != tc.pass || rec.called != tc.pass {
			t.Fatalf("tolerance %v: err=%v called=%v, want pass=%v", tc.tol, err, rec.called, tc.pass)
		}
	}
}

func TestUnmarshalCaddyfile(t *testing.T) {
	good := `webhook_verify hmac {env.S} {
		secret {file./run/secret} label new not_after 2030-01-01T00:00:00Z
		header X-Sig
		algorithm sha512
		encoding base64
		prefix "v1="
		signed_content "{timestamp}.{body}"
		timestamp_header X-Ts
		id_header X-Id
		tolerance 90s
		max_body 2MiB
		strip_signature
	}`
	var v WebhookVerify
	if err := v.UnmarshalCaddyfile(caddyfile.NewTestDispenser(good)); err != nil {
		t.Fatal(err)
	}
	if v.Scheme != "hmac" || len(v.Secrets) != 2 || v.Secrets[1].Label != "new" || v.Header != "X-Sig" ||
		v.SignedContent != "{timestamp}.{body}" || v.MaxBody != 2<<20 || time.Duration(*v.Tolerance) != 90*time.Second || !v.StripSignature {
		t.Fatalf("parsed %+v", v)
	}

	bad := []struct{ in, want string }{
		{"webhook_verify", "needs a scheme"},
		{"webhook_verify gihtub secret", `unknown scheme "gihtub"`},
		{"webhook_verify github", "no secret is configured"},
		{"webhook_verify github s {\n tolerance 5m\n}", "tolerance has no effect"},
		{"webhook_verify stripe s {\n tolerance five\n}", "write e.g. 5m"},
		{"webhook_verify github s {\n colour blue\n}", `unknown subdirective "colour"`},
		{"webhook_verify github s {\n max_body lots\n}", "write e.g. 25MiB"},
		{"webhook_verify github s {\n secret x not_after tomorrow\n}", "RFC 3339"},
		{"webhook_verify hmac s {\n header X\n signed_content \"{ts}.{body}\"\n}", "unknown token {ts}"},
		{"webhook_verify hmac s {\n header X\n algorithm md5\n}", "use sha1, sha256 or sha512"},
		{"webhook_verify github a b", "unexpected argument"},
		// what `secret {$UNSET} label x` is once Caddy has expanded {$UNSET}
		{"webhook_verify github {\n secret label x\n}", "did a {$VAR} expand to nothing?"},
		{"webhook_verify github {\n secret not_after 2030-01-01T00:00:00Z\n}", "did a {$VAR} expand to nothing?"},
	}
	for _, c := range bad {
		var v WebhookVerify
		err := v.UnmarshalCaddyfile(caddyfile.NewTestDispenser(c.in))
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "Testfile:") {
			t.Errorf("%q: err = %v, want a line number and %q", c.in, err, c.want)
		}
	}
}
