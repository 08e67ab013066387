package caddymodule

import (
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/hookguard/hookguard/internal/verifiertest"
	"github.com/hookguard/hookguard/preset"
	"github.com/hookguard/hookguard/scheme"
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
		"gitlab":   "body",
		"intercom": "mac", "frameio": "mac", "zoom": "mac", "postmark": "body",
		"discord": "mac", "discord-events": "mac", "sendgrid": "mac", "standard-v1a": "sid",
		"bigcommerce": "sid",
		"paddle":      "mac", "square": "mac", "razorpay": "mac", "woocommerce": "mac", "coinbase": "mac",
		"lemonsqueezy": "mac", "docusign": "mac", "plaid": "mac",
		"gitea": "mac", "forgejo": "mac", "gogs": "mac", "jira": "mac", "circleci": "mac", "sentry": "mac",
		"vercel": "mac", "segment": "mac", "netlify": "mac", "linear": "mac", "figma": "body",
		"hubspot": "mac", "hubspot-v1": "mac", "hubspot-v2": "mac", "twitch": "sid", "dropbox": "mac",
		"okta": "body", "asana": "mac", "onfleet": "mac", "pagerduty": "mac", "zendesk": "mac",
		"clerk": "sid", "resend": "sid",
		"contentful": "mac", "sanity": "mac", "typeform": "mac", "airtable": "mac", "calendly": "mac", "mux": "mac",
		"strapi": "body",
	}
	now := time.Unix(1_700_000_000, 0)
	body := []byte(`{"event":"replay key"}`)
	for _, name := range preset.Names() {
		s, err := preset.Get(name, preset.Options{})
		if err != nil {
			t.Fatal(err)
		}
		var k verifier.Key
		switch {
		case s.Asymmetric():
			pub, priv, err := s.Algorithm.(scheme.KeyPair).Generate()
			if err != nil {
				t.Fatal(err)
			}
			if k.Public, err = s.ParsePublicKey(pub); err != nil {
				t.Fatal(err)
			}
			if k.Private, err = s.ParsePrivateKey(priv); err != nil {
				t.Fatal(err)
			}
		case verifiertest.Generic(s):
			secret, err := signer.GenerateSecret(s, 32) // in the scheme's own format
			if err != nil {
				t.Fatal(err)
			}
			if k.Secret, err = s.DecodeSecret(secret); err != nil {
				t.Fatal(err)
			}
		default:
			// Signs the URL or fields of the body (Twilio, Mailgun): its
			// Result's ID and IDSigned are pinned by its preset's tests.
			continue
		}
		h, err := signer.SignKeys(s, []verifier.Key{k}, signer.Message{Body: body, ID: "msg_1", Time: now})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		res, err := verifier.Verify(s, h, body, []verifier.Key{k}, 5*time.Minute, now)
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

// TestReplayKeyShownIsKeyed: what logs, {http.webhook.replay_key} and
// error texts show of a replay key is keyed with the installation's key,
// so it cannot be recomputed from a guessed secret and the public inputs
// (scheme, name, delivery id); the store's key, which instances sharing a
// Redis must agree on, is never shown.
func TestReplayKeyShownIsKeyed(t *testing.T) {
	res := verifier.Result{ID: "msg_1", IDSigned: true, Key: "k"}
	g1 := &replayGuard{scope: "standard\x00", sender: []string{"digest of the secret"}, shown: []byte("installation one")}
	g2 := &replayGuard{scope: "standard\x00", sender: []string{"digest of the secret"}, shown: []byte("installation two")}
	key := g1.key(res)
	if g2.key(res) != key {
		t.Fatal("two instances disagree on the store key")
	}
	a, b := g1.showKey(key), g2.showKey(key)
	if a == b || a == key || strings.Contains(a, strings.TrimPrefix(key, "sid:")) || !strings.HasPrefix(a, "sid:") {
		t.Errorf("shown keys %q, %q for store key %q: want keyed per installation, kind kept, store key hidden", a, b, key)
	}
	if g1.showKey(key) != a {
		t.Error("the shown key is not stable")
	}
}

// TestReplayOutcome: the status that commits (< 500) or releases a
// delivery. What the app already answered wins over a later failure; a
// handler that panicked before writing (reverse_proxy's abort) is no
// answer.
func TestReplayOutcome(t *testing.T) {
	for _, c := range []struct {
		written  int
		returned bool
		err      error
		want     int
	}{
		{0, true, nil, 200},
		{201, true, nil, 201},
		{200, false, nil, 200},                            // answered, then the response was cut
		{0, false, nil, 502},                              // aborted before any answer
		{0, true, caddyhttp.Error(502, errInFlight), 502}, // reverse_proxy could not reach the app
		{0, true, errInFlight, 500},
		{404, true, caddyhttp.Error(502, errInFlight), 404},
	} {
		if got := replayOutcome(c.written, c.returned, c.err); got != c.want {
			t.Errorf("replayOutcome(%d, %v, %v) = %d, want %d", c.written, c.returned, c.err, got, c.want)
		}
	}
}
