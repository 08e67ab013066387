package verifier_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"github.com/hookguard/hookguard/preset"
	"github.com/hookguard/hookguard/verifier"
)

// TestExplainStale: a capture out of tolerance still has its signature
// checked without the timestamp, the report says whether it matches, and
// AsOf turns the capture's timestamp into the hint; Clock names the time
// judged against, in the timestamp line and in a future failure.
func TestExplainStale(t *testing.T) {
	s := mustPreset(t, "slack", preset.Options{})
	body := []byte("token=abc")
	m := hmac.New(sha256.New, []byte("kX3vQ9mR2pL8nT5wY7zB4cF6"))
	m.Write([]byte("v0:1700000000:" + string(body)))
	h := hdr("X-Slack-Signature", "v0="+hex.EncodeToString(m.Sum(nil)), "X-Slack-Request-Timestamp", "1700000000")
	right := []verifier.Key{{Label: "right", Secret: []byte("kX3vQ9mR2pL8nT5wY7zB4cF6")}}
	wrong := []verifier.Key{{Label: "wrong", Secret: []byte("zzX3vQ9mR2pL8nT5wY7zB4cF")}}
	asOf := func(ts string) string { return "try as of " + ts }
	cases := []struct {
		name string
		keys []verifier.Key
		o    verifier.ExplainOptions
		want []string
		not  []string
	}{
		{"stale, right key", right, verifier.ExplainOptions{Tolerance: 5 * time.Minute, Now: time.Unix(1_700_001_000, 0), AsOf: asOf},
			[]string{"1000 s behind this machine's clock", "FAIL: stale_timestamp", "it matches under secret right: only the timestamp fails", "hint:      to check it as of when it was sent: try as of 1700000000"}, nil},
		{"stale, wrong key, no AsOf", wrong, verifier.ExplainOptions{Tolerance: 5 * time.Minute, Now: time.Unix(1_700_001_000, 0)},
			[]string{"it fails too: wrong_signature", "no common change to the body"}, []string{"it matches", "as of when"}},
		{"future, Clock", right, verifier.ExplainOptions{Tolerance: 5 * time.Minute, Now: time.Unix(1_699_999_000, 0), Clock: "the given time"},
			[]string{"1000 s ahead of the given time", "timestamp is ahead of the given time by more than", "it matches under secret right"}, []string{"clock"}},
	}
	for _, c := range cases {
		var b strings.Builder
		if _, err := verifier.ExplainWith(s, &b, verifier.Request{Header: h}, body, c.keys, c.o); err == nil {
			t.Fatalf("%s: passes", c.name)
		}
		for _, w := range c.want {
			if !strings.Contains(b.String(), w) {
				t.Errorf("%s: report lacks %q:\n%s", c.name, w, b.String())
			}
		}
		for _, n := range c.not {
			if strings.Contains(b.String(), n) {
				t.Errorf("%s: report has %q:\n%s", c.name, n, b.String())
			}
		}
	}
}
