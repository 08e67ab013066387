package preset

import (
	"encoding/hex"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hookguard/hookguard/scheme"
)

// The saas family: identity, e-mail, content, forms, scheduling and video
// platforms. Each entry's proof is testdata/vectors/<name>.json, made by
// testdata/gen/saas/gen.js with the sender's own library where it has one.
func init() {
	register(
		Entry{
			Name: "clerk", Sender: "Clerk", Family: "saas",
			Docs:   "https://clerk.com/docs/guides/development/webhooks/overview",
			Signed: "as standard (HMAC-SHA256 of id.timestamp.body, base64, v1,<sig> list), under svix-* headers only",
			Notes:  "delivered through Svix; secret: the endpoint's whsec_... signing secret",
			Build:  svixHeadersOnly,
		},
		Entry{
			Name: "resend", Sender: "Resend", Family: "saas",
			Docs:   "https://resend.com/docs/webhooks/verify-webhooks-requests",
			Signed: "as standard (HMAC-SHA256 of id.timestamp.body, base64, v1,<sig> list), under svix-* headers only",
			Notes:  "delivered through Svix; secret: the webhook's whsec_... signing secret",
			Build:  svixHeadersOnly,
		},
		Entry{
			Name: "contentful", Sender: "Contentful", Family: "saas",
			Docs:   "https://www.contentful.com/developers/docs/webhooks/request-verification/",
			Signed: "HMAC-SHA256, hex, of method, path, the headers listed in X-Contentful-Signed-Headers and the body; timestamp in ms, 30 s",
			Notes:  "secret: the space's 64-character webhook signing secret, used as text; signs the path and query as the request arrived (before any rewrite), not the host",
			Build: func(Options) *scheme.Scheme {
				return &scheme.Scheme{
					HeaderSets: []scheme.Headers{{Signature: contentfulSignature, Timestamp: contentfulTimestamp}},
					Algorithm:  scheme.HMACSHA256, Encoding: scheme.Hex,
					Time: scheme.UnixMillis,
					// @contentful/node-apps-toolkit verifyRequest's default TTL.
					Tolerance: 30 * time.Second,
					Strategy:  contentfulRequest{},
					// It signs the path and query the sender called: a
					// webhook_sign route needs public_url to know them.
					SignsURL: true,
					// Contentful's own requests are at most 1 MB; the
					// webhook's envelope comes on top.
					MaxBody: 2 << 20,
				}
			},
		},
		Entry{
			Name: "sanity", Sender: "Sanity", Family: "saas",
			Docs:   "https://www.sanity.io/docs/webhooks",
			Signed: "HMAC-SHA256 of timestamp.body, base64url without padding, in t=<ms>,v1=<sig>",
			Notes:  "secret: the webhook's secret, used as text; tolerance: Sanity documents none, 5m applies",
			Build: func(Options) *scheme.Scheme {
				return &scheme.Scheme{
					HeaderSets: []scheme.Headers{{Signature: "Sanity-Webhook-Signature", ID: "Idempotency-Key"}},
					Format:     sanityFormat{},
					Algorithm:  scheme.HMACSHA256, Encoding: scheme.Base64URL,
					Content:   "{timestamp}.{body}",
					Time:      scheme.UnixMillis,
					Tolerance: scheme.DefaultTolerance,
				}
			},
		},
		Entry{
			Name: "strapi", Sender: "Strapi", Family: "saas",
			Docs:   "https://docs.strapi.io/cms/backend-customization/webhooks",
			Signed: "nothing: a token in Authorization: Bearer <token>, set in webhooks.defaultHeaders",
			Notes:  "Strapi signs no webhook; the body is not protected. Another header: use the token scheme",
			Build: func(Options) *scheme.Scheme {
				return &scheme.Scheme{
					HeaderSets: []scheme.Headers{{Signature: "Authorization"}},
					Format:     scheme.Single{Prefix: "Bearer "}, Algorithm: scheme.Compare{},
				}
			},
		},
		Entry{
			Name: "typeform", Sender: "Typeform", Family: "saas",
			Docs:   "https://www.typeform.com/developers/webhooks/secure-your-webhooks/",
			Signed: "HMAC-SHA256 of the body, base64, after sha256=",
			Notes:  "secret: the webhook's secret, used as text",
			Build: func(Options) *scheme.Scheme {
				return &scheme.Scheme{
					HeaderSets: []scheme.Headers{{Signature: "Typeform-Signature"}},
					Format:     scheme.Single{Prefix: "sha256="},
					Algorithm:  scheme.HMACSHA256, Encoding: scheme.Base64,
				}
			},
		},
		Entry{
			Name: "airtable", Sender: "Airtable", Family: "saas",
			Docs:   "https://airtable.com/developers/web/api/webhooks-overview",
			Signed: "HMAC-SHA256 of the body, hex, after hmac-sha256=",
			Notes:  "secret: the macSecretBase64 the create-webhook call returns (base64, decoded)",
			Build: func(Options) *scheme.Scheme {
				return &scheme.Scheme{
					HeaderSets: []scheme.Headers{{Signature: "X-Airtable-Content-MAC"}},
					Format:     scheme.Single{Prefix: "hmac-sha256="},
					Algorithm:  scheme.HMACSHA256, Encoding: scheme.Hex,
					Secret: scheme.SecretBase64,
				}
			},
		},
		Entry{
			Name: "calendly", Sender: "Calendly", Family: "saas",
			Docs:   "https://developer.calendly.com/api-docs/ZG9jOjM2MzE2MDM4-webhook-signatures",
			Signed: "HMAC-SHA256 of timestamp.body, hex, in t=<ts>,v1=<sig>; 3 minutes",
			Notes:  "secret: the webhook signing key, used as text",
			Build: func(Options) *scheme.Scheme {
				return &scheme.Scheme{
					HeaderSets: []scheme.Headers{{Signature: "Calendly-Webhook-Signature"}},
					Format:     scheme.Stripe,
					Algorithm:  scheme.HMACSHA256, Encoding: scheme.Hex,
					Content: "{timestamp}.{body}",
					// The docs' example: "we set the application's
					// tolerance zone to 3 minutes".
					Tolerance: 3 * time.Minute,
				}
			},
		},
		Entry{
			Name: "mux", Sender: "Mux", Family: "saas",
			Docs:   "https://www.mux.com/docs/core/verify-webhook-signatures",
			Signed: "HMAC-SHA256 of timestamp.body, hex, in t=<ts>,v1=<sig> (several v1 allowed)",
			Notes:  "secret: the webhook's signing secret, used as text",
			Build: func(Options) *scheme.Scheme {
				return &scheme.Scheme{
					HeaderSets: []scheme.Headers{{Signature: "Mux-Signature"}},
					Format:     scheme.Stripe,
					Algorithm:  scheme.HMACSHA256, Encoding: scheme.Hex,
					Content: "{timestamp}.{body}",
					// @mux/mux-node webhooks.verifySignature: 300 s.
					Tolerance: scheme.DefaultTolerance,
				}
			},
		},
	)
}

// svixHeadersOnly is Standard Webhooks under Svix's svix-* header names
// alone: Clerk's verifyWebhook and Resend's webhooks.verify read those and
// no others (the svix preset also accepts webhook-*).
func svixHeadersOnly(o Options) *scheme.Scheme {
	s := standard(o)
	s.HeaderSets = []scheme.Headers{{Signature: "Svix-Signature", Timestamp: "Svix-Timestamp", ID: "Svix-Id"}}
	return s
}

// sanityFormat is Sanity's "t=<Unix ms>,v1=<base64url, unpadded>" exactly:
// @sanity/webhook re-encodes the header from the timestamp and signature
// it read and compares the whole string, so another spelling (a space
// after the comma, padding, a second v1, leading zeros in t) never passes
// there and is malformed here.
type sanityFormat struct{}

// Parse implements scheme.Format.
func (sanityFormat) Parse(value string, enc scheme.Encoding) ([][]byte, string, string) {
	const bad = "is not t=<Unix milliseconds>,v1=<base64url signature>"
	rest, ok := strings.CutPrefix(value, "t=")
	if !ok {
		return nil, "", bad
	}
	ts, sig, ok := strings.Cut(rest, ",v1=")
	if !ok || ts == "" || ts[0] == '0' || strings.Trim(ts, "0123456789") != "" {
		return nil, "", bad
	}
	if sig == "" || strings.Trim(sig, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") != "" {
		return nil, "", bad + " (base64url without padding)"
	}
	b, ok := enc.Decode(sig)
	if !ok {
		return nil, "", "signature is not valid base64url"
	}
	return [][]byte{b}, ts, ""
}

// Render implements scheme.Format.
func (sanityFormat) Render(sigs []string, ts string) string {
	return "t=" + ts + ",v1=" + strings.TrimRight(sigs[0], "=")
}

// PerKey implements scheme.Format: one signature per header.
func (sanityFormat) PerKey() bool { return false }

// CarriesTimestamp implements scheme.Format.
func (sanityFormat) CarriesTimestamp() bool { return true }

// Contentful's request verification headers.
const (
	contentfulSignature     = "X-Contentful-Signature"
	contentfulSignedHeaders = "X-Contentful-Signed-Headers"
	contentfulTimestamp     = "X-Contentful-Timestamp"
)

// contentfulRequest is Contentful's request verification, as
// @contentful/node-apps-toolkit signRequest and verifyRequest do it: an
// HMAC-SHA256, hex, of
//
//	METHOD "\n" PATH "\n" name:value;name:value... "\n" BODY
//
// where the headers are those the request carries among the ones named in
// X-Contentful-Signed-Headers (names lower-cased, values trimmed), plus
// x-contentful-timestamp and x-contentful-signed-headers themselves (the
// latter as the sorted list of all of them), sorted by name; and PATH is
// the request target as the sender called it with the toolkit's
// escaping (see contentfulPath). The list of headers is the sender's, so
// this is a Strategy: no fixed template says which headers are signed.
type contentfulRequest struct{}

// Extract implements scheme.Strategy.
func (contentfulRequest) Extract(r *scheme.Request, body []byte) (scheme.Extracted, error) {
	sig, err := oneHeader(r.Header, contentfulSignature)
	if err != nil {
		return scheme.Extracted{}, err
	}
	if !isLowerHex(sig, 64) {
		return scheme.Extracted{}, scheme.Fail(scheme.MalformedHeader, contentfulSignature, "not 64 lower-case hex characters")
	}
	list, err := oneHeader(r.Header, contentfulSignedHeaders)
	if err != nil {
		return scheme.Extracted{}, err
	}
	ts, err := oneHeader(r.Header, contentfulTimestamp)
	if err != nil {
		return scheme.Extracted{}, err
	}
	ms, ok := scheme.ParseTimestamp(ts)
	if !ok {
		return scheme.Extracted{}, scheme.Fail(scheme.MalformedHeader, contentfulTimestamp, "not a Unix time in milliseconds")
	}
	names := strings.Split(list, ",")
	if len(names) < 2 {
		return scheme.Extracted{}, scheme.Fail(scheme.MalformedHeader, contentfulSignedHeaders, "lists fewer than the two headers always signed")
	}
	target, ok := requestTarget(r.URL)
	if !ok {
		return scheme.Extracted{}, scheme.Fail(scheme.MalformedHeader, contentfulSignature, "the scheme signs the path the sender called, and it is not known")
	}
	path, ok := contentfulPath(target)
	if !ok {
		return scheme.Extracted{}, scheme.Fail(scheme.MalformedHeader, contentfulSignature, "the path has characters outside printable ASCII, which Contentful sends percent-encoded, or a second ?, after which nothing is signed")
	}
	// The request's headers under the names the toolkit gives them.
	byName := make(map[string][]string, len(r.Header))
	for k, v := range r.Header {
		n := strings.ToLower(strings.TrimSpace(k))
		byName[n] = append(byName[n], v...)
	}
	signed := map[string]string{}
	for _, n := range names {
		vals, ok := byName[n]
		if !ok {
			// verifyRequest drops a listed header the request lacks and
			// signs the list of those it has: a signed header stripped
			// on the way changes that list, so the signature fails; a
			// name added to the list for a header nobody sent changes
			// nothing.
			continue
		}
		if len(vals) != 1 {
			return scheme.Extracted{}, scheme.Fail(scheme.MalformedHeader, n, "sent %d times", len(vals))
		}
		signed[n] = strings.TrimSpace(vals[0])
	}
	sigBytes, _ := hex.DecodeString(sig)
	return scheme.Extracted{
		Sigs:      [][]byte{sigBytes},
		Timestamp: ts,
		Message:   contentfulMessage(methodOr(r.Method), path, signed, strconv.FormatInt(ms, 10), body),
	}, nil
}

// Sign implements scheme.Strategy: it signs what signRequest signs for a
// request with no headers of its own, the timestamp and the list.
func (contentfulRequest) Sign(r *scheme.Request, body []byte, v scheme.Values, sign func([]byte) ([][]byte, error)) (http.Header, error) {
	target, ok := requestTarget(r.URL)
	if !ok {
		return nil, scheme.Fail(scheme.MalformedHeader, contentfulSignature, "the scheme signs the path the request is sent to, and it is not known")
	}
	path, ok := contentfulPath(target)
	if !ok {
		return nil, scheme.Fail(scheme.MalformedHeader, contentfulSignature, "the path has characters outside printable ASCII or a second ?: percent-encode them")
	}
	signed := map[string]string{}
	msg := contentfulMessage(methodOr(r.Method), path, signed, v.Timestamp, body)
	sigs, err := sign(msg)
	if err != nil {
		return nil, err
	}
	h := http.Header{}
	h.Set(contentfulSignature, hex.EncodeToString(sigs[0]))
	h.Set(contentfulSignedHeaders, signed["x-contentful-signed-headers"])
	h.Set(contentfulTimestamp, v.Timestamp)
	return h, nil
}

// contentfulMessage builds the canonical request. signed holds the
// request's signed headers; it gets the timestamp and the list added.
func contentfulMessage(method, path string, signed map[string]string, ts string, body []byte) []byte {
	signed["x-contentful-timestamp"] = ts
	signed["x-contentful-signed-headers"] = ""
	names := make([]string, 0, len(signed))
	for n := range signed {
		names = append(names, n)
	}
	slices.Sort(names)
	signed["x-contentful-signed-headers"] = strings.Join(names, ",")
	var b strings.Builder
	b.WriteString(method + "\n" + path + "\n")
	for i, n := range names {
		if i > 0 {
			b.WriteByte(';')
		}
		b.WriteString(n + ":" + signed[n])
	}
	b.WriteByte('\n')
	return append([]byte(b.String()), body...)
}

// contentfulPath is the toolkit's getNormalizedEncodedURI: the target is
// split at '?' (what follows a second '?' is dropped, as JavaScript's
// destructuring of split does), the query is escaped as Node's
// querystring.escape does, and the whole is then escaped as encodeURI
// does, which escapes '%' again. It refuses bytes outside printable
// ASCII: a request target carries none (Contentful percent-encodes), and
// what the toolkit would make of them depends on how they were decoded.
func contentfulPath(target string) (string, bool) {
	for i := 0; i < len(target); i++ {
		if target[i] <= ' ' || target[i] >= 0x7f {
			return "", false
		}
	}
	if strings.Count(target, "?") > 1 {
		// The toolkit signs nothing after a second '?': what follows it
		// would reach the app unsigned.
		return "", false
	}
	parts := strings.Split(target, "?")
	p := parts[0]
	if len(parts) > 1 && parts[1] != "" {
		p += "?" + jsEscape(parts[1], componentSafe)
	}
	return jsEscape(p, uriSafe), true
}

// The characters JavaScript's encodeURIComponent (and Node's
// querystring.escape) and encodeURI leave as they are.
const (
	componentSafe = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.!~*'()"
	uriSafe       = componentSafe + ";,/?:@&=+$#"
)

// jsEscape percent-encodes, in upper-case hex, every byte of s not in safe.
func jsEscape(s, safe string) string {
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if strings.IndexByte(safe, c) >= 0 {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hexDigits[c>>4])
		b.WriteByte(hexDigits[c&15])
	}
	return b.String()
}

// requestTarget returns the path and query of an absolute URL
// ("https://host/p?q" gives "/p?q"), or the URL itself when it is
// already a path.
func requestTarget(u string) (string, bool) {
	if strings.HasPrefix(u, "/") {
		return u, true
	}
	i := strings.Index(u, "://")
	if i < 0 {
		return "", false
	}
	rest := u[i+3:]
	j := strings.IndexByte(rest, '/')
	if j < 0 {
		return "/", true
	}
	return rest[j:], true
}

func methodOr(m string) string {
	if m == "" {
		return http.MethodPost
	}
	return m
}

// isLowerHex reports whether s is n lower-case hex digits.
func isLowerHex(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}
