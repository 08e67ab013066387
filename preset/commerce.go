package preset

import "github.com/hookguard/hookguard/scheme"

func init() {
	register(
		Entry{
			Name: "stripe", Sender: "Stripe", Family: "payments",
			Docs:   "https://docs.stripe.com/webhooks#verify-manually",
			Signed: "HMAC-SHA256 of timestamp.body, hex, in t=<ts>,v1=<sig>",
			Notes:  "secret: the endpoint's whsec_... signing secret, used as text",
			Build: func(Options) *scheme.Scheme {
				return &scheme.Scheme{
					HeaderSets: []scheme.Headers{{Signature: "Stripe-Signature"}},
					Format:     scheme.Stripe,
					Algorithm:  scheme.HMACSHA256, Encoding: scheme.Hex,
					Content:      "{timestamp}.{body}",
					Tolerance:    scheme.DefaultTolerance,
					SecretPrefix: "whsec_",
				}
			},
		},
		Entry{
			Name: "shopify", Sender: "Shopify", Family: "commerce",
			Docs:   "https://shopify.dev/docs/apps/build/webhooks/subscribe/https#step-2-validate-the-origin-of-your-webhook-to-ensure-its-coming-from-shopify",
			Signed: "HMAC-SHA256 of the body, base64",
			Build: func(Options) *scheme.Scheme {
				return &scheme.Scheme{
					HeaderSets: []scheme.Headers{{Signature: "X-Shopify-Hmac-Sha256", ID: "X-Shopify-Webhook-Id"}},
					Algorithm:  scheme.HMACSHA256, Encoding: scheme.Base64,
				}
			},
		},
	)
}
