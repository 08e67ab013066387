package verifier_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"encoding/asn1"
	"math/big"
	"net/http"
	"testing"
	"time"

	"github.com/hookguard/hookguard/preset"
	"github.com/hookguard/hookguard/scheme"
	"github.com/hookguard/hookguard/signer"
	"github.com/hookguard/hookguard/verifier"
)

// TestECDSADeliveryIdentity: an ECDSA signature (r, s) has a twin
// (r, N-s) that verifies the same message. A replayer who sends the twin
// must not get a new replay key: the Result names the delivery by what was
// signed, not by the signature (review of the payments presets).
func TestECDSADeliveryIdentity(t *testing.T) {
	s := mustPreset(t, "sendgrid", preset.Options{})
	pub, priv, err := s.Algorithm.(scheme.KeyPair).Generate()
	if err != nil {
		t.Fatal(err)
	}
	k := scheme.Key{Label: "k"}
	if k.Public, err = s.ParsePublicKey(pub); err != nil {
		t.Fatal(err)
	}
	if k.Private, err = s.ParsePrivateKey(priv); err != nil {
		t.Fatal(err)
	}
	now := time.Unix(1_700_000_000, 0)
	body := []byte(`[{"event":"delivered"}]`)
	h, err := signer.SignKeys(s, []scheme.Key{k}, signer.Message{Body: body, Time: now})
	if err != nil {
		t.Fatal(err)
	}
	res1, err := verifier.Verify(s, h, body, []scheme.Key{k}, 5*time.Minute, now)
	if err != nil {
		t.Fatal(err)
	}
	// The twin signature.
	sigHeader := s.HeaderSets[0].Signature
	der, ok := s.Encoding.Decode(h.Get(sigHeader))
	if !ok {
		t.Fatal("signature does not decode")
	}
	var rs struct{ R, S *big.Int }
	if _, err := asn1.Unmarshal(der, &rs); err != nil {
		t.Fatal(err)
	}
	rs.S = new(big.Int).Sub(elliptic.P256().Params().N, rs.S)
	twin, err := asn1.Marshal(rs)
	if err != nil {
		t.Fatal(err)
	}
	if !ecdsa.VerifyASN1(k.Public.(*ecdsa.PublicKey), digestOf(t, s, h, body), twin) {
		t.Fatal("the twin signature does not verify: the test is wrong")
	}
	h2 := http.Header{}
	for name, v := range h {
		h2[name] = v
	}
	h2.Set(sigHeader, s.Encode(twin))
	res2, err := verifier.Verify(s, h2, body, []scheme.Key{k}, 5*time.Minute, now)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(res1.Signature, res2.Signature) {
		t.Errorf("the twin signature names another delivery: %x vs %x", res1.Signature, res2.Signature)
	}
}

// digestOf is the SHA-256 of what sendgrid signs: timestamp + body.
func digestOf(t *testing.T, s *scheme.Scheme, h http.Header, body []byte) []byte {
	t.Helper()
	m := scheme.ECDSAP256{}.Begin(nil)
	m.Write([]byte(h.Get(s.HeaderSets[0].Timestamp)))
	m.Write(body)
	return m.(scheme.Identified).Identity()
}
