package integration

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestSecretRotation: /rotate has three labelled github secrets, "old"
// (not_after in 2099), "new", and "retired" (not_after in 2020). A webhook
// signed with old or new passes and the matching label reaches the
// upstream as {http.webhook.key}; one signed with the retired secret gets
// 401.
func TestSecretRotation(t *testing.T) {
	g := startGateway(t)
	sign := presetSigner(t, "github")
	for _, c := range []struct {
		label, secret string
		pass          bool
	}{
		{"old", g.rotateOld, true},
		{"new", g.rotateNew, true},
		{"retired", g.rotateRetired, false},
	} {
		t.Run(c.label, func(t *testing.T) {
			g.up.reset()
			body := randomBody(t, 2048)
			a := send(t, delivery{Path: "/rotate", Body: body, Header: sign(c.secret, body, deliveryID(t), time.Now())})
			if !c.pass {
				wantRejected(t, a, http.StatusUnauthorized, g.up, 0)
				return
			}
			wantStatus(t, a, http.StatusOK)
			got := g.up.only(t)
			wantBodyThrough(t, got, body)
			if k := got.Header.Get("X-Webhook-Key"); k != c.label {
				t.Errorf("X-Webhook-Key = %q, want %q", k, c.label)
			}
		})
	}
}

// TestPlaceholders checks, on the standard route (which has an id and a
// timestamp), that {http.webhook.verified}, {http.webhook.scheme},
// {http.webhook.id}, {http.webhook.timestamp} and {http.webhook.key} reach
// the upstream through header_up, and that the key is the secret's
// fingerprint, never the secret.
func TestPlaceholders(t *testing.T) {
	g := startGateway(t)
	r := g.route(t, "standard")
	body := []byte(`{"type":"invoice.paid"}`)
	id, ts := "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W", time.Now().Add(-time.Minute)
	a := send(t, delivery{Path: "/standard", Body: body, Header: r.sign(r.secret, body, id, ts)})
	wantStatus(t, a, http.StatusOK)
	got := g.up.only(t)
	for k, want := range map[string]string{
		"X-Webhook-Verified":  "true",
		"X-Webhook-Scheme":    "standard",
		"X-Webhook-Id":        id,
		"X-Webhook-Timestamp": strconv.FormatInt(ts.Unix(), 10),
		"X-Webhook-Key":       r.keyPlaceholder, // caddymodule.Fingerprint of the decoded key
	} {
		if v := got.Header.Get(k); v != want {
			t.Errorf("upstream %s = %q, want %q", k, v, want)
		}
	}
	for k, vs := range got.Header {
		for _, v := range vs {
			if strings.Contains(v, strings.TrimPrefix(r.secret, "whsec_")) {
				t.Errorf("upstream header %s carries the secret", k)
			}
		}
	}
}

// TestStripSignature: /strip (svix with strip_signature) removes the
// signature header, whichever header set the sender used, and keeps the
// id and timestamp headers; /svix (no strip_signature) passes every header
// unchanged.
func TestStripSignature(t *testing.T) {
	g := startGateway(t)
	svix, standard := presetSigner(t, "svix"), presetSigner(t, "standard")
	for _, c := range []struct {
		name, path, secret string
		sign               signFunc
		sig                string
		kept               []string
		strip              bool
	}{
		{"svix_headers", "/strip", g.stripSvix, svix, "Svix-Signature", []string{"Svix-Id", "Svix-Timestamp"}, true},
		{"webhook_headers", "/strip", g.stripSvix, standard, "Webhook-Signature", []string{"Webhook-Id", "Webhook-Timestamp"}, true},
		{"no_strip", "/svix", g.route(t, "svix").secret, svix, "Svix-Signature", []string{"Svix-Id", "Svix-Timestamp"}, false},
		{"no_strip_webhook_headers", "/svix", g.route(t, "svix").secret, standard, "Webhook-Signature", []string{"Webhook-Id", "Webhook-Timestamp"}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			g.up.reset()
			body := randomBody(t, 4096)
			h := c.sign(c.secret, body, deliveryID(t), time.Now())
			h.Set("X-Sender-Note", "kept as sent")
			if h.Get(c.sig) == "" {
				t.Fatalf("signer set no %s", c.sig)
			}
			wantStatus(t, send(t, delivery{Path: c.path, Body: body, Header: h}), http.StatusOK)
			got := g.up.only(t)
			wantBodyThrough(t, got, body)
			if c.strip {
				if v := got.Header.Values(c.sig); len(v) != 0 {
					t.Errorf("upstream got %s = %q despite strip_signature", c.sig, v)
				}
				h.Del(c.sig)
			}
			wantHeadersThrough(t, got, h) // id, timestamp, X-Sender-Note, and the signature unless stripped
			for _, k := range c.kept {
				if got.Header.Get(k) == "" {
					t.Errorf("upstream lost %s", k)
				}
			}
		})
	}
}

// TestInsecureUnsigned: /dev (insecure_unsigned, no secret) passes a
// request with no signature, or a bogus one, body intact (also when sent
// chunked), with {http.webhook.verified} false; max_body still holds.
func TestInsecureUnsigned(t *testing.T) {
	g := startGateway(t)
	for _, c := range []struct {
		name    string
		h       http.Header
		chunked bool
	}{
		{"unsigned", http.Header{}, false},
		{"unsigned_chunked", http.Header{}, true},
		{"bogus", http.Header{"X-Hub-Signature-256": {"sha256=00"}}, false},
	} {
		h := c.h
		t.Run(c.name, func(t *testing.T) {
			g.up.reset()
			body := randomBody(t, 3000)
			wantStatus(t, send(t, delivery{Path: "/dev", Body: body, Header: h, Chunked: c.chunked}), http.StatusOK)
			got := g.up.only(t)
			wantBodyThrough(t, got, body)
			wantHeadersThrough(t, got, h)
			if v := got.Header.Get("X-Webhook-Verified"); v != "false" {
				t.Errorf("X-Webhook-Verified = %q, want false", v)
			}
			if v := got.Header.Get("X-Webhook-Scheme"); v != "github" {
				t.Errorf("X-Webhook-Scheme = %q, want github", v)
			}
		})
	}
	tooBig := randomBody(t, maxBody+1)
	t.Run("over_max_body/content-length", func(t *testing.T) {
		before := g.up.count()
		a := send(t, delivery{Path: "/dev", Body: tooBig, Expect100: true})
		wantRejected(t, a, http.StatusRequestEntityTooLarge, g.up, before)
		if a.BodyRead != 0 {
			t.Errorf("the client sent %d body bytes; want a 413 before the body is read", a.BodyRead)
		}
	})
	t.Run("over_max_body/chunked", func(t *testing.T) {
		before := g.up.count()
		wantRejected(t, send(t, delivery{Path: "/dev", Body: tooBig, Chunked: true}), http.StatusRequestEntityTooLarge, g.up, before)
	})
}

// TestHandleErrorsShapesRejection: the site's handle_errors answers a 401
// and a 413 with its own body, so rejections go through Caddy's error
// handling (a handler that wrote the response itself would bypass it).
func TestHandleErrorsShapesRejection(t *testing.T) {
	g := startGateway(t)
	a := send(t, delivery{Path: "/github", Body: []byte("{}")})
	wantRejected(t, a, http.StatusUnauthorized, g.up, 0)
	if !strings.Contains(a.Body, "X-Hub-Signature-256") {
		t.Errorf("handle_errors body %q: {err.message} should name the missing header", a.Body)
	}
	a = send(t, delivery{Path: "/github", Body: randomBody(t, maxBody+1), Expect100: true})
	wantRejected(t, a, http.StatusRequestEntityTooLarge, g.up, 0)
}

// TestRoutesAreIndependent: /github and /github-other use the same scheme
// with different secrets; a webhook signed for one passes there and gets
// 401 on the other, both ways.
func TestRoutesAreIndependent(t *testing.T) {
	g := startGateway(t)
	sign := presetSigner(t, "github")
	secrets := map[string]string{"/github": g.route(t, "github").secret, "/github-other": g.otherGitHub}
	for signedFor, secret := range secrets {
		for path := range secrets {
			t.Run("signed_for_"+signedFor[1:]+"/sent_to_"+path[1:], func(t *testing.T) {
				g.up.reset()
				body := randomBody(t, 1000)
				a := send(t, delivery{Path: path, Body: body, Header: sign(secret, body, deliveryID(t), time.Now())})
				if path != signedFor {
					wantRejected(t, a, http.StatusUnauthorized, g.up, 0)
					return
				}
				wantStatus(t, a, http.StatusOK)
				wantBodyThrough(t, g.up.only(t), body)
			})
		}
	}
}

// TestSecretsFromEnvAndFile loads routes whose secrets are {env.NAME} and
// {file./path} placeholders (the file ending in a newline, as editors and
// echo write it): webhooks signed with those secrets pass, others do not,
// and neither secret appears in the config the admin API serves.
func TestSecretsFromEnvAndFile(t *testing.T) {
	skipShort(t)
	up := newUpstream(t)
	envSecret, fileSecret := rawSecret(t), stripeSecret(t)
	t.Setenv("HOOKGUARD_IT_GITHUB_SECRET", envSecret)
	path := filepath.Join(t.TempDir(), "stripe-secret")
	if err := os.WriteFile(path, []byte(fileSecret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	loadConfig(t, proxySnippet(up)+fmt.Sprintf(`
http://localhost:%d {
	handle /env {
		webhook_verify github {env.HOOKGUARD_IT_GITHUB_SECRET}
		import proxy
	}
	handle /file {
		webhook_verify stripe {file.%s}
		import proxy
	}
%s}
`, httpPort, path, errorsBlock))

	if cfg := runningConfig(t); strings.Contains(cfg, envSecret) || strings.Contains(cfg, fileSecret) {
		t.Errorf("the admin API's /config/ contains a secret")
	}
	github := presetSigner(t, "github")
	for _, c := range []struct {
		name, path, secret string
		sign               signFunc
		pass               bool
	}{
		{"env", "/env", envSecret, github, true},
		{"env_wrong", "/env", rawSecret(t), github, false},
		{"file", "/file", fileSecret, stripeSign, true},
		{"file_with_newline", "/file", fileSecret + "\n", stripeSign, false},
		{"file_wrong", "/file", stripeSecret(t), stripeSign, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			up.reset()
			body := randomBody(t, 777)
			a := send(t, delivery{Path: c.path, Body: body, Header: c.sign(c.secret, body, deliveryID(t), time.Now())})
			if !c.pass {
				wantRejected(t, a, http.StatusUnauthorized, up, 0)
				return
			}
			wantStatus(t, a, http.StatusOK)
			wantBodyThrough(t, up.only(t), body)
		})
	}
}

// TestUnresolvedSecretFailsLoad: a secret whose {env.NAME} is unset, or
// whose {file./path} does not exist, makes the config fail to load with an
// error that names the placeholder; the config that was running stays.
func TestUnresolvedSecretFailsLoad(t *testing.T) {
	g := startGateway(t)
	for _, c := range []struct{ name, placeholder string }{
		{"env", "{env.HOOKGUARD_IT_UNSET_SECRET}"},
		{"file", "{file." + filepath.Join(t.TempDir(), "missing") + "}"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Setenv("HOOKGUARD_IT_UNSET_SECRET", "") // restored after the test
			os.Unsetenv("HOOKGUARD_IT_UNSET_SECRET")
			err := postLoad(t, globalOptions+fmt.Sprintf(`
http://localhost:%d {
	webhook_verify github %s
	respond "should not be running" 200
}
`, httpPort, c.placeholder))
			if err == nil {
				t.Fatal("config with an unresolvable secret loaded")
			}
			for _, want := range []string{c.placeholder, "did not resolve"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("load error %q does not contain %q", err, want)
				}
			}
			// The previous config still answers.
			r := g.route(t, "github")
			g.up.reset()
			body := randomBody(t, 10)
			wantStatus(t, send(t, delivery{Path: "/github", Body: body, Header: r.sign(r.secret, body, "x", time.Now())}), http.StatusOK)
			wantBodyThrough(t, g.up.only(t), body)
		})
	}
}

// TestMetrics: caddy_webhook_requests_total counts a verified and a
// rejected webhook under their scheme, route name and outcome (the key label is the
// secret's fingerprint, never the secret), verify_duration_seconds counts
// the verified one, and no delivery id shows up in the metrics. Metrics
// persist across config loads in one process, so only deltas are checked.
func TestMetrics(t *testing.T) {
	g := startGateway(t)
	r := g.route(t, "decsys")
	verified := fmt.Sprintf(`caddy_webhook_requests_total{handler="verify",key=%q,outcome="verified",route="decsys-hooks",scheme="decsys"}`, r.keyPlaceholder)
	rejected := `caddy_webhook_requests_total{handler="verify",key="",outcome="wrong_signature",route="decsys-hooks",scheme="decsys"}`
	duration := `caddy_webhook_verify_duration_seconds_count{outcome="verified",route="decsys-hooks",scheme="decsys"}`
	failedDuration := `caddy_webhook_verify_duration_seconds_count{outcome="wrong_signature",route="decsys-hooks",scheme="decsys"}`

	before := scrape(t)
	body := randomBody(t, 100)
	id := deliveryID(t)
	wantStatus(t, send(t, delivery{Path: "/decsys", Body: body, Header: r.sign(r.secret, body, id, time.Now())}), http.StatusOK)
	wantRejected(t, send(t, delivery{Path: "/decsys", Body: body, Header: r.sign(r.other, body, id, time.Now())}), http.StatusUnauthorized, g.up, 1)
	after := scrape(t)

	for _, m := range []string{verified, rejected, duration, failedDuration} {
		if d := after.values[m] - before.values[m]; d != 1 {
			t.Errorf("%s went up by %v, want 1", m, d)
		}
	}
	for _, s := range []string{id, r.secret, r.other} {
		if strings.Contains(after.text, s) {
			t.Errorf("metrics contain %q", s)
		}
	}
}

type metricsPage struct {
	text   string
	values map[string]float64 // series (name and labels as printed) to value
}

// scrape reads the gateway's /metrics (Prometheus text format).
func scrape(t *testing.T) metricsPage {
	t.Helper()
	resp, err := client.Get(gatewayURL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: %d %v", resp.StatusCode, err)
	}
	p := metricsPage{text: string(b), values: map[string]float64{}}
	for _, line := range strings.Split(p.text, "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			continue
		}
		if v, err := strconv.ParseFloat(line[i+1:], 64); err == nil {
			p.values[line[:i]] = v
		}
	}
	return p
}
