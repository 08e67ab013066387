package integration

// The saas family (preset/saas.go) end to end, for what
// TestEveryPresetEndToEnd cannot show:
//
//   - TestSaasOfficialGoLibraries: Svix's Go library (github.com/svix/
//     svix-webhooks v1.44.0), through which Clerk and Resend deliver,
//     signs what webhook_verify clerk/resend accept; what webhook_sign
//     clerk/resend send, svix's Webhook.Verify and Resend's own Go SDK
//     (github.com/resend/resend-go/v3 v3.1.1, Webhooks.Verify) accept.
//   - TestSaasVectorsThroughCaddy: every case of the family's vectors,
//     which the senders' own libraries made and judged (preset/testdata/
//     gen/saas/gen.js), replayed through a real Caddy as the sender sent
//     it: the valid ones reach the app byte for byte, the invalid ones get
//     401. The cases carry fixed timestamps, so the routes run with
//     tolerance 0; the cases about the clock are TestEveryPresetEndToEnd's.
//   - TestContentfulSignsThePathAsSent: Contentful signs the path and
//     query it called; a rewrite before webhook_verify does not change
//     what is checked, and webhook_sign signs the path it relays.

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	resend "github.com/resend/resend-go/v3"
	svix "github.com/svix/svix-webhooks/go"

	"github.com/hookguard/hookguard/preset"
	"github.com/hookguard/hookguard/scheme"
	"github.com/hookguard/hookguard/signer"
	"github.com/hookguard/hookguard/verifier"
)

// saasFamily are the presets of preset/saas.go.
var saasFamily = []string{"clerk", "resend", "contentful", "sanity", "strapi", "typeform", "airtable", "calendly", "mux"}

// signResendCheck verifies with Resend's Go SDK, as Resend's docs have a
// receiver do with the svix-* headers.
func signResendCheck(secret string) signCheck {
	return func(body []byte, h http.Header) error {
		if err := signOnly(h, "Svix-Id", "Svix-Timestamp", "Svix-Signature"); err != nil {
			return err
		}
		c := resend.NewClient("re_hookguard_test")
		return c.Webhooks.Verify(&resend.VerifyWebhookOptions{
			Payload: string(body),
			Headers: resend.WebhookHeaders{
				Id:        h.Get("Svix-Id"),
				Timestamp: h.Get("Svix-Timestamp"),
				Signature: h.Get("Svix-Signature"),
			},
			WebhookSecret: secret,
		})
	}
}

func TestSaasOfficialGoLibraries(t *testing.T) {
	skipShort(t)
	up := newUpstream(t)
	secrets := map[string]string{"clerk": whsecSecret(t), "resend": whsecSecret(t)}
	clerkOut := newSignReceiver(t, false, signSvixCheck(secrets["clerk"]))
	resendOut := newSignReceiver(t, true, func(body []byte, h http.Header) error {
		// Both of the receivers Resend's docs show: its SDK, and Svix's.
		if err := signResendCheck(secrets["resend"])(body, h); err != nil {
			return fmt.Errorf("resend-go: %w", err)
		}
		return signSvixCheck(secrets["resend"])(body, h)
	})
	var b strings.Builder
	b.WriteString(proxySnippet(up))
	fmt.Fprintf(&b, "\nhttp://localhost:%d {\n", httpPort)
	for _, name := range []string{"clerk", "resend"} {
		fmt.Fprintf(&b, "\thandle /in/%s {\n\t\twebhook_verify %s %q\n\t\timport proxy\n\t}\n", name, name, secrets[name])
	}
	b.WriteString(signRoute(t, "/out/clerk", "clerk", secrets["clerk"], "", clerkOut, ""))
	b.WriteString(signRoute(t, "/out/resend", "resend", secrets["resend"], "", resendOut, ""))
	b.WriteString(errorsBlock + "}\n")
	loadConfig(t, b.String())

	body := []byte(`{"type":"user.created","data":{"id":"user_29w83sxmDNGwOuEthce5gg56FcC","name":"Zoë"}}`)
	for _, name := range []string{"clerk", "resend"} {
		t.Run("svix-go signs, "+name+" verifies", func(t *testing.T) {
			wh, err := svix.NewWebhook(secrets[name])
			if err != nil {
				t.Fatal(err)
			}
			id := "msg_" + randomHex(t, 12)
			sig, err := wh.Sign(id, time.Now(), body)
			if err != nil {
				t.Fatal(err)
			}
			ts := fmt.Sprint(time.Now().Unix())
			h := http.Header{"Svix-Id": {id}, "Svix-Timestamp": {ts}, "Svix-Signature": {sig}, "Content-Type": {"application/json"}}
			up.reset()
			a := send(t, delivery{Path: "/in/" + name, Body: body, Header: h})
			wantStatus(t, a, http.StatusOK)
			got := up.only(t)
			wantBodyThrough(t, got, body)
			if got.Header.Get("X-Webhook-Id") != id {
				t.Errorf("{http.webhook.id} = %q, want %q", got.Header.Get("X-Webhook-Id"), id)
			}

			// Signed by the library under another secret: refused.
			other, _ := svix.NewWebhook(whsecSecret(t))
			bad, _ := other.Sign(id, time.Now(), body)
			before := up.count()
			wantRejected(t, send(t, delivery{Path: "/in/" + name, Body: body, Header: http.Header{"Svix-Id": {id}, "Svix-Timestamp": {ts}, "Svix-Signature": {bad}}}), http.StatusUnauthorized, up, before)

			// The same signature under the webhook-* names, which svix's
			// library would take but Clerk's and Resend's verifiers do not.
			std := http.Header{"Webhook-Id": {id}, "Webhook-Timestamp": {ts}, "Webhook-Signature": {sig}}
			if err := wh.Verify(body, std); err != nil {
				t.Fatalf("svix-go refuses its own signature under webhook-*: %v", err)
			}
			before = up.count()
			wantRejected(t, send(t, delivery{Path: "/in/" + name, Body: body, Header: std}), http.StatusUnauthorized, up, before)
		})
	}
	for name, r := range map[string]*signReceiver{"clerk": clerkOut, "resend": resendOut} {
		t.Run("webhook_sign "+name+", the official library verifies", func(t *testing.T) {
			for _, size := range []int{1, 1 << 10, 1 << 20} {
				r.reset()
				body := randomBody(t, size)
				a := send(t, delivery{Path: "/out/" + name, Body: body})
				signWantAccepted(t, a, r.only(t), body)
			}
		})
	}
	// The check itself refuses what it should: resend-go says no to a
	// tampered body and to another secret.
	h := signer.Sign(mustGetPreset(t, "resend"), [][]byte{mustDecode(t, "resend", secrets["resend"])}, signer.Message{Body: body, ID: signer.NewID(), Time: time.Now()})
	if err := signResendCheck(secrets["resend"])(body, h); err != nil {
		t.Fatalf("resend-go refuses hookguard's signature: %v", err)
	}
	if signResendCheck(secrets["resend"])(append([]byte{' '}, body...), h) == nil {
		t.Error("resend-go accepts a tampered body")
	}
	if signResendCheck(whsecSecret(t))(body, h) == nil {
		t.Error("resend-go accepts another secret")
	}
}

// saasVectorCase is one case of preset/testdata/vectors/<name>.json.
type saasVectorCase struct {
	Name    string            `json:"name"`
	Secret  string            `json:"secret"`
	Method  string            `json:"method"`
	URL     string            `json:"url"`
	Headers map[string]string `json:"headers"`
	Body    string            `json:"body"`
	Now     int64             `json:"now"`
	Valid   bool              `json:"valid"`
}

func loadSaasVectors(t *testing.T, name string) []saasVectorCase {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "preset", "testdata", "vectors", name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Cases []saasVectorCase `json:"cases"`
	}
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	return f.Cases
}

// target is the path and query of an absolute URL, as sent.
func target(u string) string {
	rest := u[strings.Index(u, "://")+3:]
	if i := strings.IndexByte(rest, '/'); i >= 0 {
		return rest[i:]
	}
	return "/"
}

func TestSaasVectorsThroughCaddy(t *testing.T) {
	skipShort(t)
	up := newUpstream(t)
	type replay struct {
		preset, route string
		c             saasVectorCase
	}
	var cases []replay
	routes := map[string]string{} // preset + "\x00" + secret → route name
	var b strings.Builder
	b.WriteString(proxySnippet(up))
	fmt.Fprintf(&b, "\nhttp://localhost:%d {\n", httpPort)
	for _, name := range saasFamily {
		s := mustGetPreset(t, name)
		for _, c := range loadSaasVectors(t, name) {
			if !c.Valid && clockCase(t, s, c) {
				continue // tolerance 0 here: TestEveryPresetEndToEnd's
			}
			k := name + "\x00" + c.Secret
			r, ok := routes[k]
			if !ok {
				r = fmt.Sprintf("%s-%d", name, len(routes))
				routes[k] = r
				tol := ""
				if s.Timestamped() {
					tol = "\n\t\t\ttolerance 0"
				}
				fmt.Fprintf(&b, "\t@%s header X-Vector-Route %s\n\thandle @%s {\n\t\twebhook_verify %s {\n\t\t\tsecret %q%s\n\t\t}\n\t\timport proxy\n\t}\n", r, r, r, name, c.Secret, tol)
			}
			cases = append(cases, replay{name, r, c})
		}
	}
	b.WriteString(errorsBlock + "}\n")
	loadConfig(t, b.String())

	for _, rc := range cases {
		t.Run(rc.preset+"/"+rc.c.Name, func(t *testing.T) {
			c := rc.c
			method := c.Method
			if method == "" {
				method = http.MethodPost
			}
			req, err := http.NewRequest(method, gatewayURL+target(c.URL), strings.NewReader(c.Body))
			if err != nil {
				t.Fatal(err)
			}
			if got := req.URL.RequestURI(); got != target(c.URL) {
				t.Fatalf("the client would send %q, not %q", got, target(c.URL))
			}
			for k, v := range c.Headers {
				req.Header.Set(k, v)
			}
			req.Header.Set("X-Vector-Route", rc.route)
			up.reset()
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if !c.Valid {
				if resp.StatusCode != http.StatusUnauthorized || up.count() != 0 {
					t.Fatalf("invalid case: %d, %d requests reached the app; want 401 and none", resp.StatusCode, up.count())
				}
				return
			}
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("valid case: %d", resp.StatusCode)
			}
			got := up.only(t)
			wantBodyThrough(t, got, []byte(c.Body))
			if got.Method != method {
				t.Errorf("the app got %s, want %s", got.Method, method)
			}
		})
	}
}

// clockCase reports whether an invalid case is refused for its timestamp
// at the case's own time, which a route with tolerance 0 does not check.
func clockCase(t *testing.T, s *scheme.Scheme, c saasVectorCase) bool {
	t.Helper()
	key, err := s.DecodeSecret(c.Secret)
	if err != nil {
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
	_, err = verifier.VerifyRequest(s, verifier.Request{Method: method, URL: c.URL, Header: h}, []byte(c.Body), []scheme.Key{{Secret: key}}, s.Tolerance, time.Unix(c.Now, 0))
	return errors.Is(err, &scheme.Error{Reason: scheme.StaleTimestamp}) || errors.Is(err, &scheme.Error{Reason: scheme.FutureTimestamp})
}

func TestContentfulSignsThePathAsSent(t *testing.T) {
	skipShort(t)
	up := newUpstream(t)
	secret := strings.Repeat("C0ntentful-", 6)[:64]
	s := mustGetPreset(t, "contentful")
	key := scheme.Key{Secret: []byte(secret)}
	// What the app behind webhook_sign gets is checked by our verifier
	// (the toolkit's algorithm, proven by the vectors) at the URL it was
	// called at.
	var out *signReceiver
	out = newSignReceiver(t, false, func(body []byte, h http.Header) error {
		_, err := verifier.VerifyRequest(s, verifier.Request{Method: http.MethodPost, URL: out.url() + "/relayed/cf?space=a&env=b", Header: h}, body, []scheme.Key{key}, s.Tolerance, time.Now())
		return err
	})
	site := proxySnippet(up) + fmt.Sprintf(`
http://localhost:%d {
	handle /hooks/* {
		rewrite * /internal{uri}
		webhook_verify contentful %q
		import proxy
	}
	handle /relayed/* {
		webhook_sign contentful %q {
			public_url %s
		}
		reverse_proxy %s
	}
%s}
`, httpPort, secret, secret, out.url(), out.url(), errorsBlock)
	loadConfig(t, site)

	body := []byte(`{"sys":{"type":"Entry","id":"5KsDBWseXY6QegucYAoacS"}}`)
	sign := func(url string) http.Header {
		h, err := signer.SignKeys(s, []scheme.Key{key}, signer.Message{Body: body, Method: http.MethodPost, URL: url, Time: time.Now()})
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	up.reset()
	// Signed for the path the sender calls; the app is reached at the
	// rewritten one.
	a := send(t, delivery{Path: "/hooks/cf?space=a&env=b", Body: body, Header: sign("https://cms.example/hooks/cf?space=a&env=b")})
	wantStatus(t, a, http.StatusOK)
	got := up.only(t)
	wantBodyThrough(t, got, body)
	if got.Path != "/internal/hooks/cf" {
		t.Errorf("the app got %s, want the rewritten path", got.Path)
	}
	// Signed for the rewritten path: not what the sender called.
	before := up.count()
	wantRejected(t, send(t, delivery{Path: "/hooks/cf?space=a&env=b", Body: body, Header: sign("https://cms.example/internal/hooks/cf?space=a&env=b")}), http.StatusUnauthorized, up, before)

	out.reset()
	a = send(t, delivery{Path: "/relayed/cf?space=a&env=b", Body: body})
	signWantAccepted(t, a, out.only(t), body)
}

func mustGetPreset(t *testing.T, name string) *scheme.Scheme {
	t.Helper()
	s, err := preset.Get(name, preset.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func mustDecode(t *testing.T, name, secret string) []byte {
	t.Helper()
	k, err := mustGetPreset(t, name).DecodeSecret(secret)
	if err != nil {
		t.Fatal(err)
	}
	return k
}
