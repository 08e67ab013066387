package caddymodule

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/hookguard/hookguard/verifier"
)

// TestUnresolvedPlaceholderSaysWhere (issue 12, item 1): an {env.X} that
// does not resolve says that it is read from the running server's
// environment, not the shell that runs caddy reload, and recommends
// {file.*} for a secret that will be rotated; a {file.X} that does not
// resolve speaks of the file only. Both directives alike.
func TestUnresolvedPlaceholderSaysWhere(t *testing.T) {
	t.Setenv("HG_ROTATION_EMPTY", "")
	missing := "{file." + filepath.Join(t.TempDir(), "missing.secret") + "}"
	for _, c := range []struct {
		value   string
		want    []string
		notWant []string
	}{
		{"{env.HG_ROTATION_UNSET}", []string{
			"secret 1: {env.HG_ROTATION_UNSET} did not resolve",
			"the environment of the running server",
			"not in that of the shell that runs caddy reload",
			"for a secret that will be rotated use {file./path}",
		}, nil},
		{"{env.HG_ROTATION_EMPTY}", []string{"{env.HG_ROTATION_EMPTY} did not resolve", "the environment of the running server"}, nil},
		{missing, []string{missing + " did not resolve to a value", "readable by the user the server runs as"}, []string{"environment"}},
	} {
		for directive, err := range map[string]error{
			"webhook_verify": provision(t, &WebhookVerify{Scheme: "github", Secrets: []Secret{{Value: c.value}}}),
			"webhook_sign":   provisionSign(t, &WebhookSign{Scheme: "github", Secrets: []Secret{{Value: c.value}}}),
		} {
			if err == nil {
				t.Fatalf("%s %s: loaded", directive, c.value)
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("%s %s: error %q lacks %q", directive, c.value, err, w)
				}
			}
			for _, w := range c.notWant {
				if strings.Contains(err.Error(), w) {
					t.Errorf("%s %s: error %q says %q", directive, c.value, err, w)
				}
			}
		}
	}
}

// TestExpiredSecretRefusal (issue 12, item 3): a webhook signed with a
// secret past its not_after is refused (401, next not called) as
// expired_secret naming the secret's label, whether it expired before the
// load or while the config runs, and whether the body was held in memory
// or spooled to a file; it is counted under that label. A webhook signed
// with the current secret passes, one signed with neither is a
// wrong_signature counted under no key.
func TestExpiredSecretRefusal(t *testing.T) {
	now := time.Now()
	current, old, soon, stranger := "kX3vQ9mR2pL8nT5wY7zB4cF6", "pQ7wE3rT9yU1iO5aS2dF8gH4", "zT6yH2nM8vC4xB1qW5eR9uI3", "mN4bV8cX2zL6kJ9hG3fD7sA1"
	for _, memory := range []int64{0, 16} { // default, and a body that spools
		v := &WebhookVerify{Scheme: "github", Name: fmt.Sprintf("expiry-%d", memory), BodyOptions: BodyOptions{BufferMemory: memory}, Secrets: []Secret{
			{Value: current, Label: "current"},
			{Value: old, Label: "old", NotAfter: now.Add(-time.Hour).UTC().Format(time.RFC3339)},
			{Value: soon, Label: "soon", NotAfter: now.Add(time.Hour).UTC().Format(time.RFC3339)},
		}}
		clock := now
		v.clock = func() time.Time { return clock }
		if err := provision(t, v); err != nil {
			t.Fatal(err)
		}
		body := bytes.Repeat([]byte(`{"n":1}`), 100)
		serve := func(secret string) error {
			r, _ := request(bytes.NewReader(body), signedGitHub(t, secret, body))
			rec := &recorder{}
			err := v.ServeHTTP(httptest.NewRecorder(), r, rec)
			if err != nil && rec.called {
				t.Fatal("next handler called for a refused request")
			}
			return err
		}
		wantRefused := func(err error, reason, key string) {
			t.Helper()
			var he caddyhttp.HandlerError
			if !errors.As(err, &he) || he.StatusCode != http.StatusUnauthorized {
				t.Fatalf("err = %v, want a 401", err)
			}
			if got := reasonOf(err); got != reason {
				t.Fatalf("reason %s, want %s (%v)", got, reason, err)
			}
			if got := keyOf(err); got != key {
				t.Fatalf("key %q, want %q (%v)", got, key, err)
			}
			if key != "" && !strings.Contains(err.Error(), `secret "`+key+`", which expired`) {
				t.Errorf("detail %q does not name the expired secret %q", err, key)
			}
		}
		outcomes := func() map[string]uint64 {
			st := v.route.stats
			st.mu.Lock()
			defer st.mu.Unlock()
			return maps.Clone(st.outcomes)
		}
		metric := func(outcome, key string) float64 {
			return testutil.ToFloat64(v.route.requests.WithLabelValues(outcome, key))
		}
		before := outcomes()
		oldBefore, soonBefore := metric("expired_secret", "old"), metric("expired_secret", "soon")
		for _, s := range []string{current, soon} {
			if err := serve(s); err != nil {
				t.Fatalf("current secret: %v", err)
			}
		}
		wantRefused(serve(old), "expired_secret", "old")
		wantRefused(serve(stranger), "wrong_signature", "")
		// soon's not_after passes while the config runs.
		clock = now.Add(2 * time.Hour)
		wantRefused(serve(soon), "expired_secret", "soon")
		if err := serve(current); err != nil {
			t.Fatalf("current secret after soon expired: %v", err)
		}
		after := outcomes()
		for outcome, want := range map[string]uint64{"verified": 3, "expired_secret": 2, "wrong_signature": 1} {
			if d := after[outcome] - before[outcome]; d != want {
				t.Errorf("outcome %s counted %d times, want %d", outcome, d, want)
			}
		}
		if d := metric("expired_secret", "old") - oldBefore; d != 1 {
			t.Errorf("caddy_webhook_requests_total{outcome=expired_secret,key=old} went up by %v, want 1", d)
		}
		if d := metric("expired_secret", "soon") - soonBefore; d != 1 {
			t.Errorf("caddy_webhook_requests_total{outcome=expired_secret,key=soon} went up by %v, want 1", d)
		}
		v.Cleanup()
	}
}

// TestExpiredAtLoadKeptBounded: of the secrets expired at load, webhook_verify
// keeps only the verifier.MaxExpiredChecked that expired last, to name them,
// after the current ones (whose indexes replay relies on).
func TestExpiredAtLoadKeptBounded(t *testing.T) {
	secret := func(label, notAfter string) Secret {
		sum := sha256.Sum256([]byte(label))
		return Secret{Value: base64.RawURLEncoding.EncodeToString(sum[:]), Label: label, NotAfter: notAfter}
	}
	v := &WebhookVerify{Scheme: "github", Secrets: []Secret{
		secret("q1", "2020-03-31T00:00:00Z"),
		secret("now", ""),
		secret("q3", "2020-09-30T00:00:00Z"),
		secret("q2", "2020-06-30T00:00:00Z"),
	}}
	if err := provision(t, v); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, k := range v.checked {
		got = append(got, k.Label)
	}
	if want := "now q3 q2"; strings.Join(got, " ") != want {
		t.Errorf("keys checked: %q, want %q", got, want)
	}
	var expired []string
	for _, k := range v.route.expired {
		expired = append(expired, k.Label)
		if k.Secret != nil {
			t.Errorf("the route's list of expired secrets (for logs and the admin API) holds %s's key", k.Label)
		}
	}
	if strings.Join(expired, " ") != "q1 q3 q2" {
		t.Errorf("expired labels %q: every expired secret is still reported at load", expired)
	}
}

// TestExpiryLoggedWhenItHappens (issue 12, item 3): while a config runs,
// the moment a secret's not_after passes is logged, once, at WARN, with
// the same message as at load and the key's label; a config unloaded
// before the moment logs nothing.
func TestExpiryLoggedWhenItHappens(t *testing.T) {
	core, logs := observer.New(zapcore.InfoLevel)
	now := time.Now()
	rt := &route{logger: zap.New(core), now: time.Now, keys: []verifier.Key{
		{Label: "forever"},
		{Label: "soon", NotAfter: now.Add(50 * time.Millisecond)},
	}}
	rt.watchExpiry()
	unloaded := &route{logger: zap.New(core), now: time.Now, keys: []verifier.Key{{Label: "unloaded", NotAfter: now.Add(50 * time.Millisecond)}}}
	unloaded.watchExpiry()
	unloaded.expiry.stop()

	deadline := time.Now().Add(5 * time.Second)
	for logs.FilterMessage(msgExpired).Len() == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond) // time for a wrong second line
	lines := logs.FilterMessage(msgExpired).All()
	if len(lines) != 1 {
		t.Fatalf("%d expiry lines, want 1: %v", len(lines), lines)
	}
	l := lines[0]
	if l.Level != zapcore.WarnLevel || l.ContextMap()["key"] != "soon" {
		t.Errorf("expiry line %v %v, want WARN with key soon", l.Level, l.ContextMap())
	}
	rt.expiry.stop()
}
