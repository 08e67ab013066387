package preset

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/hookguard/hookguard/scheme"
)

// Payments and commerce senders. Stripe and Shopify are in commerce.go.
// Each entry's proof is testdata/vectors/<name>.json; the generators that
// ran the senders' libraries are in testdata/gen/payments/.
func init() {
	register(
		Entry{
			Name: "paddle", Sender: "Paddle Billing", Family: "payments",
			Docs:   "https://developer.paddle.com/webhooks/signature-verification",
			Signed: "HMAC-SHA256 of ts:body, hex, in ts=<ts>;h1=<sig> (one h1 per secret while one rotates)",
			Notes:  "secret: the notification destination's endpoint secret key (pdl_ntfset_...), used as text; tolerance 5s, as Paddle's SDKs check it (raise it with tolerance if clocks drift)",
			Build: func(Options) *scheme.Scheme {
				return &scheme.Scheme{
					HeaderSets: []scheme.Headers{{Signature: "Paddle-Signature"}},
					// Paddle's docs: "Signatures contain at least one h1".
					Format:    scheme.List{Separator: ";", Assign: "=", TimestampKey: "ts", SignatureKey: "h1"},
					Algorithm: scheme.HMACSHA256, Encoding: scheme.Hex,
					Content: "{timestamp}:{body}",
					// @paddle/paddle-node-sdk: MAX_VALID_TIME_DIFFERENCE = 5 (seconds).
					Tolerance: 5 * time.Second,
				}
			},
		},
		Entry{
			Name: "square", Sender: "Square", Family: "payments",
			Docs:   "https://developer.squareup.com/docs/webhooks/step3validate",
			Signed: "HMAC-SHA256 of the notification URL followed by the body, base64",
			Notes:  "secret: the subscription's signature key; the URL signed is the one Square called (set public_url behind another proxy or a tunnel); the legacy x-square-signature (SHA-1) is not checked",
			Build: func(Options) *scheme.Scheme {
				return &scheme.Scheme{
					HeaderSets: []scheme.Headers{{Signature: "X-Square-Hmacsha256-Signature"}},
					Algorithm:  scheme.HMACSHA256, Encoding: scheme.Base64,
					Content: "{url}{body}",
				}
			},
		},
		Entry{
			Name: "razorpay", Sender: "Razorpay", Family: "payments",
			Docs:   "https://razorpay.com/docs/webhooks/validate-test/",
			Signed: "HMAC-SHA256 of the body, hex",
			Notes:  "secret: the webhook secret entered in the Dashboard; x-razorpay-event-id is the delivery id",
			Build: func(Options) *scheme.Scheme {
				return &scheme.Scheme{
					HeaderSets: []scheme.Headers{{Signature: "X-Razorpay-Signature", ID: "X-Razorpay-Event-Id"}},
					Algorithm:  scheme.HMACSHA256, Encoding: scheme.Hex,
				}
			},
		},
		Entry{
			Name: "woocommerce", Sender: "WooCommerce", Family: "payments",
			Docs:   "https://woocommerce.github.io/woocommerce-rest-api-docs/#webhooks",
			Signed: "HMAC-SHA256 of the body, base64",
			Notes:  "secret: the webhook's secret as the WooCommerce admin shows it; the unsigned ping sent when a webhook is saved active (body webhook_id=<id>) is answered 200 by the gateway",
			Build: func(Options) *scheme.Scheme {
				return &scheme.Scheme{
					HeaderSets: []scheme.Headers{{Signature: "X-WC-Webhook-Signature", ID: "X-WC-Webhook-Delivery-ID"}},
					Algorithm:  scheme.HMACSHA256, Encoding: scheme.Base64,
					Handshake: wooPing{},
				}
			},
		},
		Entry{
			Name: "bigcommerce", Sender: "BigCommerce", Family: "payments",
			Docs:   "https://developer.bigcommerce.com/docs/integrations/webhooks/https-webhook-overview#security",
			Signed: "as standard (HMAC-SHA256 of id.timestamp.body, base64, as v1,<sig>), keyed with the app's client secret",
			Notes:  "secret: the app's OAuth client secret as it is (not whsec_/base64); the custom headers a webhook may carry are no signature (use token for them)",
			Build: func(o Options) *scheme.Scheme {
				s := standard(o)
				// BigCommerce's samples hand base64(client secret) to the
				// Standard Webhooks libraries, which decode it: the key
				// is the client secret's own bytes.
				s.Secret = scheme.SecretRaw
				return s
			},
		},
		Entry{
			Name: "coinbase", Sender: "Coinbase Commerce", Family: "payments",
			Docs:   "https://docs.cdp.coinbase.com/commerce/api-arcitecture/webhooks-security",
			Signed: "HMAC-SHA256 of the body, hex",
			Notes:  "secret: the shared webhook secret (Settings > Notifications)",
			Build: func(Options) *scheme.Scheme {
				return &scheme.Scheme{
					HeaderSets: []scheme.Headers{{Signature: "X-CC-Webhook-Signature"}},
					Algorithm:  scheme.HMACSHA256, Encoding: scheme.Hex,
				}
			},
		},
		Entry{
			Name: "lemonsqueezy", Sender: "Lemon Squeezy", Family: "payments",
			Docs:   "https://docs.lemonsqueezy.com/help/webhooks/signing-requests",
			Signed: "HMAC-SHA256 of the body, hex",
			Notes:  "secret: the signing secret typed when the webhook was created",
			Build: func(Options) *scheme.Scheme {
				return &scheme.Scheme{
					HeaderSets: []scheme.Headers{{Signature: "X-Signature"}},
					Algorithm:  scheme.HMACSHA256, Encoding: scheme.Hex,
				}
			},
		},
		Entry{
			Name: "plaid", Sender: "Plaid", Family: "payments",
			Docs:   "https://plaid.com/docs/api/webhooks/webhook-verification/",
			Signed: "ES256 JWT whose claims hold iat and the body's SHA-256",
			Notes:  "public_key: the JWK /webhook_verification_key/get returns, or a PEM public key (one per kid; keys are not fetched from Plaid)",
			Build: func(Options) *scheme.Scheme {
				return &scheme.Scheme{
					HeaderSets: []scheme.Headers{{Signature: "Plaid-Verification"}},
					Format:     jwtFormat{},
					Algorithm:  plaidES256{}, Encoding: scheme.Base64URL,
					Strategy:  plaidJWT{},
					Tolerance: scheme.DefaultTolerance, // docs: "not more than 5 minutes old"
				}
			},
		},
		Entry{
			Name: "docusign", Sender: "DocuSign Connect", Family: "payments",
			Docs:   "https://developers.docusign.com/platform/webhooks/connect/validate/",
			Signed: "HMAC-SHA256 of the body, base64, in X-DocuSign-Signature-1, -2, ... (one per HMAC key)",
			Notes:  "secret: the Connect HMAC key as shown once in Admin, used as text (not base64-decoded); raise max_body when messages include documents",
			Build: func(Options) *scheme.Scheme {
				return &scheme.Scheme{
					HeaderSets: []scheme.Headers{{Signature: "X-DocuSign-Signature-1"}},
					Format:     perKey{},
					Algorithm:  scheme.HMACSHA256, Encoding: scheme.Base64,
					Strategy: docusignHeaders{},
				}
			},
		},
	)
}

// wooPing answers the ping WooCommerce sends when a webhook is first saved
// active (WC_Webhook::deliver_ping): a POST of "webhook_id=<id>" with none
// of the X-WC-Webhook-* headers and no signature, which must get status
// 200 exactly or the admin shows "Delivery URL returned response code" and
// pings again on the next save. An unsigned answer sees no body, so the
// ping is told by what WooCommerce sends with it: its Hookshot user agent,
// no X-WC-Webhook-* header, and a Content-Length that "webhook_id=" and an
// id fit in. Anything else without a signature is refused as usual; the
// ping itself never reaches the app.
type wooPing struct{}

// wooPingMaxLen is len("webhook_id=") plus the 20 digits of the largest id.
const wooPingMaxLen = 11 + 20

func (wooPing) Unsigned(r *scheme.Request) *scheme.Answer {
	if r.Method != http.MethodPost {
		return nil
	}
	ua := r.Header.Get("User-Agent")
	if !strings.HasPrefix(ua, "WooCommerce/") || !strings.Contains(ua, " Hookshot ") {
		return nil
	}
	for name := range r.Header {
		if strings.HasPrefix(strings.ToLower(name), "x-wc-webhook-") {
			return nil
		}
	}
	cl := r.Header.Values("Content-Length")
	if len(cl) != 1 {
		return nil
	}
	n, err := strconv.Atoi(cl[0])
	if err != nil || n <= len("webhook_id=") || n > wooPingMaxLen {
		return nil
	}
	return &scheme.Answer{Status: http.StatusOK, Header: http.Header{"X-Content-Type-Options": {"nosniff"}}}
}

func (wooPing) Signed(*scheme.Request, []byte, *scheme.Key) *scheme.Answer { return nil }

// perKey is scheme.Single for a sender that sends one signature per key
// in headers of their own (DocuSign's X-DocuSign-Signature-<n>): a signer
// holding several keys signs with them all.
type perKey struct{ scheme.Single }

// PerKey implements scheme.Format.
func (perKey) PerKey() bool { return true }

// docusignHeaders reads DocuSign Connect's signatures: one header per
// active HMAC key, X-DocuSign-Signature-1, -2, ..., each the base64
// HMAC-SHA256 of the body under its key; one of them matching a
// configured key is enough, whichever number it carries.
type docusignHeaders struct{}

const (
	docusignPrefix = "X-Docusign-Signature-" // canonical form
	// docusignMaxKeys is how many HMAC keys DocuSign lets an account have.
	docusignMaxKeys = 100
)

// Extract implements scheme.Strategy.
func (docusignHeaders) Extract(r *scheme.Request, body []byte) (scheme.Extracted, error) {
	var sigs [][]byte
	for name, vals := range r.Header {
		canon := http.CanonicalHeaderKey(name)
		if !strings.HasPrefix(canon, docusignPrefix) {
			continue
		}
		n, err := strconv.Atoi(canon[len(docusignPrefix):])
		if err != nil || n < 1 || n > docusignMaxKeys || strconv.Itoa(n) != canon[len(docusignPrefix):] {
			continue
		}
		if len(vals) != 1 {
			return scheme.Extracted{}, scheme.Fail(scheme.MalformedHeader, canon, "sent %d times", len(vals))
		}
		sig, ok := scheme.Base64.Decode(strings.TrimSpace(vals[0]))
		if !ok {
			return scheme.Extracted{}, scheme.Fail(scheme.MalformedHeader, canon, "not valid base64")
		}
		sigs = append(sigs, sig)
	}
	if len(sigs) == 0 {
		return scheme.Extracted{}, scheme.Fail(scheme.MissingHeader, docusignPrefix+"1", "no X-DocuSign-Signature-<n> header")
	}
	return scheme.Extracted{Sigs: sigs, Message: body}, nil
}

// Sign implements scheme.Strategy: one header per key, numbered from 1,
// and the algorithm's name as DocuSign sends it.
func (docusignHeaders) Sign(_ *scheme.Request, body []byte, _ scheme.Values, sign func([]byte) ([][]byte, error)) (http.Header, error) {
	sigs, err := sign(body)
	if err != nil {
		return nil, err
	}
	h := http.Header{"X-Authorization-Digest": {"HMACSHA256"}}
	for i, sig := range sigs {
		h.Set(docusignPrefix+strconv.Itoa(i+1), scheme.Base64.Encode(sig))
	}
	return h, nil
}

// Plaid signs each webhook with a JWT in Plaid-Verification: ES256 over
// "<header>.<claims>" (base64url), the header naming the key (kid), the
// claims holding iat and request_body_sha256, the hex SHA-256 of the body.
// https://plaid.com/docs/api/webhooks/webhook-verification/

// plaidJWT is the Strategy that reads the JWT.
type plaidJWT struct{}

const plaidHeader = "Plaid-Verification"

// Extract implements scheme.Strategy. The JWT's alg must be ES256 (Plaid's
// docs: reject anything else), so a token of another algorithm (none,
// HS256 keyed with the public key) is refused before any key is tried.
func (plaidJWT) Extract(r *scheme.Request, body []byte) (scheme.Extracted, error) {
	vals := r.Header.Values(plaidHeader)
	switch len(vals) {
	case 0:
		return scheme.Extracted{}, scheme.Fail(scheme.MissingHeader, plaidHeader, "not present")
	case 1:
	default:
		return scheme.Extracted{}, scheme.Fail(scheme.MalformedHeader, plaidHeader, "sent %d times", len(vals))
	}
	tok, err := parseJWT(strings.TrimSpace(vals[0]))
	if err != nil {
		return scheme.Extracted{}, err
	}
	sum := sha256.Sum256(body)
	want := hex.EncodeToString(sum[:])
	if subtle.ConstantTimeCompare([]byte(tok.bodySHA256), []byte(want)) != 1 {
		return scheme.Extracted{}, scheme.Fail(scheme.WrongSignature, plaidHeader, "the body is not the one whose SHA-256 the token signs")
	}
	return scheme.Extracted{Sigs: [][]byte{tok.sig}, Timestamp: tok.iat, Message: []byte(tok.signed)}, nil
}

// Sign implements scheme.Strategy: a JWT as Plaid makes it, without a kid
// (a key configured as PEM has none; a JWK's kid is checked only when the
// token names one).
func (plaidJWT) Sign(_ *scheme.Request, body []byte, v scheme.Values, sign func([]byte) ([][]byte, error)) (http.Header, error) {
	iat, ok := scheme.ParseTimestamp(v.Timestamp)
	if !ok {
		return nil, fmt.Errorf("plaid: timestamp %q is not a Unix time", v.Timestamp)
	}
	sum := sha256.Sum256(body)
	claims, err := json.Marshal(struct {
		IAT        int64  `json:"iat"`
		BodySHA256 string `json:"request_body_sha256"`
	}{iat, hex.EncodeToString(sum[:])})
	if err != nil {
		return nil, err
	}
	signed := b64url([]byte(`{"alg":"ES256","typ":"JWT"}`)) + "." + b64url(claims)
	sigs, err := sign([]byte(signed))
	if err != nil {
		return nil, err
	}
	return http.Header{plaidHeader: {signed + "." + b64url(sigs[0])}}, nil
}

func b64url(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// jwt is what parseJWT reads from a Plaid-Verification token.
type jwt struct {
	signed     string // header.claims, what the signature signs
	sig        []byte
	kid        string
	iat        string
	bodySHA256 string
}

// maxJWT bounds the token read: Plaid's are about 300 bytes.
const maxJWT = 4096

// parseJWT reads a compact ES256 JWS with Plaid's claims. Its errors say
// what is wrong without quoting the token.
func parseJWT(s string) (*jwt, *scheme.Error) {
	bad := func(format string, a ...any) *scheme.Error {
		return scheme.Fail(scheme.MalformedHeader, plaidHeader, format, a...)
	}
	if len(s) > maxJWT {
		return nil, bad("longer than %d bytes", maxJWT)
	}
	parts := strings.Split(s, ".")
	if len(parts) != 3 {
		return nil, bad("not a JWT (three base64url parts)")
	}
	hb, err1 := base64.RawURLEncoding.DecodeString(parts[0])
	cb, err2 := base64.RawURLEncoding.DecodeString(parts[1])
	sig, err3 := base64.RawURLEncoding.DecodeString(parts[2])
	if err1 != nil || err2 != nil || err3 != nil {
		return nil, bad("a part is not base64url")
	}
	var h struct {
		Alg string `json:"alg"`
		Kid string `json:"kid"`
	}
	if json.Unmarshal(hb, &h) != nil {
		return nil, bad("the JWT header is not JSON")
	}
	if h.Alg != "ES256" {
		return nil, bad("alg is not ES256")
	}
	var c struct {
		IAT        json.Number `json:"iat"`
		BodySHA256 string      `json:"request_body_sha256"`
	}
	d := json.NewDecoder(strings.NewReader(string(cb)))
	d.UseNumber()
	if d.Decode(&c) != nil {
		return nil, bad("the JWT claims are not JSON")
	}
	iat, err := strconv.ParseInt(c.IAT.String(), 10, 64)
	if err != nil || iat < 0 {
		return nil, bad("iat is not a Unix time in seconds")
	}
	if len(c.BodySHA256) != 2*sha256.Size {
		return nil, bad("request_body_sha256 is not a hex SHA-256")
	}
	if len(sig) != 64 {
		return nil, bad("the signature is %d bytes; ES256 gives 64", len(sig))
	}
	return &jwt{signed: parts[0] + "." + parts[1], sig: sig, kid: h.Kid, iat: strconv.FormatInt(iat, 10), bodySHA256: c.BodySHA256}, nil
}

// jwtFormat says where Plaid's timestamp is (iat, inside the token), so
// that the scheme counts as timestamped; the token itself is read by
// plaidJWT.
type jwtFormat struct{}

// Parse implements scheme.Format.
func (jwtFormat) Parse(value string, _ scheme.Encoding) ([][]byte, string, string) {
	t, err := parseJWT(value)
	if err != nil {
		return nil, "", err.Detail
	}
	return [][]byte{t.sig}, t.iat, ""
}

// Render implements scheme.Format; plaidJWT.Sign writes the token.
func (jwtFormat) Render(sigs []string, _ string) string { return sigs[0] }

// PerKey implements scheme.Format.
func (jwtFormat) PerKey() bool { return false }

// CarriesTimestamp implements scheme.Format.
func (jwtFormat) CarriesTimestamp() bool { return true }

// plaidES256 is ECDSA P-256 over SHA-256 with JOSE's r||s signatures,
// whose keys may be the JWKs Plaid publishes: a key with a kid checks only
// tokens that name that kid or none, as Plaid's own flow looks the key up
// by kid.
type plaidES256 struct{}

var es256 = scheme.ECDSAP256{Raw: true}

// plaidKey is a public key read from a JWK, with its kid.
type plaidKey struct {
	*ecdsa.PublicKey
	kid string
}

// Name implements scheme.Algorithm.
func (plaidES256) Name() string { return "ES256" }

// Size implements scheme.Algorithm.
func (plaidES256) Size() int { return 64 }

// Begin implements scheme.Algorithm. The message is the token's
// "header.claims": short, so it is held until Match or Sign.
func (plaidES256) Begin(keys []*scheme.Key) scheme.Message {
	return &plaidMessage{keys: keys}
}

// ParsePublic implements scheme.KeyPair: a JWK as Plaid's
// /webhook_verification_key/get returns it ({"kty":"EC","crv":"P-256",
// "x":..,"y":..,"kid":..}), or a PEM, base64 or hex SubjectPublicKeyInfo.
func (plaidES256) ParsePublic(text string) (crypto.PublicKey, error) {
	if !strings.HasPrefix(text, "{") {
		return es256.ParsePublic(text)
	}
	var k struct {
		Kty, Crv, Alg, Use, Kid, X, Y, D string
	}
	if json.Unmarshal([]byte(text), &k) != nil {
		return nil, fmt.Errorf("not a JWK (JSON)")
	}
	if k.Kty != "EC" || k.Crv != "P-256" || k.Alg != "" && k.Alg != "ES256" || k.Use != "" && k.Use != "sig" {
		return nil, fmt.Errorf("not an ES256 signing JWK (kty EC, crv P-256)")
	}
	pub, err := jwkPoint(k.X, k.Y)
	if err != nil {
		return nil, err
	}
	return &plaidKey{PublicKey: pub, kid: k.Kid}, nil
}

// ParsePrivate implements scheme.KeyPair: a JWK with d, or a PKCS #8 or
// SEC 1 key (PEM, base64 or hex DER).
func (plaidES256) ParsePrivate(text string) (crypto.Signer, error) {
	if !strings.HasPrefix(text, "{") {
		return es256.ParsePrivate(text)
	}
	var k struct{ Kty, Crv, X, Y, D string }
	if json.Unmarshal([]byte(text), &k) != nil || k.Kty != "EC" || k.Crv != "P-256" || k.D == "" {
		return nil, fmt.Errorf("not an EC P-256 private JWK")
	}
	d, err := base64.RawURLEncoding.DecodeString(k.D)
	if err != nil || len(d) != 32 {
		return nil, fmt.Errorf("the JWK's d is not 32 bytes of base64url")
	}
	priv, err := ecdsa.ParseRawPrivateKey(elliptic.P256(), d)
	if err != nil {
		return nil, fmt.Errorf("the JWK's d is not a P-256 private key")
	}
	if k.X != "" || k.Y != "" {
		pub, err := jwkPoint(k.X, k.Y)
		if err != nil || !pub.Equal(&priv.PublicKey) {
			return nil, fmt.Errorf("the JWK's x and y are not the public half of its d")
		}
	}
	return priv, nil
}

// Generate implements scheme.KeyPair.
func (plaidES256) Generate() (string, string, error) { return es256.Generate() }

// jwkPoint reads a JWK's base64url coordinates as a P-256 public key.
func jwkPoint(x, y string) (*ecdsa.PublicKey, error) {
	xb, err1 := base64.RawURLEncoding.DecodeString(x)
	yb, err2 := base64.RawURLEncoding.DecodeString(y)
	if err1 != nil || err2 != nil || len(xb) != 32 || len(yb) != 32 {
		return nil, fmt.Errorf("the JWK's x and y are not 32 bytes of base64url each")
	}
	pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), append(append([]byte{4}, xb...), yb...))
	if err != nil {
		return nil, fmt.Errorf("the JWK's x and y are not a point of P-256")
	}
	return pub, nil
}

type plaidMessage struct {
	keys []*scheme.Key
	buf  []byte
}

// Identity implements scheme.Identified: an ECDSA signature has a twin,
// (r, N-s), that verifies too, so the token's signing input, not its
// signature, names the delivery.
func (m *plaidMessage) Identity() []byte {
	sum := sha256.Sum256(m.buf)
	return sum[:]
}

func (m *plaidMessage) Write(p []byte) (int, error) {
	m.buf = append(m.buf, p...)
	return len(p), nil
}

// Match implements scheme.Message: the keys whose kid the token does not
// name are left out, the others checked as ES256.
func (m *plaidMessage) Match(sigs [][]byte) (int, []byte) {
	kid := tokenKid(m.buf)
	var keys []*scheme.Key
	var idx []int
	for i, k := range m.keys {
		pub := k.Public
		if pk, ok := pub.(*plaidKey); ok {
			if pk.kid != "" && kid != "" && pk.kid != kid {
				continue
			}
			pub = pk.PublicKey
		}
		keys = append(keys, &scheme.Key{Label: k.Label, Public: pub})
		idx = append(idx, i)
	}
	if len(keys) == 0 {
		return -1, nil
	}
	inner := es256.Begin(keys)
	_, _ = inner.Write(m.buf)
	i, sig := inner.Match(sigs)
	if i < 0 {
		return -1, nil
	}
	return idx[i], sig
}

// Sign implements scheme.Message.
func (m *plaidMessage) Sign(i int) ([]byte, error) {
	inner := es256.Begin(m.keys[i : i+1])
	_, _ = inner.Write(m.buf)
	return inner.Sign(0)
}

// tokenKid returns the kid of the JWT header at the start of msg
// ("header.claims"), or "".
func tokenKid(msg []byte) string {
	head, _, _ := strings.Cut(string(msg), ".")
	b, err := base64.RawURLEncoding.DecodeString(head)
	if err != nil {
		return ""
	}
	var h struct {
		Kid string `json:"kid"`
	}
	if json.Unmarshal(b, &h) != nil {
		return ""
	}
	return h.Kid
}
