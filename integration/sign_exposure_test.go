package integration

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2/caddytest"
)

// The load-time warning for a webhook_sign route that anyone can use as a
// signing relay (issue 7, finding 1): each config below names its
// webhook_sign handlers, and the test checks exactly which names the
// warning is logged for.

// openRelayWarnings reads the log at path and returns the route names the
// open signing relay warning was logged for, sorted, without repeats.
func openRelayWarnings(t *testing.T, path string) []string {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var routes []string
	for _, line := range strings.Split(string(raw), "\n") {
		var e struct {
			Logger, Level, Msg, Route, Because string
		}
		if json.Unmarshal([]byte(line), &e) != nil || e.Logger != "http.handlers.webhook_sign" || !strings.HasPrefix(e.Msg, "open signing relay") {
			continue
		}
		if e.Level != "warn" || e.Because == "" {
			t.Errorf("warning logged at level %q, because %q: %s", e.Level, e.Because, line)
		}
		if !slices.Contains(routes, e.Route) {
			routes = append(routes, e.Route)
		}
	}
	slices.Sort(routes)
	return routes
}

// flushLog loads a config without the log, so Caddy closes (and flushes)
// the log file of the previous one.
func flushLog(t *testing.T) {
	t.Helper()
	loadConfig(t, fmt.Sprintf("http://localhost:%d {\n\trespond ok\n}\n", httpPort))
}

// TestSignOpenRelayWarningCaddyfile: on the public site, a bare sign route
// (also when nested in handles), one behind a remote_ip matcher that also
// allows a public range, and one after an insecure_unsigned webhook_verify
// are warned about; one behind @internal remote_ip private_ranges (with a
// nested handle inside), one behind client_ip private ranges on that server
// (no trusted_proxies: client_ip is the connection's address), one after
// webhook_verify, and one on a site bound to 127.0.0.1 are not. On servers
// with trusted_proxies (0.0.0.0/0, as in finding A of the outside review;
// and private ranges with trusted_proxies_strict), a client_ip matcher is
// not a restriction (a client can send X-Forwarded-For: 10.1.2.3) and the
// warning says so; remote_ip still is.
func TestSignOpenRelayWarningCaddyfile(t *testing.T) {
	skipShort(t)
	logPath := filepath.Join(t.TempDir(), "caddy.log")
	std, gh := signSecret(t, "standard"), signSecret(t, "github")
	sign := func(name string) string {
		return fmt.Sprintf("webhook_sign standard %q {\n\t\t\tname %s\n\t\t}\n\t\trespond ok", std, name)
	}
	opts := strings.Replace(debugLogOptions(logPath), "grace_period 1ns\n", fmt.Sprintf(`grace_period 1ns
	servers :%d {
		trusted_proxies static 0.0.0.0/0
	}
	servers :%d {
		trusted_proxies static private_ranges
		trusted_proxies_strict
	}
`, httpPort+2, httpPort+3), 1)
	loadFullConfig(t, opts+fmt.Sprintf(`
http://localhost:%[1]d {
	handle /public {
		%[3]s
	}
	handle /outer/* {
		handle /outer/inner {
			%[4]s
		}
	}
	@internal remote_ip private_ranges
	handle @internal {
		handle /internal {
			%[5]s
		}
	}
	@wide remote_ip 10.0.0.0/8 0.0.0.0/0
	handle @wide {
		%[6]s
	}
	handle /chain {
		webhook_verify github %[2]q
		%[7]s
	}
	handle /dev {
		webhook_verify github {
			insecure_unsigned
		}
		%[8]s
	}
}

http://localhost:%[9]d {
	bind 127.0.0.1
	%[10]s
}
`, httpPort, gh, sign("public"), sign("nested-public"), sign("internal"), sign("wide"), sign("chain"), sign("after-unsigned-verify"),
		httpPort+1, sign("loopback"))+fmt.Sprintf(`
http://127.0.0.1:%[1]d {
	@client client_ip 10.0.0.0/8
	handle @client {
		handle /relay {
			%[2]s
		}
	}
}

http://localhost:%[3]d {
	@client client_ip 10.0.0.0/8
	handle @client {
		handle /relay {
			%[4]s
		}
	}
	@remote remote_ip 10.0.0.0/8
	handle @remote {
		%[5]s
	}
}

http://localhost:%[6]d {
	@client client_ip private_ranges
	handle @client {
		%[7]s
	}
}
`, httpPort, sign("client-ip"), httpPort+2, sign("proxied-client-ip"), sign("proxied-remote-ip"), httpPort+3, sign("strict-client-ip")))
	flushLog(t)

	want := []string{"after-unsigned-verify", "nested-public", "proxied-client-ip", "public", "strict-client-ip", "wide"}
	if got := openRelayWarnings(t, logPath); !slices.Equal(got, want) {
		t.Errorf("open relay warnings for %q, want %q", got, want)
	}
	for _, route := range []string{"proxied-client-ip", "strict-client-ip"} {
		if because := openRelayBecause(t, logPath, route); !strings.Contains(because, "client_ip trusts X-Forwarded-For from trusted_proxies") {
			t.Errorf("warning for %s: because %q does not say that client_ip trusts X-Forwarded-For from trusted_proxies", route, because)
		}
	}
}

// openRelayBecause returns the because of the open signing relay warning
// logged for route, or "".
func openRelayBecause(t *testing.T, path, route string) string {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(raw), "\n") {
		var e struct{ Logger, Msg, Route, Because string }
		if json.Unmarshal([]byte(line), &e) == nil && e.Logger == "http.handlers.webhook_sign" &&
			strings.HasPrefix(e.Msg, "open signing relay") && e.Route == route {
			return e.Because
		}
	}
	return ""
}

// TestSignOpenRelayWarningJSON: the same check on a JSON config, which no
// Caddyfile parser saw: a route whose handlers are [webhook_verify,
// webhook_sign, static_response] and a route after an unconditional
// webhook_verify route are not warned about; a sign route before any
// verify, and one whose client_ip matcher sits in only one of two matcher
// sets, are.
func TestSignOpenRelayWarningJSON(t *testing.T) {
	skipShort(t)
	logPath := filepath.Join(t.TempDir(), "caddy.log")
	std, gh := signSecret(t, "standard"), signSecret(t, "github")
	sign := func(name string) map[string]any {
		return map[string]any{"handler": "webhook_sign", "scheme": "standard", "name": name, "secrets": []any{map[string]any{"value": std}}}
	}
	verify := map[string]any{"handler": "webhook_verify", "scheme": "github", "secrets": []any{map[string]any{"value": gh}}}
	ok := map[string]any{"handler": "static_response", "body": "ok"}
	path := func(p string) []any { return []any{map[string]any{"path": []string{p}}} }
	cfg := map[string]any{
		"admin": map[string]any{"listen": fmt.Sprintf("localhost:%d", adminPort)},
		"logging": map[string]any{"logs": map[string]any{"default": map[string]any{
			"writer": map[string]any{"output": "file", "filename": logPath}, "level": "DEBUG",
		}}},
		"apps": map[string]any{
			"pki": map[string]any{"certificate_authorities": map[string]any{"local": map[string]any{"install_trust": false}}},
			"http": map[string]any{
				"http_port": httpPort, "https_port": httpsPort, "grace_period": 1,
				"servers": map[string]any{"srv0": map[string]any{
					"listen": []string{fmt.Sprintf(":%d", httpPort)},
					"routes": []any{
						map[string]any{"match": path("/open"), "handle": []any{sign("json-open"), ok}, "terminal": true},
						map[string]any{"match": []any{
							map[string]any{"path": []string{"/half"}, "client_ip": map[string]any{"ranges": []string{"192.168.0.0/16"}}},
							map[string]any{"path": []string{"/half-public"}},
						}, "handle": []any{sign("json-half"), ok}, "terminal": true},
						map[string]any{"match": path("/chain"), "handle": []any{verify, sign("json-chain"), ok}, "terminal": true},
						map[string]any{"handle": []any{verify}},
						map[string]any{"handle": []any{sign("json-after-verify"), ok}},
					},
				}},
			},
		},
	}
	raw, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	caddytest.NewTester(t).InitServer(string(raw), "json")
	if t.Failed() {
		t.FailNow()
	}
	flushLog(t)

	want := []string{"json-half", "json-open"}
	if got := openRelayWarnings(t, logPath); !slices.Equal(got, want) {
		t.Errorf("open relay warnings for %q, want %q", got, want)
	}
}
