package preset_test

import (
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/sha1" //nolint:gosec // G505: Twilio and Intercom sign with HMAC-SHA1
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hookguard/hookguard/preset"
	"github.com/hookguard/hookguard/scheme"
	"github.com/hookguard/hookguard/signer"
	"github.com/hookguard/hookguard/verifier"
)

// messagingReasons is why each invalid case of the messaging family's
// vectors must be refused: TestVectors checks that they are, this that it
// is for the right reason (a case refused as malformed when its signature
// is wrong would prove nothing about the signature).
var messagingReasons = map[string]map[string]scheme.Reason{
	"twilio": {
		"form POST: docs example, a parameter changed":                                 scheme.WrongSignature,
		"form POST: docs example, wrong auth token":                                    scheme.WrongSignature,
		"form POST: docs example, another query string":                                scheme.WrongSignature,
		"form POST: docs example, no X-Twilio-Signature":                               scheme.MissingHeader,
		"form POST: twilio-go test vector, signature of the wrongly sorted parameters": scheme.WrongSignature,
		"JSON POST with bodySHA256: body changed (URL signature still right)":          scheme.WrongSignature,
	},
	"mailgun": {
		"JSON webhook: token changed":                             scheme.WrongSignature,
		"JSON webhook: wrong signing key":                         scheme.WrongSignature,
		"JSON webhook: no signature object":                       scheme.MissingHeader,
		"JSON webhook: timestamp 1 hour old (past the tolerance)": scheme.StaleTimestamp,
		"legacy form webhook: signature changed":                  scheme.WrongSignature,
	},
	"sendgrid": {
		"library test vector, body changed":                             scheme.WrongSignature,
		"library test vector, trailing CRLF dropped":                    scheme.WrongSignature,
		"library test vector, timestamp header changed":                 scheme.WrongSignature,
		"fixed key pair: verified with another public key":              scheme.WrongSignature,
		"fixed key pair: body changed":                                  scheme.WrongSignature,
		"fixed key pair: no signature header":                           scheme.MissingHeader,
		"fixed key pair: no timestamp header":                           scheme.MissingHeader,
		"fixed key pair: timestamp 10 minutes old (past the tolerance)": scheme.StaleTimestamp,
	},
	"postmark": {
		"wrong password":          scheme.WrongSignature,
		"wrong user name":         scheme.WrongSignature,
		"no Authorization header": scheme.MissingHeader,
		"Bearer instead of Basic": scheme.MalformedHeader,
	},
	"discord": {
		"body changed":                     scheme.WrongSignature,
		"timestamp header changed":         scheme.WrongSignature,
		"verified with another public key": scheme.WrongSignature,
		"no X-Signature-Ed25519":           scheme.MissingHeader,
		"no X-Signature-Timestamp":         scheme.MissingHeader,
		"PING with a bad signature (Discord's own security check): 401, no PONG": scheme.WrongSignature,
		"timestamp 10 minutes old (past the tolerance)":                          scheme.StaleTimestamp,
	},
	"discord-events": {
		"webhook event, body changed": scheme.WrongSignature,
	},
	"standard-v1a": {
		"only a v1 (HMAC) signature: a whpk_ key cannot check it": scheme.MalformedHeader,
		"body changed":            scheme.WrongSignature,
		"webhook-id changed":      scheme.WrongSignature,
		"signed by another key":   scheme.WrongSignature,
		"v1a label on a v1 value": scheme.MalformedHeader,
		"no webhook-id":           scheme.MissingHeader,
		"no webhook-signature":    scheme.MissingHeader,
		"timestamp 10 minutes old (past the 5-minute tolerance)": scheme.StaleTimestamp,
		"timestamp 10 minutes ahead":                             scheme.FutureTimestamp,
	},
	"intercom": {
		"body changed":                    scheme.WrongSignature,
		"wrong client secret":             scheme.WrongSignature,
		"no X-Hub-Signature":              scheme.MissingHeader,
		"sha256= prefix instead of sha1=": scheme.MalformedHeader,
	},
	"frameio": {
		"body changed":                             scheme.WrongSignature,
		"timestamp header changed":                 scheme.WrongSignature,
		"wrong signing secret":                     scheme.WrongSignature,
		"no X-Frameio-Signature":                   scheme.MissingHeader,
		"no X-Frameio-Request-Timestamp":           scheme.MissingHeader,
		"signature without the v0= prefix":         scheme.MalformedHeader,
		"timestamp 6 minutes old (past 5 minutes)": scheme.StaleTimestamp,
	},
	"zoom": {
		"event body changed":                             scheme.WrongSignature,
		"timestamp header changed":                       scheme.WrongSignature,
		"wrong secret token":                             scheme.WrongSignature,
		"no x-zm-signature":                              scheme.MissingHeader,
		"url_validation with a bad signature: no answer": scheme.WrongSignature,
		"timestamp 10 minutes old (past the tolerance)":  scheme.StaleTimestamp,
	},
}

func TestMessagingRefusalReasons(t *testing.T) {
	vs := loadVectors(t)
	for name, want := range messagingReasons {
		v, ok := vs[name]
		if !ok {
			t.Fatalf("no vectors for %s", name)
		}
		seen := 0
		for _, c := range v.Cases {
			if c.Valid {
				continue
			}
			r, ok := want[c.Name]
			if !ok {
				t.Errorf("%s/%s: no expected reason", name, c.Name)
				continue
			}
			seen++
			err := verifyMessagingCase(t, name, c)
			var ve *scheme.Error
			if !errors.As(err, &ve) || ve.Reason != r {
				t.Errorf("%s/%s: refused with %v, want %s", name, c.Name, err, r)
			}
		}
		if seen != len(want) {
			t.Errorf("%s: %d invalid cases, %d expected reasons", name, seen, len(want))
		}
	}
}

// verifyMessagingCase verifies one vector case as TestVectors does and returns the
// verdict.
func verifyMessagingCase(t *testing.T, name string, c vectorCase) error {
	t.Helper()
	s := mustPreset(t, name)
	key := scheme.Key{Label: "vector"}
	var err error
	if c.Secret != "" {
		if key.Secret, err = s.DecodeSecret(c.Secret); err != nil {
			t.Fatal(err)
		}
	}
	if c.PublicKey != "" {
		if key.Public, err = s.ParsePublicKey(c.PublicKey); err != nil {
			t.Fatal(err)
		}
	}
	h := http.Header{}
	for k, v := range c.Headers {
		h.Set(k, v)
	}
	_, err = verifier.VerifyRequest(s, scheme.Request{Method: c.Method, URL: c.URL, Header: h}, []byte(c.Body), []scheme.Key{key}, s.Tolerance, time.Unix(c.Now, 0))
	return err
}

func mustPreset(t *testing.T, name string) *scheme.Scheme {
	t.Helper()
	s, err := preset.Get(name, preset.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func secretKey(s string) []scheme.Key { return []scheme.Key{{Label: "k", Secret: []byte(s)}} }

// twilioSig is Twilio's documented signature, computed here independently
// of the preset: base64 HMAC-SHA1 of the URL and the sorted parameters.
func twilioSig(token, signed string) string {
	m := hmac.New(sha1.New, []byte(token))
	m.Write([]byte(signed))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

func twilioVerify(t *testing.T, url, method, contentType, body string, h http.Header) error {
	t.Helper()
	if h == nil {
		h = http.Header{}
	}
	if contentType != "" {
		h.Set("Content-Type", contentType)
	}
	_, err := verifier.VerifyRequest(mustPreset(t, "twilio"), scheme.Request{Method: method, URL: url, Header: h}, []byte(body), secretKey("12345"), 0, time.Now())
	return err
}

// TestTwilioURLForms: the URL is checked as called, without its port and
// with the default port, as twilio-go and twilio-node do, and nothing else
// of it may differ.
func TestTwilioURLForms(t *testing.T) {
	const form = "application/x-www-form-urlencoded"
	for _, tc := range []struct{ signed, called string }{
		{"https://h.example/x?a=1", "https://h.example:443/x?a=1"},
		{"https://h.example:443/x?a=1", "https://h.example/x?a=1"},
		{"http://h.example:80/x", "http://h.example/x"},
		{"https://h.example/x", "https://h.example:8443/x"},
		{"https://h.example:8443/x", "https://h.example:8443/x"},
		{"https://[2001:db8::1]/x", "https://[2001:db8::1]:8443/x"},
		{"https://[2001:db8::1]:443/x", "https://[2001:db8::1]/x"},
	} {
		h := http.Header{"X-Twilio-Signature": {twilioSig("12345", tc.signed+"Digits1234")}}
		if err := twilioVerify(t, tc.called, "POST", form, "Digits=1234", h); err != nil {
			t.Errorf("signed over %s, called at %s: %v", tc.signed, tc.called, err)
		}
	}
	for _, tc := range []struct{ signed, called string }{
		{"https://h.example/x", "http://h.example/x"},
		{"https://h.example:8443/x", "https://h.example:9443/x"},
		{"https://h.example/x", "https://h.example/x/"},
		{"https://h.example/x?a=1", "https://h.example/x?a=2"},
		{"https://h.example/x", "https://other.example/x"},
	} {
		h := http.Header{"X-Twilio-Signature": {twilioSig("12345", tc.signed+"Digits1234")}}
		if err := twilioVerify(t, tc.called, "POST", form, "Digits=1234", h); reason(err) != scheme.WrongSignature {
			t.Errorf("signed over %s, called at %s: %v, want wrong_signature", tc.signed, tc.called, err)
		}
	}
}

// TestTwilioBodies: a body is always covered, by the form parameters or by
// bodySHA256; a body that is neither is refused, never passed on a
// signature of the URL alone.
func TestTwilioBodies(t *testing.T) {
	url := "https://h.example/hook"
	sigURL := http.Header{"X-Twilio-Signature": {twilioSig("12345", url)}}
	if err := twilioVerify(t, url, "GET", "", "", sigURL.Clone()); err != nil {
		t.Errorf("GET, empty body: %v", err)
	}
	if err := twilioVerify(t, url, "POST", "application/json", `{"a":1}`, sigURL.Clone()); reason(err) != scheme.WrongSignature {
		t.Errorf("JSON body without bodySHA256 on a URL-only signature: %v, want wrong_signature", err)
	}
	if err := twilioVerify(t, url, "POST", "application/x-www-form-urlencoded", "a=%zz", sigURL.Clone()); reason(err) != scheme.MalformedHeader {
		t.Errorf("body neither form nor hashed: %v, want malformed_header", err)
	}
	// A form body sent as another Content-Type is still read as the form it is.
	h := http.Header{"X-Twilio-Signature": {twilioSig("12345", url+"Bodyhi thereFrom+1")}}
	if err := twilioVerify(t, url, "POST", "text/plain", "From=%2B1&Body=hi+there", h); err != nil {
		t.Errorf("form body: %v", err)
	}
	body := `{"x":true}`
	sum := sha256.Sum256([]byte(body))
	hashed := url + "?bodySHA256=" + hex.EncodeToString(sum[:])
	h = http.Header{"X-Twilio-Signature": {twilioSig("12345", hashed)}}
	if err := twilioVerify(t, hashed, "POST", "application/json", body, h.Clone()); err != nil {
		t.Errorf("bodySHA256: %v", err)
	}
	if err := twilioVerify(t, hashed, "POST", "application/json", body+" ", h.Clone()); reason(err) != scheme.WrongSignature {
		t.Errorf("bodySHA256, body changed: %v, want wrong_signature", err)
	}
}

func TestTwilioHeaders(t *testing.T) {
	url := "https://h.example/hook"
	sig := twilioSig("12345", url)
	for _, tc := range []struct {
		name string
		h    http.Header
		want scheme.Reason
	}{
		{"signature twice", http.Header{"X-Twilio-Signature": {sig, sig}}, scheme.MalformedHeader},
		{"signature not base64", http.Header{"X-Twilio-Signature": {"%%%"}}, scheme.MalformedHeader},
		{"unknown algorithm", http.Header{"X-Twilio-Signature": {sig}, "X-Twilio-Webhooks-Signature-Settings": {"key=k,algorithm=HMAC_MD5"}}, scheme.MalformedHeader},
		{"settings twice", http.Header{"X-Twilio-Signature": {sig}, "X-Twilio-Webhooks-Signature-Settings": {"algorithm=HMAC_SHA1", "algorithm=HMAC_SHA1"}}, scheme.MalformedHeader},
		{"SHA-256 named, SHA-1 signature", http.Header{"X-Twilio-Signature": {sig}, "X-Twilio-Webhooks-Signature-Settings": {"key=k,algorithm=HMAC_SHA256"}}, scheme.WrongSignature},
		{"settings without an algorithm: SHA-1", http.Header{"X-Twilio-Signature": {sig}, "X-Twilio-Webhooks-Signature-Settings": {"key=k"}}, ""},
	} {
		if err := twilioVerify(t, url, "GET", "", "", tc.h); reason(err) != tc.want {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}
	_, err := verifier.VerifyRequest(mustPreset(t, "twilio"), scheme.Request{Method: "GET", Header: http.Header{"X-Twilio-Signature": {sig}}}, nil, secretKey("12345"), 0, time.Now())
	if reason(err) != scheme.MalformedHeader {
		t.Errorf("URL unknown: %v, want malformed_header", err)
	}
}

// TestTwilioSignerRoundTrip: what webhook_sign twilio sends verifies, for
// a form and for a hashed JSON body, and a body that does not match its
// bodySHA256 is not signed.
func TestTwilioSignerRoundTrip(t *testing.T) {
	s := mustPreset(t, "twilio")
	keys := secretKey("12345")
	body := `{"x":1}`
	sum := sha256.Sum256([]byte(body))
	for _, m := range []signer.Message{
		{Method: "POST", URL: "https://h.example:8443/sms?x=1", Body: []byte("To=%2B1&From=%2B2&Body=a+b&Tag=z&Tag=y")},
		{Method: "POST", URL: "https://h.example/json?bodySHA256=" + hex.EncodeToString(sum[:]), Body: []byte(body)},
		{Method: "GET", URL: "https://h.example/voice?CallSid=CA1"},
	} {
		h, err := signer.SignKeys(s, keys, m)
		if err != nil {
			t.Fatalf("%s: %v", m.URL, err)
		}
		if _, err := verifier.VerifyRequest(s, scheme.Request{Method: m.Method, URL: m.URL, Header: h}, m.Body, keys, 0, time.Now()); err != nil {
			t.Errorf("%s: signed, then refused: %v", m.URL, err)
		}
	}
	if _, err := signer.SignKeys(s, keys, signer.Message{Method: "POST", URL: "https://h.example/json?bodySHA256=00", Body: []byte(body)}); err == nil {
		t.Error("a body that is not the one bodySHA256 names was signed")
	}
	if _, err := signer.SignKeys(s, keys, signer.Message{Method: "POST", Body: []byte("a=1")}); err == nil {
		t.Error("signed without knowing the URL")
	}
}

func mailgunSig(key, ts, token string) string {
	m := hmac.New(sha256.New, []byte(key))
	m.Write([]byte(ts + token))
	return hex.EncodeToString(m.Sum(nil))
}

func mailgunVerify(t *testing.T, contentType, body string) (verifier.Result, error) {
	t.Helper()
	s := mustPreset(t, "mailgun")
	return verifier.VerifyRequest(s, scheme.Request{Method: "POST", URL: "https://h.example/mg", Header: http.Header{"Content-Type": {contentType}}},
		[]byte(body), secretKey("mg-key"), s.Tolerance, time.Unix(1700000000, 0))
}

// TestMailgunBody: the signature's fields are read from JSON, urlencoded
// and multipart bodies; a field given twice, a timestamp that is not ten
// digits or a body of another type is refused; the token is the delivery
// id, and it is signed.
func TestMailgunBody(t *testing.T) {
	sig := mailgunSig("mg-key", "1700000000", "tok")
	res, err := mailgunVerify(t, "application/json", `{"signature":{"timestamp":1700000000,"token":"tok","signature":"`+sig+`"},"event-data":{}}`)
	if err != nil {
		t.Fatalf("timestamp as a JSON number: %v", err)
	}
	if res.ID != "tok" || !res.IDSigned || res.Timestamp != "1700000000" {
		t.Errorf("id %q (signed %v), timestamp %q; want tok, true, 1700000000", res.ID, res.IDSigned, res.Timestamp)
	}
	for _, tc := range []struct {
		name, ct, body string
		want           scheme.Reason
	}{
		{"signature object twice", "application/json", `{"signature":{"timestamp":"1700000000","token":"tok","signature":"` + sig + `"},"signature":{}}`, scheme.MalformedHeader},
		{"token twice", "application/json", `{"signature":{"timestamp":"1700000000","token":"tok","token":"tok","signature":"` + sig + `"}}`, scheme.MalformedHeader},
		{"no token", "application/json", `{"signature":{"timestamp":"1700000000","signature":"` + sig + `"}}`, scheme.MissingHeader},
		{"token not a string", "application/json", `{"signature":{"timestamp":"1700000000","token":1,"signature":"` + sig + `"}}`, scheme.MalformedHeader},
		{"not JSON", "application/json", `{"signature":`, scheme.MalformedHeader},
		{"JSON array", "application/json", `[]`, scheme.MalformedHeader},
		{"trailing data", "application/json", `{"signature":{}} {}`, scheme.MalformedHeader},
		{"nine-digit timestamp: a digit moved out of the token", "application/json", `{"signature":{"timestamp":"170000000","token":"0tok","signature":"` + sig + `"}}`, scheme.MalformedHeader},
		{"signature not hex", "application/json", `{"signature":{"timestamp":"1700000000","token":"tok","signature":"zz"}}`, scheme.MalformedHeader},
		{"form field twice", "application/x-www-form-urlencoded", "timestamp=1700000000&token=tok&signature=" + sig + "&signature=" + sig, scheme.MalformedHeader},
		{"plain text", "text/plain", "timestamp=1700000000", scheme.MalformedHeader},
		{"no Content-Type", "", "timestamp=1700000000", scheme.MalformedHeader},
		{"multipart without a boundary", "multipart/form-data", "x", scheme.MalformedHeader},
	} {
		if _, err := mailgunVerify(t, tc.ct, tc.body); reason(err) != tc.want {
			t.Errorf("%s: %v, want %s", tc.name, err, tc.want)
		}
	}
	// An attachment named like a field is not the field.
	b := "--B\r\nContent-Disposition: form-data; name=\"signature\"; filename=\"signature\"\r\n\r\nnot this\r\n" +
		"--B\r\nContent-Disposition: form-data; name=\"timestamp\"\r\n\r\n1700000000\r\n" +
		"--B\r\nContent-Disposition: form-data; name=\"token\"\r\n\r\ntok\r\n" +
		"--B\r\nContent-Disposition: form-data; name=\"signature\"\r\n\r\n" + sig + "\r\n--B--\r\n"
	if _, err := mailgunVerify(t, "multipart/form-data; boundary=B", b); err != nil {
		t.Errorf("multipart with an attachment named signature: %v", err)
	}
}

// TestMailgunTimestamped: the timestamp in the body is a signed timestamp,
// so a route may set its tolerance, and tolerance 0 switches the check off.
func TestMailgunTimestamped(t *testing.T) {
	s := mustPreset(t, "mailgun")
	if !s.Timestamped() {
		t.Fatal("mailgun is not timestamped: a route could not set its tolerance")
	}
	sig := mailgunSig("mg-key", "1700000000", "tok")
	body := []byte(`{"signature":{"timestamp":"1700000000","token":"tok","signature":"` + sig + `"}}`)
	req := scheme.Request{Method: "POST", Header: http.Header{"Content-Type": {"application/json"}}}
	late := time.Unix(1700000000, 0).Add(2 * time.Hour)
	if _, err := verifier.VerifyRequest(s, req, body, secretKey("mg-key"), 0, late); err != nil {
		t.Errorf("tolerance 0: %v", err)
	}
	if _, err := verifier.VerifyRequest(s, req, body, secretKey("mg-key"), 3*time.Hour, late); err != nil {
		t.Errorf("tolerance 3h: %v", err)
	}
	if _, err := signer.SignKeys(s, secretKey("mg-key"), signer.Message{Body: body}); err == nil {
		t.Error("webhook_sign mailgun signed: the signature belongs in the body")
	}
}

func TestPostmarkBasic(t *testing.T) {
	s := mustPreset(t, "postmark")
	keys := secretKey("hooks:pa:ss")
	h, err := signer.SignKeys(s, keys, signer.Message{Body: []byte("{}")})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := h.Get("Authorization"), "Basic "+base64.StdEncoding.EncodeToString([]byte("hooks:pa:ss")); got != want {
		t.Errorf("signer sent %q, want %q", got, want)
	}
	for _, v := range []string{h.Get("Authorization"), "basic " + base64.StdEncoding.EncodeToString([]byte("hooks:pa:ss"))} {
		if _, err := verifier.VerifyRequest(s, scheme.Request{Header: http.Header{"Authorization": {v}}}, []byte("{}"), keys, 0, time.Now()); err != nil {
			t.Errorf("%q: %v", v, err)
		}
	}
	for _, v := range []string{"Basic", "Basic !!!", "Digest x", "Basic " + base64.StdEncoding.EncodeToString([]byte("hooks:pa"))} {
		if _, err := verifier.VerifyRequest(s, scheme.Request{Header: http.Header{"Authorization": {v}}}, nil, keys, 0, time.Now()); err == nil {
			t.Errorf("%q verified", v)
		}
	}
}

// TestDiscordPings: only the PING of each endpoint kind is answered.
func TestDiscordPings(t *testing.T) {
	for _, tc := range []struct {
		preset, body string
		status       int
		answer       string
	}{
		{"discord", `{"type":1}`, 200, `{"type":1}`},
		{"discord", `{"type":2}`, 0, ""},
		{"discord", `{}`, 0, ""},
		{"discord", `not json`, 0, ""},
		{"discord-events", `{"type":0}`, 204, ""},
		{"discord-events", `{"version":1}`, 0, ""},
		{"discord-events", `{"type":1,"event":{}}`, 0, ""},
	} {
		a := mustPreset(t, tc.preset).Handshake.Signed(&scheme.Request{}, []byte(tc.body), &scheme.Key{})
		switch {
		case tc.status == 0 && a != nil:
			t.Errorf("%s %s: answered %d", tc.preset, tc.body, a.Status)
		case tc.status != 0 && (a == nil || a.Status != tc.status || string(a.Body) != tc.answer || a.Gateway):
			t.Errorf("%s %s: answer %+v, want %d %q (not gateway-only)", tc.preset, tc.body, a, tc.status, tc.answer)
		}
	}
}

// TestZoomValidationUsesTheMatchedKey: during a rotation the answer is
// made with the secret that verified the request, and only the gateway
// can give it.
func TestZoomValidationUsesTheMatchedKey(t *testing.T) {
	s := mustPreset(t, "zoom")
	body := []byte(`{"payload":{"plainToken":"abc"},"event_ts":1700000000000,"event":"endpoint.url_validation"}`)
	ts := "1700000000"
	m := hmac.New(sha256.New, []byte("new-secret"))
	m.Write([]byte("v0:" + ts + ":" + string(body)))
	h := http.Header{"X-Zm-Signature": {"v0=" + hex.EncodeToString(m.Sum(nil))}, "X-Zm-Request-Timestamp": {ts}}
	keys := []scheme.Key{{Label: "old", Secret: []byte("old-secret")}, {Label: "new", Secret: []byte("new-secret")}}
	res, err := verifier.VerifyRequest(s, scheme.Request{Method: "POST", Header: h}, body, keys, s.Tolerance, time.Unix(1700000001, 0))
	if err != nil {
		t.Fatal(err)
	}
	a := s.Handshake.Signed(&scheme.Request{}, body, &keys[res.KeyIndex])
	e := hmac.New(sha256.New, []byte("new-secret"))
	e.Write([]byte("abc"))
	if want := `{"encryptedToken":"` + hex.EncodeToString(e.Sum(nil)) + `","plainToken":"abc"}`; a == nil || string(a.Body) != want || !a.Gateway {
		t.Errorf("answer %+v, want %s from the gateway", a, want)
	}
	if a := s.Handshake.Signed(&scheme.Request{}, []byte(`{"event":"meeting.started","payload":{"plainToken":"abc"}}`), &keys[0]); a != nil {
		t.Errorf("an event answered as a validation: %s", a.Body)
	}
}

// TestStandardV1aKeys: generated pairs are whpk_/whsk_ with the 32-byte
// seed (what the Go and Python v1a implementations read), they sign and
// verify, and the 64-byte whsk_ form signs the same.
func TestStandardV1aKeys(t *testing.T) {
	s := mustPreset(t, "standard-v1a")
	pub, priv, err := s.Algorithm.(scheme.KeyPair).Generate()
	if err != nil {
		t.Fatal(err)
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(priv, "whsk_"))
	if !strings.HasPrefix(pub, "whpk_") || !strings.HasPrefix(priv, "whsk_") || err != nil || len(raw) != ed25519.SeedSize {
		t.Fatalf("generated %q / %d-byte private key, want whpk_ / whsk_ with a 32-byte seed", pub[:5], len(raw))
	}
	long := "whsk_" + base64.StdEncoding.EncodeToString(ed25519.NewKeyFromSeed(raw))
	var sigs []string
	for _, p := range []string{priv, long} {
		k := scheme.Key{Label: "k"}
		if k.Private, err = s.ParsePrivateKey(p); err != nil {
			t.Fatal(err)
		}
		if k.Public, err = s.ParsePublicKey(pub); err != nil {
			t.Fatal(err)
		}
		m := signer.Message{Body: []byte(`{"a":1}`), ID: "msg_1", Time: time.Unix(1700000000, 0)}
		h, err := signer.SignKeys(s, []scheme.Key{k}, m)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := verifier.VerifyRequest(s, scheme.Request{Header: h}, m.Body, []scheme.Key{k}, s.Tolerance, m.Time); err != nil {
			t.Errorf("signed with %d-byte whsk_, refused: %v", len(p), err)
		}
		sigs = append(sigs, h.Get("Webhook-Signature"))
	}
	if sigs[0] != sigs[1] || !strings.HasPrefix(sigs[0], "v1a,") {
		t.Errorf("seed and 64-byte forms signed %q and %q", sigs[0], sigs[1])
	}
}
