package preset

import "github.com/hookguard/hookguard/scheme"

func init() {
	register(
		Entry{
			Name: "standard", Sender: "Standard Webhooks", Family: "webhook standards",
			Docs:   "https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md",
			Signed: "HMAC-SHA256 of id.timestamp.body, base64, as v1,<sig> (several, space-separated)",
			Notes:  "secret: whsec_ + base64",
			Build:  standard,
		},
		Entry{
			Name: "svix", Sender: "Svix", Family: "webhook standards",
			Docs:   "https://docs.svix.com/receiving/verifying-payloads/how-manual",
			Signed: "as standard, under svix-* headers (webhook-* accepted too)",
			Notes:  "secret: whsec_ + base64",
			// Svix signs as Standard Webhooks does, under its own header
			// names, and its libraries accept the webhook-* ones too.
			Build: func(o Options) *scheme.Scheme {
				s := standard(o)
				s.HeaderSets = []scheme.Headers{
					{Signature: "Svix-Signature", Timestamp: "Svix-Timestamp", ID: "Svix-Id"},
					{Signature: "Webhook-Signature", Timestamp: "Webhook-Timestamp", ID: "Webhook-Id"},
				}
				return s
			},
		},
		Entry{
			Name: "decsys", Sender: "DECSYS", Family: "webhook standards",
			Docs:   "https://github.com/hookguard/hookguard/blob/main/README.md#senders",
			Signed: "HMAC-SHA256 of the body, base64",
			Build: func(Options) *scheme.Scheme {
				return &scheme.Scheme{
					HeaderSets: []scheme.Headers{{Signature: "X-Decsys-Signature"}},
					Algorithm:  scheme.HMACSHA256, Encoding: scheme.Base64,
				}
			},
		},
	)
}

// standard is Standard Webhooks: webhook-id, webhook-timestamp and a
// space-separated list of v1 signatures over "id.timestamp.body".
func standard(Options) *scheme.Scheme {
	return &scheme.Scheme{
		HeaderSets: []scheme.Headers{{Signature: "Webhook-Signature", Timestamp: "Webhook-Timestamp", ID: "Webhook-Id"}},
		Format:     scheme.Versioned{Version: "v1"},
		Algorithm:  scheme.HMACSHA256, Encoding: scheme.Base64,
		Content:   "{id}.{timestamp}.{body}",
		Tolerance: scheme.DefaultTolerance,
		Secret:    scheme.SecretWhsec,
	}
}
