package preset_test

import (
	"crypto/hmac"
	"crypto/sha256"
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

// saasPresets are the presets of preset/saas.go.
var saasPresets = []string{"clerk", "resend", "contentful", "sanity", "strapi", "typeform", "airtable", "calendly", "mux"}

// saasRefusals is why each invalid case of the saas family's vectors is
// refused: TestVectors only checks that it is.
var saasRefusals = map[string]scheme.Reason{
	"clerk/signature under a version other than v1 is ignored": scheme.MalformedHeader,
	"clerk/tampered body":                                scheme.WrongSignature,
	"clerk/wrong secret":                                 scheme.WrongSignature,
	"clerk/tampered svix-id":                             scheme.WrongSignature,
	"clerk/stale timestamp (301 s old, tolerance 5 min)": scheme.StaleTimestamp,
	"clerk/timestamp 301 s in the future":                scheme.FutureTimestamp,
	"clerk/missing svix-signature":                       scheme.MissingHeader,
	"clerk/webhook-* header names only: verifyWebhook reads svix-* and refuses": scheme.MissingHeader,
	"resend/signature under a version other than v1 is ignored":                 scheme.MalformedHeader,
	"resend/tampered body":                                       scheme.WrongSignature,
	"resend/wrong secret":                                        scheme.WrongSignature,
	"resend/tampered svix-id":                                    scheme.WrongSignature,
	"resend/stale timestamp (301 s old, tolerance 5 min)":        scheme.StaleTimestamp,
	"resend/timestamp 301 s in the future":                       scheme.FutureTimestamp,
	"resend/missing svix-signature":                              scheme.MissingHeader,
	"contentful/the same target percent-decoded":                 scheme.WrongSignature,
	"contentful/signature made for another path":                 scheme.WrongSignature,
	"contentful/query string dropped":                            scheme.WrongSignature,
	"contentful/other method":                                    scheme.WrongSignature,
	"contentful/tampered body":                                   scheme.WrongSignature,
	"contentful/tampered signed header (topic)":                  scheme.WrongSignature,
	"contentful/wrong secret":                                    scheme.WrongSignature,
	"contentful/stale: 30.877 s after signing (TTL 30 s)":        scheme.StaleTimestamp,
	"contentful/missing x-contentful-signature":                  scheme.MissingHeader,
	"sanity/tampered body":                                       scheme.WrongSignature,
	"sanity/wrong secret":                                        scheme.WrongSignature,
	"sanity/timestamp changed":                                   scheme.WrongSignature,
	"sanity/signature padded with = (base64url is unpadded)":     scheme.MalformedHeader,
	"sanity/missing sanity-webhook-signature":                    scheme.MissingHeader,
	"strapi/wrong token":                                         scheme.WrongSignature,
	"strapi/token without the Bearer prefix":                     scheme.MalformedHeader,
	"strapi/missing Authorization":                               scheme.MissingHeader,
	"typeform/tampered body":                                     scheme.WrongSignature,
	"typeform/wrong secret":                                      scheme.WrongSignature,
	"typeform/hex instead of base64":                             scheme.MalformedHeader,
	"typeform/missing sha256= prefix":                            scheme.MalformedHeader,
	"typeform/missing Typeform-Signature":                        scheme.MissingHeader,
	"airtable/tampered body":                                     scheme.WrongSignature,
	"airtable/secret used as its base64 text instead of decoded": scheme.WrongSignature,
	"airtable/wrong secret":                                      scheme.WrongSignature,
	"airtable/missing hmac-sha256= prefix":                       scheme.MalformedHeader,
	"airtable/missing X-Airtable-Content-MAC":                    scheme.MissingHeader,
	"calendly/stale: 181 s later":                                scheme.StaleTimestamp,
	"calendly/tampered body":                                     scheme.WrongSignature,
	"calendly/wrong secret":                                      scheme.WrongSignature,
	"calendly/timestamp changed":                                 scheme.WrongSignature,
	"calendly/missing Calendly-Webhook-Signature":                scheme.MissingHeader,
	"mux/published vector, only a v2 entry":                      scheme.MalformedHeader,
	"mux/published vector, 6 minutes later (tolerance 5 min)":    scheme.StaleTimestamp,
	"mux/published vector, signature without t=":                 scheme.MalformedHeader,
	"mux/tampered body":                                          scheme.WrongSignature,
	"mux/wrong secret":                                           scheme.WrongSignature,
	"mux/timestamp changed":                                      scheme.WrongSignature,
	"mux/stale: 301 s old":                                       scheme.StaleTimestamp,
	"mux/missing Mux-Signature":                                  scheme.MissingHeader,
	"sanity/stale: 301 s after signing (hookguard default tolerance 5 min; @sanity/webhook itself checks no age)": scheme.StaleTimestamp,
	"sanity/separator ', ' (the parser allows it, the exact comparison with the re-encoded header does not)":      scheme.MalformedHeader,
}

// verifySaasCase runs one vector case through the verifier.
func verifySaasCase(t *testing.T, name string, c vectorCase) (verifier.Result, error) {
	t.Helper()
	s, err := preset.Get(name, preset.Options{})
	if err != nil {
		t.Fatal(err)
	}
	key := scheme.Key{Label: "vector"}
	if key.Secret, err = s.DecodeSecret(c.Secret); err != nil {
		t.Fatal(err)
	}
	h := http.Header{}
	for k, v := range c.Headers {
		h.Set(k, v)
	}
	method := c.Method
	if method == "" {
		method = http.MethodPost
	}
	return verifier.VerifyRequest(s, scheme.Request{Method: method, URL: c.URL, Header: h}, []byte(c.Body), []scheme.Key{key}, s.Tolerance, time.Unix(c.Now, 0))
}

// TestSaasRefusalReasons: each invalid case of the family is refused for
// the reason the case is about, not another.
func TestSaasRefusalReasons(t *testing.T) {
	vs := loadVectors(t)
	seen := map[string]bool{}
	for _, name := range saasPresets {
		for _, c := range vs[name].Cases {
			if c.Valid {
				continue
			}
			id := name + "/" + c.Name
			seen[id] = true
			want, ok := saasRefusals[id]
			if !ok {
				t.Errorf("%s: no expected reason in saasRefusals", id)
				continue
			}
			_, err := verifySaasCase(t, name, c)
			if !errors.Is(err, &scheme.Error{Reason: want}) {
				t.Errorf("%s: %v, want %s", id, err, want)
			}
		}
	}
	for id := range saasRefusals {
		if !seen[id] {
			t.Errorf("saasRefusals has %q, which is no invalid case", id)
		}
	}
}

// TestSaasEntries: every saas preset is registered in the family, with a
// vectors file.
func TestSaasEntries(t *testing.T) {
	vs := loadVectors(t)
	for _, name := range saasPresets {
		e, ok := preset.Lookup(name)
		if !ok || e.Family != "saas" {
			t.Errorf("%s: not registered in the saas family", name)
		}
		if _, ok := vs[name]; !ok {
			t.Errorf("%s: no vectors", name)
		}
	}
}

// TestContentfulPath compares the path escaping with what the toolkit's
// getNormalizedEncodedURI gives (run with Node: querystring.escape of the
// query, then encodeURI of the whole).
func TestContentfulPath(t *testing.T) {
	s := mustGet(t, "contentful")
	key := scheme.Key{Secret: []byte(strings.Repeat("k", 64))}
	for _, c := range []struct{ target, want string }{
		{"/hook", "/hook"},
		{"/hook?a=b&c=d", "/hook?a%253Db%2526c%253Dd"},
		{"/x?", "/x"},
		{"/p%20q", "/p%2520q"},
		{"/[x]{y}|z^`\"<>\\", "/%5Bx%5D%7By%7D%7Cz%5E%60%22%3C%3E%5C"},
		{"/a;b,c/d:e@f&g=h+i$j#k", "/a;b,c/d:e@f&g=h+i$j#k"},
		{"/q?x=%41&y=[1]", "/q?x%253D%252541%2526y%253D%255B1%255D"},
		{"/q?~*'()!-_.", "/q?~*'()!-_."},
	} {
		// The path is only observable through the signature: sign the
		// canonical request by hand with the expected path, then verify.
		ts := "1700000000123"
		msg := "POST\n" + c.want + "\nx-contentful-signed-headers:x-contentful-signed-headers,x-contentful-timestamp;x-contentful-timestamp:" + ts + "\n{}"
		sig := s.Encode(hmacSHA256(key.Secret, []byte(msg)))
		h := http.Header{}
		h.Set("X-Contentful-Signature", sig)
		h.Set("X-Contentful-Signed-Headers", "x-contentful-signed-headers,x-contentful-timestamp")
		h.Set("X-Contentful-Timestamp", ts)
		_, err := verifier.VerifyRequest(s, scheme.Request{Method: "POST", URL: "https://example.com" + c.target, Header: h}, []byte("{}"), []scheme.Key{key}, s.Tolerance, time.Unix(1700000001, 0))
		if err != nil {
			t.Errorf("%q: %v (want the path signed as %q)", c.target, err, c.want)
		}
	}
}

// TestContentfulRequests covers what the vectors do not: the signer's
// output verifies for any URL, a signed header sent twice is malformed,
// a listed header the request lacks fails the signature, and the fixed
// parts of the headers are checked.
func TestContentfulRequests(t *testing.T) {
	s := mustGet(t, "contentful")
	key := scheme.Key{Secret: []byte(strings.Repeat("s", 64))}
	now := time.UnixMilli(1700000000123)
	body := []byte(`{"sys":{"id":"x"}}`)
	sign := func(url string) http.Header {
		h, err := signer.SignKeys(s, []scheme.Key{key}, signer.Message{Body: body, Method: "POST", URL: url, Time: now})
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	verify := func(url string, h http.Header) error {
		_, err := verifier.VerifyRequest(s, scheme.Request{Method: "POST", URL: url, Header: h}, body, []scheme.Key{key}, s.Tolerance, now.Add(time.Second))
		return err
	}
	for _, url := range []string{"https://example.com/", "https://example.com/hooks/cf?space=a&env=b", "http://127.0.0.1:8080/x%2Fy?q=%20"} {
		if err := verify(url, sign(url)); err != nil {
			t.Errorf("%s: the signer's request is refused: %v", url, err)
		}
	}
	url := "https://example.com/hooks"
	h := sign(url)
	if got := h.Get("X-Contentful-Signed-Headers"); got != "x-contentful-signed-headers,x-contentful-timestamp" {
		t.Errorf("signed headers %q", got)
	}
	if got := h.Get("X-Contentful-Timestamp"); got != "1700000000123" {
		t.Errorf("timestamp %q, want milliseconds", got)
	}

	cases := []struct {
		name string
		edit func(http.Header)
		want scheme.Reason
	}{
		{"signature in upper case", func(h http.Header) { h.Set("X-Contentful-Signature", strings.ToUpper(h.Get("X-Contentful-Signature"))) }, scheme.MalformedHeader},
		{"signature too short", func(h http.Header) { h.Set("X-Contentful-Signature", h.Get("X-Contentful-Signature")[2:]) }, scheme.MalformedHeader},
		{"signature twice", func(h http.Header) { h.Add("X-Contentful-Signature", h.Get("X-Contentful-Signature")) }, scheme.MalformedHeader},
		{"no signed-headers list", func(h http.Header) { h.Del("X-Contentful-Signed-Headers") }, scheme.MissingHeader},
		{"a list of one", func(h http.Header) { h.Set("X-Contentful-Signed-Headers", "x-contentful-timestamp") }, scheme.MalformedHeader},
		{"no timestamp", func(h http.Header) { h.Del("X-Contentful-Timestamp") }, scheme.MissingHeader},
		{"timestamp in seconds (read as ms: 1970)", func(h http.Header) { h.Set("X-Contentful-Timestamp", "1700000000") }, scheme.StaleTimestamp},
		{"timestamp not a number", func(h http.Header) { h.Set("X-Contentful-Timestamp", "17e11") }, scheme.MalformedHeader},
		{"a listed header sent twice", func(h http.Header) {
			h.Set("X-Contentful-Signed-Headers", "x-contentful-signed-headers,x-contentful-timestamp,x-contentful-topic")
			h.Add("X-Contentful-Topic", "a")
			h.Add("X-Contentful-Topic", "b")
		}, scheme.MalformedHeader},
	}
	for _, c := range cases {
		h := sign(url)
		c.edit(h)
		err := verify(url, h)
		if !errors.Is(err, &scheme.Error{Reason: c.want}) {
			t.Errorf("%s: %v, want %s", c.name, err, c.want)
		}
	}
	// As verifyRequest does (checked with the toolkit): a name listed for
	// a header the request lacks is dropped, and the list signed is that
	// of the headers present, so it still verifies; a signed header
	// stripped on the way fails.
	h = sign(url)
	h.Set("X-Contentful-Signed-Headers", "x-contentful-signed-headers,x-contentful-timestamp,x-contentful-topic")
	if err := verify(url, h); err != nil {
		t.Errorf("a listed header the request lacks: %v, want it to verify as the toolkit does", err)
	}
	stripped := false
	for _, c := range loadVectors(t)["contentful"].Cases {
		if c.Name != "topic and webhook name signed as well" {
			continue
		}
		stripped = true
		delete(c.Headers, "X-Contentful-Topic")
		if _, err := verifySaasCase(t, "contentful", c); !errors.Is(err, &scheme.Error{Reason: scheme.WrongSignature}) {
			t.Errorf("signed header stripped: %v, want wrong signature", err)
		}
	}
	if !stripped {
		t.Error("no vector case signs X-Contentful-Topic")
	}
	// A path outside printable ASCII cannot be rebuilt as Contentful signed it.
	if err := verify("https://example.com/\u00e9", sign("https://example.com/%C3%A9")); !errors.Is(err, &scheme.Error{Reason: scheme.MalformedHeader}) {
		t.Errorf("raw non-ASCII path: %v, want malformed", err)
	}
	// Without the URL the path is unknown.
	if err := verify("", sign(url)); !errors.Is(err, &scheme.Error{Reason: scheme.MalformedHeader}) {
		t.Errorf("no URL: %v, want malformed", err)
	}
}

// TestSanityHeaderForm: the signer writes Sanity's unpadded base64url, and
// only Sanity's exact spelling verifies.
func TestSanityHeaderForm(t *testing.T) {
	s := mustGet(t, "sanity")
	key := scheme.Key{Secret: []byte("sanity secret")}
	body := []byte(`{"_id":"a"}`)
	now := time.UnixMilli(1700000000123)
	h, err := signer.SignKeys(s, []scheme.Key{key}, signer.Message{Body: body, Time: now})
	if err != nil {
		t.Fatal(err)
	}
	v := h.Get("Sanity-Webhook-Signature")
	if !strings.HasPrefix(v, "t=1700000000123,v1=") || strings.HasSuffix(v, "=") || strings.ContainsAny(v, "+/") {
		t.Fatalf("signer wrote %q", v)
	}
	check := func(value string) error {
		h := http.Header{"Sanity-Webhook-Signature": {value}}
		_, err := verifier.Verify(s, h, body, []scheme.Key{key}, s.Tolerance, now)
		return err
	}
	if err := check(v); err != nil {
		t.Fatalf("own signature refused: %v", err)
	}
	sig := strings.TrimPrefix(v, "t=1700000000123,v1=")
	for _, bad := range []string{
		"t=01700000000123,v1=" + sig,
		"v1=" + sig + ",t=1700000000123",
		"t=1700000000123,v1=" + sig + ",v1=" + sig,
		"t=1700000000123;v1=" + sig,
		"t=,v1=" + sig,
		"t=1700000000123,v1=",
	} {
		if err := check(bad); !errors.Is(err, &scheme.Error{Reason: scheme.MalformedHeader}) {
			t.Errorf("%q: %v, want malformed", bad, err)
		}
	}
}

func hmacSHA256(key, msg []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write(msg)
	return m.Sum(nil)
}

// TestContentfulSecondQuestionMark (review): the toolkit signs nothing
// after a second '?', so parameters added there would reach the app
// unsigned: such a request is refused.
func TestContentfulSecondQuestionMark(t *testing.T) {
	s, err := preset.Get("contentful", preset.Options{})
	if err != nil {
		t.Fatal(err)
	}
	key := scheme.Key{Label: "k", Secret: []byte("contentful-secret")}
	ts := "1700000000123"
	msg := "POST\n/webhooks/contentful\nx-contentful-signed-headers:x-contentful-signed-headers,x-contentful-timestamp;x-contentful-timestamp:" + ts + "\n{}"
	h := http.Header{}
	h.Set("X-Contentful-Signature", s.Encode(hmacSHA256(key.Secret, []byte(msg))))
	h.Set("X-Contentful-Signed-Headers", "x-contentful-signed-headers,x-contentful-timestamp")
	h.Set("X-Contentful-Timestamp", ts)
	for target, ok := range map[string]bool{"/webhooks/contentful": true, "/webhooks/contentful??&admin=1": false, "/webhooks/contentful?a?b": false} {
		_, err := verifier.VerifyRequest(s, scheme.Request{Method: "POST", URL: "https://example.com" + target, Header: h}, []byte("{}"), []scheme.Key{key}, s.Tolerance, time.Unix(1700000001, 0))
		if (err == nil) != ok {
			t.Errorf("%s: %v, want ok %v", target, err, ok)
		}
	}
}
