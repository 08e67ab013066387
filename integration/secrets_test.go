package integration

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2/caddytest"

	"github.com/hookguard/hookguard/caddymodule"
	"github.com/hookguard/hookguard/preset"
	"github.com/hookguard/hookguard/signer"
)

// debugLogOptions is globalOptions with every log line, debug included,
// written to path.
func debugLogOptions(path string) string {
	return strings.Replace(globalOptions, "grace_period 1ns\n", fmt.Sprintf("grace_period 1ns\n\tlog {\n\t\toutput file %s\n\t\tlevel DEBUG\n\t}\n", path), 1)
}

// loadFullConfig is loadConfig for a Caddyfile with its own global block.
func loadFullConfig(t *testing.T, caddyfile string) {
	t.Helper()
	skipShort(t)
	caddytest.NewTester(t).InitServer(caddyfile, "caddyfile")
	if t.Failed() {
		t.FailNow()
	}
	settle() // as loadConfig does
}

// secretForms lists the spellings under which a secret could leak: as
// written, its key bytes, and both in hex and every base64 alphabet.
func secretForms(t *testing.T, scheme, secret string) []string {
	t.Helper()
	s, err := preset.Get(scheme, preset.Options{})
	if err != nil {
		t.Fatal(err)
	}
	key, err := s.DecodeSecret(secret)
	if err != nil {
		t.Fatal(err)
	}
	var forms []string
	for _, b := range [][]byte{[]byte(secret), key} {
		forms = append(forms, string(b), hex.EncodeToString(b),
			base64.StdEncoding.EncodeToString(b), base64.RawStdEncoding.EncodeToString(b),
			base64.URLEncoding.EncodeToString(b), base64.RawURLEncoding.EncodeToString(b))
	}
	return forms
}

// TestSecretsNeverLogged runs verify and sign routes at debug level through
// a round of valid and invalid requests and checks that the whole log, every
// logger, holds no secret in any spelling and no signature the gateway
// computed for a rejected request; and that hookguard's own lines hold no
// signature at all. It also checks the load-time warnings that name the
// route: an expired secret, insecure_unsigned, a weak secret (named by
// position and the rules it breaks: no fingerprint, no details) and a
// secret written in the config (not for {env.*} or {file.*}); and that an
// unlabeled secret's label is keyed with the installation key (issue 7,
// findings 13 and 14).
func TestSecretsNeverLogged(t *testing.T) {
	skipShort(t)
	up := newUpstream(t)
	dir := t.TempDir()
	logPath := filepath.Join(dir, "caddy.log")
	gh, std, tok, expired := rawSecret(t), whsecSecret(t), rawSecret(t), rawSecret(t)
	signSecret := whsecSecret(t)
	signFile := filepath.Join(dir, "sign.secret")
	if err := os.WriteFile(signFile, []byte(signSecret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("HG_LOG_GH", gh)
	t.Setenv("HG_LOG_STD", std)
	t.Setenv("HG_LOG_TOKEN", tok)
	t.Setenv("HG_LOG_EXPIRED", expired)
	// weak: a webhook_verify secret the sender chose, judged weak (only a
	// warning); literal: a strong secret written in the Caddyfile.
	weak, literal := "Password1234567890!", rawSecret(t)
	t.Setenv("HG_LOG_WEAK", weak)

	config := debugLogOptions(logPath) + fmt.Sprintf(`http://localhost:%d {
	handle /gh {
		webhook_verify github {
			secret {env.HG_LOG_GH} label current
			secret {env.HG_LOG_EXPIRED} label retired not_after 2020-01-01T00:00:00Z
			name github-in
		}
		reverse_proxy %s
	}
	handle /std {
		webhook_verify standard {env.HG_LOG_STD}
		reverse_proxy %s {
			header_up X-Webhook-Key {http.webhook.key}
		}
	}
	handle /weak {
		webhook_verify github {env.HG_LOG_WEAK} {
			name weak-route
		}
		reverse_proxy %s {
			header_up X-Webhook-Key {http.webhook.key}
		}
	}
	handle /literal {
		webhook_verify github %s {
			name literal-route
		}
		reverse_proxy %s
	}
	handle /tok {
		webhook_verify token {env.HG_LOG_TOKEN} {
			header X-Token
		}
		reverse_proxy %s
	}
	handle /sign {
		webhook_sign standard {file.%s}
		reverse_proxy %s
	}
	handle /dev {
		webhook_verify github {
			insecure_unsigned
			name dev-route
		}
		reverse_proxy %s
	}
}
`, httpPort, up.addr(), up.addr(), up.addr(), literal, up.addr(), up.addr(), signFile, up.addr(), up.addr())
	loadFullConfig(t, config)

	stdScheme, _ := preset.Get("standard", preset.Options{})
	stdKey, _ := stdScheme.DecodeSecret(std)
	var computed []string // signatures the gateway computed for rejected requests
	ghSig := func(secret string, body []byte) string {
		m := hmac.New(sha256.New, []byte(secret))
		m.Write(body)
		return hex.EncodeToString(m.Sum(nil))
	}

	// Every request has its own body, so a signature computed for a
	// rejected one cannot equal one sent (and logged by Caddy's proxy at
	// debug level) for an accepted one.
	n := 0
	body := func() []byte { n++; return []byte(fmt.Sprintf(`{"event":"push","n":%d}`, n)) }
	now := time.Now()
	stdHeaders := func(b []byte, ts time.Time) http.Header {
		return signer.Sign(stdScheme, [][]byte{stdKey}, signer.Message{Body: b, ID: "msg_log", Time: ts})
	}
	type req struct {
		path   string
		body   []byte
		h      http.Header
		status int
		// hashed: rejected after the gateway computed the body's
		// signature, which therefore must appear nowhere.
		hashed bool
	}
	gh1, gh2, gh3, gh4, gh5 := body(), body(), body(), body(), body()
	std1, std2, std3 := body(), body(), body()
	requests := []req{
		{"/gh", gh1, http.Header{"X-Hub-Signature-256": {"sha256=" + ghSig(gh, gh1)}}, 200, false},
		{"/gh", gh2, http.Header{"X-Hub-Signature-256": {"sha256=" + ghSig(gh, body())}}, 401, true}, // tampered
		{"/gh", gh3, http.Header{"X-Hub-Signature-256": {"sha256=" + ghSig(expired, gh3)}}, 401, true},
		{"/gh", gh4, http.Header{"X-Hub-Signature-256": {"sha256=zz"}}, 401, false},
		{"/gh", gh5, nil, 401, false},
		{"/std", std1, stdHeaders(std1, now), 200, false},
		{"/std", std2, stdHeaders(body(), now), 401, true}, // tampered
		{"/std", std3, stdHeaders(std3, now.Add(-time.Hour)), 401, false},
		{"/tok", body(), http.Header{"X-Token": {tok}}, 200, false},
		{"/tok", body(), http.Header{"X-Token": {tok[:len(tok)-1]}}, 401, false},
		{"/sign", body(), nil, 200, false},
		{"/dev", body(), nil, 200, false},
	}
	weakBody, literalBody := body(), body()
	requests = append(requests,
		req{"/weak", weakBody, http.Header{"X-Hub-Signature-256": {"sha256=" + ghSig(weak, weakBody)}}, 200, false},
		req{"/literal", literalBody, http.Header{"X-Hub-Signature-256": {"sha256=" + ghSig(literal, literalBody)}}, 200, false},
	)
	for _, r := range requests {
		a := send(t, delivery{Path: r.path, Body: r.body, Header: r.h})
		if a.Status != r.status {
			t.Fatalf("%s: status %d, want %d (%s)", r.path, a.Status, r.status, a.Body)
		}
		if r.hashed {
			switch r.path {
			case "/gh":
				computed = append(computed, ghSig(gh, r.body))
			case "/std":
				ts := r.h.Get("Webhook-Timestamp")
				computed = append(computed, stdScheme.Encode(stdScheme.Digest(stdKey, "msg_log", ts, r.body)))
			}
		}
		if r.status != 200 {
			for _, s := range append(secretForms(t, "github", gh), computed...) {
				if strings.Contains(a.Body, s) {
					t.Fatalf("%s: the error response holds a secret or computed signature", r.path)
				}
			}
		}
	}

	// Loading another config closes the log file and flushes it.
	loadConfig(t, fmt.Sprintf("http://localhost:%d {\n\trespond ok\n}\n", httpPort))
	raw, err := os.ReadFile(logPath)
	if err != nil {
		t.Fatal(err)
	}
	log := string(raw)
	if !strings.Contains(log, `"level":"debug"`) {
		t.Fatal("the log holds no debug lines: the test is not looking at debug output")
	}
	if strings.Count(log, `"msg":"webhook rejected"`) != 7 {
		t.Errorf("want 7 rejection lines, log has %d", strings.Count(log, `"msg":"webhook rejected"`))
	}
	var forms []string
	forms = append(forms, secretForms(t, "github", gh)...)
	forms = append(forms, secretForms(t, "github", expired)...)
	forms = append(forms, secretForms(t, "standard", std)...)
	forms = append(forms, secretForms(t, "github", tok)...)
	forms = append(forms, secretForms(t, "standard", signSecret)...)
	forms = append(forms, secretForms(t, "github", weak)...)
	// Whatever Caddy does with its config, hookguard's lines must not
	// hold the literal secret: checked below, line by line.
	literalForms := secretForms(t, "github", literal)
	for i, f := range forms {
		if strings.Contains(log, f) {
			t.Errorf("the log holds secret form #%d", i)
		}
	}
	for _, sig := range computed {
		if strings.Contains(log, sig) {
			t.Errorf("the log holds a signature the gateway computed for a rejected request")
		}
	}

	// hookguard's own lines: no signature value of any request at all.
	var ours int
	for _, line := range strings.Split(log, "\n") {
		var entry struct {
			Logger string `json:"logger"`
		}
		if json.Unmarshal([]byte(line), &entry) != nil || !strings.HasPrefix(entry.Logger, "http.handlers.webhook_") {
			continue
		}
		ours++
		for i, f := range literalForms {
			if strings.Contains(line, f) {
				t.Errorf("hookguard logged literal secret form #%d: %s", i, line)
			}
		}
		for _, r := range requests {
			for _, name := range []string{"X-Hub-Signature-256", "Webhook-Signature", "X-Token"} {
				if v := r.h.Get(name); len(v) > 8 && strings.Contains(line, v) {
					t.Errorf("hookguard logged a %s value: %s", name, line)
				}
			}
		}
	}
	if ours == 0 {
		t.Fatal("no hookguard log lines found")
	}
	for _, want := range []string{
		`"msg":"secret has expired and is no longer accepted"`, `"key":"retired"`, `"route":"github-in"`,
		`insecure_unsigned: webhooks on this route pass WITHOUT verification`, `"route":"dev-route"`,
	} {
		if !strings.Contains(log, want) {
			t.Errorf("the log lacks %s", want)
		}
	}

	// Finding 13: the weak secret is named by position, everywhere; its
	// fingerprint, keyed or not, appears nowhere; its warning names the
	// rule it breaks and nothing about how.
	weakKey := []byte(weak)
	for _, fp := range []string{unkeyedFingerprint(weakKey), caddymodule.Fingerprint(installKey(t), weakKey)} {
		if strings.Contains(log, fp) {
			t.Errorf("the log holds a fingerprint of the weak secret")
		}
	}
	var weakGot *received
	for _, r := range up.all() {
		if r.Path == "/weak" {
			weakGot = &r
		}
	}
	if weakGot == nil || weakGot.Header.Get("X-Webhook-Key") != "secret-1" {
		t.Errorf("{http.webhook.key} of the weak secret: want secret-1, upstream got %v", weakGot)
	}
	weakLines := linesWith(log, `"msg":"weak webhook secret`)
	if len(weakLines) != 1 {
		t.Fatalf("want 1 weak-secret warning, log has %d", len(weakLines))
	}
	w := weakLines[0]
	for _, want := range []string{`"route":"weak-route"`, `"key":"secret-1"`, `"secret":1`, "rule common"} {
		if !strings.Contains(w, want) {
			t.Errorf("weak-secret warning lacks %s: %s", want, w)
		}
	}
	for _, detail := range []string{"fp-", "made mostly of", "a common word", "other characters", "characters, at least", "entropy"} {
		if strings.Contains(w, detail) {
			t.Errorf("weak-secret warning tells %q: %s", detail, w)
		}
	}

	// The unlabeled strong secret's label is keyed with the installation
	// key, not the old unkeyed hash.
	var stdGot *received
	for _, r := range up.all() {
		if r.Path == "/std" {
			stdGot = &r
			break
		}
	}
	if want := caddymodule.Fingerprint(installKey(t), stdKey); stdGot == nil || stdGot.Header.Get("X-Webhook-Key") != want {
		t.Errorf("{http.webhook.key} of the standard secret: want %s, upstream got %v", want, stdGot)
	}
	if strings.Contains(log, unkeyedFingerprint(stdKey)) {
		t.Error("the log holds the old, unkeyed fingerprint of a secret")
	}

	// Finding 14: the one secret written in the Caddyfile is warned about,
	// by route and index; {env.*} and {file.*} ones are not.
	literalLines := linesWith(log, `"msg":"secret is written in the config`)
	if len(literalLines) != 1 || !strings.Contains(literalLines[0], `"route":"literal-route"`) || !strings.Contains(literalLines[0], `"secret":1`) {
		t.Errorf("want one literal-secret warning, for literal-route's secret 1; got %q", literalLines)
	}
}

// linesWith returns the lines of log that contain sub.
func linesWith(log, sub string) []string {
	var out []string
	for _, l := range strings.Split(log, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return out
}

// unkeyedFingerprint is the label an unlabeled secret had before issue 7:
// a hash of the key alone, which anyone could test a word list against.
func unkeyedFingerprint(key []byte) string {
	h := sha256.New()
	h.Write([]byte("hookguard key fingerprint\x00"))
	h.Write(key)
	return "fp-" + hex.EncodeToString(h.Sum(nil)[:4])
}

// TestInsecureUnsignedNeedsResolvedSecret (issue 7, finding 8): a configured secret
// that does not resolve fails the load, insecure_unsigned or not; the
// error names the placeholder, and the config running before stays.
// insecure_unsigned is for a route with no secret configured at all.
func TestInsecureUnsignedNeedsResolvedSecret(t *testing.T) {
	skipShort(t)
	up := newUpstream(t)
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty.secret")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	blank := filepath.Join(dir, "blank.secret")
	if err := os.WriteFile(blank, []byte("\n"), 0o600); err != nil { // {file.*} drops one trailing newline
		t.Fatal(err)
	}
	newlines := filepath.Join(dir, "newlines.secret")
	if err := os.WriteFile(newlines, []byte("\n\n"), 0o600); err != nil { // resolves to "\n"
		t.Fatal(err)
	}
	spaces := filepath.Join(dir, "spaces.secret")
	if err := os.WriteFile(spaces, []byte("   \n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("HG_EMPTY_VAR", "")
	t.Setenv("HG_SPACES_VAR", "   ")
	os.Unsetenv("HG_UNSET_VAR")
	os.Unsetenv("HG_UNSET_ADAPT")

	loadConfig(t, fmt.Sprintf("http://localhost:%d {\n\trespond \"before\"\n}\n", httpPort))
	site := func(directive, secret string) string {
		return globalOptions + fmt.Sprintf(`http://localhost:%d {
	handle /hook {
		%s github %s {
			insecure_unsigned
		}
		reverse_proxy %s
	}
}
`, httpPort, directive, secret, up.addr())
	}
	for _, c := range []struct{ name, secret, want string }{
		{"unset env", "{env.HG_UNSET_VAR}", "{env.HG_UNSET_VAR} did not resolve"},
		{"empty env", "{env.HG_EMPTY_VAR}", "{env.HG_EMPTY_VAR} did not resolve"},
		{"empty file", "{file." + empty + "}", "{file." + empty + "} did not resolve"},
		{"newline-only file", "{file." + blank + "}", "{file." + blank + "} did not resolve"},
		{"missing file", "{file." + filepath.Join(dir, "nope") + "}", "did not resolve"},
		// Whitespace is a key anyone can compute (binary review, finding 2).
		{"env of spaces", "{env.HG_SPACES_VAR}", "secret 1: {env.HG_SPACES_VAR} resolved to only whitespace"},
		{"file of newlines", "{file." + newlines + "}", "secret 1: {file." + newlines + "} resolved to only whitespace"},
		{"file of spaces", "{file." + spaces + "}", "secret 1: {file." + spaces + "} resolved to only whitespace"},
		// A quoted {$VAR} unset at adapt time leaves an empty secret.
		{"quoted adapt-time env", `"{$HG_UNSET_ADAPT}"`, "secret 1 is empty"},
	} {
		for _, directive := range []string{"webhook_verify", "webhook_sign"} {
			t.Run(c.name+"/"+directive, func(t *testing.T) {
				err := postLoad(t, site(directive, c.secret))
				if err == nil {
					t.Fatalf("the config loaded: %s runs without its secret", directive)
				}
				if !strings.Contains(err.Error(), c.want) {
					t.Errorf("load error %q does not say %q", err, c.want)
				}
				a := send(t, delivery{Path: "/hook", Body: []byte(`{"forged":true}`)})
				if a.Status != http.StatusOK || a.Body != "before" || up.count() != 0 {
					t.Fatalf("after the failed load: %d %q, upstream saw %d: the old config should still run", a.Status, a.Body, up.count())
				}
			})
		}
	}
	// No secret configured at all: insecure_unsigned does what it says.
	if err := postLoad(t, site("webhook_verify", "")); err != nil {
		t.Fatalf("insecure_unsigned without a secret: %v", err)
	}
	wantStatus(t, send(t, delivery{Path: "/hook", Body: []byte(`{"dev":true}`)}), http.StatusOK)
	if up.count() != 1 {
		t.Fatalf("upstream saw %d requests, want 1", up.count())
	}
}

// TestRotationUnderLoad rotates a secret under a steady stream of signed
// webhooks, through the admin API, as an operator would: A, then A+B, the
// sender switches to B, then B alone. Every webhook signed with a secret
// valid at that moment is delivered: none is rejected or dropped across
// the reloads. After A is removed, webhooks signed with A are rejected.
func TestRotationUnderLoad(t *testing.T) {
	skipShort(t)
	up := newUpstream(t)
	a, b := whsecSecret(t), whsecSecret(t)
	scheme, _ := preset.Get("standard", preset.Options{})
	keyA, _ := scheme.DecodeSecret(a)
	keyB, _ := scheme.DecodeSecret(b)

	config := func(secrets ...string) string {
		var lines strings.Builder
		for i, s := range secrets {
			fmt.Fprintf(&lines, "\t\t\tsecret %q label k%d\n", s, i)
		}
		// A real grace period: a reload must let requests in flight finish.
		return fmt.Sprintf(`{
	admin localhost:%d
	http_port %d
	https_port %d
	skip_install_trust
	grace_period 10s
}
http://localhost:%d {
	handle /hook {
		webhook_verify standard {
%s		}
		reverse_proxy %s
	}
}
`, adminPort, httpPort, httpsPort, httpPort, lines.String(), up.addr())
	}
	loadFullConfig(t, config(a))

	var (
		current  atomic.Pointer[[]byte] // the key the sender signs with now
		sent     atomic.Int64
		failures sync.Map // description -> count
		stop     = make(chan struct{})
		wg       sync.WaitGroup
	)
	current.Store(&keyA)
	const workers = 4
	// A sender keeps its connections alive, as webhook senders do.
	tr := caddytest.CreateTestingTransport()
	tr.MaxIdleConnsPerHost = workers
	sender := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	var retried atomic.Int64
	deadline := time.Now().Add(30 * time.Second) // bounds the stream whatever happens
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				if time.Now().After(deadline) {
					return
				}
				body := []byte(fmt.Sprintf(`{"worker":%d,"n":%d}`, w, i))
				h := signer.Sign(scheme, [][]byte{*current.Load()}, signer.Message{Body: body, ID: "msg_" + strconv.Itoa(w) + "_" + strconv.Itoa(i), Time: time.Now()})
				var resp *http.Response
				var err error
				for try := 0; try < 3; try++ {
					req, _ := http.NewRequest(http.MethodPost, gatewayURL+"/hook", bytes.NewReader(body))
					req.Header = h
					if resp, err = sender.Do(req); err == nil {
						break
					}
					// No answer at all: the connection was closed under the
					// request. On Linux, Caddy binds each config's listener
					// with SO_REUSEPORT and a reload closes the old socket,
					// resetting connections still in its accept queue; and
					// a keep-alive connection can be closed as idle just as
					// a request is written to it. Webhook senders retry when
					// they get no answer, so this one does too; the app must
					// then see the delivery exactly once.
					retried.Add(1)
				}
				sent.Add(1)
				if err != nil {
					failures.Store(fmt.Sprintf("no answer after 3 tries: %v", err), true)
					continue
				}
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					failures.Store(fmt.Sprintf("status %d", resp.StatusCode), true)
				}
			}
		}(w)
	}
	pause := func() { time.Sleep(400 * time.Millisecond) }
	reload := func(secrets ...string) {
		t.Helper()
		if err := postLoad(t, config(secrets...)); err != nil {
			t.Errorf("reload: %v", err)
		}
	}

	pause()
	reload(a, b) // both accepted
	pause()
	current.Store(&keyB) // the sender switches
	pause()
	reload(a, b) // a reload with no change in between drops nothing either
	pause()
	reload(b) // A retired
	pause()
	close(stop)
	wg.Wait()

	n := sent.Load()
	failures.Range(func(k, _ any) bool {
		t.Errorf("a validly signed webhook failed across the reloads: %v", k)
		return true
	})
	ids := map[string]int{}
	for _, r := range up.all() {
		ids[r.Header.Get("Webhook-Id")]++
	}
	for id, c := range ids {
		if c != 1 {
			t.Errorf("delivery %s reached the app %d times", id, c)
		}
	}
	if int64(len(ids)) != n {
		t.Errorf("sent %d validly signed webhooks, the app got %d distinct ones", n, len(ids))
	}
	if n < 40 {
		t.Fatalf("only %d webhooks sent: the stream did not overlap the reloads", n)
	}
	t.Logf("%d webhooks across 4 reloads, all delivered once; %d tries got no answer and were retried", n, retried.Load())

	// After A's removal, A no longer passes and B does.
	for _, k := range []struct {
		key    []byte
		status int
	}{{keyA, http.StatusUnauthorized}, {keyB, http.StatusOK}} {
		body := []byte(`{"after":"rotation"}`)
		h := signer.Sign(scheme, [][]byte{k.key}, signer.Message{Body: body, ID: "msg_after", Time: time.Now()})
		wantStatus(t, send(t, delivery{Path: "/hook", Body: body, Header: h}), k.status)
	}
}
