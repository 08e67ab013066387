package verifier

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// defaultTolerance is what timestamped senders document (Stripe, Slack and
// Standard Webhooks all say five minutes).
const defaultTolerance = 5 * time.Minute

// Options adjusts a preset.
type Options struct {
	// LegacySHA1 makes the github preset accept the old X-Hub-Signature
	// SHA-1 header when X-Hub-Signature-256 is absent.
	LegacySHA1 bool
}

var presets = map[string]func(Options) *Scheme{
	"github": func(o Options) *Scheme {
		s := &Scheme{
			HeaderSets: []Headers{{Signature: "X-Hub-Signature-256", ID: "X-GitHub-Delivery"}},
			Algorithm:  "sha256", Encoding: Hex, Prefix: "sha256=",
		}
		if o.LegacySHA1 {
			s.Fallback = &Scheme{
				Name:       "github",
				HeaderSets: []Headers{{Signature: "X-Hub-Signature", ID: "X-GitHub-Delivery"}},
				Algorithm:  "sha1", Encoding: Hex, Prefix: "sha1=",
			}
		}
		return s
	},
	"gitlab": func(Options) *Scheme {
		return &Scheme{
			Format:     FormatToken,
			HeaderSets: []Headers{{Signature: "X-Gitlab-Token", ID: "X-Gitlab-Event-UUID"}},
		}
	},
	"stripe": func(Options) *Scheme {
		return &Scheme{
			Format:     FormatStripe,
			HeaderSets: []Headers{{Signature: "Stripe-Signature"}},
			Algorithm:  "sha256", Encoding: Hex,
			Content:   "{timestamp}.{body}",
			Tolerance: defaultTolerance,
		}
	},
	"slack": func(Options) *Scheme {
		return &Scheme{
			HeaderSets: []Headers{{Signature: "X-Slack-Signature", Timestamp: "X-Slack-Request-Timestamp"}},
			Algorithm:  "sha256", Encoding: Hex, Prefix: "v0=",
			Content:   "v0:{timestamp}:{body}",
			Tolerance: defaultTolerance,
		}
	},
	"shopify": func(Options) *Scheme {
		return &Scheme{
			HeaderSets: []Headers{{Signature: "X-Shopify-Hmac-Sha256", ID: "X-Shopify-Webhook-Id"}},
			Algorithm:  "sha256", Encoding: Base64,
		}
	},
	"standard": standard,
	// Svix signs as Standard Webhooks does, under its own header names, and
	// its libraries accept the webhook-* ones too.
	"svix": func(o Options) *Scheme {
		s := standard(o)
		s.HeaderSets = []Headers{
			{Signature: "Svix-Signature", Timestamp: "Svix-Timestamp", ID: "Svix-Id"},
			{Signature: "Webhook-Signature", Timestamp: "Webhook-Timestamp", ID: "Webhook-Id"},
		}
		return s
	},
	"decsys": func(Options) *Scheme {
		return &Scheme{
			HeaderSets: []Headers{{Signature: "X-Decsys-Signature"}},
			Algorithm:  "sha256", Encoding: Base64,
		}
	},
	"bitbucket": func(Options) *Scheme {
		return &Scheme{
			HeaderSets: []Headers{{Signature: "X-Hub-Signature", ID: "X-Request-UUID"}},
			Algorithm:  "sha256", Encoding: Hex, Prefix: "sha256=",
		}
	},
}

// standard is Standard Webhooks: webhook-id, webhook-timestamp and a
// space-separated list of v1 signatures over "id.timestamp.body".
func standard(Options) *Scheme {
	return &Scheme{
		Format:     FormatStandard,
		HeaderSets: []Headers{{Signature: "Webhook-Signature", Timestamp: "Webhook-Timestamp", ID: "Webhook-Id"}},
		Algorithm:  "sha256", Encoding: Base64,
		Content:   "{id}.{timestamp}.{body}",
		Tolerance: defaultTolerance,
		Secret:    SecretWhsec,
	}
}

// Preset returns a fresh, initialised copy of the named sender's scheme.
func Preset(name string, o Options) (*Scheme, error) {
	mk, ok := presets[name]
	if !ok {
		return nil, fmt.Errorf("unknown scheme %q (use one of %s, or hmac / token to describe your own)", name, PresetList())
	}
	s := mk(o)
	s.Name = name
	if err := s.Init(); err != nil {
		return nil, err
	}
	return s, nil
}

// PresetNames lists the presets in alphabetical order.
func PresetNames() []string {
	names := make([]string, 0, len(presets))
	for n := range presets {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// PresetList is PresetNames joined for messages.
func PresetList() string {
	return strings.Join(PresetNames(), ", ")
}
