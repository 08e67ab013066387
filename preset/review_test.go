package preset_test

import (
	"crypto/sha256"
	"encoding"
	"encoding/binary"
	"encoding/hex"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hookguard/hookguard/preset"
	"github.com/hookguard/hookguard/scheme"
	"github.com/hookguard/hookguard/verifier"
)

// sha256Extend forges SHA-256(prefix || pad || ext) from SHA-256(prefix),
// knowing only len(prefix): the length extension a plain SHA-256 of
// secret + content allows.
func sha256Extend(t *testing.T, sum []byte, prefixLen int, ext []byte) (pad, forged []byte) {
	t.Helper()
	pad = []byte{0x80}
	for (prefixLen+len(pad))%64 != 56 {
		pad = append(pad, 0)
	}
	var l [8]byte
	binary.BigEndian.PutUint64(l[:], uint64(prefixLen)*8)
	pad = append(pad, l[:]...)
	st := append([]byte("sha\x03"), sum...)
	st = append(st, make([]byte, 64)...)
	binary.BigEndian.PutUint64(l[:], uint64(prefixLen+len(pad)))
	st = append(st, l[:]...)
	h := sha256.New()
	if err := h.(encoding.BinaryUnmarshaler).UnmarshalBinary(st); err != nil {
		t.Fatal(err)
	}
	h.Write(ext)
	return pad, h.Sum(nil)
}

// TestHubSpotLegacyLengthExtension (review of the presets): HubSpot's v1
// signature is a plain SHA-256 of secret + body, which anyone can extend
// without the secret. The forgery is made here from the published example
// alone, and refused.
func TestHubSpotLegacyLengthExtension(t *testing.T) {
	s, err := preset.Get("hubspot-v1", preset.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var c vectorCase
	for _, vc := range loadVectors(t)["hubspot-v1"].Cases {
		if vc.Valid {
			c = vc
			break
		}
	}
	key := []scheme.Key{{Label: "k", Secret: []byte(c.Secret)}}
	h := http.Header{}
	for k, v := range c.Headers {
		h.Set(k, v)
	}
	req := scheme.Request{Method: http.MethodPost, URL: c.URL, Header: h}
	if _, err := verifier.VerifyRequest(s, req, []byte(c.Body), key, 0, time.Unix(c.Now, 0)); err != nil {
		t.Fatalf("the published example: %v", err)
	}
	sig, err := hex.DecodeString(h.Get("X-HubSpot-Signature"))
	if err != nil {
		t.Fatal(err)
	}
	ext := []byte(`,{"eventId":999,"subscriptionType":"contact.deletion","objectId":1}]`)
	pad, forged := sha256Extend(t, sig, len(c.Secret)+len(c.Body), ext)
	// The forgery is right: it is what SHA-256 of secret + the new body is.
	newBody := c.Body + string(pad) + string(ext)
	if want := sha256.Sum256([]byte(c.Secret + newBody)); hex.EncodeToString(want[:]) != hex.EncodeToString(forged) {
		t.Fatal("the length extension is miscomputed: the test proves nothing")
	}
	h2 := h.Clone()
	h2.Set("X-HubSpot-Signature", hex.EncodeToString(forged))
	req.Header = h2
	if _, err := verifier.VerifyRequest(s, req, []byte(newBody), key, 0, time.Unix(c.Now, 0)); err == nil {
		t.Errorf("a length-extended body verified")
	}
}

// TestEd25519SmallOrderKeysRefused (review of the presets): under a public
// key of small order (the identity, a point of order 2, 4 or 8), the
// signature 01 00...00 verifies any message. Such a key, a placeholder
// left in a config, fails the load.
func TestEd25519SmallOrderKeysRefused(t *testing.T) {
	s, err := preset.Get("discord", preset.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{
		"01" + strings.Repeat("00", 31),
		strings.Repeat("00", 32),
		strings.Repeat("00", 31) + "80",
		"ec" + strings.Repeat("ff", 30) + "7f",
		"26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
		"c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa",
		"ed" + strings.Repeat("ff", 30) + "7f",
	} {
		if _, err := s.ParsePublicKey(k); err == nil {
			t.Errorf("public key %s... of small order accepted", k[:8])
		}
	}
	pub, _, err := scheme.Ed25519{}.Generate()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.ParsePublicKey(pub); err != nil {
		t.Errorf("a real key refused: %v", err)
	}
}
