package integration

import (
	"bytes"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mailgun/mailgun-go/v4"
	"github.com/sendgrid/sendgrid-go/helpers/eventwebhook"
	twclient "github.com/twilio/twilio-go/client"

	"github.com/hookguard/hookguard/preset"
)

// The messaging family end to end (preset/messaging.go): what
// TestEveryPresetEndToEnd cannot show. The senders' official Go libraries
// judge the family's vectors; the senders' published examples go through
// a real Caddy; Mailgun, whose signature is in the body, is checked end to
// end here; handshakes are sent as Discord and Zoom send them.

// messagingVectors reads preset/testdata/vectors/<name>.json.
func messagingVectors(t *testing.T, name string) []messagingCase {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "preset", "testdata", "vectors", name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	var v struct {
		Cases []messagingCase `json:"cases"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	return v.Cases
}

type messagingCase struct {
	Name         string            `json:"name"`
	Secret       string            `json:"secret"`
	PublicKey    string            `json:"public_key"`
	PublicKeyB64 string            `json:"public_key_base64"`
	Method       string            `json:"method"`
	URL          string            `json:"url"`
	Headers      map[string]string `json:"headers"`
	Body         string            `json:"body"`
	Now          int64             `json:"now"`
	Valid        bool              `json:"valid"`
	SDKDisagrees string            `json:"sdk_disagrees"`
}

func (c messagingCase) header(name string) string {
	for k, v := range c.Headers {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return ""
}

// stale reports whether the case's timestamp is outside the 5 minutes of
// hookguard's tolerance: the official libraries do not check time, so they
// accept such a case that hookguard refuses.
func (c messagingCase) stale(ts string) bool {
	n, err := strconv.ParseInt(ts, 10, 64)
	return err == nil && (c.Now-n > 300 || n-c.Now > 300)
}

// TestMessagingVectorsOfficialGoLibraries: the Go libraries of Twilio,
// Mailgun and SendGrid accept every valid case of hookguard's vectors for
// them and refuse every invalid one, except where the vectors say a
// library cannot judge a case (time, a field it does not know, a feature
// only the JavaScript library has).
func TestMessagingVectorsOfficialGoLibraries(t *testing.T) {
	// github.com/twilio/twilio-go client.RequestValidator
	for _, c := range messagingVectors(t, "twilio") {
		v := twclient.NewRequestValidator(c.Secret)
		sig := c.header("X-Twilio-Signature")
		var got bool
		if c.Method == http.MethodGet {
			got = v.Validate(c.URL, map[string]string{}, sig)
		} else {
			got = v.ValidateBody(c.URL, []byte(c.Body), sig)
		}
		want := c.Valid
		if c.SDKDisagrees == "twilio-go" {
			want = !c.Valid // a repeated parameter, a Webhooks Rule's HMAC-SHA256: twilio-node only
		}
		if got != want {
			t.Errorf("twilio-go on %q: %v, want %v", c.Name, got, want)
		}
	}
	// github.com/mailgun/mailgun-go/v4 VerifyWebhookSignature / VerifyWebhookRequest
	for _, c := range messagingVectors(t, "mailgun") {
		mg := mailgun.NewMailgun("example.com", "key-unused")
		mg.SetWebhookSigningKey(c.Secret)
		var got bool
		ct := c.header("Content-Type")
		if strings.HasPrefix(ct, "application/json") {
			var p mailgun.WebhookPayload
			if json.Unmarshal([]byte(c.Body), &p) == nil {
				got, _ = mg.VerifyWebhookSignature(p.Signature)
			}
		} else {
			req, err := http.NewRequest(http.MethodPost, c.URL, strings.NewReader(c.Body))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", ct)
			// Deprecated for JSON webhooks; still the library's check of the form
			// fields legacy webhooks and Routes post.
			got, _ = mg.VerifyWebhookRequest(req) //nolint:staticcheck // SA1019, see above
		}
		want := c.Valid
		switch {
		case strings.Contains(c.Name, "parent-signature"):
			want = false // the library reads signature only
		case strings.Contains(c.Name, "past the tolerance"):
			want = true // the library does not check time
		}
		if got != want {
			t.Errorf("mailgun-go on %q: %v, want %v", c.Name, got, want)
		}
	}
	// github.com/sendgrid/sendgrid-go helpers/eventwebhook
	for _, c := range messagingVectors(t, "sendgrid") {
		pub := c.PublicKey
		if c.PublicKeyB64 != "" {
			pub = c.PublicKeyB64 // the library reads base64 DER only
		}
		k, err := eventwebhook.ConvertPublicKeyBase64ToECDSA(pub)
		if err != nil {
			t.Fatalf("%s: %v", c.Name, err)
		}
		sig, ts := c.header("X-Twilio-Email-Event-Webhook-Signature"), c.header("X-Twilio-Email-Event-Webhook-Timestamp")
		got := false
		if sig != "" && ts != "" {
			got, _ = eventwebhook.VerifySignature(k, []byte(c.Body), sig, ts)
		}
		want := c.Valid || c.stale(ts) && sig != ""
		if got != want {
			t.Errorf("sendgrid-go on %q: %v, want %v", c.Name, got, want)
		}
	}
}

// messagingPost posts body with headers h to path and returns the answer.
func messagingPost(t *testing.T, path string, h http.Header, body []byte) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, gatewayURL+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, vs := range h {
		req.Header[k] = vs
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	b.ReadFrom(resp.Body)
	return resp.StatusCode, resp.Header, b.String()
}

func caseHeader(c messagingCase) http.Header {
	h := http.Header{}
	for k, v := range c.Headers {
		h.Set(k, v)
	}
	return h
}

// TestMessagingPublishedExamplesThroughCaddy: Twilio's docs example
// (behind public_url, since Twilio called https://mycompany.com) and
// SendGrid's library vector (at its own time: tolerance 0) pass a real
// Caddy with their bodies byte for byte; changed, they are refused.
func TestMessagingPublishedExamplesThroughCaddy(t *testing.T) {
	skipShort(t)
	up := newUpstream(t)
	var tw, sg messagingCase
	for _, c := range messagingVectors(t, "twilio") {
		if c.Name == "form POST: the worked example of Twilio's docs" {
			tw = c
		}
	}
	for _, c := range messagingVectors(t, "sendgrid") {
		if strings.HasPrefix(c.Name, "sendgrid-go / sendgrid-nodejs test vector") {
			sg = c
		}
	}
	if tw.Body == "" || sg.Body == "" {
		t.Fatal("the published examples are missing from the vectors")
	}
	loadConfig(t, proxySnippet(up)+fmt.Sprintf(`
http://localhost:%d {
	handle /myapp.php {
		webhook_verify twilio %q {
			public_url https://mycompany.com
		}
		import proxy
	}
	handle /sendgrid {
		webhook_verify sendgrid {
			public_key %q
			tolerance 0
		}
		import proxy
	}
}
`, httpPort, tw.Secret, sg.PublicKey))
	for _, tc := range []struct {
		name, path string
		c          messagingCase
		body       string
		want       int
	}{
		{"twilio docs example", "/myapp.php?foo=1&bar=2", tw, tw.Body, http.StatusOK},
		{"twilio docs example, a parameter changed", "/myapp.php?foo=1&bar=2", tw, strings.Replace(tw.Body, "Digits=1234", "Digits=1235", 1), http.StatusUnauthorized},
		{"twilio docs example, another query", "/myapp.php?foo=1&bar=3", tw, tw.Body, http.StatusUnauthorized},
		{"sendgrid library vector", "/sendgrid", sg, sg.Body, http.StatusOK},
		{"sendgrid library vector, changed", "/sendgrid", sg, strings.Replace(sg.Body, "dropped", "bounced", 1), http.StatusUnauthorized},
	} {
		up.reset()
		code, _, text := messagingPost(t, tc.path, caseHeader(tc.c), []byte(tc.body))
		if code != tc.want {
			t.Errorf("%s: %d %q, want %d", tc.name, code, text, tc.want)
			continue
		}
		if tc.want == http.StatusOK {
			wantBodyThrough(t, up.only(t), []byte(tc.body))
		} else if up.count() != 0 {
			t.Errorf("%s: reached the app", tc.name)
		}
	}
}

// TestTwilioSignedByHookguardValidatedByTwilioGo: what webhook_sign twilio
// sends, twilio-go's RequestValidator accepts at the URL public_url and
// the relayed path make.
func TestTwilioSignedByHookguardValidatedByTwilioGo(t *testing.T) {
	skipShort(t)
	up := newUpstream(t)
	token := "Tw1l1o-" + randomHex(t, 16)
	loadConfig(t, proxySnippet(up)+fmt.Sprintf(`
http://localhost:%d {
	bind 127.0.0.1
	handle /out/* {
		webhook_sign twilio %q {
			public_url https://receiver.example:8443
		}
		import proxy
	}
}
`, httpPort, token))
	v := twclient.NewRequestValidator(token)
	for _, tc := range []struct{ path, ctype, body string }{
		{"/out/sms?src=gw", "application/x-www-form-urlencoded", "MessageSid=SM1&From=%2B15550001111&To=%2B15550002222&Body=h%C3%A9llo+there"},
		{"/out/status", "application/x-www-form-urlencoded", "CallSid=CA1&CallStatus=completed"},
	} {
		up.reset()
		code, _, text := messagingPost(t, tc.path, http.Header{"Content-Type": {tc.ctype}}, []byte(tc.body))
		if code != http.StatusOK {
			t.Fatalf("%s: %d %q", tc.path, code, text)
		}
		got := up.only(t)
		sig := got.Header.Get("X-Twilio-Signature")
		if !v.ValidateBody("https://receiver.example:8443"+tc.path, []byte(tc.body), sig) {
			t.Errorf("%s: twilio-go refuses X-Twilio-Signature %q", tc.path, sig)
		}
		if v.ValidateBody("https://receiver.example:8443"+tc.path+"x", []byte(tc.body), sig) {
			t.Errorf("%s: twilio-go accepts the signature for another URL", tc.path)
		}
	}
}

// TestMailgunEndToEnd: Mailgun's signature travels in the body, so
// TestEveryPresetEndToEnd cannot sign it: a JSON webhook and a Routes
// multipart post signed as Mailgun signs them pass with their bodies byte
// for byte; a changed token, another key, no signature and a stale
// timestamp are refused; a route may widen the tolerance; the event data,
// which Mailgun does not sign, is not protected (documented).
func TestMailgunEndToEnd(t *testing.T) {
	skipShort(t)
	up := newUpstream(t)
	key := "mg-" + randomHex(t, 16)
	loadConfig(t, proxySnippet(up)+fmt.Sprintf(`
http://localhost:%d {
	handle /mailgun {
		webhook_verify mailgun %q
		import proxy
	}
	handle /mailgun-slow {
		webhook_verify mailgun %q {
			tolerance 2h
		}
		import proxy
	}
}
`, httpPort, key, key))
	sign := func(k string, ts int64, token string) string {
		m := hmac.New(sha256.New, []byte(k))
		m.Write([]byte(strconv.FormatInt(ts, 10) + token))
		return hex.EncodeToString(m.Sum(nil))
	}
	jsonBody := func(ts int64, token, sig, event string) []byte {
		return []byte(fmt.Sprintf(`{"signature":{"token":%q,"timestamp":"%d","signature":%q},"event-data":{"event":%q,"recipient":"alice@example.com","id":"x"}}`, token, ts, sig, event))
	}
	now := time.Now().Unix()
	token := randomHex(t, 25)
	jsonCT := http.Header{"Content-Type": {"application/json"}}
	valid := jsonBody(now, token, sign(key, now, token), "delivered")

	check := func(name, path string, h http.Header, body []byte, want int) {
		t.Helper()
		up.reset()
		code, _, text := messagingPost(t, path, h, body)
		if code != want {
			t.Errorf("%s: %d %q, want %d", name, code, text, want)
			return
		}
		if want == http.StatusOK {
			got := up.only(t)
			wantBodyThrough(t, got, body)
			if id := got.Header.Get("X-Webhook-Id"); id != token && strings.Contains(string(body), token) {
				t.Errorf("%s: {http.webhook.id} %q, want the token", name, id)
			}
		} else if up.count() != 0 {
			t.Errorf("%s: reached the app", name)
		}
	}
	check("JSON webhook", "/mailgun", jsonCT, valid, http.StatusOK)
	check("token changed", "/mailgun", jsonCT, jsonBody(now, token[1:]+"0", sign(key, now, token), "delivered"), http.StatusUnauthorized)
	check("another key", "/mailgun", jsonCT, jsonBody(now, token, sign("other-key", now, token), "delivered"), http.StatusUnauthorized)
	check("no signature object", "/mailgun", jsonCT, []byte(`{"event-data":{"event":"delivered"}}`), http.StatusUnauthorized)
	old := now - 3600
	check("an hour old", "/mailgun", jsonCT, jsonBody(old, token, sign(key, old, token), "delivered"), http.StatusUnauthorized)
	check("an hour old, tolerance 2h", "/mailgun-slow", jsonCT, jsonBody(old, token, sign(key, old, token), "delivered"), http.StatusOK)
	check("event data changed: not signed by Mailgun", "/mailgun", jsonCT, jsonBody(now, token, sign(key, now, token), "failed"), http.StatusOK)

	b := "----mgboundary42"
	part := func(n, v string) string {
		return "--" + b + "\r\nContent-Disposition: form-data; name=\"" + n + "\"\r\n\r\n" + v + "\r\n"
	}
	multipart := []byte(part("recipient", "bob@example.com") + part("subject", "Hi") + part("body-plain", "Hello Bob\r\n") +
		part("timestamp", strconv.FormatInt(now, 10)) + part("token", token) + part("signature", sign(key, now, token)) + "--" + b + "--\r\n")
	check("Routes forward(), multipart", "/mailgun", http.Header{"Content-Type": {"multipart/form-data; boundary=" + b}}, multipart, http.StatusOK)

	// mailgun-go, as the app would run it, accepts what passed.
	mg := mailgun.NewMailgun("example.com", "key-unused")
	mg.SetWebhookSigningKey(key)
	var p mailgun.WebhookPayload
	if err := json.Unmarshal(valid, &p); err != nil {
		t.Fatal(err)
	}
	if ok, err := mg.VerifyWebhookSignature(p.Signature); !ok || err != nil {
		t.Errorf("mailgun-go refuses the webhook hookguard passed: %v %v", ok, err)
	}
}

// TestMessagingHandshakes: Discord's PINGs and Zoom's
// endpoint.url_validation, signed as the senders sign them. Discord's go on
// to the app by default and are answered with handshake answer; Zoom's is
// always answered by the gateway, which alone holds the secret token; a
// handshake with a bad signature is refused and never answered.
func TestMessagingHandshakes(t *testing.T) {
	skipShort(t)
	up := newUpstream(t)
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	zoomSecret := "zm-" + randomHex(t, 16)
	pubHex := hex.EncodeToString(pub) // as the Developer Portal shows it
	loadConfig(t, proxySnippet(up)+fmt.Sprintf(`
http://localhost:%d {
	handle /discord/pass {
		webhook_verify discord {
			public_key %s
		}
		import proxy
	}
	handle /discord/answer {
		webhook_verify discord {
			public_key %s
			handshake answer
		}
		import proxy
	}
	handle /discord-events {
		webhook_verify discord-events {
			public_key %s
			handshake answer
		}
		import proxy
	}
	handle /zoom {
		webhook_verify zoom %q
		import proxy
	}
}
`, httpPort, pubHex, pubHex, pubHex, zoomSecret))

	discordSigned := func(body string, ts string) http.Header {
		sig := ed25519.Sign(priv, []byte(ts+body))
		return http.Header{"Content-Type": {"application/json"}, "X-Signature-Ed25519": {hex.EncodeToString(sig)}, "X-Signature-Timestamp": {ts}}
	}
	now := strconv.FormatInt(time.Now().Unix(), 10)
	ping := `{"application_id":"1234567890123456789","id":"1234567890123456790","token":"aW50ZXJhY3Rpb24","type":1,"version":1}`
	for _, tc := range []struct {
		name, path, body string
		h                http.Header
		status           int
		answer, ctype    string
		app              int // requests the app gets
	}{
		{"discord PING, pass", "/discord/pass", ping, discordSigned(ping, now), 200, "upstream got it", "", 1},
		{"discord PING, answer", "/discord/answer", ping, discordSigned(ping, now), 200, `{"type":1}`, "application/json", 0},
		{"discord PING, bad signature", "/discord/answer", ping, discordSigned(ping+" ", now), 401, "", "", 0},
		{"discord command, answer route", "/discord/answer", `{"type":2,"data":{"name":"x"}}`, discordSigned(`{"type":2,"data":{"name":"x"}}`, now), 200, "upstream got it", "", 1},
		{"discord-events PING", "/discord-events", `{"version":1,"application_id":"1","type":0}`, discordSigned(`{"version":1,"application_id":"1","type":0}`, now), 204, "", "", 0},
	} {
		up.reset()
		code, h, text := messagingPost(t, tc.path, tc.h, []byte(tc.body))
		if code != tc.status || tc.status != 401 && text != tc.answer || tc.ctype != "" && !strings.HasPrefix(h.Get("Content-Type"), tc.ctype) {
			t.Errorf("%s: %d %q (%s), want %d %q (%s)", tc.name, code, text, h.Get("Content-Type"), tc.status, tc.answer, tc.ctype)
		}
		if up.count() != tc.app {
			t.Errorf("%s: the app got %d requests, want %d", tc.name, up.count(), tc.app)
		}
	}

	// Zoom: https://developers.zoom.us/docs/api/webhooks/#validate-your-webhook-endpoint
	zoomSigned := func(body, ts, secret string) http.Header {
		m := hmac.New(sha256.New, []byte(secret))
		m.Write([]byte("v0:" + ts + ":" + body))
		return http.Header{"Content-Type": {"application/json; charset=utf-8"}, "X-Zm-Signature": {"v0=" + hex.EncodeToString(m.Sum(nil))}, "X-Zm-Request-Timestamp": {ts}}
	}
	validation := `{"payload":{"plainToken":"qgg8vlvZRS6UYooatFL8Aw"},"event_ts":` + now + `123,"event":"endpoint.url_validation"}`
	enc := hmac.New(sha256.New, []byte(zoomSecret))
	enc.Write([]byte("qgg8vlvZRS6UYooatFL8Aw"))
	up.reset()
	code, h, text := messagingPost(t, "/zoom", zoomSigned(validation, now, zoomSecret), []byte(validation))
	var ans struct{ PlainToken, EncryptedToken string }
	if code != 200 || !strings.HasPrefix(h.Get("Content-Type"), "application/json") || json.Unmarshal([]byte(text), &ans) != nil ||
		ans.PlainToken != "qgg8vlvZRS6UYooatFL8Aw" || ans.EncryptedToken != hex.EncodeToString(enc.Sum(nil)) {
		t.Errorf("zoom url_validation: %d %q (%s)", code, text, h.Get("Content-Type"))
	}
	if up.count() != 0 {
		t.Errorf("zoom url_validation reached the app")
	}
	if code, _, text := messagingPost(t, "/zoom", zoomSigned(validation, now, "not-the-secret"), []byte(validation)); code != 401 || strings.Contains(text, "encryptedToken") {
		t.Errorf("zoom url_validation signed with another secret: %d %q, want 401 and no answer", code, text)
	}
	event := `{"event":"meeting.started","payload":{"account_id":"A","object":{"id":"1"}},"event_ts":` + now + `123}`
	up.reset()
	if code, _, text := messagingPost(t, "/zoom", zoomSigned(event, now, zoomSecret), []byte(event)); code != 200 || text != "upstream got it" {
		t.Errorf("zoom event: %d %q", code, text)
	} else {
		wantBodyThrough(t, up.only(t), []byte(event))
	}
}

// The messaging presets the tests above rely on exist.
func TestMessagingPresetsRegistered(t *testing.T) {
	for _, n := range []string{"twilio", "mailgun", "sendgrid", "postmark", "discord", "discord-events", "standard-v1a", "intercom", "frameio", "zoom"} {
		if _, err := preset.Get(n, preset.Options{}); err != nil {
			t.Errorf("%s: %v", n, err)
		}
	}
}
