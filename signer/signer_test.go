package signer_test

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"math/rand"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hookguard/hookguard/preset"
	"github.com/hookguard/hookguard/scheme"
	"github.com/hookguard/hookguard/signer"
	"github.com/hookguard/hookguard/verifier"
)

// randomSecret returns a configured secret string in the form the scheme
// expects, and the key it decodes to.
func randomSecret(t *testing.T, r *rand.Rand, s *verifier.Scheme) (string, []byte) {
	t.Helper()
	var secret string
	switch s.Secret {
	case scheme.SecretWhsec, scheme.SecretBase64:
		k := make([]byte, 1+r.Intn(64))
		r.Read(k)
		secret = base64.StdEncoding.EncodeToString(k)
		if s.Secret == scheme.SecretWhsec && r.Intn(2) == 0 {
			secret = "whsec_" + secret
		}
	case scheme.SecretHex:
		k := make([]byte, 1+r.Intn(64))
		r.Read(k)
		secret = hex.EncodeToString(k)
	default:
		// Printable, as a token travels in a header; random length.
		const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.~!$%&'*+^`|"
		b := make([]byte, 1+r.Intn(64))
		for i := range b {
			b[i] = alphabet[r.Intn(len(alphabet))]
		}
		secret = string(b)
	}
	key, err := s.DecodeSecret(secret)
	if err != nil {
		t.Fatalf("%s: DecodeSecret(%q): %v", s.Name, secret, err)
	}
	return secret, key
}

func randomBody(r *rand.Rand) []byte {
	var n int
	switch r.Intn(4) {
	case 0:
		n = 0
	case 1:
		n = r.Intn(16)
	case 2:
		n = r.Intn(256)
	default:
		n = r.Intn(8192)
	}
	b := make([]byte, n)
	if r.Intn(2) == 0 {
		r.Read(b) // binary
	} else {
		for i := range b {
			b[i] = byte(' ' + r.Intn(95)) // printable
		}
	}
	return b
}

// randomPair returns a fresh key pair of an asymmetric scheme as a Key
// that both signs and verifies.
func randomPair(t *testing.T, s *verifier.Scheme, label string) verifier.Key {
	t.Helper()
	pub, priv, err := s.Algorithm.(scheme.KeyPair).Generate()
	if err != nil {
		t.Fatal(err)
	}
	k := verifier.Key{Label: label}
	if k.Public, err = s.ParsePublicKey(pub); err != nil {
		t.Fatal(err)
	}
	if k.Private, err = s.ParsePrivateKey(priv); err != nil {
		t.Fatal(err)
	}
	return k
}

// TestSignVerifyProperty: for every preset and random bodies and secrets
// (key pairs for asymmetric schemes), what Sign produces Verify accepts
// (naming the key that signed), and flipping any one byte of the body
// makes it fail with WrongSignature. Token schemes do not sign the body,
// so for them the flip must still pass. Schemes that sign more than the
// body and its headers (the URL called, fields inside the body: Twilio,
// Mailgun) cannot sign random bodies; their presets' tests cover them.
func TestSignVerifyProperty(t *testing.T) {
	for _, name := range preset.Names() {
		t.Run(name, func(t *testing.T) {
			s, err := preset.Get(name, preset.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if s.Strategy != nil || s.UsesURL() || s.FixedWidthID > 0 {
				t.Skip("signs the URL called or fields of the body, or takes ids of one form only: see the preset's own tests")
			}
			iterations := 200
			if s.Asymmetric() {
				iterations = 40 // public-key signatures are slower; the property is the same
			}
			r := rand.New(rand.NewSource(int64(len(name)) * 7919))
			for i := range iterations {
				var signing, other verifier.Key
				if s.Asymmetric() {
					signing, other = randomPair(t, s, "signer"), randomPair(t, s, "other")
				} else {
					_, key := randomSecret(t, r, s)
					_, o := randomSecret(t, r, s)
					signing, other = verifier.Key{Label: "signer", Secret: key}, verifier.Key{Label: "other", Secret: o}
				}
				key, otherSecret := signing.Secret, other.Secret
				body := randomBody(r)
				if s.Name == "hubspot-v1" || s.Name == "hubspot-v2" {
					// Refused with a NUL byte in them (extension), which
					// TestHubSpotLegacyLengthExtension covers.
					body = bytes.ReplaceAll(body, []byte{0}, []byte{1})
				}
				msgTime := time.Unix(1500000000+r.Int63n(500000000), 0)
				m := signer.Message{Body: body, ID: signer.NewID(), Time: msgTime}
				h, err := signer.SignKeys(s, []verifier.Key{signing}, m)
				if err != nil {
					t.Fatalf("iteration %d: %v", i, err)
				}

				keys := []verifier.Key{other, signing}
				if !s.Asymmetric() && string(otherSecret) == string(key) {
					keys = keys[1:]
				}
				now := msgTime.Add(time.Duration(r.Int63n(int64(4*time.Minute))) - 2*time.Minute)
				res, err := verifier.Verify(s, h, body, keys, 5*time.Minute, now)
				if err != nil {
					t.Fatalf("iteration %d: Sign → Verify failed: %v (body %d bytes, headers %v)", i, err, len(body), h)
				}
				if res.Key != "signer" {
					t.Fatalf("iteration %d: matched key %q", i, res.Key)
				}
				if s.HeaderSets[0].ID != "" && res.ID != m.ID {
					t.Fatalf("iteration %d: id %q, want %q", i, res.ID, m.ID)
				}
				if s.Timestamped() && res.Timestamp != s.Time.Format(msgTime) {
					t.Fatalf("iteration %d: timestamp %q", i, res.Timestamp)
				}

				// Flip bytes: every byte of a short body, a sample of a long one.
				positions := make([]int, 0, 64)
				if len(body) <= 256 {
					for p := range body {
						positions = append(positions, p)
					}
				} else {
					positions = append(positions, 0, len(body)-1)
					for range 30 {
						positions = append(positions, r.Intn(len(body)))
					}
				}
				for _, p := range positions {
					flipped := append([]byte(nil), body...)
					flipped[p] ^= byte(1 + r.Intn(255))
					_, err := verifier.Verify(s, h, flipped, keys, 5*time.Minute, now)
					if s.Compares() {
						if err != nil {
							t.Fatalf("iteration %d: token scheme depends on the body: %v", i, err)
						}
						continue
					}
					var ve *verifier.Error
					if err == nil {
						t.Fatalf("iteration %d: body byte %d flipped, still verifies", i, p)
					} else if !asError(err, &ve) || ve.Reason != verifier.WrongSignature {
						t.Fatalf("iteration %d: flipped body: %v, want wrong_signature", i, err)
					}
				}
				// One byte more or less is a different body too.
				if !s.Compares() {
					if _, err := verifier.Verify(s, h, append(append([]byte(nil), body...), 0), keys, 5*time.Minute, now); err == nil {
						t.Fatalf("iteration %d: appended byte verifies", i)
					}
					if len(body) > 0 {
						if _, err := verifier.Verify(s, h, body[:len(body)-1], keys, 5*time.Minute, now); err == nil {
							t.Fatalf("iteration %d: truncated body verifies", i)
						}
					}
				}
				// Only the signer's key verifies.
				if _, err := verifier.Verify(s, h, body, []verifier.Key{other}, 5*time.Minute, now); err == nil && (s.Asymmetric() || string(otherSecret) != string(key)) {
					t.Fatalf("iteration %d: another key verifies", i)
				}
			}
		})
	}
}

func asError(err error, target **verifier.Error) bool {
	e, ok := err.(*verifier.Error)
	if ok {
		*target = e
	}
	return ok
}

func TestSignHeaders(t *testing.T) {
	now := time.Unix(1614265330, 0)
	key := []byte("0123456789abcdef")
	body := []byte("{}")

	gh, _ := preset.Get("github", preset.Options{})
	h := signer.Sign(gh, [][]byte{key, []byte("second")}, signer.Message{Body: body, ID: "d-1"})
	if got := h.Get("X-Hub-Signature-256"); !strings.HasPrefix(got, "sha256=") || len(got) != 7+64 {
		t.Errorf("github signature %q", got)
	}
	if h.Get("X-GitHub-Delivery") != "d-1" || len(h) != 2 {
		t.Errorf("github headers %v", h)
	}
	// One signature per header: the first key signs.
	if _, err := verifier.Verify(gh, h, body, []verifier.Key{{Secret: []byte("second")}}, 0, now); err == nil {
		t.Error("single-signature scheme signed with the second key")
	}

	std, _ := preset.Get("standard", preset.Options{})
	h = signer.Sign(std, [][]byte{key, []byte("second-key")}, signer.Message{Body: body, ID: "msg_x", Time: now})
	if h.Get("Webhook-Id") != "msg_x" || h.Get("Webhook-Timestamp") != "1614265330" {
		t.Errorf("standard headers %v", h)
	}
	if parts := strings.Split(h.Get("Webhook-Signature"), " "); len(parts) != 2 || !strings.HasPrefix(parts[0], "v1,") || !strings.HasPrefix(parts[1], "v1,") {
		t.Errorf("standard signature %q", h.Get("Webhook-Signature"))
	}

	st, _ := preset.Get("stripe", preset.Options{})
	h = signer.Sign(st, [][]byte{key, []byte("second-key")}, signer.Message{Body: body, Time: now})
	if got := h.Get("Stripe-Signature"); !regexp.MustCompile(`^t=1614265330,v1=[0-9a-f]{64},v1=[0-9a-f]{64}$`).MatchString(got) {
		t.Errorf("stripe signature %q", got)
	}

	gl, _ := preset.Get("gitlab", preset.Options{})
	h = signer.Sign(gl, [][]byte{[]byte("tok")}, signer.Message{Body: body})
	if h.Get("X-Gitlab-Token") != "tok" {
		t.Errorf("gitlab token %v", h)
	}

	// No id given: no id header (Sign never invents one).
	h = signer.Sign(std, [][]byte{key}, signer.Message{Body: body, Time: now})
	if _, ok := h["Webhook-Id"]; ok {
		t.Errorf("id header set without an id: %v", h)
	}
	// No keys: no signature header, and the result does not verify.
	h = signer.Sign(std, nil, signer.Message{Body: body, ID: "msg_x", Time: now})
	if _, ok := h["Webhook-Signature"]; ok {
		t.Errorf("signature without keys: %v", h)
	}
	if _, err := verifier.Verify(std, h, body, []verifier.Key{{Secret: key}}, 0, now); err == nil {
		t.Error("unsigned message verifies")
	}
	// Headers are canonical, as a real request's would be.
	for k := range signer.Sign(std, [][]byte{key}, signer.Message{Body: body, ID: "m", Time: now}) {
		if k != http.CanonicalHeaderKey(k) {
			t.Errorf("non-canonical header %q", k)
		}
	}
}

func TestNewID(t *testing.T) {
	re := regexp.MustCompile(`^msg_[a-z2-7]{26}$`)
	seen := map[string]bool{}
	for range 1000 {
		id := signer.NewID()
		if !re.MatchString(id) {
			t.Fatalf("NewID() = %q", id)
		}
		if seen[id] {
			t.Fatalf("NewID repeated %q", id)
		}
		seen[id] = true
	}
}

// TestIDFor: a sender with 36-character ids (Twitch) gets UUIDs, the same
// one for the same id given; others get the id given, or a fresh msg_ one.
func TestIDFor(t *testing.T) {
	tw := &scheme.Scheme{FixedWidthID: 36}
	a, b := signer.IDFor(tw, ""), signer.IDFor(tw, "")
	if len(a) != 36 || a == b || a[14] != '4' {
		t.Errorf("fresh UUIDs %q, %q", a, b)
	}
	if d := signer.IDFor(tw, "msg_1"); len(d) != 36 || d != signer.IDFor(tw, "msg_1") || d == signer.IDFor(tw, "msg_2") {
		t.Errorf("derived UUID %q", d)
	}
	if u := "befa7b53-d79d-478f-86b9-120f112b044e"; signer.IDFor(tw, u) != u {
		t.Errorf("a UUID given is not kept")
	}
	if signer.IDFor(&scheme.Scheme{}, "x") != "x" || !strings.HasPrefix(signer.IDFor(&scheme.Scheme{}, ""), "msg_") {
		t.Errorf("other schemes")
	}
}
