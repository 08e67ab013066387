package caddymodule

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
)

// The pieces of the open-relay analysis that need no running Caddy; the
// whole of it is tested end to end in integration/sign_exposure_test.go.

func TestInternalRanges(t *testing.T) {
	for ranges, want := range map[string]bool{
		"192.168.0.0/16 172.16.0.0/12 10.0.0.0/8 127.0.0.1/8 fd00::/8 ::1": true, // private_ranges
		"10.1.2.3":              true,
		"169.254.0.0/16":        true,
		"fe80::1%eth0":          true,
		"fc00::/7":              true,
		"172.16.0.0/11":         false, // wider than 172.16.0.0/12
		"10.0.0.0/8 0.0.0.0/0":  false,
		"8.8.8.8":               false,
		"::/0":                  false,
		"::ffff:10.0.0.0/104":   false, // cannot tell: warn
		"{env.INTERNAL_RANGES}": false,
		"":                      false,
	} {
		if got := internalRanges(strings.Fields(ranges)); got != want {
			t.Errorf("internalRanges(%q) = %v, want %v", ranges, got, want)
		}
	}
}

func TestInternalListeners(t *testing.T) {
	for listen, want := range map[string]bool{
		"127.0.0.1:8090 [::1]:8090": true,
		"unix//run/hookguard.sock":  true,
		"127.0.0.1:8090 :8090":      false,
		":8090":                     false,
		"localhost:8090":            false, // a name: cannot tell
		"10.0.0.5:8090":             false, // private, but not only this machine
		"":                          false,
	} {
		if got := internalListeners(strings.Fields(listen)); got != want {
			t.Errorf("internalListeners(%q) = %v, want %v", listen, got, want)
		}
	}
}

func TestVerifiesBefore(t *testing.T) {
	for raw, want := range map[string]bool{
		`[{"handler":"webhook_verify","scheme":"github"},{"handler":"webhook_sign"}]`:                            true,
		`[{"handler":"webhook_sign"},{"handler":"webhook_verify","scheme":"github"}]`:                            false,
		`[{"handler":"webhook_verify","insecure_unsigned":true},{"handler":"webhook_sign"}]`:                     false,
		`[{"handler":"headers"},{"handler":"webhook_verify","scheme":"github"},{"handler":"subroute"}]`:          true,
		`[{"handler":"subroute"},{"handler":"webhook_verify","scheme":"github"},{"handler":"webhook_sign"}]`:     true,
		`[{"handler":"webhook_sign"},{"handler":"webhook_verify","scheme":"github"},{"handler":"webhook_sign"}]`: false,
	} {
		var handlers []json.RawMessage
		if err := json.Unmarshal([]byte(raw), &handlers); err != nil {
			t.Fatal(err)
		}
		if got := verifiesBefore(handlers, "webhook_sign"); got != want {
			t.Errorf("verifiesBefore(%s) = %v, want %v", raw, got, want)
		}
	}
}

// TestExposureOutsideAServer: provisioned with no server in sight (as
// here, or by a host module hookguard does not know), the analysis cannot
// see the callers and so reports the handler as exposed.
func TestExposureOutsideAServer(t *testing.T) {
	ctx, cancel := newTestContext()
	defer cancel()
	if why := exposure(ctx, &WebhookSign{}, "webhook_sign"); why == "" {
		t.Error("no server in the context, yet the handler is reported as protected")
	}
}

// TestRestrictsCallers: a client_ip matcher for internal ranges counts as
// a caller restriction only when client_ip is the connection's address (no
// trusted proxies); remote_ip always does.
func TestRestrictsCallers(t *testing.T) {
	remote := &caddyhttp.MatchRemoteIP{Ranges: []string{"10.0.0.0/8"}}
	client := &caddyhttp.MatchClientIP{Ranges: []string{"10.0.0.0/8"}}
	for _, c := range []struct {
		name     string
		sets     caddyhttp.MatcherSets
		clientIP bool
		want     bool
	}{
		{"remote_ip", caddyhttp.MatcherSets{{remote}}, false, true},
		{"client_ip, no trusted proxies", caddyhttp.MatcherSets{{client}}, true, true},
		{"client_ip, trusted proxies", caddyhttp.MatcherSets{{client}}, false, false},
		{"client_ip and remote_ip, trusted proxies", caddyhttp.MatcherSets{{client, remote}}, false, true},
		{"one set of two, trusted proxies", caddyhttp.MatcherSets{{remote}, {client}}, false, false},
		{"no matchers", nil, true, false},
	} {
		if got := restrictsCallers(c.sets, c.clientIP); got != c.want {
			t.Errorf("%s: restrictsCallers = %v, want %v", c.name, got, c.want)
		}
	}
}

// forwardProbe is a handler that records, when it is provisioned, what
// trustsForwarded says of its server: what exposure sees.
type forwardProbe struct {
	Name string `json:"name"`
}

var forwardProbes sync.Map // name → trustsForwarded

func (forwardProbe) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{ID: "http.handlers.hookguard_test_forward_probe", New: func() caddy.Module { return new(forwardProbe) }}
}

func (p *forwardProbe) Provision(ctx caddy.Context) error {
	srv, ok := ctx.Value(caddyhttp.ServerCtxKey).(*caddyhttp.Server)
	if !ok {
		return errors.New("no server in the context")
	}
	forwardProbes.Store(p.Name, trustsForwarded(srv))
	return nil
}

func (forwardProbe) ServeHTTP(http.ResponseWriter, *http.Request, caddyhttp.Handler) error {
	return nil
}

func init() { caddy.RegisterModule(forwardProbe{}) }

// TestTrustsForwarded: client_ip may come from X-Forwarded-For on a server
// with trusted_proxies (strict or not), as the http app has loaded it when
// a handler is provisioned, or with trusted_proxies_unix; not on a server
// with neither. It also checks that the unexported field trustsForwarded
// reads is still where it looks.
func TestTrustsForwarded(t *testing.T) {
	servers := map[string]any{}
	want := map[string]bool{"plain": false, "proxied": true, "strict": true, "unix": true}
	port := 0
	for name := range want {
		port++
		srv := map[string]any{
			"listen":          []string{fmt.Sprintf("127.0.0.1:%d", 39000+port)},
			"routes":          []any{map[string]any{"handle": []any{map[string]any{"handler": "hookguard_test_forward_probe", "name": name}}}},
			"automatic_https": map[string]any{"disable": true},
		}
		switch name {
		case "proxied":
			srv["trusted_proxies"] = map[string]any{"source": "static", "ranges": []string{"0.0.0.0/0"}}
		case "strict":
			srv["trusted_proxies"] = map[string]any{"source": "static", "ranges": []string{"10.0.0.0/8"}}
			srv["trusted_proxies_strict"] = 1
		case "unix":
			srv["trusted_proxies_unix"] = true
		}
		servers[name] = srv
	}
	raw, err := json.Marshal(map[string]any{"apps": map[string]any{"http": map[string]any{"servers": servers}}})
	if err != nil {
		t.Fatal(err)
	}
	var cfg caddy.Config
	if err := json.Unmarshal(raw, &cfg); err != nil {
		t.Fatal(err)
	}
	if err := caddy.Validate(&cfg); err != nil {
		t.Fatal(err)
	}
	for name, w := range want {
		got, ok := forwardProbes.Load(name)
		if !ok {
			t.Errorf("%s: the probe was not provisioned", name)
		} else if got != w {
			t.Errorf("%s: trustsForwarded = %v, want %v", name, got, w)
		}
	}
	if !trustsForwarded(&caddyhttp.Server{TrustedProxiesRaw: json.RawMessage(`{"source":"static"}`)}) {
		t.Error("trusted_proxies not yet loaded: trustsForwarded = false")
	}
}
