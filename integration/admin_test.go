package integration

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2/caddytest"
	caddycmd "github.com/caddyserver/caddy/v2/cmd"
	"github.com/spf13/cobra"
)

// adminStatus mirrors the JSON of the admin API's GET /webhooks/, written
// out here so the test pins the shape users and scripts see.
type adminStatus struct {
	Routes []adminRoute `json:"routes"`
}

type adminRoute struct {
	Name     string            `json:"name"`
	Handler  string            `json:"handler"`
	Scheme   string            `json:"scheme"`
	Unsigned bool              `json:"unsigned"`
	Loaded   time.Time         `json:"loaded"`
	Secrets  []adminSecret     `json:"secrets"`
	Outcomes map[string]uint64 `json:"outcomes"`
	Replay   *struct {
		Store   string `json:"store"`
		Window  string `json:"window"`
		Entries *int64 `json:"entries"`
		Bytes   *int64 `json:"bytes"`
		Evicted *int64 `json:"evicted"`
	} `json:"replay"`
	Relay json.RawMessage `json:"relay"`
}

type adminSecret struct {
	Label    string     `json:"label"`
	NotAfter *time.Time `json:"not_after"`
	Expired  bool       `json:"expired"`
	LastUsed *time.Time `json:"last_used"`
}

// webhooksStatus GETs /webhooks/ from the admin API: the parsed status
// and the body as sent.
func webhooksStatus(t *testing.T) (adminStatus, string) {
	t.Helper()
	resp, err := http.Get(fmt.Sprintf("http://localhost:%d/webhooks/", adminPort))
	if err != nil {
		t.Fatalf("GET /webhooks/: %v", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("GET /webhooks/: %d %q %s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	var st adminStatus
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&st); err != nil {
		t.Fatalf("GET /webhooks/: %v in %s", err, body)
	}
	return st, string(body)
}

// route returns the status of the route of that handler and name,
// failing the test unless it is listed exactly once.
func (st adminStatus) route(t *testing.T, handler, name string) adminRoute {
	t.Helper()
	var found []adminRoute
	for _, r := range st.Routes {
		if r.Handler == handler && r.Name == name {
			found = append(found, r)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%s %s is listed %d times in GET /webhooks/, want once: %+v", handler, name, len(found), st.Routes)
	}
	return found[0]
}

func (r adminRoute) secret(t *testing.T, label string) adminSecret {
	t.Helper()
	for _, s := range r.Secrets {
		if s.Label == label {
			return s
		}
	}
	t.Fatalf("route %s has no secret %s: %+v", r.Name, label, r.Secrets)
	return adminSecret{}
}

// adminSecrets are the secrets of adminSite.
type adminSecrets struct{ a, b, old, out, next string }

func newAdminSecrets(t *testing.T) adminSecrets {
	return adminSecrets{a: rawSecret(t), b: rawSecret(t), old: rawSecret(t), out: whsecSecret(t), next: whsecSecret(t)}
}

// adminSite is a site with a webhook_verify route (github, three
// labelled secrets, one expired, replay in memory) and a webhook_sign
// route (standard, two labelled secrets: the first signs), named prefix-
// orders and prefix-outbound. extra goes into the site block as is.
func adminSite(prefix string, s adminSecrets, up *upstream, keyBUntil, extra string) string {
	return fmt.Sprintf(`
http://localhost:%d {
	%s
	handle /orders {
		webhook_verify github {
			name %s-orders
			secret %q label key-a
			secret %q label key-b not_after %s
			secret %q label key-old not_after 2020-01-01T00:00:00Z
			replay memory
		}
		reverse_proxy %s
	}
	handle /outbound {
		webhook_sign standard {
			name %s-outbound
			secret %q label out-current
			secret %q label out-next
		}
		reverse_proxy %s
	}
%s
}
`, httpPort, extra, prefix, s.a, s.b, keyBUntil, s.old, up.addr(), prefix, s.out, s.next, up.addr(), errorsBlock)
}

// githubDelivery is body signed for the github scheme with secret.
func githubDelivery(t *testing.T, path, secret, body string) delivery {
	t.Helper()
	return delivery{Path: path, Body: []byte(body), Header: presetSigner(t, "github")(secret, []byte(body), "", time.Now())}
}

// adminClient sends this file's webhooks, each on a connection of its
// own: right after a reload the old config's server closes the
// connections it kept alive, and a POST sent on one as it closes fails
// with EOF (net/http cannot resend a body it cannot rewind).
var adminClient = func() *http.Client {
	tr := caddytest.CreateTestingTransport()
	tr.DisableKeepAlives = true
	return &http.Client{Transport: tr, Timeout: 30 * time.Second}
}()

// afterReload waits for the config a load replaced to stop serving. Caddy
// answers /load once the old servers have been told to shut down, but one
// may still accept a connection for a few milliseconds and then drop it
// unanswered (grace_period 1ns), so a webhook sent at once can fail with
// EOF, counted or not.
func afterReload() { time.Sleep(100 * time.Millisecond) }

// adminSend POSTs d to the gateway with adminClient.
func adminSend(t *testing.T, d delivery) answer {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, gatewayURL+d.Path, bytes.NewReader(d.Body))
	if err != nil {
		t.Fatal(err)
	}
	for k, vs := range d.Header {
		req.Header[k] = vs
	}
	resp, err := adminClient.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", d.Path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("POST %s: reading response: %v", d.Path, err)
	}
	return answer{Status: resp.StatusCode, Body: string(body), Header: resp.Header}
}

// TestAdminWebhooksEndpoint checks GET /webhooks/ on Caddy's admin API:
// exact counts by outcome after a known sequence, last use of each
// secret (null for one never used), expiry, the replay store, no secret
// anywhere in the answer; then that the counts carry over a reload (an
// unchanged config, a changed one, and a forced reload of the same one)
// and new requests add to them, with each route listed once.
func TestAdminWebhooksEndpoint(t *testing.T) {
	up := newUpstream(t)
	s := newAdminSecrets(t)
	site := adminSite("admin", s, up, "2099-01-01T00:00:00Z", "")
	loadConfig(t, site)
	afterReload()
	// Figures are kept for the life of the process, by route name: count
	// from what an earlier run in this process left.
	base, _ := webhooksStatus(t)
	vBase := base.route(t, "webhook_verify", "admin-orders")
	sBase := base.route(t, "webhook_sign", "admin-outbound")
	var entriesBase int64
	if vBase.Replay != nil && vBase.Replay.Entries != nil {
		entriesBase = *vBase.Replay.Entries
	}
	delta := func(r, base adminRoute, want map[string]uint64) {
		t.Helper()
		for k, v := range r.Outcomes {
			if v-base.Outcomes[k] != want[k] {
				t.Errorf("%s %s: outcome %s grew by %d, want %d (outcomes %v)", r.Handler, r.Name, k, v-base.Outcomes[k], want[k], r.Outcomes)
			}
		}
		for k, v := range want {
			if _, ok := r.Outcomes[k]; !ok && v > 0 {
				t.Errorf("%s %s: no outcome %s, want %d (outcomes %v)", r.Handler, r.Name, k, v, r.Outcomes)
			}
		}
	}

	start := time.Now().Add(-time.Second)
	wantStatus(t, adminSend(t, githubDelivery(t, "/orders", s.a, "one")), http.StatusOK)
	wantStatus(t, adminSend(t, githubDelivery(t, "/orders", s.a, "two")), http.StatusOK)
	wantStatus(t, adminSend(t, githubDelivery(t, "/orders", s.b, "three")), http.StatusOK)
	wantStatus(t, adminSend(t, githubDelivery(t, "/orders", rawSecret(t), "four")), http.StatusUnauthorized)
	dup := adminSend(t, githubDelivery(t, "/orders", s.a, "one"))
	wantStatus(t, dup, http.StatusOK)
	if dup.Header.Get("Webhook-Duplicate") != "true" {
		t.Fatalf("the replayed delivery was not taken for a duplicate: %v", dup.Header)
	}
	wantStatus(t, adminSend(t, delivery{Path: "/outbound", Body: []byte(`{"event":"paid"}`)}), http.StatusOK)

	st, body := webhooksStatus(t)
	t.Logf("GET /webhooks/: %s", body)
	for _, secret := range []string{s.a, s.b, s.old, s.out, s.next, strings.TrimPrefix(s.out, "whsec_"), strings.TrimPrefix(s.next, "whsec_")} {
		if strings.Contains(body, secret) {
			t.Fatalf("GET /webhooks/ shows a secret: %s", body)
		}
	}
	v := st.route(t, "webhook_verify", "admin-orders")
	sg := st.route(t, "webhook_sign", "admin-outbound")
	delta(v, vBase, map[string]uint64{"verified": 3, "wrong_signature": 1, "duplicate": 1})
	delta(sg, sBase, map[string]uint64{"signed": 1})
	if v.Scheme != "github" || sg.Scheme != "standard" || v.Unsigned || sg.Unsigned {
		t.Errorf("schemes %q %q, unsigned %v %v", v.Scheme, sg.Scheme, v.Unsigned, sg.Unsigned)
	}
	used := func(r adminRoute, label string, after time.Time) time.Time {
		t.Helper()
		sec := r.secret(t, label)
		if sec.LastUsed == nil || sec.LastUsed.Before(after) || sec.LastUsed.After(time.Now()) {
			t.Errorf("%s secret %s: last used %v, want between %v and now", r.Name, label, sec.LastUsed, after)
			return time.Time{}
		}
		return *sec.LastUsed
	}
	unused := func(r adminRoute, label string) {
		t.Helper()
		if sec := r.secret(t, label); sec.LastUsed != nil {
			t.Errorf("%s secret %s was never used, but last_used is %v", r.Name, label, sec.LastUsed)
		}
	}
	used(v, "key-a", start)
	used(v, "key-b", start)
	unused(v, "key-old")
	signedAt := used(sg, "out-current", start)
	unused(sg, "out-next")
	if sec := v.secret(t, "key-b"); sec.Expired || sec.NotAfter == nil || !sec.NotAfter.Equal(time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("key-b: %+v", sec)
	}
	if sec := v.secret(t, "key-old"); !sec.Expired || sec.NotAfter == nil || !sec.NotAfter.Equal(time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("key-old: %+v", sec)
	}
	if r := v.Replay; r == nil || r.Store != "memory" || r.Window != "24h0m0s" || r.Entries == nil || *r.Entries != entriesBase+3 ||
		r.Bytes == nil || *r.Bytes <= 0 || r.Evicted == nil || *r.Evicted != 0 {
		t.Errorf("replay: %s", body)
	}
	if sg.Replay != nil || v.Relay != nil || sg.Relay != nil {
		t.Errorf("replay or relay shown where there is none: %s", body)
	}

	// An unchanged config (a comment adapts to the same JSON: Caddy
	// keeps what runs), then a changed one: key-b's expiry moves.
	if err := postLoad(t, globalOptions+adminSite("admin", s, up, "2099-01-01T00:00:00Z", "# reloaded")); err != nil {
		t.Fatal(err)
	}
	if err := postLoad(t, globalOptions+adminSite("admin", s, up, "2098-06-01T00:00:00Z", "")); err != nil {
		t.Fatal(err)
	}
	afterReload()
	st, _ = webhooksStatus(t)
	v = st.route(t, "webhook_verify", "admin-orders")
	delta(v, vBase, map[string]uint64{"verified": 3, "wrong_signature": 1, "duplicate": 1})
	if sec := v.secret(t, "key-b"); sec.NotAfter == nil || !sec.NotAfter.Equal(time.Date(2098, 6, 1, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("after the reload key-b shows not_after %v: not the new config's", sec.NotAfter)
	}
	used(v, "key-a", start)
	wantStatus(t, adminSend(t, githubDelivery(t, "/orders", s.a, "five")), http.StatusOK)

	// caddy reload --force: the same config, loaded again.
	before := st.route(t, "webhook_sign", "admin-outbound").Loaded
	forceLoad(t, globalOptions+adminSite("admin", s, up, "2098-06-01T00:00:00Z", ""))
	afterReload()
	st, _ = webhooksStatus(t)
	v = st.route(t, "webhook_verify", "admin-orders")
	sg = st.route(t, "webhook_sign", "admin-outbound")
	if !sg.Loaded.After(before) {
		t.Errorf("the forced reload did not load the routes again: loaded %v, before %v", sg.Loaded, before)
	}
	delta(v, vBase, map[string]uint64{"verified": 4, "wrong_signature": 1, "duplicate": 1})
	delta(sg, sBase, map[string]uint64{"signed": 1})
	// New requests add to the figures carried over.
	wantStatus(t, adminSend(t, githubDelivery(t, "/orders", s.a, "one")), http.StatusOK) // delivered before the reloads
	wantStatus(t, adminSend(t, delivery{Path: "/outbound", Body: []byte(`{"event":"refunded"}`)}), http.StatusOK)
	st, body = webhooksStatus(t)
	v = st.route(t, "webhook_verify", "admin-orders")
	sg = st.route(t, "webhook_sign", "admin-outbound")
	delta(v, vBase, map[string]uint64{"verified": 4, "wrong_signature": 1, "duplicate": 2})
	delta(sg, sBase, map[string]uint64{"signed": 2})
	if !used(sg, "out-current", start).After(signedAt) {
		t.Errorf("out-current's last use did not move with the new request")
	}
	unused(sg, "out-next")
	unused(v, "key-old")
	if r := v.Replay; r == nil || r.Entries == nil || *r.Entries != entriesBase+4 {
		t.Errorf("replay after the reloads: %s", body)
	}

	// Read only.
	resp, err := http.Post(fmt.Sprintf("http://localhost:%d/webhooks/", adminPort), "application/json", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST /webhooks/: %d, want 405", resp.StatusCode)
	}
}

// runWebhookCommand runs the webhook subcommand as Caddy's CLI registers
// it, and returns what it printed.
func runWebhookCommand(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd, ok := caddycmd.Commands()["webhook"]
	if !ok {
		t.Fatal("no webhook command registered")
	}
	root := &cobra.Command{Use: "webhook", SilenceUsage: true, SilenceErrors: true}
	cmd.CobraFunc(root)
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetErr(io.Discard)
	root.SetArgs(args)
	err := root.Execute()
	return out.String(), err
}

// TestWebhookStatusCommand checks `webhook status` against Caddy's admin
// API: given the address, and found in the config file, as caddy stop
// finds it.
func TestWebhookStatusCommand(t *testing.T) {
	up := newUpstream(t)
	s := newAdminSecrets(t)
	prefix := "cli-" + randomHex(t, 3) // its own figures, exact whatever ran before
	site := adminSite(prefix, s, up, "2099-01-01T00:00:00Z", "")
	loadConfig(t, site)
	afterReload()
	wantStatus(t, adminSend(t, githubDelivery(t, "/orders", s.a, "one")), http.StatusOK)
	wantStatus(t, adminSend(t, githubDelivery(t, "/orders", s.a, "one")), http.StatusOK)
	wantStatus(t, adminSend(t, githubDelivery(t, "/orders", rawSecret(t), "two")), http.StatusUnauthorized)
	wantStatus(t, adminSend(t, delivery{Path: "/outbound", Body: []byte("{}")}), http.StatusOK)

	out, err := runWebhookCommand(t, "status", "--address", fmt.Sprintf("localhost:%d", adminPort))
	if err != nil {
		t.Fatalf("webhook status: %v\n%s", err, out)
	}
	t.Logf("webhook status:\n%s", out)
	for _, want := range []string{
		`(?m)^` + prefix + `-orders\s+webhook_verify\s+github\s+duplicate=1 verified=1 wrong_signature=1$`,
		`(?m)^` + prefix + `-outbound\s+webhook_sign\s+standard\s+signed=1$`,
		`(?m)^` + prefix + `-orders\s+key-a\s+\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ \(.*\)\s+-$`,
		`(?m)^` + prefix + `-orders\s+key-b\s+never\s+2099-01-01T00:00:00Z$`,
		`(?m)^` + prefix + `-orders\s+key-old\s+never\s+2020-01-01T00:00:00Z \(expired\)$`,
		`(?m)^` + prefix + `-outbound\s+out-current\s+\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ \(.*\)\s+-$`,
		`(?m)^` + prefix + `-outbound\s+out-next\s+never\s+-$`,
		`(?m)^` + prefix + `-orders\s+memory\s+24h0m0s\s+\d+\s+\d+(\.\d+)? [KM]?i?B\s+0$`,
	} {
		if !regexp.MustCompile(want).MatchString(out) {
			t.Errorf("webhook status output lacks %s:\n%s", want, out)
		}
	}
	for _, secret := range []string{s.a, s.b, s.old, s.out, s.next} {
		if strings.Contains(out, secret) {
			t.Fatal("webhook status prints a secret")
		}
	}

	// The address from the config file, as caddy stop and reload find it.
	cf := filepath.Join(t.TempDir(), "Caddyfile")
	if err := os.WriteFile(cf, []byte(globalOptions+site), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err = runWebhookCommand(t, "status", "--config", cf)
	if err != nil || !strings.Contains(out, prefix+"-orders") {
		t.Errorf("webhook status --config: %v\n%s", err, out)
	}
}
