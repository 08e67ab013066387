// Package preset names the webhook senders hookguard knows and describes
// how each signs, as a scheme.Scheme: one file per family of senders,
// each entry with the sender's documentation and the proof, in this
// package's tests, that hookguard agrees with the sender's own material.
package preset

import (
	"fmt"
	"sort"
	"strings"

	"github.com/hookguard/hookguard/scheme"
)

// Options adjusts a preset.
type Options struct {
	// LegacySHA1 makes the github preset accept the old X-Hub-Signature
	// SHA-1 header when X-Hub-Signature-256 is absent.
	LegacySHA1 bool
}

// Entry is one sender in the registry.
type Entry struct {
	// Name is what config calls it: webhook_verify <name>.
	Name string
	// Sender is the sender's name as people write it ("GitHub").
	Sender string
	// Family groups entries in listings ("git hosting", "payments").
	Family string
	// Docs is the sender's documentation of its signatures.
	Docs string
	// Signed says in words what the sender signs, for listings
	// ("HMAC-SHA256 of the body"); the scheme says it exactly.
	Signed string
	// Notes says anything a user must know: a handshake the gateway
	// answers, where the secret or key is found.
	Notes string
	// Build returns a fresh, uninitialised scheme.
	Build func(Options) *scheme.Scheme
}

var registry = map[string]Entry{}

// register adds entries; each family's file calls it from init. A name
// registered twice is a programming error.
func register(entries ...Entry) {
	for _, e := range entries {
		if _, dup := registry[e.Name]; dup {
			panic("preset: " + e.Name + " registered twice")
		}
		if e.Docs == "" || e.Build == nil || e.Sender == "" || e.Family == "" {
			panic("preset: " + e.Name + " lacks docs, build, sender or family")
		}
		registry[e.Name] = e
	}
}

// Get returns a fresh, initialised copy of the named sender's scheme.
func Get(name string, o Options) (*scheme.Scheme, error) {
	e, ok := registry[name]
	if !ok {
		return nil, UnknownError(name)
	}
	s := e.Build(o)
	s.Name = name
	if err := s.Init(); err != nil {
		return nil, err
	}
	return s, nil
}

// Lookup returns the named entry.
func Lookup(name string) (Entry, bool) {
	e, ok := registry[name]
	return e, ok
}

// Names lists the presets in alphabetical order.
func Names() []string {
	names := make([]string, 0, len(registry))
	for n := range registry {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Entries lists the entries in alphabetical order of name.
func Entries() []Entry {
	out := make([]Entry, 0, len(registry))
	for _, n := range Names() {
		out = append(out, registry[n])
	}
	return out
}

// List is Names joined for messages.
func List() string { return strings.Join(Names(), ", ") }

// UnknownError is the error for a scheme name that is no preset: it
// suggests the nearest names, or lists them all.
func UnknownError(name string) error {
	if near := Nearest(name); len(near) > 0 {
		return fmt.Errorf("unknown scheme %q: did you mean %s? (the webhook schemes subcommand lists every preset; hmac and token describe your own)", name, strings.Join(near, " or "))
	}
	return fmt.Errorf("unknown scheme %q (use one of %s, or hmac / token to describe your own)", name, List())
}

// Nearest returns the preset names closest to name: within two edits, or
// that name contains or is contained in, nearest first, at most three.
func Nearest(name string) []string {
	n := strings.ToLower(strings.TrimSpace(name))
	if n == "" {
		return nil
	}
	type cand struct {
		name string
		d    int
	}
	var cs []cand
	for _, p := range Names() {
		d := distance(n, p)
		if d <= 2 || len(n) >= 4 && (strings.Contains(p, n) || strings.Contains(n, p)) {
			cs = append(cs, cand{p, d})
		}
	}
	sort.SliceStable(cs, func(i, j int) bool { return cs[i].d < cs[j].d })
	var out []string
	for i := 0; i < len(cs) && i < 3; i++ {
		out = append(out, cs[i].name)
	}
	return out
}

// distance is the Levenshtein distance between a and b.
func distance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
