package caddymodule

import (
	"runtime/debug"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2"
)

// TestHookguardVersion (issue 12, item 9): hookguard's version comes from
// the build information: the main module in a build of cmd/hookguard
// ((devel) and the commit for a local checkout), a dependency in an
// xcaddy build (with the directory it was replaced by).
func TestHookguardVersion(t *testing.T) {
	cases := []struct {
		name string
		bi   *debug.BuildInfo
		want string
	}{
		{"release", &debug.BuildInfo{Main: debug.Module{Path: modulePath, Version: "v0.4.0"}}, "v0.4.0"},
		{"local checkout", &debug.BuildInfo{Main: debug.Module{Path: modulePath, Version: "(devel)"}}, "(devel)"},
		{"local checkout with vcs", &debug.BuildInfo{Main: debug.Module{Path: modulePath, Version: "(devel)"},
			Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "e6997b8"}, {Key: "vcs.modified", Value: "true"}}}, "(devel) e6997b8 (modified)"},
		{"xcaddy", &debug.BuildInfo{Main: debug.Module{Path: "caddy"}, Deps: []*debug.Module{{Path: "github.com/caddyserver/caddy/v2", Version: "v2.11.9"}, {Path: modulePath, Version: "v0.4.0"}}}, "v0.4.0"},
		{"xcaddy with a checkout", &debug.BuildInfo{Main: debug.Module{Path: "caddy"}, Deps: []*debug.Module{{Path: modulePath, Version: "v0.0.0-00010101000000-000000000000", Replace: &debug.Module{Path: "/src/hookguard"}}}}, "(devel) => /src/hookguard"},
		{"xcaddy with a fork", &debug.BuildInfo{Main: debug.Module{Path: "caddy"}, Deps: []*debug.Module{{Path: modulePath, Version: "v0.4.0", Replace: &debug.Module{Path: "example.com/fork", Version: "v0.4.1"}}}}, "v0.4.1 => example.com/fork"},
		{"absent", &debug.BuildInfo{Main: debug.Module{Path: "caddy"}}, "unknown (github.com/hookguard/hookguard is not in this binary's build information)"},
		{"no build info", nil, "unknown (no build information in this binary)"},
	}
	for _, c := range cases {
		if got := hookguardVersion(c.bi); got != c.want {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
}

// TestVersionCommand: `webhook version` names hookguard's version, then
// Caddy's as `caddy version` prints it.
func TestVersionCommand(t *testing.T) {
	out, _, err := runAll(t, "", "version")
	if err != nil {
		t.Fatal(err)
	}
	_, full := caddy.Version()
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "hookguard (devel)") || lines[1] != "caddy "+full {
		t.Errorf("webhook version:\n%s", out)
	}
}
