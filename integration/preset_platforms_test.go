package integration

import (
	"bufio"
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/PagerDuty/go-pagerduty/webhookv3"
)

// The platforms family end to end, for what the per-preset vectors cannot
// show: each sender's handshake sent as the sender sends it (Twitch's as
// its official CLI sent it), HubSpot's signed URL behind a rewrite and
// with public_url, and PagerDuty's official Go library on both sides.

// platformsSecrets are strong secrets for the routes (weak ones would only
// be warned about, but the point here is the protocol).
var platformsSecrets = struct {
	twitch, dropbox, okta, asana, onfleet, pagerduty, hubspot string
}{
	twitch:    "s3cRe7-f0r-hookguard-tests", // what the captured CLI requests were signed with
	dropbox:   "dbx-app-secret-Xq8vN2pL7rT4wZ9k",
	okta:      "Basic b2t0YS1ob29rOjlKd1E1dVQyeFY4bVo0cEw=",
	asana:     "b537207f20cbfa02357cf448134da559e8bd39d61597dcd5631b8012eae53e81",
	onfleet:   "7c4e2ab1d3f5968e0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f6071",
	pagerduty: "lDQHScfUeXUKaQRNF+8XIiDKZ7XX3itBAYzwU0TARw8lJqRnkKl2iB1anSb0Z+IK",
	hubspot:   "hubspot-client-secret-5b1e0c7d-2f3a",
}

func platformsSite(up, pdReceiver string) string {
	s := platformsSecrets
	route := func(path, verify string) string {
		return fmt.Sprintf("\thandle %s {\n\t\t%s\n\t\treverse_proxy %s\n\t}\n", path, verify, up)
	}
	return fmt.Sprintf("\nhttp://localhost:%d {\n%s%s%s%s%s%s%s%s%s%s%s\n%s}\n", httpPort,
		// The captured requests are from 2023: their timestamps are judged
		// by the vectors; here the handshake is.
		route("/twitch/cli", fmt.Sprintf("webhook_verify twitch %q {\n\t\t\ttolerance 0\n\t\t\thandshake answer\n\t\t}", s.twitch)),
		route("/twitch/pass", fmt.Sprintf("webhook_verify twitch %q", s.twitch)),
		route("/twitch/answer", fmt.Sprintf("webhook_verify twitch %q {\n\t\t\thandshake answer\n\t\t}", s.twitch)),
		route("/dropbox", fmt.Sprintf("webhook_verify dropbox %q", s.dropbox)),
		route("/okta", fmt.Sprintf("webhook_verify okta %q", s.okta)),
		route("/asana", fmt.Sprintf("webhook_verify asana %q", s.asana)),
		route("/onfleet", fmt.Sprintf("webhook_verify onfleet %q", s.onfleet)),
		route("/pagerduty", fmt.Sprintf("webhook_verify pagerduty %q", s.pagerduty)),
		fmt.Sprintf("\thandle /pagerduty-out {\n\t\twebhook_sign pagerduty %q\n\t\treverse_proxy %s\n\t}\n", s.pagerduty, pdReceiver),
		// HubSpot signs the URL it called: the request-target as it
		// arrived, before this rewrite, and with public_url the public
		// scheme and host instead of the ones Caddy sees.
		route("/hubspot/*", fmt.Sprintf("rewrite * /internal{uri}\n\t\twebhook_verify hubspot %q", s.hubspot)),
		route("/hubspot-public/*", fmt.Sprintf("webhook_verify hubspot %q {\n\t\t\tpublic_url https://hooks.example.com\n\t\t}", s.hubspot)),
		errorsBlock)
}

// do sends one request to the gateway.
func do(t *testing.T, method, path string, h http.Header, body []byte) answer {
	t.Helper()
	req, err := http.NewRequest(method, gatewayURL+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if len(body) == 0 {
		req.Body = http.NoBody
	}
	for k, vs := range h {
		req.Header[k] = vs
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	rb, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return answer{Status: resp.StatusCode, Body: string(rb), Header: resp.Header}
}

// twitchCaptured is one request the Twitch CLI sent (testdata capture).
type twitchCaptured struct {
	Method  string      `json:"method"`
	Headers [][2]string `json:"headers"`
	Body    string      `json:"body"`
}

func loadTwitchCaptures(t *testing.T) []twitchCaptured {
	t.Helper()
	f, err := os.Open("../preset/testdata/gen/platforms/twitch/captured.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []twitchCaptured
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var c twitchCaptured
		if err := json.Unmarshal(sc.Bytes(), &c); err != nil {
			t.Fatal(err)
		}
		out = append(out, c)
	}
	if len(out) < 3 {
		t.Fatalf("%d captured requests", len(out))
	}
	return out
}

func (c twitchCaptured) header() http.Header {
	h := http.Header{}
	for _, kv := range c.Headers {
		if kv[0] == "Host" || kv[0] == "Content-Length" || kv[0] == "Accept-Encoding" {
			continue
		}
		h.Add(kv[0], kv[1])
	}
	return h
}

func twitchSign(secret, id, ts string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(id + ts))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

func TestPlatformsHandshakes(t *testing.T) {
	skipShort(t)
	up := newUpstream(t)
	pd := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := webhookv3.VerifySignature(r, platformsSecrets.pagerduty); err != nil {
			http.Error(w, err.Error(), http.StatusForbidden)
			return
		}
		io.WriteString(w, "go-pagerduty verified it")
	}))
	defer pd.Close()
	loadConfig(t, platformsSite(up.addr(), strings.TrimPrefix(pd.URL, "http://")))
	s := platformsSecrets
	// refused sends a request that must be refused with 401, through
	// handle_errors, with nothing reaching the app.
	refused := func(t *testing.T, method, path string, h http.Header, body []byte) {
		t.Helper()
		before := up.count()
		wantRejected(t, do(t, method, path, h, body), http.StatusUnauthorized, up, before)
	}

	t.Run("twitch: the CLI's verification, answered with handshake answer", func(t *testing.T) {
		caps := loadTwitchCaptures(t)
		verification := caps[0]
		var v struct{ Challenge string }
		if err := json.Unmarshal([]byte(verification.Body), &v); err != nil || v.Challenge == "" {
			t.Fatalf("captured verification: %v", err)
		}
		up.reset()
		a := do(t, verification.Method, "/twitch/cli", verification.header(), []byte(verification.Body))
		if a.Status != http.StatusOK || a.Body != v.Challenge || !strings.HasPrefix(a.Header.Get("Content-Type"), "text/plain") {
			t.Fatalf("answered %d %q (%s), want 200 %q text/plain", a.Status, a.Body, a.Header.Get("Content-Type"), v.Challenge)
		}
		if up.count() != 0 {
			t.Error("an answered handshake reached the app")
		}
		// The CLI's notification and revocation go on to the app.
		for _, c := range caps[1:3] {
			up.reset()
			wantStatus(t, do(t, c.Method, "/twitch/cli", c.header(), []byte(c.Body)), http.StatusOK)
			if got := up.only(t); got.Header.Get("Twitch-Eventsub-Message-Type") == "" {
				t.Error("message type header lost")
			}
		}
		// A forged verification is refused, not answered.
		h := verification.header()
		h.Set("Twitch-Eventsub-Message-Signature", twitchSign("guess-guess-guess", h.Get("Twitch-Eventsub-Message-Id"), h.Get("Twitch-Eventsub-Message-Timestamp"), []byte(verification.Body)))
		up.reset()
		refused(t, http.MethodPost, "/twitch/cli", h, []byte(verification.Body))
	})

	t.Run("twitch: a fresh verification goes to the app unless handshake answer", func(t *testing.T) {
		body := []byte(`{"challenge":"a-fresh-challenge-123","subscription":{"id":"f1c2a387","status":"webhook_callback_verification_pending","type":"stream.online","version":"1"}}`)
		ts := time.Now().UTC().Format(time.RFC3339Nano)
		h := http.Header{
			"Twitch-Eventsub-Message-Id":        {"e76c6bd4-55c9-4987-8304-da1588d8988b"},
			"Twitch-Eventsub-Message-Timestamp": {ts},
			"Twitch-Eventsub-Message-Type":      {"webhook_callback_verification"},
			"Twitch-Eventsub-Message-Signature": {twitchSign(s.twitch, "e76c6bd4-55c9-4987-8304-da1588d8988b", ts, body)},
			"Content-Type":                      {"application/json"},
		}
		up.reset()
		a := do(t, http.MethodPost, "/twitch/answer", h, body)
		if a.Status != http.StatusOK || a.Body != "a-fresh-challenge-123" || up.count() != 0 {
			t.Fatalf("handshake answer: %d %q, app saw %d", a.Status, a.Body, up.count())
		}
		up.reset()
		a = do(t, http.MethodPost, "/twitch/pass", h, body)
		if a.Status != http.StatusOK || a.Body != "upstream got it" {
			t.Fatalf("handshake pass: %d %q", a.Status, a.Body)
		}
		wantBodyThrough(t, up.only(t), body)
		// Eleven minutes old: Twitch's window is ten.
		old := time.Now().Add(-11 * time.Minute).UTC().Format(time.RFC3339Nano)
		h.Set("Twitch-Eventsub-Message-Timestamp", old)
		h.Set("Twitch-Eventsub-Message-Signature", twitchSign(s.twitch, "e76c6bd4-55c9-4987-8304-da1588d8988b", old, body))
		up.reset()
		refused(t, http.MethodPost, "/twitch/answer", h, body)
	})

	t.Run("dropbox: GET ?challenge= echoed, never passed on", func(t *testing.T) {
		up.reset()
		a := do(t, http.MethodGet, "/dropbox?challenge=abc123", nil, nil)
		if a.Status != http.StatusOK || a.Body != "abc123" || !strings.HasPrefix(a.Header.Get("Content-Type"), "text/plain") || a.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Fatalf("answered %d %q %v", a.Status, a.Body, a.Header)
		}
		refused(t, http.MethodGet, "/dropbox", nil, nil)
		refused(t, http.MethodGet, "/dropbox?challenge=a%20b", nil, nil)
		body := []byte(`{"list_folder": {"accounts": ["dbid:AAH4f99T0taONIb-OurWxbNQ6ywGRopQngc"]}, "delta": {"users": [12345]}}`)
		m := hmac.New(sha256.New, []byte(s.dropbox))
		m.Write(body)
		wantStatus(t, do(t, http.MethodPost, "/dropbox", http.Header{"X-Dropbox-Signature": {hex.EncodeToString(m.Sum(nil))}}, body), http.StatusOK)
		wantBodyThrough(t, up.only(t), body)
	})

	t.Run("onfleet: GET ?check= echoed with 200", func(t *testing.T) {
		up.reset()
		a := do(t, http.MethodGet, "/onfleet?check=example", nil, nil)
		if a.Status != http.StatusOK || a.Body != "example" {
			t.Fatalf("answered %d %q", a.Status, a.Body)
		}
		key, _ := hex.DecodeString(s.onfleet)
		body := []byte(`{"taskId":"1yvGPvDDB0B4t4SJH8hm6Fga","triggerName":"taskCompleted"}`)
		m := hmac.New(sha512.New, key)
		m.Write(body)
		wantStatus(t, do(t, http.MethodPost, "/onfleet", http.Header{"X-Onfleet-Signature": {hex.EncodeToString(m.Sum(nil))}}, body), http.StatusOK)
		wantBodyThrough(t, up.only(t), body)
		m = hmac.New(sha256.New, key)
		m.Write(body)
		// SHA-256 is not what Onfleet signs with.
		refused(t, http.MethodPost, "/onfleet", http.Header{"X-Onfleet-Signature": {hex.EncodeToString(m.Sum(nil))}}, body)
	})

	t.Run("okta: the verification GET is answered once its secret matches", func(t *testing.T) {
		up.reset()
		h := http.Header{
			"Authorization":                 {s.okta},
			"X-Okta-Verification-Challenge": {"Me_rShK8JHsTnbyYrWXCEoMGbM_zsZ6k0hLPZ_Pg"},
			"Accept":                        {"application/json"},
			"User-Agent":                    {"Okta-Integrations"},
		}
		a := do(t, http.MethodGet, "/okta", h, nil)
		if a.Status != http.StatusOK || a.Body != `{"verification":"Me_rShK8JHsTnbyYrWXCEoMGbM_zsZ6k0hLPZ_Pg"}` || a.Header.Get("Content-Type") != "application/json" {
			t.Fatalf("answered %d %q %v", a.Status, a.Body, a.Header)
		}
		h.Set("Authorization", "Basic d3Jvbmc6c2VjcmV0")
		refused(t, http.MethodGet, "/okta", h, nil)
		h.Del("Authorization")
		refused(t, http.MethodGet, "/okta", h, nil)
		body := []byte(`{"eventType":"com.okta.event_hook","data":{"events":[]}}`)
		wantStatus(t, do(t, http.MethodPost, "/okta", http.Header{"Authorization": {s.okta}}, body), http.StatusOK)
		wantBodyThrough(t, up.only(t), body)
	})

	t.Run("asana: X-Hook-Secret echoed; deliveries need the configured secret", func(t *testing.T) {
		up.reset()
		a := do(t, http.MethodPost, "/asana", http.Header{"X-Hook-Secret": {s.asana}}, nil)
		if a.Status != http.StatusOK || a.Header.Get("X-Hook-Secret") != s.asana || up.count() != 0 {
			t.Fatalf("answered %d %v, app saw %d", a.Status, a.Header, up.count())
		}
		// Someone else's webhook pointed here: its handshake is echoed,
		// its deliveries are not let through.
		other := "0000000000000000000000000000000000000000000000000000000000000abc"
		if a := do(t, http.MethodPost, "/asana", http.Header{"X-Hook-Secret": {other}}, nil); a.Header.Get("X-Hook-Secret") != other {
			t.Fatalf("other handshake: %v", a.Header)
		}
		body := []byte(`{"events":[]}`)
		sign := func(secret string) string {
			m := hmac.New(sha256.New, []byte(secret))
			m.Write(body)
			return hex.EncodeToString(m.Sum(nil))
		}
		refused(t, http.MethodPost, "/asana", http.Header{"X-Hook-Signature": {sign(other)}}, body)
		wantStatus(t, do(t, http.MethodPost, "/asana", http.Header{"X-Hook-Signature": {sign(s.asana)}}, body), http.StatusOK)
		wantBodyThrough(t, up.only(t), body)
	})

	t.Run("pagerduty: go-pagerduty's vector verifies; go-pagerduty verifies webhook_sign", func(t *testing.T) {
		up.reset()
		// go-pagerduty v1.8.0's own test vector (webhookv3_test.go).
		vectors := loadPlatformsVector(t, "pagerduty")
		c := vectors.Cases[0]
		h := http.Header{}
		for k, v := range c.Headers {
			h.Set(k, v)
		}
		wantStatus(t, do(t, http.MethodPost, "/pagerduty", h, []byte(c.Body)), http.StatusOK)
		wantBodyThrough(t, up.only(t), []byte(c.Body))
		// webhook_sign pagerduty, checked by the official library.
		a := do(t, http.MethodPost, "/pagerduty-out", http.Header{"Content-Type": {"application/json"}}, []byte(c.Body))
		if a.Status != http.StatusOK || a.Body != "go-pagerduty verified it" {
			t.Fatalf("go-pagerduty: %d %q", a.Status, a.Body)
		}
	})

	t.Run("hubspot: the URL HubSpot called, behind a rewrite and with public_url", func(t *testing.T) {
		body := []byte(`[{"eventId":1,"subscriptionType":"contact.creation","portalId":62515}]`)
		sign := func(method, signedURL, ts string) http.Header {
			m := hmac.New(sha256.New, []byte(s.hubspot))
			m.Write([]byte(method + signedURL))
			m.Write(body)
			m.Write([]byte(ts))
			return http.Header{
				"X-Hubspot-Signature-V3":      {base64.StdEncoding.EncodeToString(m.Sum(nil))},
				"X-Hubspot-Request-Timestamp": {ts},
				"Content-Type":                {"application/json"},
			}
		}
		ms := strconv.FormatInt(time.Now().UnixMilli(), 10)
		path := "/hubspot/in?next=https%3A%2F%2Fapp.example.com%2Fdone&q=a%20b"
		signed := fmt.Sprintf("http://localhost:%d/hubspot/in?next=https://app.example.com/done&q=a%%20b", httpPort)
		up.reset()
		wantStatus(t, do(t, http.MethodPost, path, sign("POST", signed, ms), body), http.StatusOK)
		if got := up.only(t); got.Path != "/internal/hubspot/in" {
			t.Errorf("rewrite not applied: upstream got %s", got.Path)
		}
		// Signed over the rewritten URL: not what HubSpot called.
		rewritten := fmt.Sprintf("http://localhost:%d/internal/hubspot/in?next=https://app.example.com/done&q=a%%20b", httpPort)
		refused(t, http.MethodPost, path, sign("POST", rewritten, ms), body)
		// Six minutes old.
		old := strconv.FormatInt(time.Now().Add(-6*time.Minute).UnixMilli(), 10)
		refused(t, http.MethodPost, path, sign("POST", signed, old), body)

		up.reset()
		wantStatus(t, do(t, http.MethodPost, "/hubspot-public/in", sign("POST", "https://hooks.example.com/hubspot-public/in", ms), body), http.StatusOK)
		wantBodyThrough(t, up.only(t), body)
		local := fmt.Sprintf("http://localhost:%d/hubspot-public/in", httpPort)
		refused(t, http.MethodPost, "/hubspot-public/in", sign("POST", local, ms), body)
	})
}

// platformsVector is the part of a vector file these tests read.
type platformsVector struct {
	Cases []struct {
		Headers map[string]string `json:"headers"`
		Body    string            `json:"body"`
	} `json:"cases"`
}

func loadPlatformsVector(t *testing.T, name string) platformsVector {
	t.Helper()
	b, err := os.ReadFile("../preset/testdata/vectors/" + name + ".json")
	if err != nil {
		t.Fatal(err)
	}
	var v platformsVector
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	return v
}
