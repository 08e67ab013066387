package caddymodule

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// headerRecorder is a next handler that keeps the headers it got.
type headerRecorder struct{ h http.Header }

func (rec *headerRecorder) ServeHTTP(_ http.ResponseWriter, r *http.Request) error {
	rec.h = r.Header.Clone()
	return nil
}

// TestVerifiedHeadersSurvive drives ServeHTTP directly, with header names
// as a server that lets underscores through (Caddy's
// expected_underscore_headers) would hand them over: a look-alike of the
// verified delivery id never reaches the next handler (finding 4), and a
// client's Connection header cannot make reverse_proxy drop the verified
// headers or Content-Type (finding 3).
func TestVerifiedHeadersSurvive(t *testing.T) {
	v := &WebhookVerify{Scheme: "github", Secrets: []Secret{{Value: "s3cret-For-Tests!", Label: "main"}}}
	if err := provision(t, v); err != nil {
		t.Fatal(err)
	}
	body := []byte(`{"zen":"hygiene"}`)
	h := signedGitHub(t, "s3cret-For-Tests!", body)
	h["X_github_delivery"] = []string{"attacker"}
	h["X-Github.delivery"] = []string{"attacker"}
	h.Set("Content-Type", "application/json")
	h.Set("Connection", "keep-alive, X-GitHub-Delivery, x-hub-signature-256, Content-Type")
	r, _ := request(strings.NewReader(string(body)), h)
	next := new(headerRecorder)
	if err := v.ServeHTTP(httptest.NewRecorder(), r, next); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"X_github_delivery", "X-Github.delivery"} {
		if vals, ok := next.h[bad]; ok {
			t.Errorf("look-alike %s: %q reached the next handler", bad, vals)
		}
	}
	if got := next.h.Get("X-Github-Delivery"); got != "d-1" {
		t.Errorf("X-GitHub-Delivery = %q, want the verified d-1", got)
	}
	if got := next.h.Values("Connection"); len(got) != 1 || got[0] != "keep-alive" {
		t.Errorf("Connection = %q, want only keep-alive: the verified headers must not be listed as hop-by-hop", got)
	}
	if next.h.Get("Content-Type") != "application/json" || next.h.Get("X-Hub-Signature-256") == "" {
		t.Errorf("verified headers lost: %v", next.h)
	}
}

// TestSignDropsLookAlikes: a caller's look-alikes of the headers
// webhook_sign sets (review finding D) never reach the receiver next to
// the fresh ones; other headers pass.
func TestSignDropsLookAlikes(t *testing.T) {
	s := &WebhookSign{Scheme: "standard", Secrets: []Secret{{Value: strongA}}}
	if err := provisionSign(t, s); err != nil {
		t.Fatal(err)
	}
	h := http.Header{
		"Webhook_signature": {"v1,evil"},
		"Webhook_timestamp": {"1"},
		"Webhook.id":        {"evil"},
		"Webhook-Id":        {"evil"},
		"X-Other_header":    {"kept"},
	}
	r, _ := request(strings.NewReader("{}"), h)
	next := new(headerRecorder)
	if err := s.ServeHTTP(httptest.NewRecorder(), r, next); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"Webhook_signature", "Webhook_timestamp", "Webhook.id"} {
		if vals, ok := next.h[bad]; ok {
			t.Errorf("look-alike %s: %q reached the receiver", bad, vals)
		}
	}
	if id := next.h.Get("Webhook-Id"); id == "evil" || id == "" {
		t.Errorf("Webhook-Id = %q, want a fresh id", id)
	}
	if next.h.Get("X-Other_header") != "kept" {
		t.Error("an unrelated header was dropped")
	}
}
