package interop_test

// Interoperability with the senders' official Go libraries, used as test
// dependencies only:
//
//   - github.com/stripe/stripe-go/v85 v85.0.0, package webhook
//   - github.com/standard-webhooks/standard-webhooks/libraries v0.0.1,
//     package .../libraries/go (standardwebhooks)
//   - github.com/svix/svix-webhooks v1.44.0, package .../go (svix)
//
// For each: what their signer signs, our verifier accepts; what our signer
// signs, their verifier accepts; and what their verifier rejects, ours
// rejects too. Where we are deliberately stricter (or, in one harmless case,
// more lenient) the test says so and asserts both sides of the difference,
// so that a change on either side is noticed.
//
// The libraries read the real clock (time.Now) with no way to freeze it, so
// these tests use the real clock too and keep every timestamp at least a
// minute away from a tolerance boundary.

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"math/rand"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
	stripewebhook "github.com/stripe/stripe-go/v85/webhook"
	svix "github.com/svix/svix-webhooks/go"

	"github.com/hookguard/hookguard/internal/verifiertest"
	"github.com/hookguard/hookguard/preset"
	"github.com/hookguard/hookguard/signer"
	"github.com/hookguard/hookguard/verifier"
)

// The helpers of package verifier's own tests.
var (
	reasonOf   = verifiertest.ReasonOf
	wantReason = verifiertest.WantReason
	mustPreset = verifiertest.MustPreset
	mustKey    = verifiertest.MustKey
)

const tol = 5 * time.Minute

// interopBodies are the bodies every library round trip is tried with:
// empty, text, every byte value, random binary of several sizes, 1 MiB.
func interopBodies() map[string][]byte {
	r := rand.New(rand.NewSource(20240229))
	all := make([]byte, 256)
	for i := range all {
		all[i] = byte(i)
	}
	bodies := map[string][]byte{
		"empty":     {},
		"json":      []byte(`{"type":"invoice.paid","data":{"object":{"id":"in_1"}}}`),
		"all bytes": all,
		"newlines":  []byte("a\r\nb\n\n.\x00."),
	}
	for _, n := range []int{1, 17, 1000, 4096} {
		b := make([]byte, n)
		r.Read(b)
		bodies[fmt.Sprintf("random %d", n)] = b
	}
	big := make([]byte, 1<<20)
	r.Read(big)
	bodies["1 MiB"] = big
	return bodies
}

// randomWhsec returns a Standard Webhooks / Svix style secret.
func randomWhsec(r *rand.Rand) string {
	k := make([]byte, 24+r.Intn(41))
	r.Read(k)
	return "whsec_" + base64.StdEncoding.EncodeToString(k)
}

func mutateBody(b []byte) []byte {
	if len(b) == 0 {
		return []byte{0}
	}
	c := bytes.Clone(b)
	c[len(c)/2] ^= 0x20
	return c
}

// ---------------------------------------------------------------- Stripe

func stripeVerify(t *testing.T, s *verifier.Scheme, header string, body []byte, secret string, now time.Time) error {
	t.Helper()
	h := http.Header{}
	if header != "" {
		h.Set("Stripe-Signature", header)
	}
	_, err := verifier.Verify(s, h, body, []verifier.Key{mustKey(t, s, "k", secret)}, tol, now)
	return err
}

func TestStripeGoSignsWeVerify(t *testing.T) {
	s := mustPreset(t, "stripe", preset.Options{})
	r := rand.New(rand.NewSource(1))
	for name, body := range interopBodies() {
		secret := fmt.Sprintf("whsec_%x", r.Uint64())
		now := time.Now()
		sp := stripewebhook.GenerateTestSignedPayload(&stripewebhook.UnsignedPayload{
			Payload: body, Secret: secret, Timestamp: now.Add(-time.Minute),
		})
		if err := stripewebhook.ValidatePayloadWithTolerance(body, sp.Header, secret, tol); err != nil {
			t.Fatalf("%s: stripe-go rejects its own payload: %v", name, err)
		}
		if err := stripeVerify(t, s, sp.Header, body, secret, now); err != nil {
			t.Errorf("%s: stripe-go signed, we reject: %v", name, err)
		}
	}
}

func TestWeSignStripeGoVerifies(t *testing.T) {
	s := mustPreset(t, "stripe", preset.Options{})
	r := rand.New(rand.NewSource(2))
	for name, body := range interopBodies() {
		old := fmt.Sprintf("whsec_old%x", r.Uint64())
		cur := fmt.Sprintf("whsec_new%x", r.Uint64())
		h := signer.Sign(s, [][]byte{[]byte(old), []byte(cur)}, signer.Message{Body: body, Time: time.Now()})
		header := h.Get("Stripe-Signature")
		for _, secret := range []string{old, cur} {
			if err := stripewebhook.ValidatePayloadWithTolerance(body, header, secret, tol); err != nil {
				t.Errorf("%s: we signed %q, stripe-go rejects: %v", name, header, err)
			}
		}
		if err := stripewebhook.ValidatePayloadWithTolerance(body, header, "whsec_other", tol); err == nil {
			t.Errorf("%s: stripe-go accepts a third secret", name)
		}
	}
}

// The hand-computed vector in verifier/vectors_test.go agrees with stripe-go.
func TestStripeVectorMatchesStripeGo(t *testing.T) {
	got := hex.EncodeToString(stripewebhook.ComputeSignature(time.Unix(1492774577, 0),
		[]byte(`{"id":"evt_test_webhook","object":"event"}`), "whsec_test_secret"))
	if want := "88a022085c6bdb887b02cb26ff76dd681234d9675c0f22844059f55552a8883a"; got != want {
		t.Fatalf("stripe-go ComputeSignature = %s, vector says %s", got, want)
	}
}

func TestStripeGoRejectsWeReject(t *testing.T) {
	s := mustPreset(t, "stripe", preset.Options{})
	const secret = "whsec_test_secret"
	body := []byte(`{"id":"evt_1","object":"event"}`)
	now := time.Now()
	sign := func(ts time.Time, b []byte, sec string) string {
		return stripewebhook.GenerateTestSignedPayload(&stripewebhook.UnsignedPayload{Payload: b, Secret: sec, Timestamp: ts}).Header
	}
	good := sign(now, body, secret)
	cases := []struct {
		name   string
		header string
		body   []byte
		secret string
		want   verifier.Reason
	}{
		{"tampered body", good, mutateBody(body), secret, verifier.WrongSignature},
		{"wrong secret", good, body, "whsec_wrong", verifier.WrongSignature},
		{"stale timestamp", sign(now.Add(-tol-time.Minute), body, secret), body, secret, verifier.StaleTimestamp},
		{"missing header", "", body, secret, verifier.MissingHeader},
		{"no v1", strings.Replace(good, "v1=", "v0=", 1), body, secret, verifier.MalformedHeader},
		{"v1 not hex", strings.SplitN(good, ",", 2)[0] + ",v1=zz", body, secret, verifier.MalformedHeader},
		{"t not a number", "t=abc," + strings.SplitN(good, ",", 2)[1], body, secret, verifier.MalformedHeader},
		{"element without =", good + ",junk", body, secret, verifier.MalformedHeader},
		{"empty t", "t=," + strings.SplitN(good, ",", 2)[1], body, secret, verifier.MalformedHeader},
	}
	for _, c := range cases {
		if err := stripewebhook.ValidatePayloadWithTolerance(c.body, c.header, c.secret, tol); err == nil {
			t.Errorf("%s: stripe-go accepts; the case is wrong", c.name)
		}
		wantReason(t, stripeVerify(t, s, c.header, c.body, c.secret, now), c.want)
	}
}

// Where we deliberately differ from stripe-go.
func TestStripeDeliberateDifferences(t *testing.T) {
	s := mustPreset(t, "stripe", preset.Options{})
	const secret = "whsec_test_secret"
	body := []byte(`{"id":"evt_1","object":"event"}`)
	now := time.Now()

	// 1. Future timestamps: stripe-go only checks age, so a timestamp an
	// hour ahead passes there; we reject anything beyond tolerance either way.
	future := stripewebhook.GenerateTestSignedPayload(&stripewebhook.UnsignedPayload{Payload: body, Secret: secret, Timestamp: now.Add(time.Hour)}).Header
	if err := stripewebhook.ValidatePayloadWithTolerance(body, future, secret, tol); err != nil {
		t.Fatalf("stripe-go now rejects future timestamps (%v): update this note", err)
	}
	wantReason(t, stripeVerify(t, s, future, body, secret, now), verifier.FutureTimestamp)

	// 2. A repeated t: stripe-go keeps the last; we never guess.
	good := stripewebhook.GenerateTestSignedPayload(&stripewebhook.UnsignedPayload{Payload: body, Secret: secret, Timestamp: now}).Header
	twice := good + ",t=" + strconv.FormatInt(now.Unix(), 10)
	if err := stripewebhook.ValidatePayloadWithTolerance(body, twice, secret, tol); err != nil {
		t.Fatalf("stripe-go rejects a repeated t (%v): update this note", err)
	}
	wantReason(t, stripeVerify(t, s, twice, body, secret, now), verifier.MalformedHeader)

	// 3. Tolerance 0: stripe-go's ValidatePayloadWithTolerance(…, 0) rejects
	// everything older than "now"; our tolerance 0 switches the check off
	// (SPEC: "tolerance 0 switches the timestamp check off").
	old := stripewebhook.GenerateTestSignedPayload(&stripewebhook.UnsignedPayload{Payload: body, Secret: secret, Timestamp: now.Add(-24 * time.Hour)}).Header
	h := http.Header{"Stripe-Signature": {old}}
	if _, err := verifier.Verify(s, h, body, []verifier.Key{mustKey(t, s, "k", secret)}, 0, now); err != nil {
		t.Fatalf("tolerance 0 must switch the check off: %v", err)
	}

	// 4. The Stripe-Signature header sent twice is malformed for us;
	// stripe-go takes a single string and cannot see it.
	h = http.Header{"Stripe-Signature": {good, good}}
	_, err := verifier.Verify(s, h, body, []verifier.Key{mustKey(t, s, "k", secret)}, tol, now)
	wantReason(t, err, verifier.MalformedHeader)

	// 5. A v1 that is not one SHA-256 MAC in hex, next to a good one:
	// stripe-go skips it and accepts; we refuse the header before reading
	// the body (Stripe never sends one).
	for _, junk := range []string{"v1=zz", "v1=00", "v1=" + strings.Repeat("ab", 33)} {
		mixed := good + "," + junk
		if err := stripewebhook.ValidatePayloadWithTolerance(body, mixed, secret, tol); err != nil {
			t.Fatalf("stripe-go rejects %s next to a good v1 (%v): update this note", junk, err)
		}
		wantReason(t, stripeVerify(t, s, mixed, body, secret, now), verifier.MalformedHeader)
	}

	// 6. The secret is used raw, whsec_ prefix included, exactly as
	// stripe-go does (not base64-decoded as Standard Webhooks does).
	k, err := s.DecodeSecret(secret)
	if err != nil || string(k) != secret {
		t.Fatalf("stripe DecodeSecret = %q, %v; want the raw secret", k, err)
	}
}

// ------------------------------------------------- Standard Webhooks / Svix

// stdLib is what the two libraries have in common.
type stdLib interface {
	Sign(msgID string, ts time.Time, payload []byte) (string, error)
	Verify(payload []byte, h http.Header) error
}

type libCase struct {
	name   string
	preset string
	prefix string // header prefix the library reads
	newLib func(secret string) (stdLib, error)
}

func stdLibs() []libCase {
	return []libCase{
		{"standard-webhooks", "standard", "Webhook-", func(s string) (stdLib, error) { return standardwebhooks.NewWebhook(s) }},
		{"svix svix-*", "svix", "Svix-", func(s string) (stdLib, error) { return svix.NewWebhook(s) }},
		{"svix webhook-*", "svix", "Webhook-", func(s string) (stdLib, error) { return svix.NewWebhook(s) }},
	}
}

func stdHeaders(prefix, id, ts, sig string) http.Header {
	h := http.Header{}
	if id != "" {
		h.Set(prefix+"Id", id)
	}
	if ts != "" {
		h.Set(prefix+"Timestamp", ts)
	}
	if sig != "" {
		h.Set(prefix+"Signature", sig)
	}
	return h
}

func TestStandardLibsSignWeVerify(t *testing.T) {
	for _, lc := range stdLibs() {
		t.Run(lc.name, func(t *testing.T) {
			s := mustPreset(t, lc.preset, preset.Options{})
			r := rand.New(rand.NewSource(3))
			for name, body := range interopBodies() {
				secret := randomWhsec(r)
				lib, err := lc.newLib(secret)
				if err != nil {
					t.Fatal(err)
				}
				now := time.Now()
				ts := now.Add(-time.Minute)
				id := signer.NewID()
				sig, err := lib.Sign(id, ts, body)
				if err != nil {
					t.Fatal(err)
				}
				h := stdHeaders(lc.prefix, id, strconv.FormatInt(ts.Unix(), 10), sig)
				if err := lib.Verify(body, h); err != nil {
					t.Fatalf("%s: library rejects its own signature: %v", name, err)
				}
				res, err := verifier.Verify(s, h, body, []verifier.Key{mustKey(t, s, "k", secret)}, tol, now)
				if err != nil {
					t.Errorf("%s: library signed, we reject: %v", name, err)
				} else if res.ID != id || res.Key != "k" {
					t.Errorf("%s: result %+v", name, res)
				}
			}
		})
	}
}

func TestWeSignStandardLibsVerify(t *testing.T) {
	for _, lc := range stdLibs() {
		t.Run(lc.name, func(t *testing.T) {
			s := mustPreset(t, lc.preset, preset.Options{})
			r := rand.New(rand.NewSource(4))
			for name, body := range interopBodies() {
				old, cur := randomWhsec(r), randomWhsec(r)
				kOld, _ := s.DecodeSecret(old)
				kCur, _ := s.DecodeSecret(cur)
				h := signer.Sign(s, [][]byte{kOld, kCur}, signer.Message{Body: body, ID: signer.NewID(), Time: time.Now()})
				if lc.prefix == "Webhook-" && lc.preset == "svix" {
					// signer.Sign uses the first header set (svix-*);
					// re-send the same values under webhook-* names.
					h = stdHeaders("Webhook-", h.Get("Svix-Id"), h.Get("Svix-Timestamp"), h.Get("Svix-Signature"))
				}
				for _, secret := range []string{old, cur} {
					lib, err := lc.newLib(secret)
					if err != nil {
						t.Fatal(err)
					}
					if err := lib.Verify(body, h); err != nil {
						t.Errorf("%s: we signed, library rejects: %v (headers %v)", name, err, h)
					}
				}
				third, _ := lc.newLib(randomWhsec(r))
				if third.Verify(body, h) == nil {
					t.Errorf("%s: library accepts a third secret", name)
				}
			}
		})
	}
}

func TestStandardLibsRejectWeReject(t *testing.T) {
	for _, lc := range stdLibs() {
		t.Run(lc.name, func(t *testing.T) {
			s := mustPreset(t, lc.preset, preset.Options{})
			r := rand.New(rand.NewSource(5))
			secret := randomWhsec(r)
			lib, _ := lc.newLib(secret)
			body := []byte(`{"type":"user.created"}`)
			now := time.Now()
			id := "msg_2Lh9KRb0pzN4LePd3XiA1"
			sigAt := func(ts time.Time, b []byte, sec string) (string, string) {
				l, _ := lc.newLib(sec)
				sig, _ := l.Sign(id, ts, b)
				return strconv.FormatInt(ts.Unix(), 10), sig
			}
			ts, sig := sigAt(now, body, secret)
			staleTS, staleSig := sigAt(now.Add(-tol-time.Minute), body, secret)
			futTS, futSig := sigAt(now.Add(tol+time.Minute), body, secret)
			_, wrongSig := sigAt(now, body, randomWhsec(r))
			cases := []struct {
				name string
				h    http.Header
				body []byte
				want verifier.Reason
			}{
				{"tampered body", stdHeaders(lc.prefix, id, ts, sig), mutateBody(body), verifier.WrongSignature},
				{"wrong secret", stdHeaders(lc.prefix, id, ts, wrongSig), body, verifier.WrongSignature},
				{"other id", stdHeaders(lc.prefix, id+"x", ts, sig), body, verifier.WrongSignature},
				{"stale", stdHeaders(lc.prefix, id, staleTS, staleSig), body, verifier.StaleTimestamp},
				{"future", stdHeaders(lc.prefix, id, futTS, futSig), body, verifier.FutureTimestamp},
				{"missing id", stdHeaders(lc.prefix, "", ts, sig), body, verifier.MissingHeader},
				{"missing timestamp", stdHeaders(lc.prefix, id, "", sig), body, verifier.MissingHeader},
				{"missing signature", stdHeaders(lc.prefix, id, ts, ""), body, verifier.MissingHeader},
				{"no headers", http.Header{}, body, verifier.MissingHeader},
				{"timestamp not a number", stdHeaders(lc.prefix, id, "yesterday", sig), body, verifier.MalformedHeader},
				{"partial signature", stdHeaders(lc.prefix, id, ts, "v1,"), body, verifier.MalformedHeader},
				{"v2 only", stdHeaders(lc.prefix, id, ts, "v2"+sig[2:]), body, verifier.MalformedHeader},
				{"negative timestamp", stdHeaders(lc.prefix, id, "-"+ts, sig), body, verifier.MalformedHeader},
			}
			for _, c := range cases {
				if err := lib.Verify(c.body, c.h); err == nil {
					t.Errorf("%s: library accepts; the case is wrong", c.name)
				}
				_, err := verifier.Verify(s, c.h, c.body, []verifier.Key{mustKey(t, s, "k", secret)}, tol, now)
				if got := reasonOf(t, err); got != c.want {
					t.Errorf("%s: got %v, want %s", c.name, err, c.want)
				}
			}
		})
	}
}

// Where we deliberately differ from the Standard Webhooks and Svix libraries.
func TestStandardLibsDeliberateDifferences(t *testing.T) {
	for _, lc := range stdLibs() {
		t.Run(lc.name, func(t *testing.T) {
			s := mustPreset(t, lc.preset, preset.Options{})
			r := rand.New(rand.NewSource(6))
			secret := randomWhsec(r)
			lib, _ := lc.newLib(secret)
			keys := []verifier.Key{mustKey(t, s, "k", secret)}
			body := []byte(`{"a":1}`)
			now := time.Now()
			id := "msg_1"
			tsInt := now.Unix()
			ts := strconv.FormatInt(tsInt, 10)
			sig, _ := lib.Sign(id, time.Unix(tsInt, 0), body)

			type verdict struct{ lib, ours bool }
			check := func(what string, h http.Header, want verdict) {
				t.Helper()
				libOK := lib.Verify(body, h) == nil
				_, err := verifier.Verify(s, h, body, keys, tol, now)
				if libOK != want.lib || (err == nil) != want.ours {
					t.Errorf("%s: library ok=%v ours err=%v; want library ok=%v ours ok=%v", what, libOK, err, want.lib, want.ours)
				}
			}

			// Stricter: a header sent twice. The libraries use the first
			// copy (http.Header.Get); we refuse to guess (SPEC).
			h := stdHeaders(lc.prefix, id, ts, sig)
			h.Add(lc.prefix+"Signature", "v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=")
			check("signature header twice", h, verdict{lib: true, ours: false})
			h = stdHeaders(lc.prefix, id, ts, sig)
			h.Add(lc.prefix+"Timestamp", ts)
			check("timestamp header twice", h, verdict{lib: true, ours: false})

			// Stricter: a timestamp in non-canonical form. The libraries
			// parse it (strconv.ParseInt) and sign the canonical digits, so
			// "+<ts>" and "0<ts>" pass there; we sign what was sent and only
			// accept plain digits.
			check("timestamp with +", stdHeaders(lc.prefix, id, "+"+ts, sig), verdict{lib: true, ours: false})
			check("timestamp with leading zero", stdHeaders(lc.prefix, id, "0"+ts, sig), verdict{lib: true, ours: false})

			// Stricter: a list element without a comma. The libraries skip
			// it; we call the header malformed (no sender emits one).
			check("element without comma", stdHeaders(lc.prefix, id, ts, "garbage "+sig), verdict{lib: true, ours: false})

			// Stricter: a v1 that is not one HMAC-SHA256 in base64, next
			// to a good one. The libraries compare strings and pass; we
			// refuse the header before reading the body.
			check("short v1 next to a good one", stdHeaders(lc.prefix, id, ts, "v1,AQID "+sig), verdict{lib: true, ours: false})
			check("junk v1 next to a good one", stdHeaders(lc.prefix, id, ts, sig+" v1,!!!!"), verdict{lib: true, ours: false})

			// Stricter: an id with a "." (the text after {id} in
			// "{id}.{timestamp}.{body}"): such an id could be split off
			// at another "." (see separators). No sender uses one.
			dsig, _ := lib.Sign(id+".1", time.Unix(tsInt, 0), body)
			check("id with a dot", stdHeaders(lc.prefix, id+".1", ts, dsig), verdict{lib: true, ours: false})

			// More lenient, harmlessly: base64 without padding. The
			// libraries compare encoded strings; we compare decoded bytes,
			// so the same MAC written without "=" passes here only.
			check("unpadded base64", stdHeaders(lc.prefix, id, ts, strings.TrimRight(sig, "=")), verdict{lib: false, ours: true})
		})
	}
}

// Svix: which header set is used. svix-go falls back to webhook-* only when
// one of the svix-* headers is missing; we pick the set by its signature
// header. A mixed set is never what Svix sends; both reject the obviously
// broken ones below.
func TestSvixHeaderSets(t *testing.T) {
	s := mustPreset(t, "svix", preset.Options{})
	r := rand.New(rand.NewSource(7))
	secret := randomWhsec(r)
	lib, _ := svix.NewWebhook(secret)
	keys := []verifier.Key{mustKey(t, s, "k", secret)}
	body := []byte("{}")
	now := time.Now()
	ts := strconv.FormatInt(now.Unix(), 10)
	sig, _ := lib.Sign("msg_a", time.Unix(now.Unix(), 0), body)

	// Both sets present and both right: both accept (we use svix-*).
	h := stdHeaders("Svix-", "msg_a", ts, sig)
	for k, v := range stdHeaders("Webhook-", "msg_a", ts, sig) {
		h[k] = v
	}
	if err := lib.Verify(body, h); err != nil {
		t.Fatal(err)
	}
	if _, err := verifier.Verify(s, h, body, keys, tol, now); err != nil {
		t.Fatal(err)
	}

	// svix-* set complete but wrong, webhook-* right: svix-go uses the
	// svix-* set and rejects; so do we.
	h.Set("Svix-Signature", "v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=")
	if lib.Verify(body, h) == nil {
		t.Fatal("svix-go accepts; case is wrong")
	}
	_, err := verifier.Verify(s, h, body, keys, tol, now)
	wantReason(t, err, verifier.WrongSignature)
}
