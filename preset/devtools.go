package preset

import (
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/hookguard/hookguard/scheme"
)

// Developer tools: the self-hosted git forges (Gitea, Forgejo, Gogs), issue
// trackers (Jira, Linear), CI and hosting (CircleCI, Vercel, Netlify),
// error tracking (Sentry), design (Figma) and Segment's webhook destination.
// Each one's proof is in testdata/vectors; the generators are in
// testdata/gen/devtools.
func init() {
	register(
		Entry{
			Name: "gitea", Sender: "Gitea", Family: "git hosting",
			Docs:   "https://docs.gitea.com/usage/webhooks",
			Signed: "HMAC-SHA256 of the body, hex, in X-Gitea-Signature",
			Notes:  "the hook's content type must be application/json (the default): a form hook signs the JSON, not the form body it sends",
			Build: func(Options) *scheme.Scheme {
				return hexBodyHMAC("X-Gitea-Signature", "X-Gitea-Delivery", "", scheme.HMACSHA256)
			},
		},
		Entry{
			Name: "forgejo", Sender: "Forgejo", Family: "git hosting",
			Docs:   "https://forgejo.org/docs/latest/user/webhooks/",
			Signed: "HMAC-SHA256 of the body, hex, in X-Forgejo-Signature",
			Notes:  "Forgejo also sends every Gitea header, so gitea works too; application/json hooks only, as gitea",
			Build: func(Options) *scheme.Scheme {
				return hexBodyHMAC("X-Forgejo-Signature", "X-Forgejo-Delivery", "", scheme.HMACSHA256)
			},
		},
		Entry{
			Name: "gogs", Sender: "Gogs", Family: "git hosting",
			Docs:   "https://gogs.io/docs/advancing/webhooks",
			Signed: "HMAC-SHA256 of the body, hex, in X-Gogs-Signature",
			Notes:  "application/json hooks only: a form hook signs the JSON, not the form body it sends",
			Build: func(Options) *scheme.Scheme {
				return hexBodyHMAC("X-Gogs-Signature", "X-Gogs-Delivery", "", scheme.HMACSHA256)
			},
		},
		Entry{
			Name: "jira", Sender: "Jira Cloud", Family: "developer tools",
			Docs:   "https://developer.atlassian.com/cloud/jira/platform/webhooks/#secure-admin-webhooks",
			Signed: "HMAC-SHA256 of the body, hex, after sha256= in X-Hub-Signature",
			Notes:  "admin webhooks registered with a secret (Jira administration or /rest/webhooks/1.0/webhook); app webhooks carry a JWT instead",
			Build: func(Options) *scheme.Scheme {
				return hexBodyHMAC("X-Hub-Signature", "X-Atlassian-Webhook-Identifier", "sha256=", scheme.HMACSHA256)
			},
		},
		Entry{
			Name: "circleci", Sender: "CircleCI", Family: "developer tools",
			Docs:   "https://circleci.com/docs/guides/integration/outbound-webhooks/#payload-signature",
			Signed: "HMAC-SHA256 of the body, hex, as v1=<sig> in a comma-separated list (other versions ignored)",
			Notes:  "secret: the webhook's secret token; the event id is the body's id field",
			Build: func(Options) *scheme.Scheme {
				return &scheme.Scheme{
					HeaderSets: []scheme.Headers{{Signature: "Circleci-Signature"}},
					Format:     scheme.List{Separator: ",", Assign: "=", SignatureKey: "v1"},
					Algorithm:  scheme.HMACSHA256, Encoding: scheme.Hex,
				}
			},
		},
		Entry{
			Name: "sentry", Sender: "Sentry", Family: "developer tools",
			Docs:   "https://docs.sentry.io/organization/integrations/integration-platform/webhooks/#verifying-the-signature",
			Signed: "HMAC-SHA256 of the body, hex, in Sentry-Hook-Signature",
			Notes:  "secret: the integration's Client Secret; Sentry-Hook-Timestamp is not signed, so it is not checked",
			Build: func(Options) *scheme.Scheme {
				return hexBodyHMAC("Sentry-Hook-Signature", "Request-ID", "", scheme.HMACSHA256)
			},
		},
		Entry{
			Name: "vercel", Sender: "Vercel", Family: "developer tools",
			Docs:   "https://vercel.com/docs/webhooks/webhooks-api#securing-webhooks",
			Signed: "HMAC-SHA1 of the body, hex, in x-vercel-signature",
			Notes:  "secret: the integration's Client Secret, or the secret shown when an account webhook is created",
			Build: func(Options) *scheme.Scheme {
				return hexBodyHMAC("X-Vercel-Signature", "", "", scheme.HMACSHA1)
			},
		},
		Entry{
			Name: "netlify", Sender: "Netlify", Family: "developer tools",
			Docs:   "https://docs.netlify.com/site-deploys/deploy-notifications/#payload-signature",
			Signed: "a JWT (HS256) in X-Webhook-Signature whose claims are iss \"netlify\" and sha256, the hex SHA-256 of the body",
			Notes:  "secret: the notification's JWS secret token; deploy and form notifications alike",
			Build: func(Options) *scheme.Scheme {
				return &scheme.Scheme{
					HeaderSets: []scheme.Headers{{Signature: netlifyHeader}},
					Algorithm:  scheme.HMACSHA256, Encoding: scheme.Base64URL,
					Strategy: netlifyJWS{},
				}
			},
		},
		Entry{
			Name: "linear", Sender: "Linear", Family: "developer tools",
			Docs:   "https://linear.app/developers/webhooks#securing-webhooks",
			Signed: "HMAC-SHA256 of the body, hex, in Linear-Signature; the timestamp is the body's webhookTimestamp (ms)",
			Notes:  "tolerance: one minute, as Linear's SDK; the unsigned Linear-Timestamp header is ignored",
			Build: func(Options) *scheme.Scheme {
				return &scheme.Scheme{
					HeaderSets: []scheme.Headers{{Signature: linearHeader, ID: "Linear-Delivery"}},
					Algorithm:  scheme.HMACSHA256, Encoding: scheme.Hex,
					Time:      scheme.UnixMillis,
					Tolerance: time.Minute,
					Strategy:  linearBody{},
				}
			},
		},
		Entry{
			Name: "figma", Sender: "Figma", Family: "developer tools",
			Docs:   "https://developers.figma.com/docs/rest-api/webhooks-security/",
			Signed: "nothing: the passcode set on the webhook, echoed in the JSON body's passcode field",
			Notes:  "verify only (webhook_sign cannot put a passcode into a body); Figma asks for 400 on a wrong passcode, hookguard answers 401",
			Build: func(Options) *scheme.Scheme {
				return &scheme.Scheme{
					// Figma sends no header of its own: the passcode is a
					// body field, named here where a header would be.
					HeaderSets: []scheme.Headers{{Signature: figmaField}},
					Format:     scheme.Token{}, Algorithm: scheme.Compare{},
					Strategy: figmaPasscode{},
					MaxBody:  scheme.WholeBodyLimit,
				}
			},
		},
		Entry{
			Name: "segment", Sender: "Segment", Family: "developer tools",
			Docs:   "https://www.twilio.com/docs/segment/connections/destinations/catalog/actions-webhook",
			Signed: "HMAC-SHA1 of the body, hex, in X-Signature",
			Notes:  "secret: the Webhooks destination's Shared Secret; batched deliveries sign only the first event and do not verify",
			Build: func(Options) *scheme.Scheme {
				return hexBodyHMAC("X-Signature", "", "", scheme.HMACSHA1)
			},
		},
	)
}

// hexBodyHMAC is the commonest scheme: an HMAC of the raw body, hex, in one
// header, after prefix.
func hexBodyHMAC(sig, id, prefix string, alg scheme.HMAC) *scheme.Scheme {
	return &scheme.Scheme{
		HeaderSets: []scheme.Headers{{Signature: sig, ID: id}},
		Format:     scheme.Single{Prefix: prefix},
		Algorithm:  alg, Encoding: scheme.Hex,
	}
}

// oneHeader returns the single value of header name: absent is missing, and
// empty or sent more than once is malformed, as the verifier does for the
// headers it reads itself.
func oneHeader(h http.Header, name string) (string, error) {
	vals := h.Values(name)
	switch len(vals) {
	case 0:
		return "", scheme.Fail(scheme.MissingHeader, name, "not present")
	case 1:
		if v := strings.TrimSpace(vals[0]); v != "" {
			return v, nil
		}
		return "", scheme.Fail(scheme.MalformedHeader, name, "empty")
	}
	return "", scheme.Fail(scheme.MalformedHeader, name, "sent %d times", len(vals))
}

// optionalHeader is oneHeader for a header that may be absent.
func optionalHeader(h http.Header, name string) (string, error) {
	if len(h.Values(name)) == 0 {
		return "", nil
	}
	return oneHeader(h, name)
}

// topLevel returns the raw JSON value of field in body, which must be a
// JSON object, or nil when the object has no such field. Duplicate keys
// resolve to the last one, as JavaScript's JSON.parse (the senders' own
// libraries) and encoding/json both do.
func topLevel(body []byte, field, what string) (json.RawMessage, error) {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(body, &obj); err != nil || obj == nil {
		return nil, scheme.Fail(scheme.MalformedHeader, what, "the body is not a JSON object")
	}
	return obj[field], nil
}

// linearHeader carries Linear's signature.
const linearHeader = "Linear-Signature"

// linearBody is Linear: an HMAC of the body in Linear-Signature, and the
// signed timestamp inside that body, as its top-level webhookTimestamp
// number in milliseconds. @linear/sdk's LinearWebhookClient.verify trusts
// only that field (the Linear-Timestamp header is unsigned) and refuses a
// request without it.
type linearBody struct{}

// Timestamped implements scheme.TimestampedStrategy.
func (linearBody) Timestamped() bool { return true }

// Extract implements scheme.Strategy.
func (linearBody) Extract(r *scheme.Request, body []byte) (scheme.Extracted, error) {
	raw, err := oneHeader(r.Header, linearHeader)
	if err != nil {
		return scheme.Extracted{}, err
	}
	sig, ok := scheme.Hex.Decode(raw)
	if !ok {
		return scheme.Extracted{}, scheme.Fail(scheme.MalformedHeader, linearHeader, "not valid hex")
	}
	id, err := optionalHeader(r.Header, "Linear-Delivery")
	if err != nil {
		return scheme.Extracted{}, err
	}
	ts, err := linearTimestamp(body)
	if err != nil {
		return scheme.Extracted{}, err
	}
	return scheme.Extracted{Sigs: [][]byte{sig}, Timestamp: ts, ID: id, Message: body}, nil
}

// linearTimestamp reads webhookTimestamp: a JSON number of whole
// milliseconds (a string, however numeric, is not one: the SDK refuses it).
func linearTimestamp(body []byte) (string, error) {
	const field = "webhookTimestamp"
	v, err := topLevel(body, field, field)
	if err != nil {
		return "", err
	}
	if v == nil {
		return "", scheme.Fail(scheme.MissingHeader, field, "the signed body has no %s", field)
	}
	ts := string(bytes.TrimSpace(v))
	if _, ok := scheme.ParseTimestamp(ts); !ok {
		return "", scheme.Fail(scheme.MalformedHeader, field, "not a whole number of milliseconds")
	}
	return ts, nil
}

// Sign implements scheme.Strategy: the body is signed as it is, so it must
// already carry the webhookTimestamp Linear's receivers check.
func (linearBody) Sign(_ *scheme.Request, body []byte, v scheme.Values, sign func([]byte) ([][]byte, error)) (http.Header, error) {
	if _, err := linearTimestamp(body); err != nil {
		return nil, fmt.Errorf("linear signs the webhookTimestamp inside the JSON body, and this body has none that Linear's receivers accept (%v)", err)
	}
	sigs, err := sign(body)
	if err != nil {
		return nil, err
	}
	h := http.Header{}
	h.Set(linearHeader, hex.EncodeToString(sigs[0]))
	if v.ID != "" {
		h.Set("Linear-Delivery", v.ID)
	}
	return h, nil
}

// netlifyHeader carries Netlify's token.
const netlifyHeader = "X-Webhook-Signature"

// netlifyJWS is Netlify's "JWS secret token": X-Webhook-Signature is a
// compact JWS signed with HS256, whose payload claims iss "netlify" and
// sha256, the hex SHA-256 of the body. What is HMAC'd is the token's
// header.payload; the body is bound to it by the sha256 claim. Only HS256
// is accepted (never "none", nor another algorithm the header names).
// Netlify documents no expiry; an integer iat is reported as the
// timestamp, unchecked.
type netlifyJWS struct{}

// jwsHeader is what a JOSE header must say.
type jwsHeader struct {
	Alg string `json:"alg"`
}

type netlifyClaims struct {
	Iss    *string         `json:"iss"`
	SHA256 *string         `json:"sha256"`
	Iat    json.RawMessage `json:"iat"` // read only if it is a whole number

}

// Extract implements scheme.Strategy.
func (netlifyJWS) Extract(r *scheme.Request, body []byte) (scheme.Extracted, error) {
	tok, err := oneHeader(r.Header, netlifyHeader)
	if err != nil {
		return scheme.Extracted{}, err
	}
	malformed := func(detail string) (scheme.Extracted, error) {
		return scheme.Extracted{}, scheme.Fail(scheme.MalformedHeader, netlifyHeader, "%s", detail)
	}
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return malformed("not a compact JWS (header.payload.signature)")
	}
	var hdr jwsHeader
	if !decodeJWSPart(parts[0], &hdr) {
		return malformed("the JWS header is not base64url JSON")
	}
	if hdr.Alg != "HS256" {
		return malformed("the JWS is not signed with HS256")
	}
	var claims netlifyClaims
	if !decodeJWSPart(parts[1], &claims) {
		return malformed("the JWS payload is not base64url JSON")
	}
	sig, err := base64.RawURLEncoding.Strict().DecodeString(parts[2])
	if err != nil || len(sig) == 0 {
		return malformed("the JWS signature is not base64url")
	}
	if claims.Iss == nil || *claims.Iss != "netlify" {
		return scheme.Extracted{}, scheme.Fail(scheme.WrongSignature, netlifyHeader, "the token's issuer is not netlify")
	}
	sum := sha256.Sum256(body)
	want := hex.EncodeToString(sum[:])
	if claims.SHA256 == nil || subtle.ConstantTimeCompare([]byte(*claims.SHA256), []byte(want)) != 1 {
		return scheme.Extracted{}, scheme.Fail(scheme.WrongSignature, netlifyHeader, "the token's sha256 claim does not match the body")
	}
	ex := scheme.Extracted{Sigs: [][]byte{sig}, Message: []byte(parts[0] + "." + parts[1])}
	if iat := string(bytes.TrimSpace(claims.Iat)); iat != "" {
		if _, ok := scheme.ParseTimestamp(iat); ok {
			ex.Timestamp = iat
		}
	}
	return ex, nil
}

// decodeJWSPart decodes one base64url (unpadded) part of a compact JWS as
// a JSON object into v.
func decodeJWSPart(part string, v any) bool {
	b, err := base64.RawURLEncoding.Strict().DecodeString(part)
	if err != nil || len(b) == 0 || b[0] != '{' {
		return false
	}
	return json.Unmarshal(b, v) == nil
}

// Sign implements scheme.Strategy: the token Netlify sends, laid out as
// jsonwebtoken (which Netlify's docs verify with) lays out
// sign({iss, sha256, iat}, secret).
func (netlifyJWS) Sign(_ *scheme.Request, body []byte, v scheme.Values, sign func([]byte) ([][]byte, error)) (http.Header, error) {
	enc := base64.RawURLEncoding
	sum := sha256.Sum256(body)
	claims := `{"iss":"netlify","sha256":"` + hex.EncodeToString(sum[:]) + `"`
	if _, ok := scheme.ParseTimestamp(v.Timestamp); ok {
		claims += `,"iat":` + v.Timestamp
	}
	claims += "}"
	msg := enc.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`)) + "." + enc.EncodeToString([]byte(claims))
	sigs, err := sign([]byte(msg))
	if err != nil {
		return nil, err
	}
	h := http.Header{}
	h.Set(netlifyHeader, msg+"."+enc.EncodeToString(sigs[0]))
	return h, nil
}

// figmaField is the body field that carries Figma's passcode.
const figmaField = "passcode"

// figmaPasscode is Figma's Webhooks V2: no signature, but the passcode
// given when the webhook was created comes back in every event as the JSON
// body's top-level passcode string, compared with the configured one as a
// token.
type figmaPasscode struct{}

// Extract implements scheme.Strategy.
func (figmaPasscode) Extract(_ *scheme.Request, body []byte) (scheme.Extracted, error) {
	p, err := figmaPass(body)
	if err != nil {
		return scheme.Extracted{}, err
	}
	return scheme.Extracted{Sigs: [][]byte{[]byte(p)}}, nil
}

func figmaPass(body []byte) (string, error) {
	v, err := topLevel(body, figmaField, figmaField)
	if err != nil {
		return "", err
	}
	if v == nil {
		return "", scheme.Fail(scheme.MissingHeader, figmaField, "the body has no %s", figmaField)
	}
	var p string
	if v[0] != '"' || json.Unmarshal(v, &p) != nil || p == "" {
		return "", scheme.Fail(scheme.MalformedHeader, figmaField, "not a non-empty string")
	}
	return p, nil
}

// errFigmaSign says why webhook_sign cannot act as Figma.
var errFigmaSign = errors.New("figma sends its passcode inside the JSON body, which webhook_sign passes on unchanged: the body must already carry the passcode")

// Sign implements scheme.Strategy: there is nothing to add to the headers,
// so a body that already carries the passcode signs as is, and any other
// body cannot be made to.
func (figmaPasscode) Sign(_ *scheme.Request, body []byte, _ scheme.Values, sign func([]byte) ([][]byte, error)) (http.Header, error) {
	p, err := figmaPass(body)
	if err != nil {
		return nil, fmt.Errorf("%w (%v)", errFigmaSign, err)
	}
	want, err := sign(nil)
	if err != nil {
		return nil, err
	}
	if subtle.ConstantTimeCompare([]byte(p), want[0]) != 1 {
		return nil, fmt.Errorf("%w: its passcode is not the configured one", errFigmaSign)
	}
	return http.Header{}, nil
}
