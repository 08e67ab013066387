package preset_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"hash"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hookguard/hookguard/preset"
	"github.com/hookguard/hookguard/scheme"
	"github.com/hookguard/hookguard/signer"
	"github.com/hookguard/hookguard/verifier"
)

// TestDevtoolsRefusalReasons: the devtools vectors' invalid cases are
// refused for the reason the sender's own material refuses them, not by
// accident (TestVectors only asks that they fail).
func TestDevtoolsRefusalReasons(t *testing.T) {
	want := map[string]map[string]scheme.Reason{
		"gitea": {
			"tampered body":            scheme.WrongSignature,
			"wrong secret":             scheme.WrongSignature,
			"signature header missing": scheme.MissingHeader,
		},
		"forgejo": {"Forgejo signature header missing": scheme.MissingHeader},
		"jira":    {"sha1 method is not accepted": scheme.MalformedHeader},
		"circleci": {
			"docs example 'foo' signed with the other published secret": scheme.WrongSignature,
			"docs Python example: v1=not-a-valid-signature":             scheme.MalformedHeader,
			"no v1 entry (only v2=)":                                    scheme.MalformedHeader,
			"bare hex without v1= prefix":                               scheme.MalformedHeader,
			"signature header missing":                                  scheme.MissingHeader,
		},
		"sentry": {"body re-serialised compactly (JSON.stringify of the parsed body)": scheme.WrongSignature},
		"vercel": {"sha256 instead of sha1": scheme.MalformedHeader},
		"netlify": {
			"tampered body (sha256 claim no longer matches)": scheme.WrongSignature,
			"wrong secret":             scheme.WrongSignature,
			"issuer is not netlify":    scheme.WrongSignature,
			"alg none":                 scheme.MalformedHeader,
			"signature header missing": scheme.MissingHeader,
		},
		"linear": {
			"stale: webhookTimestamp 120 s old (tolerance 60 s)":       scheme.StaleTimestamp,
			"signed body without webhookTimestamp":                     scheme.MissingHeader,
			"webhookTimestamp is a string, not a number":               scheme.MalformedHeader,
			"fresh Linear-Timestamp header cannot rescue a stale body": scheme.StaleTimestamp,
			"signature header missing":                                 scheme.MissingHeader,
			"wrong secret":                                             scheme.WrongSignature,
		},
		"figma": {
			"wrong passcode": scheme.WrongSignature,
			"configured passcode differs (wrong secret)": scheme.WrongSignature,
			"passcode missing":                           scheme.MissingHeader,
			"passcode only nested, not top level":        scheme.MissingHeader,
			"passcode is not a string":                   scheme.MalformedHeader,
			"body is not JSON":                           scheme.MalformedHeader,
		},
		"segment": {"batched delivery: library signs the first event only, not the body": scheme.WrongSignature},
	}
	vs := loadVectors(t)
	for name, cases := range want {
		v, ok := vs[name]
		if !ok {
			t.Fatalf("no vectors for %s", name)
		}
		found := 0
		for _, c := range v.Cases {
			reason, ok := cases[c.Name]
			if !ok {
				continue
			}
			found++
			t.Run(name+"/"+c.Name, func(t *testing.T) {
				_, err := verifyCase(t, name, c)
				var e *scheme.Error
				if !errors.As(err, &e) || e.Reason != reason {
					t.Fatalf("refused with %v, want %s", err, reason)
				}
				if strings.Contains(err.Error(), c.Secret) {
					t.Errorf("the error %q quotes the secret", err)
				}
			})
		}
		if found != len(cases) {
			t.Errorf("%s: %d of the %d named cases are in the vectors", name, found, len(cases))
		}
	}
}

func verifyCase(t *testing.T, name string, c vectorCase) (verifier.Result, error) {
	t.Helper()
	s, err := preset.Get(name, preset.Options{})
	if err != nil {
		t.Fatal(err)
	}
	h := http.Header{}
	for k, v := range c.Headers {
		h.Set(k, v)
	}
	return verifier.VerifyRequest(s, scheme.Request{Method: c.Method, URL: c.URL, Header: h}, []byte(c.Body),
		[]scheme.Key{{Label: "k", Secret: []byte(c.Secret)}}, s.Tolerance, time.Unix(c.Now, 0))
}

// TestLinearTimestamp: Linear's timestamp is the body's webhookTimestamp,
// milliseconds, within a minute either way (@linear/sdk's check), and the
// scheme counts as timestamped, so its tolerance can be configured.
func TestLinearTimestamp(t *testing.T) {
	s, err := preset.Get("linear", preset.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !s.Timestamped() || s.Tolerance != time.Minute || s.Time != scheme.UnixMillis {
		t.Fatalf("timestamped %v, tolerance %s, time %s; want true, 1m, Unix milliseconds", s.Timestamped(), s.Tolerance, s.Time)
	}
	secret := []byte("lin_wh_test")
	now := time.Unix(1767225600, 0)
	for _, tc := range []struct {
		skew   time.Duration // how long before now the body says it was sent
		reason scheme.Reason // "" = accepted
	}{
		{0, ""},
		{59 * time.Second, ""},
		{-59 * time.Second, ""},
		{61 * time.Second, scheme.StaleTimestamp},
		{-61 * time.Second, scheme.FutureTimestamp},
	} {
		t.Run(tc.skew.String(), func(t *testing.T) {
			body := []byte(`{"type":"Issue","webhookTimestamp":` + strconv.FormatInt(now.Add(-tc.skew).UnixMilli(), 10) + `}`)
			h := http.Header{"Linear-Signature": {hex.EncodeToString(mac(sha256.New, secret, body))}, "Linear-Delivery": {"d-1"}}
			res, err := verifier.VerifyRequest(s, scheme.Request{Method: "POST", Header: h}, body, []scheme.Key{{Secret: secret}}, s.Tolerance, now)
			if tc.reason == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				if res.ID != "d-1" || res.Timestamp == "" {
					t.Errorf("id %q, timestamp %q", res.ID, res.Timestamp)
				}
				return
			}
			var e *scheme.Error
			if !errors.As(err, &e) || e.Reason != tc.reason {
				t.Fatalf("got %v, want %s", err, tc.reason)
			}
		})
	}
}

// TestLinearSignNeedsTimestamp: Linear's receivers refuse a body without
// webhookTimestamp, so webhook_sign says so instead of signing one.
func TestLinearSignNeedsTimestamp(t *testing.T) {
	s, _ := preset.Get("linear", preset.Options{})
	keys := signer.Secrets([]byte("lin_wh_test"))
	if _, err := signer.SignKeys(s, keys, signer.Message{Body: []byte(`{"type":"Issue"}`), Time: time.Now()}); err == nil {
		t.Fatal("signed a body without webhookTimestamp")
	}
	body := []byte(`{"type":"Issue","webhookTimestamp":1767225600000}`)
	h, err := signer.SignKeys(s, keys, signer.Message{Body: body, ID: "d-2", Time: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := h.Get("Linear-Signature"), hex.EncodeToString(mac(sha256.New, []byte("lin_wh_test"), body)); got != want || h.Get("Linear-Delivery") != "d-2" {
		t.Errorf("signed %v", h)
	}
}

// TestNetlifyToken: only an HS256 token by the secret, issued by netlify,
// whose sha256 claim is the body's, passes; iat, if an integer, is the
// timestamp, and a token without one passes too.
func TestNetlifyToken(t *testing.T) {
	s, _ := preset.Get("netlify", preset.Options{})
	secret := []byte("jws-secret")
	body := []byte(`{"state":"ready"}`)
	sum := sha256.Sum256(body)
	good := hex.EncodeToString(sum[:])
	now := time.Unix(1767225600, 0)
	for _, tc := range []struct {
		name, alg, claims string
		h                 func() hash.Hash
		key               []byte
		ok                bool
	}{
		{"hs256", "HS256", `{"iss":"netlify","sha256":"` + good + `"}`, sha256.New, secret, true},
		{"hs256 with iat", "HS256", `{"sha256":"` + good + `","iss":"netlify","iat":1767225590}`, sha256.New, secret, true},
		{"iat not a number: no timestamp, still valid", "HS256", `{"iss":"netlify","sha256":"` + good + `","iat":"soon"}`, sha256.New, secret, true},
		{"hs512", "HS512", `{"iss":"netlify","sha256":"` + good + `"}`, sha512.New, secret, false},
		{"header says HS256, signed HS512", "HS256", `{"iss":"netlify","sha256":"` + good + `"}`, sha512.New, secret, false},
		{"other key", "HS256", `{"iss":"netlify","sha256":"` + good + `"}`, sha256.New, []byte("other"), false},
		{"no iss", "HS256", `{"sha256":"` + good + `"}`, sha256.New, secret, false},
		{"iss is not a string", "HS256", `{"iss":["netlify"],"sha256":"` + good + `"}`, sha256.New, secret, false},
		{"no sha256", "HS256", `{"iss":"netlify"}`, sha256.New, secret, false},
		{"sha256 upper case", "HS256", `{"iss":"netlify","sha256":"` + strings.ToUpper(good) + `"}`, sha256.New, secret, false},
		{"payload is not an object", "HS256", `"netlify"`, sha256.New, secret, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tok := jwt(tc.alg, tc.claims, tc.h, tc.key)
			h := http.Header{"X-Webhook-Signature": {tok}}
			res, err := verifier.VerifyRequest(s, scheme.Request{Method: "POST", Header: h}, body, []scheme.Key{{Secret: secret}}, s.Tolerance, now)
			if (err == nil) != tc.ok {
				t.Fatalf("err %v, want ok %v", err, tc.ok)
			}
			if !tc.ok {
				return
			}
			want := "" // no iat, or one that is no whole number: no timestamp
			if strings.Contains(tc.claims, `"iat":1767225590`) {
				want = "1767225590"
			}
			if res.Timestamp != want {
				t.Errorf("timestamp %q, want %q", res.Timestamp, want)
			}
		})
	}
	for _, bad := range []string{"a.b", "a.b.c.d", jwt("HS256", `{"iss":"netlify","sha256":"`+good+`"}`, sha256.New, secret) + "="} {
		h := http.Header{"X-Webhook-Signature": {bad}}
		if _, err := verifier.VerifyRequest(s, scheme.Request{Method: "POST", Header: h}, body, []scheme.Key{{Secret: secret}}, 0, now); err == nil {
			t.Errorf("%q verified", bad)
		}
	}
	// What our signer sends, Netlify's receivers (and we) accept.
	hdr, err := signer.SignKeys(s, signer.Secrets(secret), signer.Message{Body: body, Time: now})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := verifier.VerifyRequest(s, scheme.Request{Method: "POST", Header: hdr}, body, []scheme.Key{{Secret: secret}}, 0, now); err != nil {
		t.Fatalf("our own token: %v", err)
	}
}

// TestFigmaSign: webhook_sign cannot put a passcode into a body; a body
// that already carries the configured one passes as is.
func TestFigmaSign(t *testing.T) {
	s, _ := preset.Get("figma", preset.Options{})
	keys := signer.Secrets([]byte("pass-1"))
	h, err := signer.SignKeys(s, keys, signer.Message{Body: []byte(`{"event_type":"PING","passcode":"pass-1"}`)})
	if err != nil || len(h) != 0 {
		t.Fatalf("body with the passcode: %v %v", h, err)
	}
	for _, body := range []string{`{"event_type":"PING"}`, `{"passcode":"pass-2"}`, `not json`} {
		if _, err := signer.SignKeys(s, keys, signer.Message{Body: []byte(body)}); err == nil {
			t.Errorf("signed %s", body)
		}
	}
	if s.MaxBody != scheme.WholeBodyLimit {
		t.Errorf("max body %d", s.MaxBody)
	}
}

// TestCircleCIRotation: several v1 signatures (a sender rotating its
// secret) are all tried; a repeated header is malformed.
func TestCircleCIRotation(t *testing.T) {
	s, _ := preset.Get("circleci", preset.Options{})
	body := []byte(`{"id":"e1","type":"job-completed"}`)
	old, cur := []byte("old"), []byte("current")
	v := "v1=" + hex.EncodeToString(mac(sha256.New, old, body)) + ",v1=" + hex.EncodeToString(mac(sha256.New, cur, body))
	h := http.Header{"Circleci-Signature": {v}}
	if _, err := verifier.VerifyRequest(s, scheme.Request{Method: "POST", Header: h}, body, []scheme.Key{{Secret: cur}}, 0, time.Now()); err != nil {
		t.Fatal(err)
	}
	h.Add("Circleci-Signature", v)
	if _, err := verifier.VerifyRequest(s, scheme.Request{Method: "POST", Header: h}, body, []scheme.Key{{Secret: cur}}, 0, time.Now()); err == nil {
		t.Fatal("a repeated header verified")
	}
}

// TestDevtoolsEntries: every entry of the family is registered with its
// docs, and the forges list with the other git hosts.
func TestDevtoolsEntries(t *testing.T) {
	for _, name := range []string{"gitea", "forgejo", "gogs", "jira", "circleci", "sentry", "vercel", "netlify", "linear", "figma", "segment"} {
		e, ok := preset.Lookup(name)
		if !ok {
			t.Errorf("%s is not registered", name)
			continue
		}
		if !strings.HasPrefix(e.Docs, "https://") || e.Signed == "" {
			t.Errorf("%s: docs %q, signed %q", name, e.Docs, e.Signed)
		}
		if s, err := preset.Get(name, preset.Options{}); err != nil || s.Name != name {
			t.Errorf("%s: %v", name, err)
		}
	}
	for _, name := range []string{"gitea", "forgejo", "gogs"} {
		if e, _ := preset.Lookup(name); e.Family != "git hosting" {
			t.Errorf("%s: family %q", name, e.Family)
		}
	}
}

func mac(h func() hash.Hash, key, msg []byte) []byte {
	m := hmac.New(h, key)
	m.Write(msg)
	return m.Sum(nil)
}

// jwt makes a compact JWS with the given JOSE alg and claims, signed with
// an HMAC of h under key.
func jwt(alg, claims string, h func() hash.Hash, key []byte) string {
	enc := base64.RawURLEncoding
	msg := enc.EncodeToString([]byte(`{"alg":"`+alg+`","typ":"JWT"}`)) + "." + enc.EncodeToString([]byte(claims))
	return msg + "." + enc.EncodeToString(mac(h, key, []byte(msg)))
}
