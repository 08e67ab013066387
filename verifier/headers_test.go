package verifier_test

import (
	"net/http"
	"slices"
	"testing"

	"github.com/hookguard/hookguard/preset"
	"github.com/hookguard/hookguard/scheme"
	"github.com/hookguard/hookguard/verifier"
)

// TestDropUnverified: after verification only the header set that was
// verified stays, and nothing that folds (case, '_', '.') into one of the
// scheme's header names survives next to it (finding 4).
func TestDropUnverified(t *testing.T) {
	cases := []struct {
		preset string
		opts   preset.Options
		used   int // index of the verified header set
		in     http.Header
		want   []string // header names left, sorted
	}{
		{
			preset: "standard",
			in: http.Header{
				"Webhook-Id": {"msg_1"}, "Webhook-Timestamp": {"1"}, "Webhook-Signature": {"v1,x"},
				"Webhook_id": {"attacker"}, "Webhook.timestamp": {"2"}, "WEBHOOK_SIGNATURE": {"v1,y"},
				"Content-Type": {"application/json"}, "X-Other_header": {"kept"},
			},
			want: []string{"Content-Type", "Webhook-Id", "Webhook-Signature", "Webhook-Timestamp", "X-Other_header"},
		},
		{
			// Svix verified with svix-*: the webhook-* set was never checked.
			preset: "svix", used: 0,
			in: http.Header{
				"Svix-Id": {"msg_1"}, "Svix-Timestamp": {"1"}, "Svix-Signature": {"v1,x"},
				"Webhook-Id": {"attacker"}, "Webhook-Timestamp": {"2"}, "Webhook-Signature": {"v1,y"},
				"Svix_id": {"attacker"},
			},
			want: []string{"Svix-Id", "Svix-Signature", "Svix-Timestamp"},
		},
		{
			// And the other way round.
			preset: "svix", used: 1,
			in: http.Header{
				"Svix-Id": {"attacker"}, "Webhook-Id": {"msg_1"}, "Webhook-Timestamp": {"1"}, "Webhook-Signature": {"v1,x"},
			},
			want: []string{"Webhook-Id", "Webhook-Signature", "Webhook-Timestamp"},
		},
		{
			// GitHub: the delivery id's look-alike goes; the unverified
			// legacy SHA-1 header goes when SHA-256 was verified.
			preset: "github", opts: preset.Options{LegacySHA1: true},
			in: http.Header{
				"X-Hub-Signature-256": {"sha256=x"}, "X-Github-Delivery": {"d-1"},
				"X_github_delivery": {"attacker"}, "X-Hub-Signature": {"sha1=y"},
			},
			want: []string{"X-Github-Delivery", "X-Hub-Signature-256"},
		},
	}
	for _, c := range cases {
		s := mustPreset(t, c.preset, c.opts)
		s.DropUnverified(c.in, s.HeaderSets[c.used])
		var got []string
		for k := range c.in {
			got = append(got, k)
		}
		slices.Sort(got)
		if !slices.Equal(got, c.want) {
			t.Errorf("%s (set %d): left %q, want %q", c.preset, c.used, got, c.want)
		}
	}
}

func BenchmarkDropUnverified(b *testing.B) {
	s, _ := preset.Get("standard", preset.Options{})
	h := http.Header{
		"Webhook-Id": {"msg_1"}, "Webhook-Timestamp": {"1"}, "Webhook-Signature": {"v1,x"},
		"Content-Type": {"application/json"}, "User-Agent": {"x"}, "Accept-Encoding": {"gzip"},
		"X-Forwarded-For": {"1.2.3.4"}, "Content-Length": {"1024"},
	}
	b.ReportAllocs()
	for b.Loop() {
		s.DropUnverified(h, s.HeaderSets[0])
	}
}

// TestInitRefusesOneHeaderForTwoRoles: an id or timestamp header that is
// the signature header (a config typo) would log the token, the secret
// itself, as a delivery id.
func TestInitRefusesOneHeaderForTwoRoles(t *testing.T) {
	for _, set := range []verifier.Headers{
		{Signature: "X-Token", ID: "X-Token"},
		{Signature: "X-Token", ID: "x_token"},
		{Signature: "X-Sig", Timestamp: "X-Sig"},
		{Signature: "X-Sig", Timestamp: "X-T", ID: "x-t"},
	} {
		for _, format := range []scheme.Format{scheme.Token{}, scheme.Single{}} {
			s := &verifier.Scheme{Name: "t", HeaderSets: []verifier.Headers{set}, Format: format, Algorithm: scheme.HMACSHA256, Encoding: scheme.Hex}
			if err := s.Init(); err == nil {
				t.Errorf("%+v (format %T): Init accepted one header in two roles", set, format)
			}
		}
	}
}
