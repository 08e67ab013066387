package preset_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/hookguard/hookguard/preset"
	"github.com/hookguard/hookguard/scheme"
	"github.com/hookguard/hookguard/signer"
	"github.com/hookguard/hookguard/verifier"
)

// What the vectors (testdata/vectors/<name>.json) cannot say: the
// payments family's handshake, key formats and multi-key behaviour.

func mustGet(t *testing.T, name string) *scheme.Scheme {
	t.Helper()
	s, err := preset.Get(name, preset.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// WooCommerce's creation ping (WC_Webhook::deliver_ping) is answered 200
// by the gateway; nothing else unsigned is.
func TestWooCommercePing(t *testing.T) {
	s := mustGet(t, "woocommerce")
	ping := func() http.Header {
		return http.Header{
			"User-Agent":     {"WooCommerce/9.4.2 Hookshot (WordPress/6.7.1)"},
			"Content-Type":   {"application/x-www-form-urlencoded"},
			"Content-Length": {"13"}, // webhook_id=42
		}
	}
	ans := s.Handshake.Unsigned(&scheme.Request{Method: http.MethodPost, Header: ping()})
	if ans == nil || ans.Status != http.StatusOK || len(ans.Body) != 0 {
		t.Fatalf("ping answered %+v, want 200 with no body", ans)
	}
	for name, change := range map[string]func(*scheme.Request){
		"GET":                        func(r *scheme.Request) { r.Method = http.MethodGet },
		"another user agent":         func(r *scheme.Request) { r.Header.Set("User-Agent", "curl/8.5.0") },
		"no user agent":              func(r *scheme.Request) { r.Header.Del("User-Agent") },
		"a delivery's topic":         func(r *scheme.Request) { r.Header.Set("X-WC-Webhook-Topic", "order.created") },
		"a delivery's signature":     func(r *scheme.Request) { r.Header.Set("X-WC-Webhook-Signature", "x") },
		"a body too long for a ping": func(r *scheme.Request) { r.Header.Set("Content-Length", "32") },
		"an empty body":              func(r *scheme.Request) { r.Header.Set("Content-Length", "0") },
		"no Content-Length":          func(r *scheme.Request) { r.Header.Del("Content-Length") },
	} {
		r := &scheme.Request{Method: http.MethodPost, Header: ping()}
		change(r)
		if ans := s.Handshake.Unsigned(r); ans != nil {
			t.Errorf("%s: answered %d, want no answer (refused as unsigned)", name, ans.Status)
		}
	}
}

// Paddle's header carries one h1 per secret while a secret rotates: our
// signer sends both, and either secret alone verifies.
func TestPaddleRotation(t *testing.T) {
	s := mustGet(t, "paddle")
	body := []byte(`{"event_type":"transaction.completed"}`)
	now := time.Unix(1712916000, 0)
	keys := signer.Secrets([]byte("pdl_ntfset_old"), []byte("pdl_ntfset_new"))
	h, err := signer.SignKeys(s, keys, signer.Message{Body: body, Time: now})
	if err != nil {
		t.Fatal(err)
	}
	if got := h.Get("Paddle-Signature"); !strings.HasPrefix(got, "ts=1712916000;h1=") || strings.Count(got, ";h1=") != 2 {
		t.Fatalf("Paddle-Signature %q, want ts= and two h1=", got)
	}
	for i := range keys {
		if _, err := verifier.Verify(s, h, body, keys[i:i+1], s.Tolerance, now.Add(5*time.Second)); err != nil {
			t.Errorf("secret %d alone: %v", i, err)
		}
	}
	if _, err := verifier.Verify(s, h, body, keys[:1], s.Tolerance, now.Add(6*time.Second)); reason(err) != scheme.StaleTimestamp {
		t.Errorf("6 s late: %v, want stale (Paddle's SDKs allow 5 s)", err)
	}
}

// BigCommerce keys with the client secret's own bytes, not whsec_ base64.
func TestBigCommerceSecretIsText(t *testing.T) {
	s := mustGet(t, "bigcommerce")
	key, err := s.DecodeSecret("not base64: a client secret!")
	if err != nil || string(key) != "not base64: a client secret!" {
		t.Fatalf("DecodeSecret = %q, %v", key, err)
	}
}

// DocuSign sends one numbered header per HMAC key; any may match, the
// numbers outside 1..100 are not DocuSign's, and a repeated one is
// malformed.
func TestDocuSignHeaders(t *testing.T) {
	s := mustGet(t, "docusign")
	body := []byte(`{"event":"envelope-sent"}`)
	now := time.Unix(1712916000, 0)
	keys := signer.Secrets([]byte("key-one"), []byte("key-two"))
	h, err := signer.SignKeys(s, keys, signer.Message{Body: body, Time: now})
	if err != nil {
		t.Fatal(err)
	}
	if h.Get("X-DocuSign-Signature-1") == "" || h.Get("X-DocuSign-Signature-2") == "" || h.Get("X-Authorization-Digest") != "HMACSHA256" {
		t.Fatalf("signed headers %v, want -1, -2 and X-Authorization-Digest", h)
	}
	res, err := verifier.Verify(s, h, body, keys[1:], 0, now)
	if err != nil || res.KeyIndex != 0 {
		t.Fatalf("second key alone: %v (index %d)", err, res.KeyIndex)
	}
	sig := h.Get("X-DocuSign-Signature-2")
	for _, name := range []string{"X-DocuSign-Signature-0", "X-DocuSign-Signature-101", "X-DocuSign-Signature-02", "X-DocuSign-Signature-x"} {
		if _, err := verifier.Verify(s, http.Header{name: {sig}}, body, keys[1:], 0, now); reason(err) != scheme.MissingHeader {
			t.Errorf("%s only: %v, want missing header", name, err)
		}
	}
	twice := http.Header{"X-Docusign-Signature-1": {sig, sig}}
	if _, err := verifier.Verify(s, twice, body, keys[1:], 0, now); reason(err) != scheme.MalformedHeader {
		t.Errorf("repeated header: %v, want malformed", err)
	}
	bad := http.Header{"X-Docusign-Signature-1": {"not base64!"}, "X-Docusign-Signature-2": {sig}}
	if _, err := verifier.Verify(s, bad, body, keys[1:], 0, now); reason(err) != scheme.MalformedHeader {
		t.Errorf("one header not base64: %v, want malformed", err)
	}
}

// plaidVectors reads the real Plaid webhook and the test key pair from
// the vectors.
func plaidVectors(t *testing.T) (real, ours vectorCase) {
	t.Helper()
	b, err := os.ReadFile("testdata/vectors/plaid.json")
	if err != nil {
		t.Fatal(err)
	}
	var v vectorFile
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	for _, c := range v.Cases {
		switch {
		case c.Valid && strings.HasPrefix(c.PublicKey, "{") && c.PrivateKey == "":
			real = c
		case c.Valid && strings.HasPrefix(c.PublicKey, "{") && c.PrivateKey != "":
			ours = c
		}
	}
	if real.Name == "" || ours.Name == "" {
		t.Fatal("plaid.json lacks the real webhook or the test key's case")
	}
	return real, ours
}

func plaidKey(t *testing.T, s *scheme.Scheme, public, private string) scheme.Key {
	t.Helper()
	k := scheme.Key{Label: "k"}
	var err error
	if public != "" {
		if k.Public, err = s.ParsePublicKey(public); err != nil {
			t.Fatal(err)
		}
	}
	if private != "" {
		if k.Private, err = s.ParsePrivateKey(private); err != nil {
			t.Fatal(err)
		}
	}
	return k
}

// Two configured keys (rotation): the one whose kid the token names
// verifies; our signer's tokens, which name no kid, verify under a JWK
// that has one; a stale iat is refused.
func TestPlaidKeys(t *testing.T) {
	s := mustGet(t, "plaid")
	real, ours := plaidVectors(t)
	realKey := plaidKey(t, s, real.PublicKey, "")
	ourKey := plaidKey(t, s, ours.PublicKey, ours.PrivateKey)

	h := http.Header{"Plaid-Verification": {real.Headers["Plaid-Verification"]}}
	res, err := verifier.Verify(s, h, []byte(real.Body), []scheme.Key{ourKey, realKey}, s.Tolerance, time.Unix(real.Now, 0))
	if err != nil || res.KeyIndex != 1 {
		t.Fatalf("real webhook, two keys: %v (index %d)", err, res.KeyIndex)
	}

	body := []byte("{\n  \"webhook_type\": \"ITEM\",\n  \"webhook_code\": \"WEBHOOK_UPDATE_ACKNOWLEDGED\"\n}")
	now := time.Unix(1712916000, 0)
	signed, err := signer.SignKeys(s, []scheme.Key{ourKey}, signer.Message{Body: body, Time: now})
	if err != nil {
		t.Fatal(err)
	}
	pub := scheme.Key{Label: "jwk", Public: ourKey.Public}
	if _, err := verifier.Verify(s, signed, body, []scheme.Key{pub}, s.Tolerance, now.Add(time.Minute)); err != nil {
		t.Fatalf("our token under the JWK: %v", err)
	}
	if _, err := verifier.Verify(s, signed, body, []scheme.Key{realKey}, s.Tolerance, now); reason(err) != scheme.WrongSignature {
		t.Errorf("our token under Plaid's key: %v, want wrong signature", err)
	}
	if _, err := verifier.Verify(s, signed, body, []scheme.Key{pub}, s.Tolerance, now.Add(301*time.Second)); reason(err) != scheme.StaleTimestamp {
		t.Errorf("301 s after iat: %v, want stale", err)
	}
	if _, err := verifier.Verify(s, signed, append(body, ' '), []scheme.Key{pub}, s.Tolerance, now); reason(err) != scheme.WrongSignature {
		t.Errorf("a space added to the body: %v, want wrong signature", err)
	}
}

// Plaid's keys are read as Plaid publishes them (JWK) or as PEM; a JWK of
// another curve or algorithm, or whose coordinates are not its d's, is
// refused.
func TestPlaidKeyFormats(t *testing.T) {
	s := mustGet(t, "plaid")
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := priv.PublicKey.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	x, y := b64u(raw[1:33]), b64u(raw[33:])
	d, err := priv.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	good := `{"alg":"ES256","crv":"P-256","kid":"k1","kty":"EC","use":"sig","x":"` + x + `","y":"` + y + `","created_at":1560466143,"expired_at":null}`
	if _, err := s.ParsePublicKey(good); err != nil {
		t.Errorf("Plaid's JWK: %v", err)
	}
	if _, err := s.ParsePrivateKey(`{"kty":"EC","crv":"P-256","x":"` + x + `","y":"` + y + `","d":"` + b64u(d) + `"}`); err != nil {
		t.Errorf("private JWK: %v", err)
	}
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	od, _ := other.Bytes()
	for name, text := range map[string]string{
		"RS256":          strings.Replace(good, `"ES256"`, `"RS256"`, 1),
		"P-384":          strings.Replace(good, `"P-256"`, `"P-384"`, 1),
		"encryption key": strings.Replace(good, `"sig"`, `"enc"`, 1),
		"off the curve":  strings.Replace(good, y, x, 1),
		"not JSON":       `{"kty":`,
	} {
		if _, err := s.ParsePublicKey(text); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := s.ParsePrivateKey(`{"kty":"EC","crv":"P-256","x":"` + x + `","y":"` + y + `","d":"` + b64u(od) + `"}`); err == nil {
		t.Error("private JWK whose x, y are another key's: accepted")
	}
}

func b64u(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }
