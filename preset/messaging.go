package preset

import (
	"bytes"
	"crypto"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"sort"
	"strings"

	"github.com/hookguard/hookguard/scheme"
)

// The messaging family: SMS and voice (Twilio), e-mail (Mailgun, SendGrid,
// Postmark), chat and meetings (Discord, Zoom), customer messaging
// (Intercom), media review (Frame.io) and Standard Webhooks' asymmetric
// v1a. Each entry's proof is testdata/vectors/<name>.json, made by
// testdata/gen/messaging/gen.js with the senders' official libraries where
// they have one.
func init() {
	register(
		Entry{
			Name: "twilio", Sender: "Twilio", Family: "messaging",
			Docs: "https://www.twilio.com/docs/usage/webhooks/webhooks-security",
			Signed: "HMAC-SHA1 of the URL called plus the form parameters sorted by name (name and value, no separators), base64; " +
				"JSON bodies: the URL's bodySHA256 is the body's hex SHA-256",
			Notes: "secret: the account's Auth Token (or a Webhooks Rule's SharedKey secret: X-Twilio-Webhooks-Signature-Settings " +
				"then names HMAC_SHA256). Signs the URL it called: behind another proxy or a tunnel set public_url. " +
				"The URL is tried with and without its default port, as Twilio's libraries do",
			Build: func(Options) *scheme.Scheme {
				return &scheme.Scheme{
					HeaderSets: []scheme.Headers{{Signature: twilioSignature}},
					Algorithm:  twilioHMAC{}, Encoding: scheme.Base64,
					Strategy: twilioStrategy{},
					SignsURL: true,
				}
			},
		},
		Entry{
			Name: "mailgun", Sender: "Mailgun", Family: "email",
			Docs:   "https://documentation.mailgun.com/docs/mailgun/user-manual/webhooks/securing-webhooks",
			Signed: "HMAC-SHA256 of timestamp + token, hex; all three travel in the body (JSON signature object, or form fields)",
			Notes: "secret: the HTTP webhook signing key. The event data is not signed: only timestamp and token are. " +
				"token is the delivery id (replay). A subaccount's parent-signature is checked too. " +
				"Routes that forward messages with attachments need a larger max_body (default 1MiB)",
			Build: func(Options) *scheme.Scheme {
				return &scheme.Scheme{
					// No header: named after the body field that holds timestamp, token and signature.
					HeaderSets: []scheme.Headers{{Signature: "signature"}},
					Algorithm:  scheme.HMACSHA256, Encoding: scheme.Hex,
					Tolerance: scheme.DefaultTolerance,
					Strategy:  mailgunStrategy{},
				}
			},
		},
		Entry{
			Name: "sendgrid", Sender: "SendGrid (Twilio)", Family: "email",
			Docs:   "https://www.twilio.com/docs/sendgrid/for-developers/tracking-events/getting-started-event-webhook-security-features",
			Signed: "ECDSA P-256 SHA-256 of timestamp + body, ASN.1 DER, base64",
			Notes:  "public_key: the Event Webhook's verification key as SendGrid shows it (base64 DER), or PEM",
			Build: func(Options) *scheme.Scheme {
				return &scheme.Scheme{
					HeaderSets: []scheme.Headers{{
						Signature: "X-Twilio-Email-Event-Webhook-Signature",
						Timestamp: "X-Twilio-Email-Event-Webhook-Timestamp",
					}},
					Algorithm: scheme.ECDSAP256{}, Encoding: scheme.Base64,
					Content:        "{timestamp}{body}",
					FixedWidthTime: true,
					Tolerance:      scheme.DefaultTolerance,
				}
			},
		},
		Entry{
			Name: "postmark", Sender: "Postmark", Family: "email",
			Docs:   "https://postmarkapp.com/developer/webhooks/webhooks-overview#protecting-your-webhook",
			Signed: "nothing: HTTP Basic credentials (Authorization: Basic base64(user:password))",
			Notes: "secret: user:password, as written in the webhook URL https://user:password@host/path. " +
				"The body is not signed",
			Build: func(Options) *scheme.Scheme {
				return &scheme.Scheme{
					HeaderSets: []scheme.Headers{{Signature: "Authorization"}},
					Format:     basicAuth{},
					Algorithm:  scheme.Compare{},
				}
			},
		},
		Entry{
			Name: "discord", Sender: "Discord (interactions)", Family: "chat",
			Docs:   "https://discord.com/developers/docs/interactions/overview#setting-up-an-endpoint-validating-security-request-headers",
			Signed: "Ed25519 of timestamp + body, hex",
			Notes: "public_key: the application's public key (hex) from the Developer Portal. " +
				"PING: goes to the app, or answered {\"type\":1} with handshake answer",
			Build: func(Options) *scheme.Scheme { return discord(discordPing{Type: 1}) },
		},
		Entry{
			Name: "discord-events", Sender: "Discord (webhook events)", Family: "chat",
			Docs:   "https://discord.com/developers/docs/events/webhook-events#setting-up-an-endpoint-validating-security-request-headers",
			Signed: "Ed25519 of timestamp + body, hex",
			Notes: "public_key: the application's public key (hex). " +
				"PING (type 0): goes to the app, or answered 204 with handshake answer",
			Build: func(Options) *scheme.Scheme { return discord(discordPing{Type: 0, NoContent: true}) },
		},
		Entry{
			Name: "standard-v1a", Sender: "Standard Webhooks (asymmetric)", Family: "webhook standards",
			Docs:   "https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md#signature-scheme",
			Signed: "Ed25519 of id.timestamp.body, base64, as v1a,<sig> (several, space-separated)",
			Notes:  "public_key: whpk_ + base64; private_key (webhook_sign): whsk_ + base64 of the 32-byte seed (the 64-byte form is read too)",
			Build: func(o Options) *scheme.Scheme {
				s := standard(o)
				s.Format = scheme.Versioned{Version: "v1a"}
				s.Algorithm = scheme.Ed25519{}
				s.Secret = scheme.SecretRaw
				return s
			},
		},
		Entry{
			Name: "intercom", Sender: "Intercom", Family: "customer messaging",
			Docs:   "https://developers.intercom.com/docs/references/webhooks/webhook-models#signed-notifications",
			Signed: "HMAC-SHA1 of the body, hex, after sha1=",
			Notes:  "secret: the app's client_secret (Developer Hub, Basic Info)",
			Build: func(Options) *scheme.Scheme {
				return &scheme.Scheme{
					HeaderSets: []scheme.Headers{{Signature: "X-Hub-Signature"}},
					Format:     scheme.Single{Prefix: "sha1="},
					Algorithm:  scheme.HMACSHA1, Encoding: scheme.Hex,
				}
			},
		},
		Entry{
			Name: "frameio", Sender: "Frame.io", Family: "media",
			Docs:   "https://developer.frame.io/platform/v4/docs/guides/webhooks#verifying-webhook-signatures",
			Signed: "HMAC-SHA256 of v0:timestamp:body, hex, after v0=",
			Notes: "secret: the signing secret returned when the webhook (or custom action) is created. " +
				"Tolerance: the docs' 5 minutes (their code sample allows 500 seconds)",
			Build: func(Options) *scheme.Scheme {
				return &scheme.Scheme{
					HeaderSets: []scheme.Headers{{Signature: "X-Frameio-Signature", Timestamp: "X-Frameio-Request-Timestamp"}},
					Format:     scheme.Single{Prefix: "v0="},
					Algorithm:  scheme.HMACSHA256, Encoding: scheme.Hex,
					Content:   "v0:{timestamp}:{body}",
					Tolerance: scheme.DefaultTolerance,
				}
			},
		},
		Entry{
			Name: "zoom", Sender: "Zoom", Family: "meetings",
			Docs:   "https://developers.zoom.us/docs/api/webhooks/#verify-webhook-events",
			Signed: "HMAC-SHA256 of v0:timestamp:body, hex, after v0=",
			Notes: "secret: the app's Secret Token. endpoint.url_validation is answered by the gateway " +
				"(encryptedToken needs the secret) and never passed on",
			Build: func(Options) *scheme.Scheme {
				return &scheme.Scheme{
					HeaderSets: []scheme.Headers{{Signature: "X-Zm-Signature", Timestamp: "X-Zm-Request-Timestamp"}},
					Format:     scheme.Single{Prefix: "v0="},
					Algorithm:  scheme.HMACSHA256, Encoding: scheme.Hex,
					Content:   "v0:{timestamp}:{body}",
					Tolerance: scheme.DefaultTolerance,
					Handshake: zoomHandshake{},
				}
			},
		},
	)
}

// maybeHeader returns the one value of header name, "" when absent; a
// repeated header is malformed: the gateway never guesses which copy the
// sender meant.
func maybeHeader(h http.Header, name string) (string, error) {
	vals := h.Values(name)
	switch len(vals) {
	case 0:
		return "", nil
	case 1:
		return strings.TrimSpace(vals[0]), nil
	}
	return "", scheme.Fail(scheme.MalformedHeader, name, "sent %d times", len(vals))
}

// ---------------------------------------------------------------- Twilio

const (
	twilioSignature = "X-Twilio-Signature"
	// twilioSettings names the algorithm when a Webhooks Rule's SharedKey
	// signs: "key=<id>,algorithm=HMAC_SHA256" (twilio-node's
	// SIGNATURE_SETTINGS_HEADER). Absent: HMAC-SHA1 with the Auth Token.
	twilioSettings = "X-Twilio-Webhooks-Signature-Settings"
)

// twilioStrategy reads Twilio's X-Twilio-Signature: an HMAC of the URL
// Twilio called followed, for form bodies, by every parameter name and
// value sorted by name; for other bodies the URL carries bodySHA256, the
// body's hex SHA-256, and nothing is appended. As the official libraries
// (twilio-go, twilio-node) do, the URL is tried with its port removed and
// with the scheme's default port added, since Twilio signs either. A
// parameter sent several times contributes each distinct value, sorted
// (twilio-node and twilio-python; twilio-go takes only the first).
type twilioStrategy struct{}

func (twilioStrategy) Extract(r *scheme.Request, body []byte) (scheme.Extracted, error) {
	raw, err := maybeHeader(r.Header, twilioSignature)
	if err != nil {
		return scheme.Extracted{}, err
	}
	if raw == "" {
		return scheme.Extracted{}, scheme.Fail(scheme.MissingHeader, twilioSignature, "not present")
	}
	sig, ok := scheme.Base64.Decode(raw)
	if !ok {
		return scheme.Extracted{}, scheme.Fail(scheme.MalformedHeader, twilioSignature, "not valid base64")
	}
	settings, err := maybeHeader(r.Header, twilioSettings)
	if err != nil {
		return scheme.Extracted{}, err
	}
	h, ok := twilioAlgorithm(settings)
	if !ok {
		return scheme.Extracted{}, scheme.Fail(scheme.MalformedHeader, twilioSettings, "names an algorithm other than HMAC_SHA1 or HMAC_SHA256")
	}
	if r.URL == "" {
		return scheme.Extracted{}, scheme.Fail(scheme.MalformedHeader, twilioSignature, "Twilio signs the URL it called, and it is not known")
	}
	signed, problem := twilioSigned(r.URL, body)
	if problem != nil {
		return scheme.Extracted{}, problem
	}
	return scheme.Extracted{Sigs: [][]byte{sig}, Message: twilioFrame(h, twilioURLs(r.URL), signed)}, nil
}

func (twilioStrategy) Sign(r *scheme.Request, body []byte, _ scheme.Values, sign func([]byte) ([][]byte, error)) (http.Header, error) {
	if r.URL == "" {
		return nil, errors.New("twilio signs the URL it calls: the signer needs the URL the request is sent to")
	}
	signed, problem := twilioSigned(r.URL, body)
	if problem != nil {
		return nil, fmt.Errorf("twilio: %s", problem.Detail)
	}
	// Twilio signs the URL as configured; the libraries accept it with or
	// without the default port, so sign it without.
	u := twilioURLs(r.URL)[0]
	sigs, err := sign(twilioFrame(crypto.SHA1, []string{u}, signed))
	if err != nil {
		return nil, err
	}
	h := http.Header{}
	h.Set(twilioSignature, base64.StdEncoding.EncodeToString(sigs[0]))
	return h, nil
}

// twilioAlgorithm reads the algorithm named in the settings header, as
// twilio-node's getSignatureAlgorithm does: no header, or no algorithm=,
// is HMAC_SHA1.
func twilioAlgorithm(settings string) (crypto.Hash, bool) {
	alg := ""
	for _, part := range strings.Split(settings, ",") {
		if k, v, ok := strings.Cut(part, "="); ok && strings.TrimSpace(k) == "algorithm" {
			if v = strings.TrimSpace(v); v != "" {
				alg = v
				break
			}
		}
	}
	switch strings.ToUpper(alg) {
	case "", "HMAC_SHA1":
		return crypto.SHA1, true
	case "HMAC_SHA256":
		return crypto.SHA256, true
	}
	return 0, false
}

// twilioSigned returns what Twilio appends to the URL for body: the form
// parameters, name then value, sorted by name and then by value; nothing
// when the URL carries bodySHA256, which must then be the body's hash.
func twilioSigned(rawURL string, body []byte) (string, *scheme.Error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "", scheme.Fail(scheme.MalformedHeader, twilioSignature, "the URL called cannot be parsed")
	}
	if want := u.Query().Get("bodySHA256"); want != "" {
		sum := sha256.Sum256(body)
		if subtle.ConstantTimeCompare([]byte(hex.EncodeToString(sum[:])), []byte(want)) != 1 {
			return "", scheme.Fail(scheme.WrongSignature, twilioSignature, "the body is not the one whose SHA-256 the URL's bodySHA256 gives")
		}
		return "", nil
	}
	params, err := url.ParseQuery(string(body))
	if err != nil {
		return "", scheme.Fail(scheme.MalformedHeader, twilioSignature, "the body is not form-encoded and the URL has no bodySHA256")
	}
	names := make([]string, 0, len(params))
	for n := range params {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	for _, n := range names {
		vals := append([]string(nil), params[n]...)
		sort.Strings(vals)
		for i, v := range vals {
			if i > 0 && v == vals[i-1] {
				continue
			}
			b.WriteString(n)
			b.WriteString(v)
		}
	}
	return b.String(), nil
}

// twilioURLs returns the URL with its port removed and with the default
// port of its scheme added (or kept), leaving every other character as it
// is: the two forms Twilio's libraries check.
func twilioURLs(u string) []string {
	i := strings.Index(u, "://")
	if i < 0 {
		return []string{u}
	}
	sch, rest := u[:i+3], u[i+3:]
	end := strings.IndexAny(rest, "/?#")
	if end < 0 {
		end = len(rest)
	}
	authority, tail := rest[:end], rest[end:]
	at := strings.LastIndexByte(authority, '@')
	userinfo, hostport := authority[:at+1], authority[at+1:]
	host, port := hostport, ""
	if c := strings.IndexByte(hostport[strings.LastIndexByte(hostport, ']')+1:], ':'); c >= 0 {
		c += strings.LastIndexByte(hostport, ']') + 1
		host, port = hostport[:c], hostport[c:]
	}
	if port == "" {
		port = ":80"
		if strings.EqualFold(sch, "https://") {
			port = ":443"
		}
	}
	return []string{sch + userinfo + host + tail, sch + userinfo + host + port + tail}
}

// The hashes a twilioFrame names.
const (
	twilioSHA1   byte = 1
	twilioSHA256 byte = 2
)

// twilioFrame packs what twilioHMAC checks: the hash, then each form of
// the URL with the signed parameters after it, length-prefixed.
func twilioFrame(h crypto.Hash, urls []string, signed string) []byte {
	b := []byte{twilioSHA1}
	if h == crypto.SHA256 {
		b[0] = twilioSHA256
	}
	for _, u := range urls {
		b = binary.AppendUvarint(b, uint64(len(u)+len(signed))) //nolint:gosec // G115: a length, never negative
		b = append(b, u...)
		b = append(b, signed...)
	}
	return b
}

// twilioHMAC is HMAC under the hash the request names, over each form of
// the URL twilioStrategy framed: a signature that matches any form under a
// key matches.
type twilioHMAC struct{}

func (twilioHMAC) Name() string { return "HMAC-SHA1" }

// Size is 0: a Webhooks Rule's HMAC-SHA256 signatures are longer.
func (twilioHMAC) Size() int { return 0 }

func (twilioHMAC) Begin(keys []*scheme.Key) scheme.Message { return &twilioMessage{keys: keys} }

type twilioMessage struct {
	keys []*scheme.Key
	buf  bytes.Buffer
}

func (m *twilioMessage) Write(p []byte) (int, error) { return m.buf.Write(p) }

// unframe undoes twilioFrame.
func (m *twilioMessage) unframe() (crypto.Hash, [][]byte) {
	b := m.buf.Bytes()
	if len(b) == 0 {
		return 0, nil
	}
	var h crypto.Hash
	switch b[0] {
	case twilioSHA1:
		h = crypto.SHA1
	case twilioSHA256:
		h = crypto.SHA256
	default:
		return 0, nil
	}
	b = b[1:]
	var msgs [][]byte
	for len(b) > 0 {
		n, k := binary.Uvarint(b)
		if k <= 0 || n > uint64(len(b)-k) { //nolint:gosec // G115: a length, never negative
			return 0, nil
		}
		end := k + int(n) //nolint:gosec // G115: n is at most len(b), checked above
		msgs = append(msgs, b[k:end])
		b = b[end:]
	}
	return h, msgs
}

// Match implements scheme.Message: every key against every form and every
// signature, whatever matches.
func (m *twilioMessage) Match(sigs [][]byte) (int, []byte) {
	h, msgs := m.unframe()
	matched := -1
	var matchedSig []byte
	for i, k := range m.keys {
		for _, msg := range msgs {
			mac := hmac.New(h.New, k.Secret)
			mac.Write(msg)
			want := mac.Sum(nil)
			for _, sig := range sigs {
				if hmac.Equal(sig, want) && matched < 0 {
					matched, matchedSig = i, sig
				}
			}
		}
	}
	return matched, matchedSig
}

// Sign implements scheme.Message: the first form under key i.
func (m *twilioMessage) Sign(i int) ([]byte, error) {
	h, msgs := m.unframe()
	if len(msgs) == 0 {
		return nil, errors.New("twilio: nothing to sign")
	}
	mac := hmac.New(h.New, m.keys[i].Secret)
	mac.Write(msgs[0])
	return mac.Sum(nil), nil
}

// ---------------------------------------------------------------- Mailgun

// mailgunStrategy reads Mailgun's signature from the body: the JSON
// webhooks' "signature" object, or the form fields of legacy webhooks
// (urlencoded) and of Routes' forward() (multipart). It signs timestamp +
// token only; the event data is not signed. A subaccount's events also
// carry parent-signature, made the same way with the primary account's key.
type mailgunStrategy struct{}

// Timestamped implements scheme.TimestampedStrategy.
func (mailgunStrategy) Timestamped() bool { return true }

// mailgunFields are the fields that carry Mailgun's signature.
var mailgunFields = []string{"timestamp", "token", "signature", "parent-signature"}

func (mailgunStrategy) Extract(r *scheme.Request, body []byte) (scheme.Extracted, error) {
	ct, err := maybeHeader(r.Header, "Content-Type")
	if err != nil {
		return scheme.Extracted{}, err
	}
	mt, params, perr := mime.ParseMediaType(ct)
	if ct == "" || perr != nil {
		return scheme.Extracted{}, scheme.Fail(scheme.MalformedHeader, "Content-Type", "not JSON or a form: Mailgun's signature is in the body")
	}
	var (
		f      map[string]string
		prefix string
	)
	switch mt {
	case "application/json":
		f, err = mailgunJSON(body)
		prefix = "signature."
	case "application/x-www-form-urlencoded":
		f, err = mailgunForm(body)
	case "multipart/form-data":
		f, err = mailgunMultipart(body, params["boundary"])
	default:
		return scheme.Extracted{}, scheme.Fail(scheme.MalformedHeader, "Content-Type", "not JSON or a form: Mailgun's signature is in the body")
	}
	if err != nil {
		return scheme.Extracted{}, err
	}
	for _, n := range mailgunFields[:3] {
		if f[n] == "" {
			return scheme.Extracted{}, scheme.Fail(scheme.MissingHeader, prefix+n, "not in the body")
		}
	}
	// Ten digits, as Mailgun's are until 2286: timestamp and token are
	// signed with nothing between them, so a fixed width is what keeps a
	// digit from moving from one to the other.
	if ts := f["timestamp"]; len(ts) != 10 || strings.Trim(ts, "0123456789") != "" {
		return scheme.Extracted{}, scheme.Fail(scheme.MalformedHeader, prefix+"timestamp", "not a 10-digit Unix time")
	}
	var sigs [][]byte
	for _, n := range mailgunFields[2:] {
		if f[n] == "" {
			continue
		}
		sig, ok := scheme.Hex.Decode(f[n])
		if !ok {
			return scheme.Extracted{}, scheme.Fail(scheme.MalformedHeader, prefix+n, "not valid hex")
		}
		sigs = append(sigs, sig)
	}
	return scheme.Extracted{
		Sigs:      sigs,
		Timestamp: f["timestamp"],
		ID:        f["token"], IDSigned: true,
		Message: []byte(f["timestamp"] + f["token"]),
	}, nil
}

func (m mailgunStrategy) Sign(*scheme.Request, []byte, scheme.Values, func([]byte) ([][]byte, error)) (http.Header, error) {
	return nil, errors.New(m.VerifyOnly())
}

// VerifyOnly implements scheme.VerifyOnly.
func (mailgunStrategy) VerifyOnly() string {
	return "mailgun puts its signature in the body: webhook_sign sends the body unchanged, so it cannot sign as Mailgun"
}

// mailgunJSON reads the "signature" object of a JSON webhook. A key that
// appears twice, at the top or in the object, is malformed.
func mailgunJSON(body []byte) (map[string]string, error) {
	top, dup, ok := jsonObject(body)
	if !ok {
		return nil, scheme.Fail(scheme.MalformedHeader, "signature", "the body is not a JSON object")
	}
	if dup == "signature" {
		return nil, scheme.Fail(scheme.MalformedHeader, "signature", "appears more than once")
	}
	raw, present := top["signature"]
	if !present {
		return nil, scheme.Fail(scheme.MissingHeader, "signature", "not in the body")
	}
	obj, dup, ok := jsonObject(raw)
	if !ok {
		return nil, scheme.Fail(scheme.MalformedHeader, "signature", "not a JSON object")
	}
	f := map[string]string{}
	for _, n := range mailgunFields {
		if dup == n {
			return nil, scheme.Fail(scheme.MalformedHeader, "signature."+n, "appears more than once")
		}
		v, present := obj[n]
		if !present {
			continue
		}
		var s string
		if err := json.Unmarshal(v, &s); err != nil {
			// Mailgun writes the timestamp as a string; its docs call it an int.
			if n != "timestamp" || strings.Trim(string(v), "0123456789") != "" {
				return nil, scheme.Fail(scheme.MalformedHeader, "signature."+n, "not a string")
			}
			s = string(v)
		}
		f[n] = s
	}
	return f, nil
}

// jsonObject reads a JSON object's members, keeping their raw values;
// dup is a key that appears more than once ("" if none).
func jsonObject(data []byte) (members map[string]json.RawMessage, dup string, ok bool) {
	d := json.NewDecoder(bytes.NewReader(data))
	if t, err := d.Token(); err != nil || t != json.Delim('{') {
		return nil, "", false
	}
	members = map[string]json.RawMessage{}
	for d.More() {
		t, err := d.Token()
		k, isKey := t.(string)
		if err != nil || !isKey {
			return nil, "", false
		}
		var v json.RawMessage
		if err := d.Decode(&v); err != nil {
			return nil, "", false
		}
		if _, seen := members[k]; seen && dup == "" {
			dup = k
		}
		members[k] = v
	}
	if t, err := d.Token(); err != nil || t != json.Delim('}') {
		return nil, "", false
	}
	if _, err := d.Token(); err != io.EOF {
		return nil, "", false
	}
	return members, dup, true
}

func mailgunForm(body []byte) (map[string]string, error) {
	vals, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, scheme.Fail(scheme.MalformedHeader, "Content-Type", "the body is not form-encoded")
	}
	f := map[string]string{}
	for _, n := range mailgunFields {
		switch len(vals[n]) {
		case 0:
		case 1:
			f[n] = vals[n][0]
		default:
			return nil, scheme.Fail(scheme.MalformedHeader, n, "appears more than once")
		}
	}
	return f, nil
}

// maxMailgunField bounds what is read of one signature field of a
// multipart body: each is tens of characters.
const maxMailgunField = 1024

func mailgunMultipart(body []byte, boundary string) (map[string]string, error) {
	if boundary == "" {
		return nil, scheme.Fail(scheme.MalformedHeader, "Content-Type", "multipart without a boundary")
	}
	mr := multipart.NewReader(bytes.NewReader(body), boundary)
	f := map[string]string{}
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			return f, nil
		}
		if err != nil {
			return nil, scheme.Fail(scheme.MalformedHeader, "Content-Type", "the multipart body cannot be read")
		}
		n := p.FormName()
		if p.FileName() != "" || !isMailgunField(n) {
			continue // attachments and the message's own fields
		}
		if _, seen := f[n]; seen {
			return nil, scheme.Fail(scheme.MalformedHeader, n, "appears more than once")
		}
		v, err := io.ReadAll(io.LimitReader(p, maxMailgunField+1))
		if err != nil || len(v) > maxMailgunField {
			return nil, scheme.Fail(scheme.MalformedHeader, n, "cannot be read, or too long")
		}
		f[n] = string(v)
	}
}

func isMailgunField(n string) bool {
	for _, f := range mailgunFields {
		if n == f {
			return true
		}
	}
	return false
}

// ---------------------------------------------------------------- Postmark

// basicAuth is HTTP Basic credentials (RFC 7617) as the "signature":
// "Basic " + base64(user:password). The decoded credentials are compared
// with the secret, user:password.
type basicAuth struct{}

// Parse implements scheme.Format.
func (basicAuth) Parse(value string, _ scheme.Encoding) ([][]byte, string, string) {
	sch, cred, ok := strings.Cut(value, " ")
	if !ok || !strings.EqualFold(sch, "Basic") {
		return nil, "", "is not Basic credentials"
	}
	b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(cred))
	if err != nil || len(b) == 0 {
		return nil, "", "the credentials are not base64"
	}
	return [][]byte{b}, "", ""
}

// Render implements scheme.Format.
func (basicAuth) Render(sigs []string, _ string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(sigs[0]))
}

// PerKey implements scheme.Format.
func (basicAuth) PerKey() bool { return false }

// CarriesTimestamp implements scheme.Format.
func (basicAuth) CarriesTimestamp() bool { return false }

// ---------------------------------------------------------------- Discord

func discord(ping discordPing) *scheme.Scheme {
	return &scheme.Scheme{
		HeaderSets: []scheme.Headers{{Signature: "X-Signature-Ed25519", Timestamp: "X-Signature-Timestamp"}},
		Algorithm:  scheme.Ed25519{}, Encoding: scheme.Hex,
		Content:        "{timestamp}{body}",
		FixedWidthTime: true,
		Tolerance:      scheme.DefaultTolerance,
		Handshake:      ping,
	}
}

// discordPing answers Discord's PING, a signed request whose JSON body has
// "type" Type: interactions (type 1) expect {"type":1} (PONG), webhook
// events (type 0) a 204 with no body.
type discordPing struct {
	Type      int
	NoContent bool
}

func (discordPing) Unsigned(*scheme.Request) *scheme.Answer { return nil }

func (p discordPing) Signed(_ *scheme.Request, body []byte, _ *scheme.Key) *scheme.Answer {
	var m struct {
		Type *int `json:"type"`
	}
	if json.Unmarshal(body, &m) != nil || m.Type == nil || *m.Type != p.Type {
		return nil
	}
	if p.NoContent {
		return &scheme.Answer{Status: http.StatusNoContent, Header: http.Header{}}
	}
	return JSONAnswer(map[string]int{"type": 1})
}

// ---------------------------------------------------------------- Zoom

// zoomHandshake answers endpoint.url_validation: a signed request whose
// body carries plainToken; the answer gives it back with encryptedToken,
// its hex HMAC-SHA256 under the secret token, so only the gateway can give
// it. https://developers.zoom.us/docs/api/webhooks/#validate-your-webhook-endpoint
type zoomHandshake struct{}

func (zoomHandshake) Unsigned(*scheme.Request) *scheme.Answer { return nil }

func (zoomHandshake) Signed(_ *scheme.Request, body []byte, key *scheme.Key) *scheme.Answer {
	var m struct {
		Event   string `json:"event"`
		Payload struct {
			PlainToken string `json:"plainToken"`
		} `json:"payload"`
	}
	if json.Unmarshal(body, &m) != nil || m.Event != "endpoint.url_validation" || m.Payload.PlainToken == "" || key == nil {
		return nil
	}
	mac := hmac.New(sha256.New, key.Secret)
	mac.Write([]byte(m.Payload.PlainToken))
	a := JSONAnswer(struct {
		EncryptedToken string `json:"encryptedToken"`
		PlainToken     string `json:"plainToken"`
	}{hex.EncodeToString(mac.Sum(nil)), m.Payload.PlainToken})
	if a != nil {
		a.Gateway = true
	}
	return a
}
