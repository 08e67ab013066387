package caddymodule

import (
	"fmt"
	"os"
	"strings"
	"testing"
)

// minCaddy is the oldest Caddy hookguard may be built with: the newest
// patch release the module proxy serves (SPEC "Layout"), so the ready-built
// binary carries its security fixes (finding 15). Since v2.11.9 Caddy also
// drops headers with '_' or '.' by default, and wraps the request body in
// place, which closeAfterReply accounts for.
const minCaddy = "v2.11.9"

// TestCaddyVersion reads go.mod's requirement, the floor of every user's
// xcaddy build and the Caddy inside cmd/hookguard.
func TestCaddyVersion(t *testing.T) {
	mod, err := os.ReadFile("../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(mod), "\n") {
		f := strings.Fields(line)
		if len(f) >= 2 && f[0] == "github.com/caddyserver/caddy/v2" {
			if older(t, f[1], minCaddy) {
				t.Fatalf("go.mod requires Caddy %s; require at least %s", f[1], minCaddy)
			}
			return
		}
	}
	t.Fatal("go.mod does not require github.com/caddyserver/caddy/v2")
}

// older reports whether release a (vMAJOR.MINOR.PATCH, pre-release or
// pseudo-version suffixes ignored) comes before release b.
func older(t *testing.T, a, b string) bool {
	t.Helper()
	var x, y [3]int
	for _, p := range []struct {
		s string
		v *[3]int
	}{{a, &x}, {b, &y}} {
		if _, err := fmt.Sscanf(p.s, "v%d.%d.%d", &p.v[0], &p.v[1], &p.v[2]); err != nil {
			t.Fatalf("version %q: %v", p.s, err)
		}
	}
	for i := range x {
		if x[i] != y[i] {
			return x[i] < y[i]
		}
	}
	return false
}
