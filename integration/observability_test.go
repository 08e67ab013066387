package integration

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2/caddytest"
)

// Issue 9: the metrics, rejection logs and load lines of webhook_verify
// and webhook_sign, observed from outside, through a real Caddy.

// infoLogOptions is globalOptions with every log line at INFO and above
// written to path (not DEBUG: Caddy's own error log would then add a line
// per rejected request).
func infoLogOptions(path string) string {
	return strings.Replace(globalOptions, "grace_period 1ns\n", fmt.Sprintf("grace_period 1ns\n\tlog {\n\t\toutput file %s\n\t\tlevel INFO\n\t}\n", path), 1)
}

// logEntry is one JSON log line: its raw text and its fields.
type logEntry struct {
	raw    string
	fields map[string]any
}

func (e logEntry) str(k string) string { s, _ := e.fields[k].(string); return s }

// readLogIfAny is readLog of a log that may not have been written yet.
func readLogIfAny(t *testing.T, path string) []logEntry {
	t.Helper()
	if _, err := os.Stat(path); os.IsNotExist(err) {
		return nil
	}
	return readLog(t, path)
}

// readLog parses every JSON line of the log file at path.
func readLog(t *testing.T, path string) []logEntry {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []logEntry
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var m map[string]any
		if json.Unmarshal(sc.Bytes(), &m) != nil {
			continue
		}
		out = append(out, logEntry{raw: sc.Text(), fields: m})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// entriesOf returns the entries with message msg on route.
func entriesOf(log []logEntry, msg, route string) []logEntry {
	var out []logEntry
	for _, e := range log {
		if e.str("msg") == msg && e.str("route") == route {
			out = append(out, e)
		}
	}
	return out
}

// reqSeries and durSeries name a series of caddy_webhook_requests_total
// and the count of caddy_webhook_verify_duration_seconds as /metrics
// prints them (labels sorted).
func reqSeries(handler, scheme, route, outcome, key string) string {
	return fmt.Sprintf(`caddy_webhook_requests_total{handler=%q,key=%q,outcome=%q,route=%q,scheme=%q}`, handler, key, outcome, route, scheme)
}

func durSeries(scheme, route, outcome string) string {
	return fmt.Sprintf(`caddy_webhook_verify_duration_seconds_count{outcome=%q,route=%q,scheme=%q}`, outcome, route, scheme)
}

// webhookDeltas is how every hookguard series (requests_total and the
// duration histogram's count) changed from before to after; unchanged
// series are left out.
func webhookDeltas(before, after metricsPage) map[string]float64 {
	d := map[string]float64{}
	for k, v := range after.values {
		if !strings.HasPrefix(k, "caddy_webhook_requests_total{") && !strings.HasPrefix(k, "caddy_webhook_verify_duration_seconds_count{") {
			continue
		}
		if diff := v - before.values[k]; diff != 0 {
			d[k] = diff
		}
	}
	for k := range before.values {
		if _, ok := after.values[k]; !ok && strings.HasPrefix(k, "caddy_webhook_") {
			d[k+" (gone)"] = -1
		}
	}
	return d
}

// wantDeltas fails unless exactly the series in want changed, by the
// amounts in want.
func wantDeltas(t *testing.T, got, want map[string]float64) {
	t.Helper()
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s changed by %v, want %v", k, got[k], v)
		}
	}
	for k, v := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("%s changed by %v, want no change", k, v)
		}
	}
}

// obsSite is the site of the metric tests: a standard route with replay
// and labelled keys, an insecure_unsigned route, a webhook_sign route and
// an unnamed github route (whose name is generated), all proxied to up.
func obsSite(up *upstream, std, stdOther, gh, sign string, extra string) string {
	return fmt.Sprintf(`
http://localhost:%d {
	handle /std {
		webhook_verify standard {
			secret %q label k1
			secret %q label k2 not_after 2099-01-01T00:00:00Z
			max_body 64KiB
			name obs-std
			replay
		}
		reverse_proxy %s
	}
	handle /dev {
		webhook_verify github {
			insecure_unsigned
			name obs-dev
		}
		reverse_proxy %s
	}
	handle /sign {
		webhook_sign standard {
			secret %q label s1
			name obs-sign
		}
		reverse_proxy %s
	}
	handle /gh {
		webhook_verify github %q
		reverse_proxy %s
	}
	handle /metrics {
		metrics
	}
%s%s}
`, httpPort, std, stdOther, up.addr(), up.addr(), sign, up.addr(), gh, up.addr(), extra, errorsBlock)
}

// TestMetricsByOutcome (issue 9, 1): each outcome moves exactly its own
// series, by one: requests_total under its outcome and key, and the
// duration histogram under the outcome of the verification, for routes
// that verify. A duplicate counts only as duplicate, not as verified too.
func TestMetricsByOutcome(t *testing.T) {
	skipShort(t)
	up := newUpstream(t)
	std, k2, gh, signSecret, other := whsecSecret(t), whsecSecret(t), rawSecret(t), whsecSecret(t), whsecSecret(t)
	loadConfig(t, obsSite(up, std, k2, gh, signSecret, ""))
	signStd, signGH := presetSigner(t, "standard"), presetSigner(t, "github")
	const ghRoute = "verify github :9080" // generated: handler, scheme, listener

	body := []byte(`{"type":"invoice.paid"}`)
	first := signStd(std, body, deliveryID(t), time.Now())
	for _, c := range []struct {
		name   string
		d      delivery
		status int
		want   map[string]float64
	}{
		{"verified", delivery{Path: "/std", Body: body, Header: first}, http.StatusOK, map[string]float64{
			reqSeries("verify", "standard", "obs-std", "verified", "k1"): 1,
			durSeries("standard", "obs-std", "verified"):                 1,
		}},
		{"verified_second_key", delivery{Path: "/std", Body: body, Header: signStd(k2, body, deliveryID(t), time.Now())}, http.StatusOK, map[string]float64{
			reqSeries("verify", "standard", "obs-std", "verified", "k2"): 1,
			durSeries("standard", "obs-std", "verified"):                 1,
		}},
		// The same delivery again: answered from the replay store. It is
		// a duplicate and nothing else in requests_total; its
		// verification (which passed) is what the histogram times.
		{"duplicate", delivery{Path: "/std", Body: body, Header: first}, http.StatusOK, map[string]float64{
			reqSeries("verify", "standard", "obs-std", "duplicate", "k1"): 1,
			durSeries("standard", "obs-std", "verified"):                  1,
		}},
		{"wrong_signature", delivery{Path: "/std", Body: body, Header: signStd(other, body, deliveryID(t), time.Now())}, http.StatusUnauthorized, map[string]float64{
			reqSeries("verify", "standard", "obs-std", "wrong_signature", ""): 1,
			durSeries("standard", "obs-std", "wrong_signature"):               1,
		}},
		// No signature header at all: the reason is missing_header.
		{"missing_header", delivery{Path: "/std", Body: body}, http.StatusUnauthorized, map[string]float64{
			reqSeries("verify", "standard", "obs-std", "missing_header", ""): 1,
			durSeries("standard", "obs-std", "missing_header"):               1,
		}},
		{"stale_timestamp", delivery{Path: "/std", Body: body, Header: signStd(std, body, deliveryID(t), time.Now().Add(-time.Hour))}, http.StatusUnauthorized, map[string]float64{
			reqSeries("verify", "standard", "obs-std", "stale_timestamp", ""): 1,
			durSeries("standard", "obs-std", "stale_timestamp"):               1,
		}},
		// Over max_body by its Content-Length: refused before anything
		// is read or checked, so there is no verification to time.
		{"body_too_large/content-length", delivery{Path: "/std", Body: make([]byte, 65<<10), Header: signStd(std, body, deliveryID(t), time.Now()), Expect100: true}, http.StatusRequestEntityTooLarge, map[string]float64{
			reqSeries("verify", "standard", "obs-std", "body_too_large", ""): 1,
		}},
		// Over max_body while reading a chunked body: timed.
		{"body_too_large/chunked", delivery{Path: "/std", Body: make([]byte, 65<<10), Header: signStd(std, body, deliveryID(t), time.Now()), Chunked: true}, http.StatusRequestEntityTooLarge, map[string]float64{
			reqSeries("verify", "standard", "obs-std", "body_too_large", ""): 1,
			durSeries("standard", "obs-std", "body_too_large"):               1,
		}},
		// insecure_unsigned verifies nothing, so nothing is timed.
		{"unsigned", delivery{Path: "/dev", Body: body}, http.StatusOK, map[string]float64{
			reqSeries("verify", "github", "obs-dev", "unsigned", ""): 1,
		}},
		{"signed", delivery{Path: "/sign", Body: body}, http.StatusOK, map[string]float64{
			reqSeries("sign", "standard", "obs-sign", "signed", "s1"): 1,
		}},
		{"generated_route_name", delivery{Path: "/gh", Body: body, Header: signGH(gh, body, deliveryID(t), time.Now())}, http.StatusOK, map[string]float64{
			reqSeries("verify", "github", ghRoute, "verified", fingerprint(t, "github", "", gh)): 1,
			durSeries("github", ghRoute, "verified"):                                             1,
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			before := scrape(t)
			a := send(t, c.d)
			wantStatus(t, a, c.status)
			if c.name == "duplicate" && a.Header.Get("Webhook-Duplicate") != "true" {
				t.Fatal("the replayed delivery was not answered as a duplicate")
			}
			wantDeltas(t, webhookDeltas(before, scrape(t)), c.want)
		})
	}

	// A client that sends its headers (validly signed) and part of the
	// body, then hangs up: the request has an outcome all the same.
	t.Run("body_cut_short", func(t *testing.T) {
		before := scrape(t)
		conn, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", httpPort))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		var req strings.Builder
		fmt.Fprintf(&req, "POST /std HTTP/1.1\r\nHost: localhost:%d\r\nContent-Length: %d\r\n", httpPort, len(body)+100)
		for k, vs := range signStd(std, body, deliveryID(t), time.Now()) {
			fmt.Fprintf(&req, "%s: %s\r\n", k, vs[0])
		}
		req.WriteString("\r\n")
		req.Write(body)
		if _, err := io.WriteString(conn, req.String()); err != nil {
			t.Fatal(err)
		}
		conn.(*net.TCPConn).CloseWrite()
		conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		io.Copy(io.Discard, conn) // whatever answer there is, and the close
		want := map[string]float64{
			reqSeries("verify", "standard", "obs-std", "error", ""): 1,
			durSeries("standard", "obs-std", "error"):               1,
		}
		for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			got := webhookDeltas(before, scrape(t))
			if len(got) >= len(want) || time.Now().After(deadline) {
				wantDeltas(t, got, want)
				break
			}
		}
	})
}

// TestMetricsSurviveReload (issue 9, 2): the counters and the histogram
// keep their values across a load of the same config (which Caddy skips),
// a forced reload of it (what `caddy reload --force` does: the config is
// provisioned anew, every handler with it), and a reload of a changed
// config, and then go on growing; the generated name of an unnamed route
// is the same after each, so its series carries over too.
func TestMetricsSurviveReload(t *testing.T) {
	skipShort(t)
	up := newUpstream(t)
	std, k2, gh, signSecret := whsecSecret(t), whsecSecret(t), rawSecret(t), whsecSecret(t)
	config := globalOptions + obsSite(up, std, k2, gh, signSecret, "")
	loadConfig(t, obsSite(up, std, k2, gh, signSecret, ""))
	signStd, signGH := presetSigner(t, "standard"), presetSigner(t, "github")
	ghKey := fingerprint(t, "github", "", gh)
	series := []string{
		reqSeries("verify", "standard", "obs-std", "verified", "k1"),
		durSeries("standard", "obs-std", "verified"),
		reqSeries("verify", "github", "verify github :9080", "verified", ghKey),
		reqSeries("sign", "standard", "obs-sign", "signed", "s1"),
	}
	sendAll := func(t *testing.T) {
		t.Helper()
		b := randomBody(t, 64)
		wantStatus(t, send(t, delivery{Path: "/std", Body: b, Header: signStd(std, b, deliveryID(t), time.Now())}), http.StatusOK)
		wantStatus(t, send(t, delivery{Path: "/gh", Body: b, Header: signGH(gh, b, deliveryID(t), time.Now())}), http.StatusOK)
		wantStatus(t, send(t, delivery{Path: "/sign", Body: b}), http.StatusOK)
	}
	const reloaded = "caddy_config_last_reload_success_timestamp_seconds"

	sendAll(t)
	sendAll(t)
	last := scrape(t)
	for _, s := range series {
		if last.values[s] < 2 {
			t.Fatalf("%s = %v after two requests, want at least 2", s, last.values[s])
		}
	}
	for _, step := range []struct {
		name     string
		reload   func(t *testing.T)
		reloaded bool // Caddy provisions the config again
	}{
		{"same_config", func(t *testing.T) {
			if err := postLoad(t, config); err != nil {
				t.Fatal(err)
			}
		}, false},
		{"forced", func(t *testing.T) { forceLoad(t, config) }, true},
		{"forced_again", func(t *testing.T) { forceLoad(t, config) }, true},
		{"changed_config", func(t *testing.T) {
			if err := postLoad(t, globalOptions+obsSite(up, std, k2, gh, signSecret, "\thandle /other {\n\t\trespond \"other\"\n\t}\n")); err != nil {
				t.Fatal(err)
			}
		}, true},
	} {
		t.Run(step.name, func(t *testing.T) {
			time.Sleep(10 * time.Millisecond) // the reload timestamp must be able to move
			step.reload(t)
			now := scrape(t)
			if moved := now.values[reloaded] != last.values[reloaded]; moved != step.reloaded {
				t.Fatalf("%s moved: %v, want %v (the step does not test what it says)", reloaded, moved, step.reloaded)
			}
			for _, s := range series {
				if now.values[s] != last.values[s] {
					t.Errorf("%s = %v after the reload, want %v as before it", s, now.values[s], last.values[s])
				}
			}
			sendAll(t)
			after := scrape(t)
			for _, s := range series {
				if after.values[s] != last.values[s]+1 {
					t.Errorf("%s = %v after one more request, want %v", s, after.values[s], last.values[s]+1)
				}
			}
			last = after
		})
	}
}

// Ports of the hookguard process TestMetricsSurviveBinaryReload starts:
// its own, clear of caddytest's (2999, 9080, 9443), the burst test's
// (2996, 9380), the redis tests' (2992, 2993, 9390, 9391) and
// Caddyfile.example's (2019, 8080, 8090, 8443).
const (
	reloadAdminPort = 2994
	reloadHTTPPort  = 9384
)

// TestMetricsSurviveBinaryReload (issue 9, 2) runs the built hookguard
// binary and reloads it with `hookguard reload --force`, unchanged
// config: the route is loaded again (a second "webhook route loaded"
// line) and its counter keeps its value, then grows.
func TestMetricsSurviveBinaryReload(t *testing.T) {
	skipShort(t)
	bin := signBinary(t)
	up := newUpstream(t)
	secret := rawSecret(t)
	home := t.TempDir()
	caddyfile := filepath.Join(home, "Caddyfile")
	if err := os.WriteFile(caddyfile, []byte(fmt.Sprintf(`{
	admin localhost:%d
	http_port %d
	auto_https off
	persist_config off
	grace_period 1ns
}
http://127.0.0.1:%d {
	handle /hook {
		webhook_verify github {
			secret %q label bin
			name bin-hook
		}
		reverse_proxy %s
	}
	handle /metrics {
		metrics
	}
}
`, reloadAdminPort, reloadHTTPPort, reloadHTTPPort, secret, up.addr())), 0o600); err != nil {
		t.Fatal(err)
	}
	env := append(os.Environ(), "HOME="+home, "XDG_DATA_HOME="+filepath.Join(home, "data"), "XDG_CONFIG_HOME="+filepath.Join(home, "config"))
	cmd := hookguardCmd(bin, home, env, "run", "--config", caddyfile)
	logs := new(syncBuffer)
	cmd.Stdout, cmd.Stderr = io.Discard, logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	base := fmt.Sprintf("http://127.0.0.1:%d", reloadHTTPPort)
	for deadline := time.Now().Add(30 * time.Second); ; {
		if c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", reloadHTTPPort)); err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("hookguard did not start:\n%s", logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	series := reqSeries("verify", "github", "bin-hook", "verified", "bin")
	hook := func() {
		t.Helper()
		b := randomBody(t, 32)
		wantStatus(t, sendTo(t, base, delivery{Path: "/hook", Body: b, Header: presetSigner(t, "github")(secret, b, "d", time.Now())}), http.StatusOK)
	}
	value := func() float64 {
		t.Helper()
		resp, err := http.Get(base + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		for _, line := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, series+" "); ok {
				var f float64
				fmt.Sscan(v, &f)
				return f
			}
		}
		t.Fatalf("no series %s in /metrics:\n%s", series, b)
		return 0
	}
	hook()
	hook()
	if v := value(); v != 2 {
		t.Fatalf("%s = %v, want 2", series, v)
	}
	out, err := hookguardCmd(bin, home, env, "reload", "--config", caddyfile, "--force").CombinedOutput()
	if err != nil {
		t.Fatalf("hookguard reload --force: %v\n%s", err, out)
	}
	settle() // the client's connections to the old server, as postLoad does
	if n := strings.Count(logs.String(), `"msg":"webhook route loaded"`); n != 2 {
		t.Fatalf("%d \"webhook route loaded\" lines, want 2: the forced reload did not load the route again\n%s", n, logs.String())
	}
	if v := value(); v != 2 {
		t.Errorf("%s = %v after reload --force, want 2 as before", series, v)
	}
	hook()
	if v := value(); v != 3 {
		t.Errorf("%s = %v after one more webhook, want 3", series, v)
	}
}

// hookguardCmd is the hookguard binary bin run with args in dir, with env.
func hookguardCmd(bin, dir string, env []string, args ...string) *exec.Cmd {
	cmd := exec.Command(bin, args...)
	cmd.Dir, cmd.Env = dir, env
	return cmd
}

// TestNoSecretInMetricsOrLogs (issue 9, 3): valid and forged webhooks on
// github, standard and gitlab routes (gitlab's token header is the secret
// itself) and signed requests on a webhook_sign route, with every logger
// at DEBUG: no secret, in any spelling, is in /metrics or anywhere in the
// log, nor the signature a forged request would have needed (which the
// gateway computed); and neither /metrics nor hookguard's own log lines
// hold any signature or token header value, the ones sent, valid or
// forged, nor the ones webhook_sign sent on.
func TestNoSecretInMetricsOrLogs(t *testing.T) {
	skipShort(t)
	up := newUpstream(t)
	logPath := filepath.Join(t.TempDir(), "caddy.log")
	gh, std, token, sign := rawSecret(t), whsecSecret(t), rawSecret(t), whsecSecret(t)
	loadFullConfig(t, debugLogOptions(logPath)+fmt.Sprintf(`http://localhost:%d {
	handle /gh {
		webhook_verify github %q
		reverse_proxy %s
	}
	handle /std {
		webhook_verify standard %q {
			name sec-std
		}
		reverse_proxy %s
	}
	handle /gitlab {
		webhook_verify gitlab %q {
			name sec-gitlab
		}
		reverse_proxy %s
	}
	handle /sign {
		webhook_sign standard %q {
			name sec-sign
		}
		reverse_proxy %s
	}
	handle /metrics {
		metrics
	}
%s}
`, httpPort, gh, up.addr(), std, up.addr(), token, up.addr(), sign, up.addr(), errorsBlock))
	signGH, signStd := presetSigner(t, "github"), presetSigner(t, "standard")

	// sent: signature and token header values sent, valid or forged;
	// expected: the signatures the gateway computed for forged requests
	// (what would make them pass); signedOut: those webhook_sign sent on.
	var sent, expected, signedOut []string
	n := 0
	body := func() []byte { n++; return []byte(fmt.Sprintf(`{"event":"push","n":%d}`, n)) }
	post := func(path string, b []byte, h http.Header, status int) {
		t.Helper()
		for _, k := range []string{"X-Hub-Signature-256", "Webhook-Signature", "X-Gitlab-Token"} {
			if v := h.Get(k); v != "" {
				sent = append(sent, v)
			}
		}
		wantStatus(t, send(t, delivery{Path: path, Body: b, Header: h}), status)
	}
	// Valid, then forged: signed with another secret (the gateway
	// computes the right signature of that body, which must stay in),
	// tampered, and a token one character off.
	b := body()
	post("/gh", b, signGH(gh, b, "gh-1", time.Now()), http.StatusOK)
	b = body()
	post("/gh", b, signGH(rawSecret(t), b, "gh-2", time.Now()), http.StatusUnauthorized)
	expected = append(expected, signGH(gh, b, "gh-2", time.Now()).Get("X-Hub-Signature-256"))
	b = body()
	ts := time.Now()
	post("/std", b, signStd(std, b, "msg_1", ts), http.StatusOK)
	b = body()
	post("/std", b, signStd(whsecSecret(t), b, "msg_2", ts), http.StatusUnauthorized)
	expected = append(expected, strings.TrimPrefix(signStd(std, b, "msg_2", ts).Get("Webhook-Signature"), "v1,"))
	b = body()
	post("/gitlab", b, http.Header{"X-Gitlab-Token": {token}}, http.StatusOK)
	post("/gitlab", body(), http.Header{"X-Gitlab-Token": {token[:len(token)-1] + "x"}}, http.StatusUnauthorized)
	post("/gitlab", body(), http.Header{"X-Gitlab-Token": {rawSecret(t)}}, http.StatusUnauthorized)
	up.reset()
	post("/sign", body(), nil, http.StatusOK)
	post("/sign", body(), nil, http.StatusOK)
	for _, r := range up.all() {
		sig := r.Header.Get("Webhook-Signature")
		if sig == "" {
			t.Fatal("webhook_sign sent no Webhook-Signature")
		}
		signedOut = append(signedOut, strings.TrimPrefix(sig, "v1,"))
	}

	metrics := scrape(t).text
	if !strings.Contains(metrics, `route="sec-gitlab"`) || !strings.Contains(metrics, `outcome="signed"`) {
		t.Fatal("the metrics do not count the requests: the test is not looking at them")
	}
	// Loading another config closes the log file and flushes it.
	loadConfig(t, fmt.Sprintf("http://localhost:%d {\n\trespond ok\n}\n", httpPort))
	log := readLog(t, logPath)
	if !slices.ContainsFunc(log, func(e logEntry) bool { return e.str("level") == "debug" }) {
		t.Fatal("the log holds no debug lines: the test is not looking at debug output")
	}

	var forms []string
	forms = append(forms, secretForms(t, "github", gh)...)
	forms = append(forms, secretForms(t, "standard", std)...)
	forms = append(forms, secretForms(t, "gitlab", token)...)
	forms = append(forms, secretForms(t, "standard", sign)...)
	for i, f := range forms {
		if strings.Contains(metrics, f) {
			t.Errorf("/metrics holds secret form #%d", i)
		}
	}
	for _, s := range slices.Concat(expected, signedOut, sent) {
		if strings.Contains(metrics, s) {
			t.Errorf("/metrics holds a signature or token value %q", s)
		}
	}
	var ours int
	for _, e := range log {
		for i, f := range forms {
			if strings.Contains(e.raw, f) {
				t.Errorf("the log holds secret form #%d: %s", i, e.raw)
			}
		}
		for _, s := range expected {
			if strings.Contains(e.raw, s) {
				t.Errorf("the log holds the signature a forged request needed: %s", e.raw)
			}
		}
		// Caddy's reverse_proxy logs, at DEBUG, the request it sends
		// upstream, with webhook_sign's signature in it, as the receiver
		// sees it: that is Caddy's, not hookguard's, and not a secret.
		if !strings.HasPrefix(e.str("logger"), "http.handlers.webhook_") {
			continue
		}
		ours++
		for _, s := range slices.Concat(sent, signedOut) {
			if strings.Contains(e.raw, s) {
				t.Errorf("hookguard logged a signature or token header value: %s", e.raw)
			}
		}
	}
	if ours == 0 {
		t.Fatal("no hookguard log lines found")
	}
}

// TestRejectionLogFlood (issue 9, 4): 10,000 forged webhooks on one
// route, over kept-alive connections from several senders. Every one is
// counted in the metrics, but the log gets at most rejectionBurst lines
// per rejectionInterval (caddymodule's, 10 per 10s; the exact arithmetic
// is caddymodule's TestRejectionLog*) and a summary of the rest, written
// when the interval ends or, as here, when the config is unloaded: lines
// logged plus the summaries' suppressed counts are the 10,000.
func TestRejectionLogFlood(t *testing.T) {
	skipShort(t)
	const (
		total    = 10_000
		workers  = 8
		burst    = 10               // caddymodule.rejectionBurst
		interval = 10 * time.Second // caddymodule.rejectionInterval
	)
	up := newUpstream(t)
	logPath := filepath.Join(t.TempDir(), "caddy.log")
	secret := rawSecret(t)
	loadFullConfig(t, infoLogOptions(logPath)+fmt.Sprintf(`http://localhost:%d {
	handle /flood {
		webhook_verify github %q {
			name flood
		}
		reverse_proxy %s
	}
	handle /metrics {
		metrics
	}
%s}
`, httpPort, secret, up.addr(), errorsBlock))
	rejected := reqSeries("verify", "github", "flood", "wrong_signature", "")
	before := scrape(t)

	// Senders keep their connections alive; a refusal after the body was
	// read (wrong_signature) keeps the connection open.
	var dials atomic.Int64
	tr := caddytest.CreateTestingTransport()
	dial := tr.DialContext
	tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		dials.Add(1)
		return dial(ctx, network, addr)
	}
	tr.MaxIdleConnsPerHost = 2 * workers
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	body := []byte(`{"forged":true}`)
	forged := presetSigner(t, "github")(rawSecret(t), body, "flood", time.Now()).Get("X-Hub-Signature-256")
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	start := time.Now()
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= total {
				req, _ := http.NewRequest(http.MethodPost, gatewayURL+"/flood", bytes.NewReader(body))
				req.Header.Set("X-Hub-Signature-256", forged)
				resp, err := hc.Do(req)
				if err != nil {
					errs <- err
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusUnauthorized {
					errs <- fmt.Errorf("status %d, want 401", resp.StatusCode)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("flood request: %v", err)
	}
	flood := time.Since(start)
	if d := scrape(t).values[rejected] - before.values[rejected]; d != total {
		t.Errorf("%s went up by %v, want %d: the metrics count every refusal", rejected, d, total)
	}
	// Unloading the config (Cleanup) writes the summary of what is held
	// back.
	loadConfig(t, fmt.Sprintf("http://localhost:%d {\n\trespond ok\n}\n", httpPort))
	elapsed := time.Since(start)
	t.Logf("%d forged webhooks in %v over %d connections", total, flood.Round(time.Millisecond), dials.Load())
	// A few more than the senders: the client's pool may open a
	// connection while another is coming back, and drop the surplus.
	if n := dials.Load(); n > total/20 {
		t.Errorf("%d connections for %d requests from %d senders: refusals did not keep connections alive", n, total, workers)
	}

	log := readLog(t, logPath)
	lines := entriesOf(log, "webhook rejected", "flood")
	summaries := entriesOf(log, "webhook rejected: more not logged (rate limit)", "flood")
	var suppressed int64
	for _, s := range summaries {
		n, _ := s.fields["suppressed"].(float64)
		suppressed += int64(n)
		if s.str("reason") != "wrong_signature" || s.str("scheme") != "github" {
			t.Errorf("summary line does not name the reason and scheme: %s", s.raw)
		}
	}
	intervals := int(elapsed/interval) + 1
	t.Logf("%d rejection lines, %d summaries (%d suppressed) in %v", len(lines), len(summaries), suppressed, elapsed.Round(time.Millisecond))
	if len(lines) > burst*intervals {
		t.Errorf("%d rejection lines in %v, want at most %d (%d per %v)", len(lines), elapsed, burst*intervals, burst, interval)
	}
	if len(lines) < burst {
		t.Errorf("%d rejection lines, want at least the first %d", len(lines), burst)
	}
	if len(summaries) == 0 || len(summaries) > intervals+1 {
		t.Errorf("%d summary lines, want 1 to %d", len(summaries), intervals+1)
	}
	if got := int64(len(lines)) + suppressed; got != total {
		t.Errorf("%d lines logged + %d suppressed = %d, want %d", len(lines), suppressed, got, total)
	}
}

// TestDuplicateLogFlood: replaying one captured valid webhook in a loop
// (replay on) gets 200 Webhook-Duplicate each time and reaches the app
// once; its log lines are rate-limited as refusals are, and the rest are
// counted in a summary.
func TestDuplicateLogFlood(t *testing.T) {
	skipShort(t)
	const total, burst = 500, 10
	up := newUpstream(t)
	logPath := filepath.Join(t.TempDir(), "caddy.log")
	secret := rawSecret(t)
	loadFullConfig(t, infoLogOptions(logPath)+fmt.Sprintf(`http://localhost:%d {
	webhook_verify github %q {
		name replayed
		replay
	}
	reverse_proxy %s
}
`, httpPort, secret, up.addr()))
	body := []byte(`{"once":true}`)
	h := presetSigner(t, "github")(secret, body, "dup-1", time.Now())
	wantStatus(t, send(t, delivery{Path: "/", Body: body, Header: h}), http.StatusOK)
	for range total {
		a := send(t, delivery{Path: "/", Body: body, Header: h})
		if a.Status != http.StatusOK || a.Header.Get("Webhook-Duplicate") != "true" {
			t.Fatalf("replay answered %d, duplicate %q", a.Status, a.Header.Get("Webhook-Duplicate"))
		}
	}
	if n := up.count(); n != 1 {
		t.Errorf("the app got %d deliveries, want 1", n)
	}
	loadConfig(t, fmt.Sprintf("http://localhost:%d {\n\trespond ok\n}\n", httpPort)) // Cleanup writes the summary
	log := readLog(t, logPath)
	lines := entriesOf(log, "webhook duplicate: already delivered, not passed on", "replayed")
	summaries := entriesOf(log, "webhook duplicate: already delivered, not passed on: more not logged (rate limit)", "replayed")
	var suppressed int
	for _, s := range summaries {
		n, _ := s.fields["suppressed"].(float64)
		suppressed += int(n)
	}
	if len(lines) > 2*burst || len(lines) < burst {
		t.Errorf("%d duplicate lines for %d replays, want %d to %d", len(lines), total, burst, 2*burst)
	}
	if len(lines)+suppressed != total {
		t.Errorf("%d lines + %d suppressed, want %d", len(lines), suppressed, total)
	}
}

// TestRouteLoadedLine (issue 9, 5): every config load writes one INFO
// "webhook route loaded" line per route, verify and sign, named or not,
// saying its scheme, secrets (labels, and not_after where set), bounds,
// tolerance, replay store and whether it runs unsigned; never a secret.
func TestRouteLoadedLine(t *testing.T) {
	skipShort(t)
	up := newUpstream(t)
	logPath := filepath.Join(t.TempDir(), "caddy.log")
	cur, next, token, sign := whsecSecret(t), whsecSecret(t), rawSecret(t), whsecSecret(t)
	config := infoLogOptions(logPath) + fmt.Sprintf(`http://localhost:%d {
	handle /a {
		webhook_verify standard {
			secret %q label cur not_after 2099-01-01T00:00:00Z
			secret %q label next
			tolerance 2m
			max_body 1MiB
			name load-a
			replay
		}
		reverse_proxy %s
	}
	handle /b {
		webhook_verify github {
			insecure_unsigned
			name load-b
		}
		reverse_proxy %s
	}
	handle /c {
		webhook_verify gitlab %q
		reverse_proxy %s
	}
	handle /d {
		webhook_sign standard {
			secret %q label out
			name load-d
		}
		reverse_proxy %s
	}
}
`, httpPort, cur, next, up.addr(), up.addr(), token, up.addr(), sign, up.addr())
	loadFullConfig(t, config)
	routes := []string{"load-a", "load-b", "verify gitlab :9080", "load-d"}
	count := func(t *testing.T, want int) []logEntry {
		t.Helper()
		log := readLog(t, logPath)
		var all []logEntry
		for _, r := range routes {
			got := entriesOf(log, "webhook route loaded", r)
			if len(got) != want {
				t.Errorf("route %q: %d \"webhook route loaded\" lines, want %d", r, len(got), want)
			}
			all = append(all, got...)
		}
		if n := len(entriesOf(log, "webhook route loaded", "")); n != 0 {
			t.Errorf("%d load lines without a route name", n)
		}
		var lines int
		for _, e := range log {
			if e.str("msg") == "webhook route loaded" {
				lines++
			}
		}
		if lines != want*len(routes) {
			t.Errorf("%d load lines in all, want %d", lines, want*len(routes))
		}
		return all
	}
	count(t, 1)
	forceLoad(t, config) // a reload loads every route again
	entries := count(t, 2)

	byRoute := map[string]logEntry{}
	for _, e := range entries {
		byRoute[e.str("route")] = e
		if e.str("level") != "info" {
			t.Errorf("load line at level %q, want info: %s", e.str("level"), e.raw)
		}
	}
	want := map[string]map[string]any{
		"load-a": {
			"logger": "http.handlers.webhook_verify", "handler": "webhook_verify", "scheme": "standard",
			"secrets": []any{"cur until 2099-01-01T00:00:00Z", "next"}, "tolerance": float64(120),
			"max_body": float64(1 << 20), "replay": "memory", "unsigned": false, "strip_signature": false,
		},
		"load-b": {
			"logger": "http.handlers.webhook_verify", "handler": "webhook_verify", "scheme": "github",
			"secrets": []any{}, "tolerance": "none (the scheme has no timestamp)",
			"max_body": float64(25 << 20), "replay": "off", "unsigned": true,
		},
		"verify gitlab :9080": {
			"logger": "http.handlers.webhook_verify", "handler": "webhook_verify", "scheme": "gitlab",
			"secrets": []any{fingerprint(t, "gitlab", "", token)}, "replay": "off", "unsigned": false,
			"strip_signature": true, // a token is the secret: always stripped
		},
		"load-d": {
			"logger": "http.handlers.webhook_sign", "handler": "webhook_sign", "scheme": "standard",
			"secrets": []any{"out"}, "max_body": float64(25 << 20), "unsigned": false,
		},
	}
	for route, fields := range want {
		e := byRoute[route]
		for k, v := range fields {
			got, _ := json.Marshal(e.fields[k])
			w, _ := json.Marshal(v)
			if string(got) != string(w) {
				t.Errorf("route %s: %s = %s, want %s\n%s", route, k, got, w, e.raw)
			}
		}
		for _, k := range []string{"buffer_memory", "read_timeout"} {
			if _, ok := e.fields[k]; !ok {
				t.Errorf("route %s: no %s: %s", route, k, e.raw)
			}
		}
	}
	if _, ok := byRoute["load-d"].fields["tolerance"]; ok {
		t.Errorf("webhook_sign's load line has a tolerance: %s", byRoute["load-d"].raw)
	}

	var forms []string
	for _, s := range []string{cur, next, sign} {
		forms = append(forms, secretForms(t, "standard", s)...)
	}
	forms = append(forms, secretForms(t, "gitlab", token)...)
	for _, e := range entries {
		for i, f := range forms {
			if strings.Contains(e.raw, f) {
				t.Errorf("load line holds secret form #%d: %s", i, e.raw)
			}
		}
	}
}
