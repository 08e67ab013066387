package preset_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hookguard/hookguard/scheme"
	"github.com/hookguard/hookguard/signer"
	"github.com/hookguard/hookguard/verifier"
)

// The platforms family's vectors are in testdata/vectors (TestVectors);
// these tests cover what the vectors do not: what the handshakes refuse
// to answer, the URL HubSpot signs, signing with several secrets.

func verify(s *scheme.Scheme, r scheme.Request, body string, secret string, now time.Time) (verifier.Result, error) {
	key, err := s.DecodeSecret(secret)
	if err != nil {
		return verifier.Result{}, err
	}
	if r.Method == "" {
		r.Method = http.MethodPost
	}
	return verifier.VerifyRequest(s, r, []byte(body), []scheme.Key{{Label: "k", Secret: key}}, s.Tolerance, now)
}

// TestHubSpotSignsTheDecodedURL: HubSpot signs the URL it called with
// exactly the twelve escapes of its docs' table decoded, in either case,
// and every other escape kept.
// https://developers.hubspot.com/docs/apps/developer-platform/build-apps/authentication/request-validation
func TestHubSpotSignsTheDecodedURL(t *testing.T) {
	s := mustGet(t, "hubspot")
	secret := "client-secret"
	now := time.Unix(1700000000, 0)
	ts := "1700000000000"
	body := `[{"eventId":1}]`
	for _, c := range []struct{ sent, signed string }{
		{"https://h.example/p", "https://h.example/p"},
		{"https://h.example/p?a=%3A%2F%3F%40%21%24%27%28%29%2A%2C%3B", "https://h.example/p?a=:/?@!$'()*,;"},
		{"https://h.example/p?a=%3a%2f%2c", "https://h.example/p?a=:/,"},
		{"https://h.example/a%2Fb?q=a%20b&r=%26%3D%25", "https://h.example/a/b?q=a%20b&r=%26%3D%25"},
		{"https://h.example/p?a=%2", "https://h.example/p?a=%2"},
	} {
		mac := hmac.New(sha256.New, []byte(secret))
		mac.Write([]byte("POST" + c.signed + body + ts))
		h := http.Header{}
		h.Set("X-HubSpot-Signature-v3", base64.StdEncoding.EncodeToString(mac.Sum(nil)))
		h.Set("X-HubSpot-Request-Timestamp", ts)
		if _, err := verify(s, scheme.Request{URL: c.sent, Header: h}, body, secret, now); err != nil {
			t.Errorf("%s signed as %s: %v", c.sent, c.signed, err)
		}
	}
}

// TestHubSpotRefuses: what cannot be read one way only is refused before
// any MAC is compared.
func TestHubSpotRefuses(t *testing.T) {
	s := mustGet(t, "hubspot")
	now := time.Unix(1700000000, 0)
	good := func() http.Header {
		h := http.Header{}
		h.Set("X-HubSpot-Signature-v3", base64.StdEncoding.EncodeToString(make([]byte, 32)))
		h.Set("X-HubSpot-Request-Timestamp", "1700000000000")
		return h
	}
	for _, c := range []struct {
		name, url, body string
		edit            func(http.Header)
		want            scheme.Reason
	}{
		{"seconds, not milliseconds", "https://h.example/p", "{}", func(h http.Header) { h.Set("X-HubSpot-Request-Timestamp", "1700000000") }, scheme.MalformedHeader},
		{"timestamp with a sign", "https://h.example/p", "{}", func(h http.Header) { h.Set("X-HubSpot-Request-Timestamp", "+700000000000") }, scheme.MalformedHeader},
		{"two signatures", "https://h.example/p", "{}", func(h http.Header) { h.Add("X-HubSpot-Signature-v3", h.Get("X-HubSpot-Signature-v3")) }, scheme.MalformedHeader},
		{"no timestamp", "https://h.example/p", "{}", func(h http.Header) { h.Del("X-HubSpot-Request-Timestamp") }, scheme.MissingHeader},
		{"no signature", "https://h.example/p", "{}", func(h http.Header) { h.Del("X-HubSpot-Signature-v3") }, scheme.MissingHeader},
		{"short signature", "https://h.example/p", "{}", func(h http.Header) { h.Set("X-HubSpot-Signature-v3", "AAAA") }, scheme.MalformedHeader},
		{"URL not known", "", "{}", nil, scheme.MalformedHeader},
		{"URL with a raw space", "https://h.example/p?a=b c", "{}", nil, scheme.MalformedHeader},
		{"body starting with a URL character", "https://h.example/p", "a=b", nil, scheme.MalformedHeader},
		{"wrong MAC", "https://h.example/p", "{}", nil, scheme.WrongSignature},
	} {
		h := good()
		if c.edit != nil {
			c.edit(h)
		}
		_, err := verify(s, scheme.Request{URL: c.url, Header: h}, c.body, "client-secret", now)
		if reason(err) != c.want {
			t.Errorf("%s: %v, want %s", c.name, err, c.want)
		}
	}
}

// TestHubSpotSignerNeedsTheURL: webhook_sign hubspot signs the URL it
// sends to, and says so when it has none.
func TestHubSpotSignerNeedsTheURL(t *testing.T) {
	s := mustGet(t, "hubspot")
	now := time.Unix(1700000000, 0)
	keys := []scheme.Key{{Secret: []byte("client-secret")}}
	if _, err := signer.SignKeys(s, keys, signer.Message{Body: []byte("{}"), Method: "POST", Time: now}); err == nil {
		t.Error("signed without a URL")
	}
	u := "https://h.example/hook?next=https%3A%2F%2Fa.example"
	h, err := signer.SignKeys(s, keys, signer.Message{Body: []byte("{}"), Method: "POST", URL: u, Time: now})
	if err != nil {
		t.Fatal(err)
	}
	if got := h.Get("X-HubSpot-Request-Timestamp"); got != "1700000000000" {
		t.Errorf("timestamp %q", got)
	}
	if _, err := verify(s, scheme.Request{URL: u, Header: h}, "{}", "client-secret", now); err != nil {
		t.Error(err)
	}
}

// TestHubSpotLegacyIsAPlainHash: v1 and v2 are SHA-256 of the secret
// followed by what is signed, not an HMAC: HubSpot's published v1 example
// is exactly that hash.
func TestHubSpotLegacyIsAPlainHash(t *testing.T) {
	secret := "yyyyyyyy-yyyy-yyyy-yyyy-yyyyyyyyyyyy"
	body := `[{"eventId":1,"subscriptionId":12345,"portalId":62515,"occurredAt":1564113600000,"subscriptionType":"contact.creation","attemptNumber":0,"objectId":123,"changeSource":"CRM","changeFlag":"NEW","appId":54321}]`
	sum := sha256.Sum256([]byte(secret + body))
	if got := hex.EncodeToString(sum[:]); got != "232db2615f3d666fe21a8ec971ac7b5402d33b9a925784df3ca654d05f4817de" {
		t.Fatalf("the published v1 example is not SHA-256(secret + body): %s", got)
	}
	s := mustGet(t, "hubspot-v1")
	if got := hex.EncodeToString(s.Digest([]byte(secret), "", "", []byte(body))); got != hex.EncodeToString(sum[:]) {
		t.Errorf("hubspot-v1 digest %s", got)
	}
	if s.Timestamped() || mustGet(t, "hubspot-v2").Timestamped() {
		t.Error("a legacy HubSpot signature has no timestamp")
	}
}

func get(url string, h http.Header) *scheme.Request {
	if h == nil {
		h = http.Header{}
	}
	return &scheme.Request{Method: http.MethodGet, URL: url, Header: h}
}

// TestQueryEchoHandshakes: Dropbox's ?challenge= and Onfleet's ?check=
// are echoed only for a GET carrying exactly one short, plain value.
func TestQueryEchoHandshakes(t *testing.T) {
	for _, c := range []struct {
		preset, param string
	}{{"dropbox", "challenge"}, {"onfleet", "check"}} {
		hs := mustGet(t, c.preset).Handshake
		a := hs.Unsigned(get("https://h.example/hook?"+c.param+"=abc123", nil))
		if a == nil || a.Status != http.StatusOK || string(a.Body) != "abc123" ||
			!strings.HasPrefix(a.Header.Get("Content-Type"), "text/plain") || a.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s: answer %+v", c.preset, a)
		}
		for _, r := range []*scheme.Request{
			{Method: http.MethodPost, URL: "https://h.example/hook?" + c.param + "=abc", Header: http.Header{}},
			get("https://h.example/hook", nil),
			get("https://h.example/hook?"+c.param+"=", nil),
			get("https://h.example/hook?"+c.param+"=a&"+c.param+"=b", nil),
			get("https://h.example/hook?"+c.param+"=a%20b", nil),
			get("https://h.example/hook?"+c.param+"=a%0D%0AX-Evil:%201", nil),
			get("https://h.example/hook?"+c.param+"="+strings.Repeat("a", 513), nil),
			get("", nil),
		} {
			if a := hs.Unsigned(r); a != nil {
				t.Errorf("%s: answered %s %s", c.preset, r.Method, r.URL)
			}
		}
		if hs.Signed(get("https://h.example/hook?"+c.param+"=abc", nil), nil, nil) != nil {
			t.Errorf("%s: a signed request is no handshake", c.preset)
		}
	}
}

// TestAsanaHandshake: the X-Hook-Secret of an unsigned POST is echoed in
// the same header, and only then; the secret it carries verifies nothing
// (deliveries are checked against the configured secret only).
func TestAsanaHandshake(t *testing.T) {
	s := mustGet(t, "asana")
	secret := "b537207f20cbfa02357cf448134da559e8bd39d61597dcd5631b8012eae53e81"
	post := func(h http.Header) *scheme.Request {
		return &scheme.Request{Method: http.MethodPost, URL: "https://h.example/receive-webhook/7654", Header: h}
	}
	a := s.Handshake.Unsigned(post(http.Header{"X-Hook-Secret": {secret}}))
	if a == nil || a.Status != http.StatusOK || a.Header.Get("X-Hook-Secret") != secret || len(a.Body) != 0 {
		t.Fatalf("answer %+v", a)
	}
	for name, r := range map[string]*scheme.Request{
		"a delivery (signed)": post(http.Header{"X-Hook-Secret": {secret}, "X-Hook-Signature": {"00"}}),
		"two secrets":         post(http.Header{"X-Hook-Secret": {secret, secret}}),
		"a secret with space": post(http.Header{"X-Hook-Secret": {"a b"}}),
		"an empty secret":     post(http.Header{"X-Hook-Secret": {""}}),
		"a GET":               {Method: http.MethodGet, URL: "https://h.example/x", Header: http.Header{"X-Hook-Secret": {secret}}},
		"no secret":           post(http.Header{}),
	} {
		if s.Handshake.Unsigned(r) != nil {
			t.Errorf("%s: answered", name)
		}
	}
	// A delivery signed with the secret of a handshake someone else caused
	// is refused: only the configured secret counts.
	body := `{"events":[]}`
	mac := hmac.New(sha256.New, []byte("attacker-chosen-secret"))
	mac.Write([]byte(body))
	h := http.Header{"X-Hook-Signature": {hex.EncodeToString(mac.Sum(nil))}}
	if _, err := verify(s, scheme.Request{Header: h}, body, secret, time.Unix(1700000000, 0)); reason(err) != scheme.WrongSignature {
		t.Errorf("delivery under another secret: %v", err)
	}
}

// TestOktaHandshake: the verification GET is answered, by the gateway,
// only once its secret has verified, as {"verification": <challenge>}.
func TestOktaHandshake(t *testing.T) {
	s := mustGet(t, "okta")
	r := get("https://h.example/event-hook/", http.Header{
		"Authorization":                 {"my-shared-secret"},
		"X-Okta-Verification-Challenge": {"Me_rShK8JHsTnbyYrWXCEoMGbM_zsZ6k0hLPZ_Pg"},
	})
	if s.Handshake.Unsigned(r) != nil {
		t.Fatal("answered before the secret was checked")
	}
	if _, err := verify(s, *r, "", "my-shared-secret", time.Unix(1700000000, 0)); err != nil {
		t.Fatal(err)
	}
	a := s.Handshake.Signed(r, nil, nil)
	if a == nil || !a.Gateway || a.Status != http.StatusOK || a.Header.Get("Content-Type") != "application/json" ||
		string(a.Body) != `{"verification":"Me_rShK8JHsTnbyYrWXCEoMGbM_zsZ6k0hLPZ_Pg"}` {
		t.Fatalf("answer %+v", a)
	}
	for name, r := range map[string]*scheme.Request{
		"a POST":             {Method: http.MethodPost, URL: r.URL, Header: r.Header},
		"no challenge":       get(r.URL, http.Header{"Authorization": {"my-shared-secret"}}),
		"two challenges":     get(r.URL, http.Header{"X-Okta-Verification-Challenge": {"a", "b"}}),
		"a spaced challenge": get(r.URL, http.Header{"X-Okta-Verification-Challenge": {"a b"}}),
	} {
		if s.Handshake.Signed(r, nil, nil) != nil {
			t.Errorf("%s: answered", name)
		}
	}
}

// TestTwitchHandshake: only a verified webhook_callback_verification is
// answered; a notification whose body happens to hold a challenge is not.
func TestTwitchHandshake(t *testing.T) {
	hs := mustGet(t, "twitch").Handshake
	body := []byte(`{"challenge":"pogchamp-kappa-360noscope-vohiyo","subscription":{}}`)
	r := &scheme.Request{Method: http.MethodPost, Header: http.Header{"Twitch-Eventsub-Message-Type": {"webhook_callback_verification"}}}
	if a := hs.Signed(r, body, nil); a == nil || string(a.Body) != "pogchamp-kappa-360noscope-vohiyo" || a.Gateway {
		t.Fatalf("answer %+v", a)
	}
	for _, typ := range []string{"notification", "revocation", ""} {
		r := &scheme.Request{Method: http.MethodPost, Header: http.Header{"Twitch-Eventsub-Message-Type": {typ}}}
		if hs.Signed(r, body, nil) != nil {
			t.Errorf("%q answered", typ)
		}
	}
	if hs.Signed(r, []byte(`{"subscription":{}}`), nil) != nil || hs.Unsigned(r) != nil {
		t.Error("answered without a challenge, or unsigned")
	}
}

// TestPagerDutySignsWithEverySecret: during a rotation PagerDuty sends one
// v1= entry per secret, comma-separated without spaces (the docs, and
// go-pagerduty, split on ","); either secret then verifies.
func TestPagerDutySignsWithEverySecret(t *testing.T) {
	s := mustGet(t, "pagerduty")
	body := []byte(`{"event":{"event_type":"pagey.ping"}}`)
	h, err := signer.SignKeys(s, []scheme.Key{{Secret: []byte("new")}, {Secret: []byte("old")}}, signer.Message{Body: body})
	if err != nil {
		t.Fatal(err)
	}
	sig := h.Get("X-PagerDuty-Signature")
	parts := strings.Split(sig, ",")
	if len(parts) != 2 || !strings.HasPrefix(parts[0], "v1=") || !strings.HasPrefix(parts[1], "v1=") || strings.Contains(sig, " ") {
		t.Fatalf("header %q", sig)
	}
	for _, secret := range []string{"new", "old"} {
		if _, err := verify(s, scheme.Request{Header: h}, string(body), secret, time.Now()); err != nil {
			t.Errorf("%s: %v", secret, err)
		}
	}
	h.Set("X-PagerDuty-Signature", strings.Repeat("v2=00,", 16)+parts[0])
	if _, err := verify(s, scheme.Request{Header: h}, string(body), "new", time.Now()); reason(err) != scheme.MalformedHeader {
		t.Errorf("17 entries: %v", err)
	}
}

// TestZendeskSignedOrder records the one contradiction in this family's
// docs. Zendesk's only published example with a signature (an earlier
// version of https://developer.zendesk.com/documentation/webhooks/verifying/,
// printed beside the formula base64(HMACSHA256((BODY)(TIMESTAMP)))) is a
// MAC of body + timestamp; the page now says TIMESTAMP + BODY, its code
// example signs timestamp + body, and so does every implementation that
// runs against Zendesk. The preset follows what Zendesk sends, timestamp +
// body, against the rule "follow the reading that reproduces the published
// example", because that example's reading would refuse every real
// delivery; the vectors keep the example as a refused case.
func TestZendeskSignedOrder(t *testing.T) {
	secret, body, ts := "HRkRd4BeOAoUkfZr-mhauJT64rvBASlJRoIyPsd3zeA=", `{"say": "hello"}`, "2021-07-25T10:00:00Z"
	mac := func(msg string) string {
		m := hmac.New(sha256.New, []byte(secret))
		m.Write([]byte(msg))
		return base64.StdEncoding.EncodeToString(m.Sum(nil))
	}
	const published = "tRDSF7URY8BLCDlaBcQ7FHu051Zk+aAB0NKMP53teMw="
	if mac(body+ts) != published || mac(ts+body) == published {
		t.Fatal("the published example is no longer body + timestamp only")
	}
	s := mustGet(t, "zendesk")
	now, _ := time.Parse(time.RFC3339, ts)
	for sig, ok := range map[string]bool{mac(ts + body): true, published: false} {
		h := http.Header{"X-Zendesk-Webhook-Signature": {sig}, "X-Zendesk-Webhook-Signature-Timestamp": {ts}}
		if _, err := verify(s, scheme.Request{Header: h}, body, secret, now); (err == nil) != ok {
			t.Errorf("%s: %v, want accepted=%v", sig, err, ok)
		}
	}
}
