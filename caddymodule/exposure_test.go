package caddymodule

import (
	"encoding/json"
	"strings"
	"testing"
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
	if why := exposure(ctx, &Sign{}); why == "" {
		t.Error("no server in the context, yet the handler is reported as protected")
	}
}
