package integration

import (
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
	"github.com/stripe/stripe-go/v85/webhook"

	"github.com/hookguard/hookguard/preset"
	"github.com/hookguard/hookguard/signer"
)

// The tests of webhook_sign: a real Caddyfile whose routes sign outgoing
// requests and reverse_proxy them to receivers (sign_helpers_test.go) that
// check the signature with the provider's official library, or with
// crypto/hmac from the provider's documentation.

// signSizes are the body sizes every scheme must relay untouched.
var signSizes = []struct {
	name string
	n    int
}{
	{"0B", 0},
	{"1KiB", 1 << 10},
	{"1MiB", 1 << 20},
}

// signSchemes are the presets webhook_sign is checked with, each against
// a receiver of its own.
var signSchemes = []string{"standard", "svix", "stripe", "github", "gitlab", "slack", "shopify", "decsys", "bitbucket"}

// signSite wraps routes in the test site, with handle_errors.
func signSite(routes string) string {
	return fmt.Sprintf("\nhttp://localhost:%d {\n%s\n%s}\n", httpPort, routes, errorsBlock)
}

// signProxy is a reverse_proxy to r with extra lines in its block; for an
// HTTPS receiver its certificate is trusted (tls_trust_pool) on this route.
func signProxy(t *testing.T, r *signReceiver, extra string) string {
	t.Helper()
	tr := ""
	if strings.HasPrefix(r.url(), "https://") {
		tr = fmt.Sprintf("\t\t\ttransport http {\n\t\t\t\ttls_trust_pool file %q\n\t\t\t}\n", r.pemFile(t))
	}
	return fmt.Sprintf("\t\treverse_proxy %s {\n%s%s\n\t\t}\n", r.url(), tr, extra)
}

// signRoute is a handle block for path that signs with scheme and secret
// (plus block lines, if any) and proxies to r.
func signRoute(t *testing.T, path, scheme, secret, block string, r *signReceiver, proxyExtra string) string {
	t.Helper()
	if block != "" {
		block = " {\n" + block + "\n\t\t}"
	}
	return fmt.Sprintf("\thandle %s {\n\t\twebhook_sign %s %q%s\n%s\t}\n", path, scheme, secret, block, signProxy(t, r, proxyExtra))
}

// TestSignOfficialReceivers relays bodies of 0 B, 1 KiB and 1 MiB, sent
// with a Content-Length and chunked, through a webhook_sign route of every
// preset to a receiver of its own (every other one over HTTPS): each
// receiver must accept the signature with the provider's official library
// (Standard Webhooks, Svix, stripe-go) or a crypto/hmac check written from
// the provider's docs, and get the body byte for byte with an exact
// Content-Length.
func TestSignOfficialReceivers(t *testing.T) {
	skipShort(t)
	rcv := map[string]*signReceiver{}
	var b strings.Builder
	for i, scheme := range signSchemes {
		secret := signSecret(t, scheme)
		rcv[scheme] = newSignReceiver(t, i%2 == 0, signReceiverChecks[scheme](secret))
		b.WriteString(signRoute(t, "/out/"+scheme, scheme, secret, "", rcv[scheme], ""))
	}
	loadConfig(t, signSite(b.String()))

	for i, scheme := range signSchemes {
		for _, size := range signSizes {
			for _, chunked := range []bool{false, true} {
				mode := "content-length"
				if chunked {
					mode = "chunked"
				}
				t.Run(scheme+"/"+size.name+"/"+mode, func(t *testing.T) {
					r := rcv[scheme]
					r.reset()
					body := randomBody(t, size.n)
					a := send(t, delivery{Path: "/out/" + scheme, Body: body, Chunked: chunked})
					d := r.only(t)
					signWantAccepted(t, a, d, body)
					if d.TLS != (i%2 == 0) {
						t.Errorf("receiver got TLS=%v, want %v", d.TLS, i%2 == 0)
					}
				})
			}
		}
	}
}

// TestSignUpstreamTLSPerRoute: whether the receiver's certificate is
// verified is set per route, by reverse_proxy's transport. One site, all
// receivers HTTPS with self-signed certificates:
//
//   - /tls/default: default verification refuses httptest's certificate: 502,
//     nothing received;
//   - /tls/pool: tls_trust_pool file <its PEM> delivers;
//   - /tls/server-name: the same with tls_server_name example.com delivers;
//     /tls/wrong-name with tls_server_name wrong.example does not;
//   - /tls/other-ca: a trust pool holding another certificate does not;
//   - /tls/skip: tls_insecure_skip_verify delivers, while /tls/neighbour, on
//     the same site, to the same receiver, with default verification, still
//     refuses it, before and after /tls/skip has connected to it.
func TestSignUpstreamTLSPerRoute(t *testing.T) {
	skipShort(t)
	secret := signSecret(t, "standard")
	check := signStandardCheck(secret)
	dflt := newSignReceiver(t, true, check)
	pooled := newSignReceiver(t, true, check)
	foreign := newSignReceiverWithCert(t, selfSignedCert(t, "example.com", true), check)
	skip := newSignReceiver(t, true, check)
	pem := pooled.pemFile(t)

	route := func(path string, r *signReceiver, transport string) string {
		if transport != "" {
			transport = "\t\t\ttransport http {\n" + transport + "\n\t\t\t}\n"
		}
		return fmt.Sprintf("\thandle %s {\n\t\twebhook_sign standard %q\n\t\treverse_proxy %s {\n%s\t\t}\n\t}\n",
			path, secret, r.url(), transport)
	}
	loadConfig(t, signSite(
		route("/tls/default", dflt, "")+
			route("/tls/pool", pooled, "\t\t\t\ttls_trust_pool file "+strconv.Quote(pem))+
			route("/tls/server-name", pooled, "\t\t\t\ttls_trust_pool file "+strconv.Quote(pem)+"\n\t\t\t\ttls_server_name example.com")+
			route("/tls/wrong-name", pooled, "\t\t\t\ttls_trust_pool file "+strconv.Quote(pem)+"\n\t\t\t\ttls_server_name wrong.example")+
			route("/tls/other-ca", foreign, "\t\t\t\ttls_trust_pool file "+strconv.Quote(pem))+
			route("/tls/skip", skip, "\t\t\t\ttls_insecure_skip_verify")+
			route("/tls/neighbour", skip, "")))

	refused := func(path string, r *signReceiver) {
		t.Helper()
		before := r.count()
		a := send(t, delivery{Path: path, Body: randomBody(t, 512)})
		signWantRefused(t, a, http.StatusBadGateway, r, before)
	}
	delivered := func(path string, r *signReceiver) {
		t.Helper()
		r.reset()
		body := randomBody(t, 4096)
		a := send(t, delivery{Path: path, Body: body})
		d := r.only(t)
		signWantAccepted(t, a, d, body)
		if !d.TLS {
			t.Errorf("%s: receiver got the request without TLS", path)
		}
	}

	t.Run("default refuses self-signed", func(t *testing.T) { refused("/tls/default", dflt) })
	t.Run("trust pool", func(t *testing.T) { delivered("/tls/pool", pooled) })
	t.Run("trust pool and server name", func(t *testing.T) { delivered("/tls/server-name", pooled) })
	t.Run("trust pool, wrong server name", func(t *testing.T) { refused("/tls/wrong-name", pooled) })
	t.Run("trust pool of another certificate", func(t *testing.T) { refused("/tls/other-ca", foreign) })
	t.Run("neighbour before skip", func(t *testing.T) { refused("/tls/neighbour", skip) })
	t.Run("skip verify", func(t *testing.T) { delivered("/tls/skip", skip) })
	t.Run("neighbour after skip", func(t *testing.T) { refused("/tls/neighbour", skip) })
}

// signForged are header values a client might send in to pass a signature
// of its own making; none may reach a receiver.
const (
	signForgedSig = "Zm9yZ2VkIHNpZ25hdHVyZQ" // base64 of "forged signature"
	signForgedID  = "msg_forged_by_client"
	signForgedTS  = "1000000000"
)

// TestSignReplacesForgedHeaders sends, to standard, svix and github
// routes, requests that already carry signature, timestamp and id headers
// (twice each; for svix under both its svix-* and webhook-* names). The
// receiver must see exactly one value of each header the scheme sets, made
// by Caddy (the official library accepts it), none of the forged values
// anywhere, and, for svix, no webhook-* header at all.
func TestSignReplacesForgedHeaders(t *testing.T) {
	skipShort(t)
	std, sv, gh := signSecret(t, "standard"), signSecret(t, "svix"), signSecret(t, "github")
	rStd := newSignReceiver(t, false, signStandardCheck(std))
	rSvix := newSignReceiver(t, false, signSvixCheck(sv))
	rGH := newSignReceiver(t, false, func(body []byte, h http.Header) error {
		if err := signOnly(h, "X-Github-Delivery"); err != nil {
			return err
		}
		return signGitHubCheck(gh)(body, h)
	})
	loadConfig(t, signSite(
		signRoute(t, "/forge/standard", "standard", std, "", rStd, "")+
			signRoute(t, "/forge/svix", "svix", sv, "", rSvix, "")+
			signRoute(t, "/forge/github", "github", gh, "", rGH, "")))

	stdForged := func(prefix string) http.Header {
		return http.Header{
			prefix + "Signature": {"v1," + signForgedSig, "v1," + signForgedSig + "=="},
			prefix + "Id":        {signForgedID, signForgedID},
			prefix + "Timestamp": {signForgedTS, signForgedTS},
		}
	}
	svixForged := stdForged("Svix-")
	for k, v := range stdForged("Webhook-") {
		svixForged[k] = v
	}
	cases := []struct {
		name   string
		r      *signReceiver
		forged http.Header
		absent []string // headers that must not reach the receiver at all
	}{
		{"standard", rStd, stdForged("Webhook-"), nil},
		{"svix", rSvix, svixForged, []string{"Webhook-Signature", "Webhook-Id", "Webhook-Timestamp"}},
		{"github", rGH, http.Header{
			"X-Hub-Signature-256": {"sha256=" + hex.EncodeToString([]byte("forged signature, forged signature")), "sha256=00"},
			"X-Github-Delivery":   {signForgedID, signForgedID},
		}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.r.reset()
			body := randomBody(t, 2048)
			a := send(t, delivery{Path: "/forge/" + c.name, Body: body, Header: c.forged})
			d := c.r.only(t)
			signWantAccepted(t, a, d, body)
			for name, vs := range d.Header {
				for _, v := range vs {
					if strings.Contains(v, signForgedSig) || strings.Contains(v, signForgedID) || v == signForgedTS ||
						strings.Contains(v, hex.EncodeToString([]byte("forged"))) || v == "sha256=00" {
						t.Errorf("receiver got the forged %s: %q", name, v)
					}
				}
			}
			for _, name := range c.absent {
				if vs := d.Header.Values(name); len(vs) != 0 {
					t.Errorf("receiver got %s %q; the scheme owns it, so the incoming copies must be dropped", name, vs)
				}
			}
		})
	}
}

// TestSignSeveralSecrets: a standard route with two current secrets and
// one past its not_after sends two v1 signatures, each of which the
// official library accepts with its secret alone (the receiver can rotate),
// and none made with the expired secret; stripe likewise sends two v1=
// entries that stripe-go accepts with either secret. A github route whose
// first secret has expired signs with the second.
func TestSignSeveralSecrets(t *testing.T) {
	skipShort(t)
	old, cur, retired := signSecret(t, "standard"), signSecret(t, "standard"), signSecret(t, "standard")
	stOld, stCur := signSecret(t, "stripe"), signSecret(t, "stripe")
	ghRetired, ghCur := signSecret(t, "github"), signSecret(t, "github")
	rStd := newSignReceiver(t, false, nil)
	rStripe := newSignReceiver(t, false, nil)
	rGH := newSignReceiver(t, false, nil)
	secrets := func(lines ...string) string { return "\t\t\t" + strings.Join(lines, "\n\t\t\t") }
	loadConfig(t, signSite(
		fmt.Sprintf("\thandle /rotate/standard {\n\t\twebhook_sign standard {\n%s\n\t\t}\n%s\t}\n",
			secrets(
				fmt.Sprintf("secret %q label old not_after 2099-01-01T00:00:00Z", old),
				fmt.Sprintf("secret %q label new", cur),
				fmt.Sprintf("secret %q label retired not_after 2020-01-01T00:00:00Z", retired)),
			signProxy(t, rStd, ""))+
			fmt.Sprintf("\thandle /rotate/stripe {\n\t\twebhook_sign stripe {\n%s\n\t\t}\n%s\t}\n",
				secrets(fmt.Sprintf("secret %q", stOld), fmt.Sprintf("secret %q", stCur)),
				signProxy(t, rStripe, ""))+
			fmt.Sprintf("\thandle /rotate/github {\n\t\twebhook_sign github {\n%s\n\t\t}\n%s\t}\n",
				secrets(fmt.Sprintf("secret %q not_after 2020-01-01T00:00:00Z", ghRetired), fmt.Sprintf("secret %q", ghCur)),
				signProxy(t, rGH, ""))))

	t.Run("standard", func(t *testing.T) {
		body := randomBody(t, 1500)
		a := send(t, delivery{Path: "/rotate/standard", Body: body})
		d := rStd.only(t)
		signWantAccepted(t, a, d, body)
		sigs := strings.Fields(d.Header.Get("Webhook-Signature"))
		if len(sigs) != 2 || len(d.Header.Values("Webhook-Signature")) != 1 {
			t.Fatalf("Webhook-Signature %q, want one header of two space-separated signatures", d.Header.Values("Webhook-Signature"))
		}
		for _, s := range sigs {
			if !strings.HasPrefix(s, "v1,") {
				t.Errorf("signature %q does not start with v1,", s)
			}
		}
		for _, c := range []struct {
			name, secret string
			ok           bool
		}{{"old", old, true}, {"new", cur, true}, {"retired", retired, false}} {
			err := signStandardCheck(c.secret)(d.Body, d.Header)
			if c.ok && err != nil {
				t.Errorf("standard-webhooks with the %s secret alone: %v", c.name, err)
			}
			if !c.ok && err == nil {
				t.Errorf("standard-webhooks accepts the %s secret: an expired secret was used to sign", c.name)
			}
		}
	})
	t.Run("stripe", func(t *testing.T) {
		body := randomBody(t, 1500)
		a := send(t, delivery{Path: "/rotate/stripe", Body: body})
		d := rStripe.only(t)
		signWantAccepted(t, a, d, body)
		sig := d.Header.Get("Stripe-Signature")
		if n := strings.Count(sig, "v1="); n != 2 {
			t.Errorf("Stripe-Signature %q has %d v1= entries, want 2", sig, n)
		}
		for _, s := range []string{stOld, stCur} {
			if err := webhook.ValidatePayload(d.Body, sig, s); err != nil {
				t.Errorf("stripe-go with one secret alone: %v", err)
			}
		}
	})
	t.Run("github", func(t *testing.T) {
		body := randomBody(t, 1500)
		a := send(t, delivery{Path: "/rotate/github", Body: body})
		d := rGH.only(t)
		signWantAccepted(t, a, d, body)
		if err := signGitHubCheck(ghCur)(d.Body, d.Header); err != nil {
			t.Errorf("not signed with the current secret: %v", err)
		}
		if signGitHubCheck(ghRetired)(d.Body, d.Header) == nil {
			t.Errorf("signed with the expired secret")
		}
	})
}

// TestSignPlaceholders: {http.webhook.id} and {http.webhook.timestamp},
// handed to the receiver by header_up, are the id and timestamp headers
// webhook_sign sent (standard, svix; github's delivery id); the timestamp
// is now and every delivery gets a new id.
func TestSignPlaceholders(t *testing.T) {
	skipShort(t)
	const up = "\t\t\theader_up X-Sent-Id {http.webhook.id}\n\t\t\theader_up X-Sent-Timestamp {http.webhook.timestamp}"
	type c struct {
		scheme, idHeader, tsHeader string
		r                          *signReceiver
	}
	cases := []*c{
		{scheme: "standard", idHeader: "Webhook-Id", tsHeader: "Webhook-Timestamp"},
		{scheme: "svix", idHeader: "Svix-Id", tsHeader: "Svix-Timestamp"},
		{scheme: "github", idHeader: "X-Github-Delivery"},
	}
	var b strings.Builder
	for _, c := range cases {
		secret := signSecret(t, c.scheme)
		c.r = newSignReceiver(t, false, signReceiverChecks[c.scheme](secret))
		b.WriteString(signRoute(t, "/ph/"+c.scheme, c.scheme, secret, "", c.r, up))
	}
	loadConfig(t, signSite(b.String()))

	for _, c := range cases {
		t.Run(c.scheme, func(t *testing.T) {
			ids := map[string]bool{}
			for range 2 {
				c.r.reset()
				body := randomBody(t, 300)
				start := time.Now().Unix()
				a := send(t, delivery{Path: "/ph/" + c.scheme, Body: body})
				end := time.Now().Unix()
				d := c.r.only(t)
				signWantAccepted(t, a, d, body)
				id := d.Header.Get(c.idHeader)
				if id == "" || d.Header.Get("X-Sent-Id") != id {
					t.Errorf("{http.webhook.id} = %q, %s = %q; want equal and not empty", d.Header.Get("X-Sent-Id"), c.idHeader, id)
				}
				ids[id] = true
				sent := d.Header.Get("X-Sent-Timestamp")
				if ts, err := strconv.ParseInt(sent, 10, 64); err != nil || ts < start || ts > end {
					t.Errorf("{http.webhook.timestamp} = %q, want the Unix time of sending (%d..%d)", sent, start, end)
				}
				if c.tsHeader != "" && d.Header.Get(c.tsHeader) != sent {
					t.Errorf("{http.webhook.timestamp} = %q, %s = %q; want equal", sent, c.tsHeader, d.Header.Get(c.tsHeader))
				}
			}
			if len(ids) != 2 {
				t.Errorf("two deliveries got ids %v; want a fresh id each", ids)
			}
		})
	}
}

// TestSignChain: on one route, webhook_verify github checks the incoming
// webhook and webhook_sign standard re-signs it for a receiver that checks
// Standard Webhooks with the official library. A valid GitHub delivery
// arrives re-signed, body unchanged; a forged signature, a tampered body
// and a missing signature get 401 and the receiver sees nothing.
func TestSignChain(t *testing.T) {
	skipShort(t)
	ghSecret, stdSecret := signSecret(t, "github"), signSecret(t, "standard")
	r := newSignReceiver(t, true, signStandardCheck(stdSecret))
	loadConfig(t, signSite(fmt.Sprintf("\thandle /chain {\n\t\twebhook_verify github %q\n\t\twebhook_sign standard %q\n%s\t}\n",
		ghSecret, stdSecret, signProxy(t, r, ""))))

	github := func(secret string, body []byte) http.Header {
		return http.Header{
			"X-Hub-Signature-256": {"sha256=" + hex.EncodeToString(signHMAC(secret, body))},
			"X-Github-Delivery":   {deliveryID(t)},
		}
	}
	for _, chunked := range []bool{false, true} {
		t.Run(fmt.Sprintf("valid/chunked=%v", chunked), func(t *testing.T) {
			r.reset()
			body := randomBody(t, 64<<10)
			a := send(t, delivery{Path: "/chain", Body: body, Header: github(ghSecret, body), Chunked: chunked})
			signWantAccepted(t, a, r.only(t), body)
		})
	}
	body := randomBody(t, 1024)
	tampered := append([]byte{}, body...)
	tampered[0] ^= 1
	for _, c := range []struct {
		name string
		body []byte
		h    http.Header
	}{
		{"forged", body, github(signSecret(t, "github"), body)},
		{"tampered", tampered, github(ghSecret, body)},
		{"unsigned", body, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			before := r.count()
			a := send(t, delivery{Path: "/chain", Body: c.body, Header: c.h})
			signWantRefused(t, a, http.StatusUnauthorized, r, before)
		})
	}
}

// TestSignSurvivesProxyChanges: reverse_proxy changes the request after
// webhook_sign has run (Host set to the upstream with header_up, a header
// added and one removed, X-Forwarded-* set, and the headers the client's
// Connection header names dropped as hop-by-hop); the signature must still
// verify at the receiver, and the changes must really have been made. A
// client that names the signature headers in Connection must not make
// reverse_proxy drop the ones webhook_sign set.
func TestSignSurvivesProxyChanges(t *testing.T) {
	skipShort(t)
	secret := signSecret(t, "standard")
	r := newSignReceiver(t, true, signStandardCheck(secret))
	loadConfig(t, signSite(signRoute(t, "/proxied", "standard", secret, "", r,
		"\t\t\theader_up Host {upstream_hostport}\n\t\t\theader_up X-Relay hookguard\n\t\t\theader_up -X-Internal")))

	for _, chunked := range []bool{false, true} {
		t.Run(fmt.Sprintf("chunked=%v", chunked), func(t *testing.T) {
			r.reset()
			body := randomBody(t, 10_000)
			a := send(t, delivery{Path: "/proxied", Body: body, Chunked: chunked, Header: http.Header{
				"X-Internal":      {"drop me"},
				"X-Forwarded-For": {"203.0.113.7"},
				"X-Hop":           {"hop-by-hop"},
				"Connection":      {"X-Hop, Webhook-Signature", "webhook-id,Webhook-Timestamp"},
			}})
			d := r.only(t)
			signWantAccepted(t, a, d, body)
			want := map[string]string{
				"Host":              r.hostport(),
				"X-Relay":           "hookguard",
				"X-Internal":        "",
				"X-Forwarded-Proto": "http",
				"X-Forwarded-Host":  fmt.Sprintf("localhost:%d", httpPort),
				"X-Forwarded-For":   "127.0.0.1",
				"X-Hop":             "",
			}
			for k, v := range want {
				got := d.Header.Get(k)
				if k == "Host" {
					got = d.Host
				}
				if got != v {
					t.Errorf("receiver got %s %q, want %q", k, got, v)
				}
			}
		})
	}
}

// TestSignMaxBody: max_body on webhook_sign. A body one byte over it, with
// a Content-Length or chunked, gets 413 and the receiver sees nothing; a
// body of exactly max_body is signed and delivered.
func TestSignMaxBody(t *testing.T) {
	skipShort(t)
	secret := signSecret(t, "standard")
	r := newSignReceiver(t, false, signStandardCheck(secret))
	loadConfig(t, signSite(signRoute(t, "/max", "standard", secret, "\t\t\tmax_body 1KiB", r, "")))
	for _, chunked := range []bool{false, true} {
		t.Run(fmt.Sprintf("over/chunked=%v", chunked), func(t *testing.T) {
			before := r.count()
			a := send(t, delivery{Path: "/max", Body: randomBody(t, 1025), Chunked: chunked})
			signWantRefused(t, a, http.StatusRequestEntityTooLarge, r, before)
		})
		t.Run(fmt.Sprintf("exact/chunked=%v", chunked), func(t *testing.T) {
			r.reset()
			body := randomBody(t, 1024)
			a := send(t, delivery{Path: "/max", Body: body, Chunked: chunked})
			signWantAccepted(t, a, r.only(t), body)
		})
	}
}

// signWeakSecret is a secret that breaks the "common" rule (a common word,
// a sequence).
const signWeakSecret = "Password1234567890!"

// TestSignBinary runs the real hookguard binary: validate refuses a weak
// webhook_sign secret naming the rule and the command that makes a good
// one, without printing the secret, and accepts a strong one; webhook
// secret prints whsec_ + base64 of 32 random bytes; list-modules lists
// both modules.
func TestSignBinary(t *testing.T) {
	signBinary(t) // build first, so a build failure is reported once
	dir := t.TempDir()
	caddyfile := func(name, secret string) string {
		path := filepath.Join(dir, name)
		cfg := fmt.Sprintf("{\n\tadmin off\n\tskip_install_trust\n}\n\nhttp://localhost:9089 {\n\twebhook_sign github %q\n\treverse_proxy 127.0.0.1:9\n}\n", secret)
		if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}

	t.Run("validate weak", func(t *testing.T) {
		res := signRun(t, "validate", "--config", caddyfile("weak", signWeakSecret), "--adapter", "caddyfile")
		out := res.Stdout + res.Stderr
		if res.Code == 0 {
			t.Fatalf("validate accepted a weak secret:\n%s", out)
		}
		for _, want := range []string{"rule common", "hookguard webhook secret"} {
			if !strings.Contains(out, want) {
				t.Errorf("validate output does not say %q:\n%s", want, out)
			}
		}
		if strings.Contains(out, signWeakSecret) || strings.Contains(out, "Password1234567890") {
			t.Errorf("validate output contains the secret:\n%s", out)
		}
	})
	t.Run("validate strong", func(t *testing.T) {
		res := signRun(t, "validate", "--config", caddyfile("strong", signSecret(t, "github")), "--adapter", "caddyfile")
		if res.Code != 0 || !strings.Contains(res.Stdout+res.Stderr, "Valid configuration") {
			t.Errorf("validate of a strong secret: exit %d\n%s%s", res.Code, res.Stdout, res.Stderr)
		}
	})
	t.Run("webhook secret", func(t *testing.T) {
		seen := map[string]bool{}
		for range 2 {
			res := signRun(t, "webhook", "secret", "--scheme", "standard")
			secret := strings.TrimSpace(res.Stdout)
			if res.Code != 0 || !regexp.MustCompile(`^whsec_[A-Za-z0-9+/]+=*$`).MatchString(secret) {
				t.Fatalf("webhook secret: exit %d, stdout %q, want whsec_ + base64", res.Code, res.Stdout)
			}
			key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
			if err != nil || len(key) != 32 {
				t.Errorf("webhook secret %q: %d bytes (%v), want base64 of 32 bytes", secret, len(key), err)
			}
			if _, err := standardwebhooks.NewWebhook(secret); err != nil {
				t.Errorf("standard-webhooks refuses the generated secret: %v", err)
			}
			s, _ := preset.Get("standard", preset.Options{})
			if err := signer.CheckSchemeKey(s, secret).Err(); err != nil {
				t.Errorf("the generated secret is weak: %v", err)
			}
			seen[secret] = true
		}
		if len(seen) != 2 {
			t.Errorf("two runs printed the same secret")
		}
	})
	t.Run("list-modules", func(t *testing.T) {
		res := signRun(t, "list-modules")
		lines := strings.Fields(res.Stdout)
		for _, id := range []string{"http.handlers.webhook_verify", "http.handlers.webhook_sign"} {
			found := false
			for _, l := range lines {
				found = found || l == id
			}
			if !found {
				t.Errorf("list-modules does not list %s (exit %d)", id, res.Code)
			}
		}
	})
}

// TestSignDropsCallerCredentials: the internal caller's Authorization,
// Cookie and Proxy-Authorization are meant for the gateway, not for the
// third party a webhook goes to. By default the receiver sees none of them
// (in any header, under any spelling of the name); with keep_header
// Authorization it sees exactly that one, and still not the others.
func TestSignDropsCallerCredentials(t *testing.T) {
	skipShort(t)
	secret := signSecret(t, "standard")
	dflt := newSignReceiver(t, false, signStandardCheck(secret))
	kept := newSignReceiver(t, false, signStandardCheck(secret))
	loadConfig(t, signSite(
		signRoute(t, "/cred/default", "standard", secret, "", dflt, "")+
			signRoute(t, "/cred/keep", "standard", secret, "\t\t\tkeep_header Authorization", kept, "")))

	const (
		auth   = "Bearer internal-caller-token-5d1f"
		cookie = "session=internal-caller-session-9a2c"
		proxy  = "Basic aW50ZXJuYWw6cHJveHktcGFzcw=="
	)
	creds := http.Header{"Authorization": {auth}, "Cookie": {cookie}, "Proxy-Authorization": {proxy}}
	leaked := func(d signDelivery, except string) {
		t.Helper()
		for name, vs := range d.Header {
			for _, v := range vs {
				for _, c := range []string{auth, cookie, proxy} {
					if c != except && strings.Contains(v, c) {
						t.Errorf("receiver got the caller's credential in %s: %q", name, v)
					}
				}
			}
		}
	}

	t.Run("default", func(t *testing.T) {
		dflt.reset()
		body := randomBody(t, 700)
		a := send(t, delivery{Path: "/cred/default", Body: body, Header: creds})
		d := dflt.only(t)
		signWantAccepted(t, a, d, body)
		for _, name := range []string{"Authorization", "Cookie", "Proxy-Authorization"} {
			if vs := d.Header.Values(name); len(vs) != 0 {
				t.Errorf("receiver got %s %q", name, vs)
			}
		}
		leaked(d, "")
	})
	t.Run("keep_header Authorization", func(t *testing.T) {
		kept.reset()
		body := randomBody(t, 700)
		a := send(t, delivery{Path: "/cred/keep", Body: body, Header: creds})
		d := kept.only(t)
		signWantAccepted(t, a, d, body)
		if vs := d.Header.Values("Authorization"); len(vs) != 1 || vs[0] != auth {
			t.Errorf("receiver got Authorization %q, want exactly the caller's", vs)
		}
		for _, name := range []string{"Cookie", "Proxy-Authorization"} {
			if vs := d.Header.Values(name); len(vs) != 0 {
				t.Errorf("receiver got %s %q; only Authorization was kept", name, vs)
			}
		}
		leaked(d, auth)
	})
}

// TestSignChainKeepsDeliveryIdentity: verify then re-sign must not launder
// replays. On /id/github (webhook_verify github, webhook_sign standard) one
// captured GitHub webhook sent three times, even under three different
// X-GitHub-Delivery values (GitHub does not sign that header), reaches the
// app three times with one and the same webhook-id, each accepted by the
// official Standard Webhooks library, with a fresh timestamp; a different
// webhook gets a different id. On /id/standard (standard in, standard out)
// the sender's own signed id is kept. Under insecure_unsigned nothing was
// verified, so every delivery gets a fresh id.
func TestSignChainKeepsDeliveryIdentity(t *testing.T) {
	skipShort(t)
	ghSecret, inSecret, outSecret := signSecret(t, "github"), signSecret(t, "standard"), signSecret(t, "standard")
	rGH := newSignReceiver(t, false, signStandardCheck(outSecret))
	rStd := newSignReceiver(t, false, signStandardCheck(outSecret))
	rDev := newSignReceiver(t, false, signStandardCheck(outSecret))
	chain := func(path, verify string, r *signReceiver) string {
		return fmt.Sprintf("\thandle %s {\n\t\t%s\n\t\twebhook_sign standard %q\n%s\t}\n", path, verify, outSecret, signProxy(t, r, ""))
	}
	loadConfig(t, signSite(
		chain("/id/github", fmt.Sprintf("webhook_verify github %q", ghSecret), rGH)+
			chain("/id/standard", fmt.Sprintf("webhook_verify standard %q", inSecret), rStd)+
			chain("/id/dev", "webhook_verify github {\n\t\t\tinsecure_unsigned\n\t\t}", rDev)))

	captured := func(body []byte) http.Header {
		return http.Header{"X-Hub-Signature-256": {"sha256=" + hex.EncodeToString(signHMAC(ghSecret, body))}}
	}
	idRE := regexp.MustCompile(`^msg_[a-z2-7]{26}$`)

	t.Run("github replayed", func(t *testing.T) {
		rGH.reset()
		body := randomBody(t, 4096)
		for range 3 {
			h := captured(body)
			h.Set("X-Github-Delivery", deliveryID(t)) // unsigned: a replayer may change it
			start := time.Now().Unix()
			a := send(t, delivery{Path: "/id/github", Body: body, Header: h})
			if a.Status != http.StatusOK {
				t.Fatalf("status %d (%q)", a.Status, a.Body)
			}
			d := rGH.all()[rGH.count()-1]
			signWantAccepted(t, a, d, body)
			if ts, err := strconv.ParseInt(d.Header.Get("Webhook-Timestamp"), 10, 64); err != nil || ts < start || ts > time.Now().Unix() {
				t.Errorf("Webhook-Timestamp %q is not the time of relaying", d.Header.Get("Webhook-Timestamp"))
			}
		}
		all := rGH.all()
		first := all[0].Header.Get("Webhook-Id")
		if !idRE.MatchString(first) {
			t.Errorf("Webhook-Id %q, want msg_ and 26 base32 characters", first)
		}
		for i, d := range all {
			if got := d.Header.Get("Webhook-Id"); got != first {
				t.Errorf("delivery %d of the same webhook got Webhook-Id %q, the first got %q: the app cannot see the replay", i+1, got, first)
			}
		}

		other := randomBody(t, 4096)
		a := send(t, delivery{Path: "/id/github", Body: other, Header: captured(other)})
		d := rGH.all()[rGH.count()-1]
		signWantAccepted(t, a, d, other)
		if got := d.Header.Get("Webhook-Id"); got == first || !idRE.MatchString(got) {
			t.Errorf("a different webhook got Webhook-Id %q (the first: %q)", got, first)
		}
	})

	t.Run("standard keeps the sender's id", func(t *testing.T) {
		rStd.reset()
		body := randomBody(t, 1024)
		const senderID = "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W"
		wh, err := standardwebhooks.NewWebhook(inSecret)
		if err != nil {
			t.Fatal(err)
		}
		now := time.Now()
		sig, err := wh.Sign(senderID, now, body)
		if err != nil {
			t.Fatal(err)
		}
		h := http.Header{"Webhook-Id": {senderID}, "Webhook-Timestamp": {strconv.FormatInt(now.Unix(), 10)}, "Webhook-Signature": {sig}}
		for range 2 {
			a := send(t, delivery{Path: "/id/standard", Body: body, Header: h})
			d := rStd.all()[rStd.count()-1]
			signWantAccepted(t, a, d, body)
			if got := d.Header.Get("Webhook-Id"); got != senderID {
				t.Errorf("Webhook-Id %q, want the sender's %q", got, senderID)
			}
		}
	})

	t.Run("insecure_unsigned gets fresh ids", func(t *testing.T) {
		rDev.reset()
		body := randomBody(t, 512)
		for range 2 {
			signWantAccepted(t, send(t, delivery{Path: "/id/dev", Body: body, Header: captured(body)}), rDev.all()[rDev.count()-1], body)
		}
		all := rDev.all()
		if a, b := all[0].Header.Get("Webhook-Id"), all[1].Header.Get("Webhook-Id"); a == b {
			t.Errorf("two unverified deliveries share Webhook-Id %q: an id derived from nothing verified", a)
		}
	})
}
