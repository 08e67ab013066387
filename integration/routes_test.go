package integration

import (
	"context"
	"crypto/hmac"
	"crypto/sha512"
	"encoding/base64"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/stripe/stripe-go/v85/webhook"

	"github.com/hookguard/hookguard/caddymodule"
	"github.com/hookguard/hookguard/preset"
	"github.com/hookguard/hookguard/signer"
)

// maxBody is the max_body of the test routes, small enough that sending
// exactly max_body, and one byte more, is cheap.
const (
	maxBody          = 1536 << 10
	maxBodyCaddyfile = "1536KiB"
)

// signFunc signs body as the route's sender would, with secret (as written
// in the Caddyfile), delivery id and time, and returns the headers to send.
type signFunc func(secret string, body []byte, id string, ts time.Time) http.Header

// route is one webhook route of the main test Caddyfile: /<name>, guarded
// by webhook_verify <scheme>.
type route struct {
	name   string // path (without /) and label in test names
	scheme string
	secret string // the route's secret, as in the Caddyfile
	other  string // a valid secret of the same kind that the route does not accept
	sign   signFunc

	sigHeader string // the signature header
	tsHeader  string // the timestamp header, if separate from the signature
	idHeader  string // the delivery id header, if any
	// tolerance is the route's timestamp tolerance; 0 for schemes
	// without a timestamp.
	tolerance time.Duration
	// malformed is a signature header value that cannot be parsed.
	malformed string
	// tokenOnly: the scheme sends a shared token and signs nothing, so a
	// tampered body cannot be detected (gitlab, token).
	tokenOnly bool
	// keyPlaceholder is what {http.webhook.key} must be after success.
	keyPlaceholder string

	// block is the webhook_verify block, after the scheme and secret.
	block string
}

// presetSigner signs with signer.Sign and the named preset.
func presetSigner(t testing.TB, name string) signFunc {
	t.Helper()
	s, err := preset.Get(name, preset.Options{})
	if err != nil {
		t.Fatalf("preset %s: %v", name, err)
	}
	return func(secret string, body []byte, id string, ts time.Time) http.Header {
		key, err := s.DecodeSecret(secret)
		if err != nil {
			// A bug in the test's own secrets; the signer runs in
			// subtests, where the parent's t must not be used.
			panic(fmt.Sprintf("decoding a %s secret: %v", name, err))
		}
		return signer.Sign(s, [][]byte{key}, signer.Message{Body: body, ID: id, Time: ts})
	}
}

// stripeSign signs with stripe-go's own test helper, so the stripe preset
// is checked against what Stripe's library produces.
func stripeSign(secret string, body []byte, _ string, ts time.Time) http.Header {
	p := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: body, Secret: secret, Timestamp: ts})
	h := make(http.Header)
	h.Set("Stripe-Signature", p.Header)
	return h
}

// hmacSign signs for the /hmac route, computed here with crypto/hmac from
// the route's description (not through package verifier), so the generic
// scheme's description is checked independently:
//
//	X-Signature: v1=<base64(HMAC-SHA512(secret, "<id>:<timestamp>.<body>"))>
func hmacSign(secret string, body []byte, id string, ts time.Time) http.Header {
	unix := strconv.FormatInt(ts.Unix(), 10)
	m := hmac.New(sha512.New, []byte(secret))
	m.Write([]byte(id + ":" + unix + "."))
	m.Write(body)
	h := make(http.Header)
	h.Set("X-Signature", "v1="+base64.StdEncoding.EncodeToString(m.Sum(nil)))
	h.Set("X-Timestamp", unix)
	h.Set("X-Event-Id", id)
	return h
}

// tokenSign "signs" for the /token route: the secret itself in X-Token.
func tokenSign(secret string, _ []byte, id string, _ time.Time) http.Header {
	h := make(http.Header)
	h.Set("X-Token", secret)
	h.Set("X-Delivery", id)
	return h
}

// presetRoutes returns one route per preset plus the generic hmac and
// token schemes, with fresh secrets.
func presetRoutes(t testing.TB) []*route {
	const fiveMin = 5 * time.Minute
	rs := []*route{
		{name: "github", sign: presetSigner(t, "github"), secret: rawSecret(t), other: rawSecret(t),
			sigHeader: "X-Hub-Signature-256", idHeader: "X-GitHub-Delivery", malformed: "sha256=not-hex"},
		{name: "gitlab", sign: presetSigner(t, "gitlab"), secret: rawSecret(t), other: rawSecret(t),
			sigHeader: "X-Gitlab-Token", idHeader: "X-Gitlab-Event-UUID", malformed: "", tokenOnly: true},
		{name: "stripe", sign: stripeSign, secret: stripeSecret(t), other: stripeSecret(t),
			sigHeader: "Stripe-Signature", tolerance: fiveMin, malformed: "t=1700000000,v0=abc"},
		{name: "slack", sign: presetSigner(t, "slack"), secret: rawSecret(t), other: rawSecret(t),
			sigHeader: "X-Slack-Signature", tsHeader: "X-Slack-Request-Timestamp", tolerance: fiveMin, malformed: "v0=xyz"},
		{name: "shopify", sign: presetSigner(t, "shopify"), secret: rawSecret(t), other: rawSecret(t),
			sigHeader: "X-Shopify-Hmac-Sha256", idHeader: "X-Shopify-Webhook-Id", malformed: "not*base64!"},
		{name: "standard", sign: presetSigner(t, "standard"), secret: whsecSecret(t), other: whsecSecret(t),
			sigHeader: "Webhook-Signature", tsHeader: "Webhook-Timestamp", idHeader: "Webhook-Id", tolerance: fiveMin, malformed: "v1,***"},
		{name: "svix", sign: presetSigner(t, "svix"), secret: whsecSecret(t), other: whsecSecret(t),
			sigHeader: "Svix-Signature", tsHeader: "Svix-Timestamp", idHeader: "Svix-Id", tolerance: fiveMin, malformed: "v1"},
		{name: "decsys", sign: presetSigner(t, "decsys"), secret: rawSecret(t), other: rawSecret(t),
			sigHeader: "X-Decsys-Signature", malformed: "%%%", block: "name decsys-hooks"},
		{name: "bitbucket", sign: presetSigner(t, "bitbucket"), secret: rawSecret(t), other: rawSecret(t),
			sigHeader: "X-Hub-Signature", idHeader: "X-Request-UUID", malformed: "sha1=0123abcd"},
		{name: "hmac", sign: hmacSign, secret: rawSecret(t), other: rawSecret(t),
			sigHeader: "X-Signature", tsHeader: "X-Timestamp", idHeader: "X-Event-Id", tolerance: 2 * time.Minute, malformed: "v1=",
			block: `header X-Signature
			algorithm sha512
			encoding base64
			prefix "v1="
			signed_content "{id}:{timestamp}.{body}"
			timestamp_header X-Timestamp
			id_header X-Event-Id
			tolerance 2m`},
		{name: "token", sign: tokenSign, secret: rawSecret(t), other: rawSecret(t),
			sigHeader: "X-Token", idHeader: "X-Delivery", malformed: "", tokenOnly: true,
			block: `header X-Token
			id_header X-Delivery`},
	}
	for _, r := range rs {
		if r.scheme == "" {
			r.scheme = r.name
		}
		r.keyPlaceholder = fingerprint(t, r.scheme, r.block, r.secret)
	}
	return rs
}

// caddyfile is the route's handle block.
func (r *route) caddyfile() string {
	return fmt.Sprintf(`
	handle /%s {
		webhook_verify %s %q {
			max_body %s
			%s
		}
		import proxy
	}
`, r.name, r.scheme, r.secret, maxBodyCaddyfile, r.block)
}

// proxySnippet is the reverse_proxy every route uses: it hands the webhook
// placeholders to the upstream as headers.
func proxySnippet(up *upstream) string {
	return fmt.Sprintf(`
(proxy) {
	reverse_proxy %s {
		header_up X-Webhook-Verified {http.webhook.verified}
		header_up X-Webhook-Scheme {http.webhook.scheme}
		header_up X-Webhook-Id {http.webhook.id}
		header_up X-Webhook-Timestamp {http.webhook.timestamp}
		header_up X-Webhook-Key {http.webhook.key}
	}
}
`, up.addr())
}

// errorsBlock shapes every rejection, so tests can tell that it went
// through Caddy's error handling.
const errorsBlock = `
	handle_errors {
		respond "hookguard rejected {err.status_code}: {err.message}" {err.status_code}
	}
`

// gateway is the main test setup: Caddy running the main Caddyfile, one
// upstream behind every route.
type gateway struct {
	up     *upstream
	routes []*route
	byName map[string]*route

	// Special routes.
	rotateOld, rotateNew, rotateRetired string // secrets of /rotate
	otherGitHub                         string // secret of /github-other
	stripSvix                           string // secret of /strip
}

// startGateway starts an upstream and loads the main Caddyfile: a route per
// preset and generic scheme, and the special routes.
func startGateway(t *testing.T) *gateway {
	t.Helper()
	skipShort(t)
	g := &gateway{
		up:            newUpstream(t),
		routes:        presetRoutes(t),
		byName:        map[string]*route{},
		rotateOld:     rawSecret(t),
		rotateNew:     rawSecret(t),
		rotateRetired: rawSecret(t),
		otherGitHub:   rawSecret(t),
		stripSvix:     whsecSecret(t),
	}
	var b strings.Builder
	b.WriteString(proxySnippet(g.up))
	fmt.Fprintf(&b, "\nhttp://localhost:%d {\n", httpPort)
	for _, r := range g.routes {
		g.byName[r.name] = r
		b.WriteString(r.caddyfile())
	}
	fmt.Fprintf(&b, `
	# Same scheme as /github, another secret.
	handle /github-other {
		webhook_verify github %q {
			max_body %s
		}
		import proxy
	}

	# Rotation: two current secrets and one past its not_after.
	handle /rotate {
		webhook_verify github {
			secret %q label old not_after 2099-01-01T00:00:00Z
			secret %q label new
			secret %q label retired not_after 2020-01-01T00:00:00Z
		}
		import proxy
	}

	handle /strip {
		webhook_verify svix %q {
			strip_signature
		}
		import proxy
	}

	handle /metrics {
		metrics
	}

	handle /dev {
		webhook_verify github {
			insecure_unsigned
			max_body %s
		}
		import proxy
	}
`, g.otherGitHub, maxBodyCaddyfile, g.rotateOld, g.rotateNew, g.rotateRetired, g.stripSvix, maxBodyCaddyfile)
	b.WriteString(errorsBlock)
	b.WriteString("}\n")
	loadConfig(t, b.String())
	return g
}

// route returns the named preset route.
func (g *gateway) route(t *testing.T, name string) *route {
	t.Helper()
	r, ok := g.byName[name]
	if !ok {
		t.Fatalf("no route %s", name)
	}
	return r
}

// fingerprint is the {http.webhook.key} of an unlabeled secret: the
// fingerprint of its decoded key, keyed with the installation's key in
// Caddy's default storage (the storage of every config here).
func fingerprint(t testing.TB, scheme, block, secret string) string {
	key := []byte(secret)
	if block == "" { // presets; hmac and token use the secret as is
		s, err := preset.Get(scheme, preset.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if key, err = s.DecodeSecret(secret); err != nil {
			t.Fatal(err)
		}
	}
	return caddymodule.Fingerprint(installKey(t), key)
}

// installKey is the fingerprint key in Caddy's default storage, made now
// if Caddy has not made it yet (Caddy then loads the same one).
func installKey(t testing.TB) []byte {
	t.Helper()
	k, err := caddymodule.LoadFingerprintKey(context.Background(), caddy.DefaultStorage)
	if err != nil {
		t.Fatal(err)
	}
	return k
}
