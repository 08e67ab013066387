package integration

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hookguard/hookguard/preset"
)

// Issue 12, "rotation without traps", through a real Caddy.

// TestUnresolvedEnvNamesRunningServer: an {env.X} that does not resolve
// fails the load with an error that says where the variable is read (the
// running server's environment, not the shell that runs caddy reload)
// and recommends {file.*} for a secret that will be rotated; for both
// directives.
func TestUnresolvedEnvNamesRunningServer(t *testing.T) {
	skipShort(t)
	os.Unsetenv("HG_IT_ROTATION_UNSET")
	loadConfig(t, fmt.Sprintf("http://localhost:%d {\n\trespond \"before\"\n}\n", httpPort))
	for _, directive := range []string{"webhook_verify", "webhook_sign"} {
		err := postLoad(t, globalOptions+fmt.Sprintf(`
http://localhost:%d {
	%s github {env.HG_IT_ROTATION_UNSET}
	respond "should not be running" 200
}
`, httpPort, directive))
		if err == nil {
			t.Fatalf("%s: a config with an unset {env.*} secret loaded", directive)
		}
		for _, want := range []string{
			"{env.HG_IT_ROTATION_UNSET} did not resolve",
			"the environment of the running server",
			"not in that of the shell that runs caddy reload",
			"for a secret that will be rotated use {file./path}",
		} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("%s: load error %q does not say %q", directive, err, want)
			}
		}
	}
}

// TestOverwrittenSecretFileNeedsForce: what the README says of rotating a
// {file.*} secret in place. The config names the file, not its content,
// so after the file is overwritten a plain reload is "config is
// unchanged" and the old secret stays in force; a forced reload (caddy
// reload --force) reads the file again.
func TestOverwrittenSecretFileNeedsForce(t *testing.T) {
	skipShort(t)
	up := newUpstream(t)
	path := filepath.Join(t.TempDir(), "github.secret")
	a, b := rawSecret(t), rawSecret(t)
	if err := os.WriteFile(path, []byte(a+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	site := fmt.Sprintf(`
http://localhost:%d {
	webhook_verify github {file.%s}
	reverse_proxy %s
%s}
`, httpPort, path, up.addr(), errorsBlock)
	loadConfig(t, site)
	sign := presetSigner(t, "github")
	check := func(when string, secret string, status int) {
		t.Helper()
		body := randomBody(t, 100)
		if got := send(t, delivery{Path: "/", Body: body, Header: sign(secret, body, deliveryID(t), time.Now())}).Status; got != status {
			t.Errorf("%s: status %d, want %d", when, got, status)
		}
	}
	check("loaded", a, http.StatusOK)
	if err := os.WriteFile(path, []byte(b+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := postLoad(t, globalOptions+site); err != nil {
		t.Fatal(err)
	}
	check("file overwritten, plain reload: still the old secret", a, http.StatusOK)
	check("file overwritten, plain reload: not yet the new one", b, http.StatusUnauthorized)
	if err := postLoadForce(t, globalOptions+site); err != nil {
		t.Fatal(err)
	}
	check("forced reload: the new secret", b, http.StatusOK)
	check("forced reload: the old one is gone", a, http.StatusUnauthorized)
}

// expiryLines are the "secret has expired" warnings for key in the log.
func expiryLines(t *testing.T, path, logger, key string) []logEntry {
	t.Helper()
	var out []logEntry
	for _, e := range readLogIfAny(t, path) {
		if e.str("logger") == logger && e.str("msg") == "secret has expired and is no longer accepted" && e.str("key") == key {
			out = append(out, e)
		}
	}
	return out
}

// TestExpiredSecretOutcome (issue 12, item 3): on a route with a current
// secret, one that expired before the load ("old") and one that expires
// a few seconds after it ("soon"):
//   - a webhook signed with old is refused 401 as expired_secret, in the
//     detail (which names "old"), the rejection log line (reason and key)
//     and the metric (outcome expired_secret, key old);
//   - soon's expiry is logged when it happens, while the config runs, by
//     webhook_verify and by webhook_sign alike (one WARN line each, with
//     the key's label), and a webhook signed with soon is then refused as
//     expired_secret under key soon.
func TestExpiredSecretOutcome(t *testing.T) {
	skipShort(t)
	up := newUpstream(t)
	logPath := filepath.Join(t.TempDir(), "caddy.log")
	current, old, soon := rawSecret(t), rawSecret(t), rawSecret(t)
	signCurrent, signSoon := whsecSecret(t), whsecSecret(t)
	// Whole seconds (RFC 3339), a few ahead of the load.
	soonAt := time.Now().Add(6 * time.Second).Truncate(time.Second)
	oldAt := time.Now().Add(-time.Hour).Truncate(time.Second)
	config := debugLogOptions(logPath) + fmt.Sprintf(`
http://localhost:%d {
	handle /hook {
		webhook_verify github {
			secret %q label current
			secret %q label old not_after %s
			secret %q label soon not_after %s
			name expiry-route
		}
		reverse_proxy %s
	}
	handle /sign {
		webhook_sign standard {
			secret %q label sign-current
			secret %q label sign-soon not_after %s
			name expiry-sign
		}
		reverse_proxy %s
	}
	handle /metrics {
		metrics
	}
%s}
`, httpPort, current, old, oldAt.Format(time.RFC3339), soon, soonAt.Format(time.RFC3339), up.addr(),
		signCurrent, signSoon, soonAt.Format(time.RFC3339), up.addr(), errorsBlock)
	loadFullConfig(t, config)
	if !time.Now().Before(soonAt) {
		t.Fatal("the load took so long that soon expired before it was running; the test cannot tell when the expiry was logged")
	}

	series := func(key string) string {
		return fmt.Sprintf(`caddy_webhook_requests_total{handler="verify",key=%q,outcome="expired_secret",route="expiry-route",scheme="github"}`, key)
	}
	github := presetSigner(t, "github")
	post := func(secret string) answer {
		body := randomBody(t, 512)
		return send(t, delivery{Path: "/hook", Body: body, Header: github(secret, body, deliveryID(t), time.Now())})
	}
	before := scrape(t)

	wantStatus(t, post(soon), http.StatusOK) // not yet expired
	a := post(old)
	wantRejected(t, a, http.StatusUnauthorized, up, 1)
	if !strings.Contains(a.Body, `expired_secret`) || !strings.Contains(a.Body, `secret "old", which expired at `+oldAt.UTC().Format(time.RFC3339)) {
		t.Errorf("the refusal's {err.message} does not name the expired secret: %q", a.Body)
	}
	for _, l := range []struct{ logger, key string }{{"http.handlers.webhook_verify", "soon"}, {"http.handlers.webhook_sign", "sign-soon"}} {
		if n := len(expiryLines(t, logPath, l.logger, l.key)); n != 0 {
			t.Fatalf("%s: %s logged as expired before its not_after", l.logger, l.key)
		}
	}

	// soon's not_after passes while the config runs: each handler logs it,
	// once, without a reload.
	deadline := soonAt.Add(15 * time.Second)
	for len(expiryLines(t, logPath, "http.handlers.webhook_verify", "soon")) == 0 ||
		len(expiryLines(t, logPath, "http.handlers.webhook_sign", "sign-soon")) == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("no expiry warning for soon and sign-soon by %s after their not_after", time.Since(soonAt).Round(time.Second))
		}
		time.Sleep(100 * time.Millisecond)
	}
	for _, l := range []struct{ logger, key, route string }{
		{"http.handlers.webhook_verify", "soon", "expiry-route"},
		{"http.handlers.webhook_sign", "sign-soon", "expiry-sign"},
	} {
		lines := expiryLines(t, logPath, l.logger, l.key)
		if len(lines) != 1 || lines[0].str("level") != "warn" || lines[0].str("route") != l.route {
			t.Errorf("%s: want one WARN line for %s on route %s, got %d: %v", l.logger, l.key, l.route, len(lines), lines)
		}
	}
	if time.Now().Before(soonAt) {
		t.Fatal("the expiry was logged before not_after")
	}

	a = post(soon)
	wantRejected(t, a, http.StatusUnauthorized, up, 1)
	if !strings.Contains(a.Body, `secret "soon", which expired`) {
		t.Errorf("the refusal's {err.message} does not name soon: %q", a.Body)
	}
	wantStatus(t, post(current), http.StatusOK)
	// The signing route signs with what is left.
	wantStatus(t, send(t, delivery{Path: "/sign", Body: []byte(`{"after":"expiry"}`)}), http.StatusOK)
	if got := up.all()[2].Header.Values("Webhook-Signature"); len(got) != 1 || strings.Count(got[0], "v1,") != 1 {
		t.Errorf("after sign-soon expired, the sign route sent signatures %q; want one, with sign-current", got)
	}

	after := scrape(t)
	for _, key := range []string{"old", "soon"} {
		if d := after.values[series(key)] - before.values[series(key)]; d != 1 {
			t.Errorf("%s went up by %v, want 1", series(key), d)
		}
	}
	wrong := `caddy_webhook_requests_total{handler="verify",key="",outcome="wrong_signature",route="expiry-route",scheme="github"}`
	if d := after.values[wrong] - before.values[wrong]; d != 0 {
		t.Errorf("%s went up by %v: a signature under an expired secret was counted as a wrong one", wrong, d)
	}

	flushLog(t)
	var refused []logEntry
	for _, e := range readLogIfAny(t, logPath) {
		if e.str("msg") == "webhook rejected" && e.str("route") == "expiry-route" {
			refused = append(refused, e)
		}
	}
	if len(refused) != 2 {
		t.Fatalf("want 2 rejection lines on expiry-route, got %d", len(refused))
	}
	for i, key := range []string{"old", "soon"} {
		e := refused[i]
		if e.str("reason") != "expired_secret" || e.str("key") != key || !strings.Contains(e.str("detail"), strconv.Quote(key)) {
			t.Errorf("rejection line %d: reason %q key %q detail %q; want expired_secret naming %s", i, e.str("reason"), e.str("key"), e.str("detail"), key)
		}
		for _, s := range []string{current, old, soon} {
			if strings.Contains(e.raw, s) {
				t.Errorf("rejection line %d holds a secret", i)
			}
		}
	}
}

// TestTruncatedSignatureRefused (issue 12): through a real Caddy, a
// signature that is the start (1, 16 or 31 bytes) of the valid
// HMAC-SHA256 of the request, in the scheme's own encoding and header
// layout, is refused with 401 by every HMAC-SHA256 preset, and nothing
// reaches the app.
func TestTruncatedSignatureRefused(t *testing.T) {
	g := startGateway(t)
	for _, r := range g.routes {
		if r.block != "" && r.name != "decsys" { // generic schemes; decsys's block only names it
			continue
		}
		s, err := preset.Get(r.scheme, preset.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if s.Compares() {
			continue
		}
		key, err := s.DecodeSecret(r.secret)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range []int{1, 16, 31} {
			t.Run(fmt.Sprintf("%s/%d_bytes", r.name, n), func(t *testing.T) {
				g.up.reset()
				body := randomBody(t, 1000)
				id, ts := deliveryID(t), time.Now()
				h := r.sign(r.secret, body, id, ts)
				full := s.Digest(key, id, strconv.FormatInt(ts.Unix(), 10), body)
				v := h.Get(r.sigHeader)
				if len(full) != 32 || !strings.Contains(v, s.Encode(full)) {
					t.Fatalf("%s = %q does not hold the request's HMAC-SHA256 as encoded", r.sigHeader, v)
				}
				// The whole signature passes: the test sends what it means to.
				wantStatus(t, send(t, delivery{Path: "/" + r.name, Body: body, Header: h}), http.StatusOK)
				g.up.reset()
				h.Set(r.sigHeader, strings.Replace(v, s.Encode(full), s.Encode(full[:n]), 1))
				wantRejected(t, send(t, delivery{Path: "/" + r.name, Body: body, Header: h}), http.StatusUnauthorized, g.up, 0)
			})
		}
	}
}

// TestEmptyBodyUnsignedRefused (issue 12): a request with an empty body
// (Content-Length: 0) and no signature header is refused with 401 by
// webhook_verify on every route, whatever the scheme, and reaches no app;
// the same empty body correctly signed passes, so empty bodies are
// verified, not refused as such.
func TestEmptyBodyUnsignedRefused(t *testing.T) {
	g := startGateway(t)
	for _, r := range g.routes {
		t.Run(r.name, func(t *testing.T) {
			g.up.reset()
			wantRejected(t, send(t, delivery{Path: "/" + r.name}), http.StatusUnauthorized, g.up, 0)
			wantStatus(t, send(t, delivery{Path: "/" + r.name, Header: r.sign(r.secret, nil, deliveryID(t), time.Now())}), http.StatusOK)
			got := g.up.only(t)
			if got.ContentLength != 0 || got.Size != 0 {
				t.Errorf("the signed empty body reached the app as %d bytes (Content-Length %d)", got.Size, got.ContentLength)
			}
		})
	}
}
