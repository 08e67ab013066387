package integration

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

// hygieneGateway runs standard, svix and github routes; github keeps the
// default max_body (25 MiB). With allowUnderscore the server, like one an
// operator opened up for a legacy app, lets the header Webhook_Id through
// (Caddy v2.11.9 drops headers with underscores unless told otherwise, and
// then drops the hyphenated Webhook-Id instead).
func hygieneGateway(t *testing.T, allowUnderscore bool) (up *upstream, secrets map[string]string) {
	t.Helper()
	skipShort(t)
	up = newUpstream(t)
	secrets = map[string]string{"standard": whsecSecret(t), "svix": whsecSecret(t), "github": rawSecret(t)}
	global := globalOptions
	if allowUnderscore {
		global = strings.TrimSuffix(strings.TrimSpace(globalOptions), "}") + `
	servers {
		expected_underscore_headers Webhook_Id
	}
}
`
	}
	site := proxySnippet(up) + fmt.Sprintf(`
http://localhost:%d {
	handle /standard {
		webhook_verify standard %q
		import proxy
	}
	handle /svix {
		webhook_verify svix %q
		import proxy
	}
	handle /github {
		webhook_verify github %q
		import proxy
	}
%s
}
`, httpPort, secrets["standard"], secrets["svix"], secrets["github"], errorsBlock)
	loadFullConfig(t, global+site)
	return up, secrets
}

// TestConnectionCannotDropVerifiedHeaders: a valid webhook whose client
// lists the verified headers (and Content-Type) in Connection still
// reaches the app with all of them. Before the fix reverse_proxy removed
// them as hop-by-hop after verification (finding 3).
func TestConnectionCannotDropVerifiedHeaders(t *testing.T) {
	up, secrets := hygieneGateway(t, false)
	body := []byte(`{"type":"invoice.paid"}`)
	h := presetSigner(t, "standard")(secrets["standard"], body, deliveryID(t), time.Now())
	h.Set("Content-Type", "application/json")
	h.Set("Connection", "Webhook-Id, Webhook-Timestamp, Webhook-Signature, Content-Type")
	sent := h.Clone()
	sent.Del("Connection")
	a := send(t, delivery{Path: "/standard", Body: body, Header: h})
	wantStatus(t, a, http.StatusOK)
	got := up.only(t)
	wantBodyThrough(t, got, body)
	// send sets Content-Type itself; what counts is that it arrives.
	sent.Del("Content-Type")
	wantHeadersThrough(t, got, sent)
	if got.Header.Get("Content-Type") == "" {
		t.Error("Content-Type was dropped on the way to the app")
	}
}

// TestOnlyTheVerifiedHeaderSetReachesTheApp: a Svix webhook verified with
// its svix-* headers arrives without the webhook-* set an attacker added
// next to it, and without a Webhook_Id look-alike that a FastCGI or PHP
// back end would read as Webhook-Id (finding 4).
func TestOnlyTheVerifiedHeaderSetReachesTheApp(t *testing.T) {
	up, secrets := hygieneGateway(t, true)
	body := []byte(`{"type":"user.created"}`)
	id := deliveryID(t)
	h := presetSigner(t, "svix")(secrets["svix"], body, id, time.Now())
	h.Set("Webhook-Id", "attacker-1")
	h.Set("Webhook-Timestamp", "1")
	h.Set("Webhook-Signature", "v1,AAAA")
	h["Webhook_Id"] = []string{"attacker-2"}
	a := send(t, delivery{Path: "/svix", Body: body, Header: h})
	wantStatus(t, a, http.StatusOK)
	got := up.only(t)
	wantBodyThrough(t, got, body)
	for k, vs := range got.Header {
		if fold := strings.ToLower(strings.NewReplacer("_", "-", ".", "-").Replace(k)); strings.HasPrefix(fold, "webhook-") {
			t.Errorf("unverified header %s: %q reached the app", k, vs)
		}
	}
	if got.Header.Get("Svix-Id") != id || got.Header.Get("X-Webhook-Id") != id {
		t.Errorf("Svix-Id %q, {http.webhook.id} %q; want the verified %q", got.Header.Get("Svix-Id"), got.Header.Get("X-Webhook-Id"), id)
	}

	// The same look-alike next to a verified standard webhook: Caddy keeps
	// Webhook_Id here (allowed above) and drops the hyphenated Webhook-Id,
	// so that request cannot verify at all and nothing reaches the app.
	up.reset()
	body = []byte(`{"type":"x"}`)
	h = presetSigner(t, "standard")(secrets["standard"], body, deliveryID(t), time.Now())
	h["Webhook_Id"] = []string{"attacker"}
	a = send(t, delivery{Path: "/standard", Body: body, Header: h})
	wantRejected(t, a, http.StatusUnauthorized, up, 0)
}

// TestMalformedSignatureRefusedBeforeBody: "sha256=00" cannot be an
// HMAC-SHA256, so a request carrying it with Expect: 100-continue and a
// 20 MiB body (under the default max_body) is refused with 401 before the
// client sends a byte of body (finding 5). A signature of the right shape
// but the wrong value is refused only once the body has been read.
func TestMalformedSignatureRefusedBeforeBody(t *testing.T) {
	up, _ := hygieneGateway(t, false)
	body := randomBody(t, 20<<20)
	for _, sig := range []string{"sha256=00", "sha256=" + strings.Repeat("ab", 33), "sha256="} {
		a := send(t, delivery{Path: "/github", Body: body, Expect100: true,
			Header: http.Header{"X-Hub-Signature-256": {sig}, "X-Github-Delivery": {"d"}}})
		wantRejected(t, a, http.StatusUnauthorized, up, 0)
		if a.BodyRead != 0 {
			t.Errorf("%s: the client sent %d body bytes; a malformed signature must be refused before the body is read", sig, a.BodyRead)
		}
		if !strings.Contains(a.Body, "malformed") && !strings.Contains(a.Body, "empty") {
			t.Errorf("%s: answer %q does not say the header is malformed", sig, a.Body)
		}
	}
	// The right shape, the wrong MAC: the body has to be read to know.
	a := send(t, delivery{Path: "/github", Body: body, Expect100: true,
		Header: http.Header{"X-Hub-Signature-256": {"sha256=" + strings.Repeat("ab", 32)}}})
	wantRejected(t, a, http.StatusUnauthorized, up, 0)
	if a.BodyRead != int64(len(body)) {
		t.Errorf("the client sent %d of %d body bytes for a well-formed signature", a.BodyRead, len(body))
	}
}

// TestTrailersNeverReachTheApp: a validly signed chunked webhook that
// carries trailers (a second signature, a delivery id, a Standard Webhooks
// id) reaches the app with its body byte for byte and a Content-Length,
// and without the trailers or the Trailer header: nothing signed them.
// Before, the app got the body chunked and the trailers after it.
func TestTrailersNeverReachTheApp(t *testing.T) {
	up, secrets := hygieneGateway(t, false)
	body := []byte(`{"zen":"trailers"}`)
	h := presetSigner(t, "github")(secrets["github"], body, "d-1", time.Now())
	req, err := http.NewRequest(http.MethodPost, gatewayURL+"/github", &countingReader{r: bytes.NewReader(body)})
	if err != nil {
		t.Fatal(err)
	}
	req.Header = h
	req.ContentLength = -1
	req.Trailer = http.Header{
		"X-Hub-Signature-256": {"sha256=" + strings.Repeat("00", 32)},
		"X-Github-Delivery":   {"trailer-evil"},
		"Webhook-Id":          {"evil"},
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}
	got := up.only(t)
	wantBodyThrough(t, got, body)
	if len(got.Trailer) != 0 || got.Header.Get("Trailer") != "" {
		t.Errorf("trailers reached the app: %v (Trailer header %q)", got.Trailer, got.Header.Get("Trailer"))
	}
	if got.Header.Get("X-Github-Delivery") != "d-1" || len(got.Header.Values("X-Hub-Signature-256")) != 1 {
		t.Errorf("verified headers changed: %v", got.Header)
	}
}

// TestResplitWebhookRefused (review C): a generic route that signs
// "{id}.{body}", re-signed with Standard Webhooks for the app. Moving the
// boundary between id and body keeps the bytes, and so the signature, the
// same; the shifted request is refused and the app only ever gets the
// sender's own split.
func TestResplitWebhookRefused(t *testing.T) {
	skipShort(t)
	up := newUpstream(t)
	secret, appSecret := rawSecret(t), whsecSecret(t)
	loadConfig(t, proxySnippet(up)+fmt.Sprintf(`
http://localhost:%d {
	handle /hmac {
		webhook_verify hmac %q {
			header X-Sig
			signed_content "{id}.{body}"
			id_header X-Id
		}
		webhook_sign standard %q
		import proxy
	}
%s
}
`, httpPort, secret, appSecret, errorsBlock))
	sign := func(id, body string) string {
		m := hmac.New(sha256.New, []byte(secret))
		m.Write([]byte(id + "." + body))
		return hex.EncodeToString(m.Sum(nil))
	}
	sig := sign("evt_1", "a=1&note=x.y&amount=100")
	a := send(t, delivery{Path: "/hmac", Body: []byte("a=1&note=x.y&amount=100"), Header: http.Header{"X-Sig": {sig}, "X-Id": {"evt_1"}}})
	wantStatus(t, a, http.StatusOK)
	wantBodyThrough(t, up.only(t), []byte("a=1&note=x.y&amount=100"))

	up.reset()
	a = send(t, delivery{Path: "/hmac", Body: []byte("y&amount=100"), Header: http.Header{"X-Sig": {sig}, "X-Id": {"evt_1.a=1&note=x"}}})
	wantRejected(t, a, http.StatusUnauthorized, up, 0)
}
