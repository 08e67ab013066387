// Package verifiertest holds the test helpers for package verifier that
// its own tests and the interoperability tests with the senders' official
// libraries share. Those live in the nested module integration/ (so that
// the libraries are not requirements of hookguard's go.mod) and cannot see
// helpers in a _test.go file of another module; being internal, this
// package is importable by both and is not part of hookguard's API.
package verifiertest

import (
	"errors"
	"testing"

	"github.com/hookguard/hookguard/preset"
	"github.com/hookguard/hookguard/verifier"
)

// ReasonOf returns the Reason of a verification error, "" for nil, and
// fails the test for an error that is not a *verifier.Error.
func ReasonOf(t testing.TB, err error) verifier.Reason {
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

// WantReason checks that err carries reason want ("" meaning success).
func WantReason(t testing.TB, err error, want verifier.Reason) {
	t.Helper()
	if got := ReasonOf(t, err); got != want {
		if want == "" {
			t.Fatalf("want success, got %v", err)
		}
		t.Fatalf("want %s, got %v", want, err)
	}
}

// MustPreset returns the named preset, failing the test if there is none.
func MustPreset(t testing.TB, name string, o preset.Options) *verifier.Scheme {
	t.Helper()
	s, err := preset.Get(name, o)
	if err != nil {
		t.Fatalf("Preset(%q): %v", name, err)
	}
	return s
}

// MustKey decodes secret for s into a Key labelled label, failing the
// test if the secret does not decode.
func MustKey(t testing.TB, s *verifier.Scheme, label, secret string) verifier.Key {
	t.Helper()
	k, err := s.DecodeSecret(secret)
	if err != nil {
		t.Fatalf("DecodeSecret(%q) for %s: %v", secret, s.Name, err)
	}
	return verifier.Key{Label: label, Secret: k}
}

// Generic reports whether the tests that drive every preset alike can
// drive s: it signs headers and body with a shared secret (or compares
// one), under delivery ids of any form. A preset that verifies with a public key, signs the URL the sender
// called or fields of the body (Discord, Twilio, Mailgun, ...) cannot be
// signed from a secret and a body alone: its own tests in package preset
// (vectors from the sender's material) and the end-to-end tests cover it.
func Generic(s *verifier.Scheme) bool {
	// A fixed-width id (Twitch's UUIDs) is not one the tests make up.
	return !s.Asymmetric() && s.Strategy == nil && !s.UsesURL() && s.FixedWidthID == 0
}

// GenericPresets lists, in order, the presets for which Generic holds.
func GenericPresets(t testing.TB) []string {
	t.Helper()
	var out []string
	for _, n := range preset.Names() {
		if Generic(MustPreset(t, n, preset.Options{})) {
			out = append(out, n)
		}
	}
	return out
}
