package verifier_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/hookguard/hookguard/internal/verifiertest"
	"github.com/hookguard/hookguard/scheme"
	"github.com/hookguard/hookguard/signer"
	"github.com/hookguard/hookguard/verifier"
)

// The helpers shared with the interoperability tests in the nested module
// integration/ live in internal/verifiertest.
var (
	reasonOf   = verifiertest.ReasonOf
	wantReason = verifiertest.WantReason
	mustPreset = verifiertest.MustPreset
	mustKey    = verifiertest.MustKey
	// genericPresets are the presets the tests that drive every preset
	// alike can sign from a secret and a body.
	genericPresets = verifiertest.GenericPresets
)

// hdr builds a header from name/value pairs, canonicalising names the way
// net/http does for a real request.
func hdr(kv ...string) http.Header {
	h := make(http.Header)
	for i := 0; i+1 < len(kv); i += 2 {
		h.Add(kv[i], kv[i+1])
	}
	return h
}

// flipMid replaces the middle character of s by a different character of
// the same alphabet class (digit or letter), so that the result stays
// syntactically valid hex or base64 but decodes to different bytes. (The
// last base64 character carries padding bits and is avoided on purpose.)
func flipMid(s string) string {
	b := []byte(s)
	i := len(b) / 2
	switch c := b[i]; {
	case c == '0':
		b[i] = '1'
	case c >= '1' && c <= '9':
		b[i] = '0'
	case c == 'a':
		b[i] = 'b'
	default:
		b[i] = 'a'
	}
	return string(b)
}

// The parsers of the formats the presets use, as the tests of the
// verifier's parsing knew them.
func parseSingle(value, prefix string, enc scheme.Encoding) ([]byte, string) {
	sigs, _, problem := scheme.Single{Prefix: prefix}.Parse(value, enc)
	if problem != "" {
		return nil, problem
	}
	return sigs[0], ""
}

func parseStripe(value string) (string, [][]byte, string) {
	sigs, ts, problem := scheme.Stripe.Parse(value, scheme.Hex)
	return ts, sigs, problem
}

func parseStandard(value string) ([][]byte, string) {
	sigs, _, problem := scheme.Versioned{Version: "v1"}.Parse(value, scheme.Base64)
	return sigs, problem
}

func hmacNamed(t *testing.T, name string) scheme.HMAC {
	t.Helper()
	a, ok := scheme.HMACNamed(name)
	if !ok {
		t.Fatalf("no HMAC %s", name)
	}
	return a
}

// signsAnyBody reports whether a preset signs whatever body it is given.
// One with a Strategy may sign only bodies of its sender's shape (Linear's
// webhookTimestamp, Figma's passcode): the tests that sign made-up bodies
// for every preset skip it, and its family's tests and vectors cover it.
// So do they a key-pair preset (no shared secret to sign with) and one
// that signs the URL the sender called (Square), which Verify is not given.
func signsAnyBody(s *verifier.Scheme) bool {
	if s.Asymmetric() || s.UsesURL() {
		return false
	}
	if s.Strategy == nil {
		return true
	}
	_, err := signer.SignKeys(s, signer.Secrets([]byte("k")), signer.Message{Body: []byte("x"), Time: time.Unix(1700000000, 0)})
	return err == nil
}
