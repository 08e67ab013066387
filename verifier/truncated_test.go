package verifier_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hookguard/hookguard/internal/verifiertest"
	"github.com/hookguard/hookguard/preset"
	"github.com/hookguard/hookguard/scheme"
	"github.com/hookguard/hookguard/signer"
	"github.com/hookguard/hookguard/verifier"
)

// TestTruncatedMACRefused (issue 12): a signature that is the start of a
// valid HMAC (1, half or all but one of its bytes: 1, 16 or 31 for
// HMAC-SHA256), in the scheme's own encoding and header layout, is refused
// by every HMAC preset and
// by generic schemes in each encoding, in Verify and in the streaming
// path. A verifier that compared only as many bytes as were sent would
// accept all three.
func TestTruncatedMACRefused(t *testing.T) {
	now := time.Unix(1700000000, 0)
	body := []byte(`{"event":"truncate"}`)
	key := []byte("truncation-secret-0123456789")
	keys := []verifier.Key{{Label: "k", Secret: key}}
	schemes := map[string]*verifier.Scheme{}
	for _, name := range preset.Names() {
		// Every preset whose MAC is an HMAC over headers and body (not
		// one that signs the URL or fields of the body: their presets'
		// tests cover them; not a public-key signature, which has no
		// prefix that is valid).
		s := mustPreset(t, name, preset.Options{})
		if _, hm := s.Algorithm.(scheme.HMAC); hm && verifiertest.Generic(s) {
			schemes[name] = s
		}
	}
	for _, enc := range []scheme.Encoding{scheme.Hex, scheme.Base64, scheme.Base64URL} {
		s := &verifier.Scheme{Name: "hmac", HeaderSets: []verifier.Headers{{Signature: "X-Signature"}}, Algorithm: scheme.HMACSHA256, Encoding: enc}
		if err := s.Init(); err != nil {
			t.Fatal(err)
		}
		schemes["hmac-"+string(enc)] = s
	}
	for name, s := range schemes {
		h := signer.Sign(s, [][]byte{key}, signer.Message{Body: body, ID: "msg_trunc", Time: now})
		if _, err := verifier.Verify(s, h, body, keys, 5*time.Minute, now); err != nil {
			t.Fatalf("%s: the untruncated signature fails: %v", name, err)
		}
		full := s.Digest(key, "msg_trunc", s.Time.Format(now), body)
		sigHeader := s.HeaderSets[0].Signature
		for _, n := range []int{1, s.Size() / 2, s.Size() - 1} {
			t.Run(fmt.Sprintf("%s/%d_bytes", name, n), func(t *testing.T) {
				th := h.Clone()
				v := th.Get(sigHeader)
				enc := s.Encode
				if !strings.Contains(v, enc(full)) {
					// A sender that writes base64 without padding (Sanity).
					enc = func(b []byte) string { return strings.TrimRight(s.Encode(b), "=") }
				}
				if !strings.Contains(v, enc(full)) {
					t.Fatalf("header %s = %q does not hold the signature as encoded", sigHeader, v)
				}
				th.Set(sigHeader, strings.Replace(v, enc(full), enc(full[:n]), 1))
				if _, err := verifier.Verify(s, th, body, keys, 5*time.Minute, now); err == nil {
					t.Fatalf("%s: %q, %d bytes of a valid MAC, accepted", sigHeader, th.Get(sigHeader), n)
				}
				c, err := verifier.Begin(s, verifier.Request{Header: th}, keys, 5*time.Minute, now)
				if err == nil {
					c.Write(body)
					_, err = c.Finish()
				}
				if err == nil {
					t.Fatalf("streaming: %d bytes of a valid MAC accepted", n)
				}
			})
		}
	}
}
