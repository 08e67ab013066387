package verifier_test

import (
	"errors"
	"net/http"
	"testing"

	"github.com/hookguard/hookguard/verifier"
)

// reasonOf returns the Reason of a verification error, "" for nil, and
// fails the test for an error that is not a *verifier.Error.
func reasonOf(t testing.TB, err error) verifier.Reason {
	t.Helper()
	if err == nil {
		return ""
	}
	var ve *verifier.Error
	if !errors.As(err, &ve) {
		t.Fatalf("error %v (%T) is not a *verifier.Error", err, err)
	}
	return ve.Reason
}

// wantReason checks that err carries reason want ("" meaning success).
func wantReason(t testing.TB, err error, want verifier.Reason) {
	t.Helper()
	if got := reasonOf(t, err); got != want {
		if want == "" {
			t.Fatalf("want success, got %v", err)
		}
		t.Fatalf("want %s, got %v", want, err)
	}
}

func mustPreset(t testing.TB, name string, o verifier.Options) *verifier.Scheme {
	t.Helper()
	s, err := verifier.Preset(name, o)
	if err != nil {
		t.Fatalf("Preset(%q): %v", name, err)
	}
	return s
}

func mustKey(t testing.TB, s *verifier.Scheme, label, secret string) verifier.Key {
	t.Helper()
	k, err := s.DecodeSecret(secret)
	if err != nil {
		t.Fatalf("DecodeSecret(%q) for %s: %v", secret, s.Name, err)
	}
	return verifier.Key{Label: label, Secret: k}
}

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
