package preset

import (
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/hookguard/hookguard/scheme"
)

// The platforms family: SaaS platforms whose webhooks follow no common
// scheme, and most of which check the endpoint before they send (Twitch,
// Dropbox, Okta, Asana, Onfleet). Proof: testdata/vectors/<name>.json,
// generators in testdata/gen/platforms.
func init() {
	register(
		Entry{
			Name: "hubspot", Sender: "HubSpot", Family: "CRM",
			Docs:   "https://developers.hubspot.com/docs/apps/developer-platform/build-apps/authentication/request-validation",
			Signed: "HMAC-SHA256 of method + URL + body + timestamp (ms), base64; the URL with %3A %2F %3F %40 %21 %24 %27 %28 %29 %2A %2C %3B decoded",
			Notes:  "secret: the app's client secret; signs the URL HubSpot called (public_url behind a proxy); legacy X-HubSpot-Signature: hubspot-v2, hubspot-v1",
			Build: func(Options) *scheme.Scheme {
				return &scheme.Scheme{
					HeaderSets: []scheme.Headers{{Signature: hubspotSigV3, Timestamp: hubspotTimestamp}},
					Algorithm:  scheme.HMACSHA256, Encoding: scheme.Base64,
					Time:      scheme.UnixMillis,
					Tolerance: 5 * time.Minute, // "Reject the request if the timestamp is older than 5 minutes"
					Strategy:  hubspotV3{},
					SignsURL:  true,
				}
			},
		},
		Entry{
			Name: "hubspot-v2", Sender: "HubSpot (v2 signature)", Family: "CRM",
			Docs:   "https://developers.hubspot.com/docs/apps/legacy-apps/authentication/validating-requests",
			Signed: "SHA-256 (not HMAC) of client secret + method + URL + body, hex; no timestamp",
			Notes:  "legacy, replayable: prefer hubspot; sent with X-HubSpot-Signature-Version: v2 by workflow actions and CRM cards",
			Build: func(Options) *scheme.Scheme {
				return &scheme.Scheme{
					HeaderSets: []scheme.Headers{{Signature: "X-HubSpot-Signature"}},
					Algorithm:  secretThenSHA256{}, Encoding: scheme.Hex,
					Content: "{method}{url}{body}",
				}
			},
		},
		Entry{
			Name: "hubspot-v1", Sender: "HubSpot (v1 signature)", Family: "CRM",
			Docs:   "https://developers.hubspot.com/docs/apps/legacy-apps/authentication/validating-requests",
			Signed: "SHA-256 (not HMAC) of client secret + body, hex; no timestamp",
			Notes:  "legacy, replayable: prefer hubspot; sent with X-HubSpot-Signature-Version: v1 by the webhooks API",
			Build: func(Options) *scheme.Scheme {
				return &scheme.Scheme{
					HeaderSets: []scheme.Headers{{Signature: "X-HubSpot-Signature"}},
					Algorithm:  secretThenSHA256{}, Encoding: scheme.Hex,
				}
			},
		},
		Entry{
			Name: "twitch", Sender: "Twitch EventSub", Family: "streaming",
			Docs:   "https://dev.twitch.tv/docs/eventsub/handling-webhook-events/",
			Signed: "HMAC-SHA256 of message id + timestamp (RFC 3339) + body, hex, after sha256=",
			Notes:  "secret: the subscription's secret; webhook_callback_verification (signed) goes to the app, or answered with handshake answer",
			Build: func(Options) *scheme.Scheme {
				return &scheme.Scheme{
					HeaderSets: []scheme.Headers{{
						Signature: "Twitch-Eventsub-Message-Signature",
						Timestamp: "Twitch-Eventsub-Message-Timestamp",
						ID:        "Twitch-Eventsub-Message-Id",
					}},
					Format:    scheme.Single{Prefix: "sha256="},
					Algorithm: scheme.HMACSHA256, Encoding: scheme.Hex,
					Content: "{id}{timestamp}{body}",
					Time:    scheme.RFC3339,
					// Nothing separates the id from the timestamp: its
					// width (a UUID's 36 characters, in every message
					// Twitch sends) is what does, or an id could take the
					// body's own RFC 3339 times in and re-split it.
					FixedWidthID: 36,
					Tolerance:    10 * time.Minute, // "make sure the timestamp isn't older than 10 minutes"
					Handshake:    twitchHandshake{},
				}
			},
		},
		Entry{
			Name: "dropbox", Sender: "Dropbox", Family: "storage",
			Docs:   "https://www.dropbox.com/developers/reference/webhooks",
			Signed: "HMAC-SHA256 of the body, hex",
			Notes:  "secret: the app secret; the verification GET ?challenge= (unsigned) is answered by the gateway",
			Build: func(Options) *scheme.Scheme {
				return &scheme.Scheme{
					HeaderSets: []scheme.Headers{{Signature: "X-Dropbox-Signature"}},
					Algorithm:  scheme.HMACSHA256, Encoding: scheme.Hex,
					Handshake: queryEcho{Param: "challenge"},
				}
			},
		},
		Entry{
			Name: "okta", Sender: "Okta event hooks", Family: "identity",
			Docs:   "https://developer.okta.com/docs/concepts/event-hooks/",
			Signed: "nothing: the hook's authentication secret itself, in Authorization",
			Notes:  "secret: the whole Authentication secret (with \"Basic \" for Basic auth); another Authentication field: use token with header; the one-time verification GET is answered by the gateway after its secret is checked",
			Build: func(Options) *scheme.Scheme {
				return &scheme.Scheme{
					HeaderSets: []scheme.Headers{{Signature: "Authorization"}},
					Format:     scheme.Token{}, Algorithm: scheme.Compare{},
					Handshake: oktaHandshake{},
				}
			},
		},
		Entry{
			Name: "asana", Sender: "Asana", Family: "project management",
			Docs:   "https://developers.asana.com/docs/webhooks-guide",
			Signed: "HMAC-SHA256 of the body, hex, keyed with the handshake's X-Hook-Secret",
			Notes:  "secret: the X-Hook-Secret the create-webhook response returns; the handshake (unsigned) is answered by the gateway, which echoes X-Hook-Secret and trusts only the configured secrets",
			Build: func(Options) *scheme.Scheme {
				return &scheme.Scheme{
					HeaderSets: []scheme.Headers{{Signature: asanaSignature}},
					Algorithm:  scheme.HMACSHA256, Encoding: scheme.Hex,
					Handshake: asanaHandshake{},
				}
			},
		},
		Entry{
			Name: "onfleet", Sender: "Onfleet", Family: "logistics",
			Docs:   "https://docs.onfleet.com/reference/secrets",
			Signed: "HMAC-SHA512 of the body, hex, keyed with the hex-decoded secret",
			Notes:  "secret: the webhook secret as the dashboard shows it (hex); the validation GET ?check= (unsigned) is answered by the gateway",
			Build: func(Options) *scheme.Scheme {
				return &scheme.Scheme{
					HeaderSets: []scheme.Headers{{Signature: "X-Onfleet-Signature"}},
					Algorithm:  scheme.HMACSHA512, Encoding: scheme.Hex,
					Secret:    scheme.SecretHex,
					Handshake: queryEcho{Param: "check"},
				}
			},
		},
		Entry{
			Name: "pagerduty", Sender: "PagerDuty (V3 webhooks)", Family: "incident management",
			Docs:   "https://developer.pagerduty.com/docs/verifying-signatures",
			Signed: "HMAC-SHA256 of the body, hex, as v1=<sig> (several, comma-separated)",
			Notes:  "secret: the subscription's secret, used as text",
			Build: func(Options) *scheme.Scheme {
				return &scheme.Scheme{
					HeaderSets: []scheme.Headers{{Signature: "X-PagerDuty-Signature", ID: "X-Webhook-Id"}},
					Format:     pagerdutyList{},
					Algorithm:  scheme.HMACSHA256, Encoding: scheme.Hex,
				}
			},
		},
		Entry{
			Name: "zendesk", Sender: "Zendesk", Family: "customer support",
			Docs:   "https://developer.zendesk.com/documentation/webhooks/verifying/",
			Signed: "HMAC-SHA256 of timestamp (RFC 3339) + body, base64",
			Notes:  "secret: the webhook's signing secret, used as text; the docs once printed body + timestamp, which Zendesk does not send (see the vectors)",
			Build: func(Options) *scheme.Scheme {
				return &scheme.Scheme{
					HeaderSets: []scheme.Headers{{Signature: "X-Zendesk-Webhook-Signature", Timestamp: "X-Zendesk-Webhook-Signature-Timestamp"}},
					Algorithm:  scheme.HMACSHA256, Encoding: scheme.Base64,
					Content:   "{timestamp}{body}",
					Time:      scheme.RFC3339,
					Tolerance: scheme.DefaultTolerance, // Zendesk documents none
				}
			},
		},
	)
}

const (
	hubspotSigV3     = "X-HubSpot-Signature-v3"
	hubspotTimestamp = "X-HubSpot-Request-Timestamp"
	asanaSignature   = "X-Hook-Signature"
	asanaSecret      = "X-Hook-Secret"
)

// hubspotV3 is HubSpot's v3 signature: HMAC over method + URI + body +
// timestamp, where the URI is the URL HubSpot called with twelve escapes
// decoded. The decoding is what no content template says, hence a
// Strategy; it holds the body, which HubSpot keeps small (batches of at
// most 100 events).
//
// What is signed splits one way only, as scheme.checkSplits requires of
// templates: the method before a URL that starts with its scheme; the URL,
// of RFC 3986 characters only (decoding yields only such characters),
// before a body that does not start with one; a timestamp of exactly 13
// digits at the end.
type hubspotV3 struct{}

// hubspotEscapes are the escapes HubSpot decodes in the URI before it
// signs it (the docs' table), keyed by their two hex digits in upper case.
var hubspotEscapes = map[string]byte{
	"3A": ':', "2F": '/', "3F": '?', "40": '@', "21": '!', "24": '$',
	"27": '\'', "28": '(', "29": ')', "2A": '*', "2C": ',', "3B": ';',
}

// hubspotURI is the URL as HubSpot signs it: those escapes decoded, in
// either case of hex digit, every other one (%20, %26, ...) kept.
func hubspotURI(u string) string {
	if !strings.Contains(u, "%") {
		return u
	}
	var b strings.Builder
	b.Grow(len(u))
	for i := 0; i < len(u); i++ {
		if u[i] == '%' && i+2 < len(u) {
			if c, ok := hubspotEscapes[strings.ToUpper(u[i+1:i+3])]; ok {
				b.WriteByte(c)
				i += 2
				continue
			}
		}
		b.WriteByte(u[i])
	}
	return b.String()
}

// hubspotMessage is what HubSpot signs.
func hubspotMessage(method, uri string, body []byte, ts string) []byte {
	var m bytes.Buffer
	m.Grow(len(method) + len(uri) + len(body) + len(ts))
	m.WriteString(method)
	m.WriteString(hubspotURI(uri))
	m.Write(body)
	m.WriteString(ts)
	return m.Bytes()
}

// Extract implements scheme.Strategy.
func (hubspotV3) Extract(r *scheme.Request, body []byte) (scheme.Extracted, error) {
	raw, err := one(r.Header, hubspotSigV3)
	if err != nil {
		return scheme.Extracted{}, err
	}
	ts, err := one(r.Header, hubspotTimestamp)
	if err != nil {
		return scheme.Extracted{}, err
	}
	if _, ok := scheme.UnixMillis.Parse(ts, false); !ok || len(ts) != 13 {
		return scheme.Extracted{}, scheme.Fail(scheme.MalformedHeader, hubspotTimestamp, "timestamp is not a 13-digit Unix time in milliseconds")
	}
	sig, ok := scheme.Base64.Decode(raw)
	if !ok || len(sig) != sha256.Size {
		return scheme.Extracted{}, scheme.Fail(scheme.MalformedHeader, hubspotSigV3, "not a base64 HMAC-SHA256")
	}
	switch {
	case r.URL == "":
		return scheme.Extracted{}, scheme.Fail(scheme.MalformedHeader, hubspotSigV3, "the scheme signs the URL the sender called, and it is not known")
	case !scheme.URLSafe(r.URL):
		return scheme.Extracted{}, scheme.Fail(scheme.MalformedHeader, hubspotSigV3, "the URL, signed right before the body, has characters RFC 3986 does not allow there")
	case len(body) > 0 && !scheme.BodyStartSafe(body[0]):
		return scheme.Extracted{}, scheme.Fail(scheme.MalformedHeader, hubspotSigV3, "the body, signed right after the URL, starts with a character a URL could end with")
	}
	return scheme.Extracted{Sigs: [][]byte{sig}, Timestamp: ts, Message: hubspotMessage(r.Method, r.URL, body, ts)}, nil
}

// Sign implements scheme.Strategy.
func (hubspotV3) Sign(r *scheme.Request, body []byte, v scheme.Values, sign func([]byte) ([][]byte, error)) (http.Header, error) {
	if r.URL == "" {
		return nil, fmt.Errorf("hubspot signs the URL the webhook is sent to; it is not known")
	}
	method := r.Method
	if method == "" {
		method = http.MethodPost
	}
	sigs, err := sign(hubspotMessage(method, r.URL, body, v.Timestamp))
	if err != nil {
		return nil, err
	}
	h := http.Header{}
	h.Set(hubspotSigV3, base64.StdEncoding.EncodeToString(sigs[0]))
	h.Set(hubspotTimestamp, v.Timestamp)
	return h, nil
}

// one returns the single value of header name, as the verifier reads its
// own headers: absent, empty or repeated is refused.
func one(h http.Header, name string) (string, error) {
	vals := h.Values(name)
	switch len(vals) {
	case 0:
		return "", scheme.Fail(scheme.MissingHeader, name, "not present")
	case 1:
		v := strings.TrimSpace(vals[0])
		if v == "" {
			return "", scheme.Fail(scheme.MalformedHeader, name, "empty")
		}
		return v, nil
	}
	return "", scheme.Fail(scheme.MalformedHeader, name, "sent %d times", len(vals))
}

// secretThenSHA256 is HubSpot's v1 and v2 "signature": a plain SHA-256 of
// the client secret followed by what is signed. It is not an HMAC (and is
// open to length extension), but only a holder of the secret can make it.
type secretThenSHA256 struct{}

// Name implements scheme.Algorithm.
func (secretThenSHA256) Name() string { return "SHA-256 of secret + content" }

// Size implements scheme.Algorithm.
func (secretThenSHA256) Size() int { return sha256.Size }

// Begin implements scheme.Algorithm.
func (secretThenSHA256) Begin(keys []*scheme.Key) scheme.Message {
	m := &prefixedHashes{hs: make([]hash.Hash, len(keys))}
	for i, k := range keys {
		m.hs[i] = sha256.New()
		m.hs[i].Write(k.Secret)
	}
	return m
}

// prefixedHashes is one running hash per key, each started with its key.
//
// A plain SHA-256 of secret + content can be extended without the secret:
// from one signed body, anyone can sign body + SHA-256 padding + more. The
// padding always holds zero bytes (its length field's high bytes, at
// least), and HubSpot's bodies are JSON, which never holds a NUL: so a
// message with a NUL in it matches no key, and no extension verifies.
type prefixedHashes struct {
	hs  []hash.Hash
	nul bool // a NUL byte was written
}

func (m *prefixedHashes) Write(p []byte) (int, error) {
	m.nul = m.nul || bytes.IndexByte(p, 0) >= 0
	for _, h := range m.hs {
		h.Write(p)
	}
	return len(p), nil
}

func (m *prefixedHashes) Match(sigs [][]byte) (int, []byte) {
	if m.nul {
		return -1, nil
	}
	matched := -1
	var matchedSig []byte
	for i, h := range m.hs {
		want := h.Sum(nil)
		for _, sig := range sigs {
			if subtle.ConstantTimeCompare(sig, want) == 1 && matched < 0 {
				matched, matchedSig = i, sig
			}
		}
	}
	return matched, matchedSig
}

func (m *prefixedHashes) Sign(i int) ([]byte, error) {
	if m.nul {
		return nil, errors.New("hubspot v1/v2 signatures are not made over a body with a NUL byte: no verifier accepts one (see prefixedHashes)")
	}
	return m.hs[i].Sum(nil), nil
}

// pagerdutyList is X-PagerDuty-Signature: "v1=<hex>,v1=<hex>", one per
// signing secret, read as go-pagerduty's webhookv3.VerifySignature reads
// it: split on ',' (nothing trimmed), entries of other versions and
// entries that are not one signature in hex skipped.
type pagerdutyList struct{}

// Parse implements scheme.Format.
func (pagerdutyList) Parse(value string, enc scheme.Encoding) ([][]byte, string, string) {
	var sigs [][]byte
	items := strings.Split(value, ",")
	if len(items) > 16 {
		return nil, "", "too many signatures"
	}
	for _, item := range items {
		v, ok := strings.CutPrefix(item, "v1=")
		if !ok {
			continue
		}
		if sig, ok := enc.Decode(v); ok && len(sig) == sha256.Size {
			sigs = append(sigs, sig)
		}
	}
	if len(sigs) == 0 {
		return nil, "", "no v1 signature"
	}
	return sigs, "", ""
}

// Render implements scheme.Format.
func (pagerdutyList) Render(sigs []string, _ string) string {
	return "v1=" + strings.Join(sigs, ",v1=")
}

// PerKey implements scheme.Format: PagerDuty signs with every secret of a
// subscription being rotated.
func (pagerdutyList) PerKey() bool { return true }

// CarriesTimestamp implements scheme.Format.
func (pagerdutyList) CarriesTimestamp() bool { return false }

// maxEcho bounds what an unsigned handshake gets echoed: the senders'
// challenges are a few dozen characters.
const maxEcho = 512

// echoable reports whether s may be echoed to whoever sent it: visible
// ASCII only (no space, no control character), so nothing can be injected
// into a response header or read as markup, and short.
func echoable(s string) bool {
	if s == "" || len(s) > maxEcho {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// queryEcho answers an unsigned GET whose query carries a challenge to
// send back as text: Dropbox's ?challenge= (which asks for text/plain and
// nosniff), Onfleet's ?check= (which asks for 200, not 204).
type queryEcho struct{ Param string }

// Unsigned implements scheme.Handshake.
func (q queryEcho) Unsigned(r *scheme.Request) *scheme.Answer {
	if r.Method != http.MethodGet || r.URL == "" {
		return nil
	}
	u, err := url.Parse(r.URL)
	if err != nil {
		return nil
	}
	vals := u.Query()[q.Param]
	if len(vals) != 1 || !echoable(vals[0]) {
		return nil
	}
	return PlainAnswer(vals[0])
}

// Signed implements scheme.Handshake.
func (queryEcho) Signed(*scheme.Request, []byte, *scheme.Key) *scheme.Answer { return nil }

// twitchHandshake answers EventSub's webhook_callback_verification: a
// signed request whose JSON body carries a challenge to send back as
// text/plain.
type twitchHandshake struct{}

// Unsigned implements scheme.Handshake.
func (twitchHandshake) Unsigned(*scheme.Request) *scheme.Answer { return nil }

// Signed implements scheme.Handshake.
func (twitchHandshake) Signed(r *scheme.Request, body []byte, _ *scheme.Key) *scheme.Answer {
	if r.Header.Get("Twitch-Eventsub-Message-Type") != "webhook_callback_verification" {
		return nil
	}
	var m struct {
		Challenge string `json:"challenge"`
	}
	if json.Unmarshal(body, &m) != nil || m.Challenge == "" {
		return nil
	}
	return PlainAnswer(m.Challenge)
}

// oktaHandshake answers an event hook's one-time verification: a GET
// carrying the hook's secret like every call, and a challenge in
// X-Okta-Verification-Challenge to send back as {"verification": ...}.
// The app has nothing to do with it, so the gateway answers it once the
// secret is checked.
type oktaHandshake struct{}

// Unsigned implements scheme.Handshake: Okta's GET carries the secret, so
// it is checked like any call first.
func (oktaHandshake) Unsigned(*scheme.Request) *scheme.Answer { return nil }

// Signed implements scheme.Handshake.
func (oktaHandshake) Signed(r *scheme.Request, _ []byte, _ *scheme.Key) *scheme.Answer {
	if r.Method != http.MethodGet {
		return nil
	}
	vals := r.Header.Values("X-Okta-Verification-Challenge")
	if len(vals) != 1 || !echoable(vals[0]) {
		return nil
	}
	a := JSONAnswer(struct {
		Verification string `json:"verification"`
	}{vals[0]})
	if a != nil {
		a.Gateway = true
	}
	return a
}

// asanaHandshake answers the handshake Asana sends while a webhook is
// being created: a POST carrying, in X-Hook-Secret, the secret that will
// sign the webhook's deliveries, to be echoed in the same header. It is
// unsigned and comes before anyone but Asana knows the secret, so the
// gateway cannot check it: it echoes the value and trusts it for nothing.
// Deliveries are verified only with the secrets configured on the route
// (copied from the create-webhook response, which returns X-Hook-Secret),
// so a webhook that someone else points at the route gets its deliveries
// refused; until the secret is configured Asana retries them for a day.
type asanaHandshake struct{}

// Unsigned implements scheme.Handshake.
func (asanaHandshake) Unsigned(r *scheme.Request) *scheme.Answer {
	if r.Method != http.MethodPost || len(r.Header.Values(asanaSignature)) != 0 {
		return nil
	}
	vals := r.Header.Values(asanaSecret)
	if len(vals) != 1 || !echoable(vals[0]) {
		return nil
	}
	return &scheme.Answer{Status: http.StatusOK, Header: http.Header{asanaSecret: {vals[0]}}}
}

// Signed implements scheme.Handshake.
func (asanaHandshake) Signed(*scheme.Request, []byte, *scheme.Key) *scheme.Answer { return nil }
