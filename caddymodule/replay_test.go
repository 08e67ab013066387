package caddymodule

import (
	"strings"
	"testing"
	"time"

	"github.com/hookguard/hookguard/signer"
	"github.com/hookguard/hookguard/verifier"
)

// TestReplayKeyPerPreset pins what identifies a delivery for replay, per
// preset: the sender's id only where the signature covers it (Standard
// Webhooks and Svix sign webhook-id), else the verified MAC (the same
// signature over the same bytes; an unsigned id header cannot change it),
// and for token schemes, which sign nothing, the body. Two routes of the
// same scheme with different names never share a key.
func TestReplayKeyPerPreset(t *testing.T) {
	want := map[string]string{
		"standard": "sid", "svix": "sid",
		"github": "mac", "stripe": "mac", "slack": "mac", "shopify": "mac", "decsys": "mac", "bitbucket": "mac",
		"gitlab": "body",
	}
	now := time.Unix(1_700_000_000, 0)
	body := []byte(`{"event":"replay key"}`)
	for _, name := range verifier.PresetNames() {
		s, err := verifier.Preset(name, verifier.Options{})
		if err != nil {
			t.Fatal(err)
		}
		key, err := s.DecodeSecret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
		if err != nil {
			t.Fatal(err)
		}
		h := signer.Sign(s, [][]byte{key}, signer.Message{Body: body, ID: "msg_1", Time: now})
		res, err := s.Verify(h, body, []verifier.Key{{Secret: key}}, 5*time.Minute, now)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		w, ok := want[name]
		if !ok {
			t.Errorf("preset %s: no expected replay key kind in this test; add it", name)
			continue
		}
		a := (&replayGuard{scope: name + "\x00a"}).key(res)
		if !strings.HasPrefix(a, w+":") {
			t.Errorf("%s: replay key %q, want kind %s", name, a, w)
		}
		if b := (&replayGuard{scope: name + "\x00b"}).key(res); b == a {
			t.Errorf("%s: two routes share the key %q", name, a)
		}
		// An unsigned id header never picks the key.
		if w != "sid" {
			res2 := res
			res2.ID = "another id"
			if (&replayGuard{scope: name + "\x00a"}).key(res2) != a {
				t.Errorf("%s: changing the unsigned id changed the replay key", name)
			}
		}
	}
}
