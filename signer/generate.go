package signer

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"fmt"

	"github.com/hookguard/hookguard/scheme"
)

// DefaultSecretBytes is how many random bytes a generated secret holds.
const DefaultSecretBytes = 32

// GenerateSecret returns a new secret of n random bytes from crypto/rand in
// the format scheme s expects: whsec_ + base64 for Standard Webhooks and
// Svix (and Stripe's whsec_ look), base64 or hex where the scheme decodes
// its secrets so, URL-safe base64 otherwise. Any secret it
// returns passes CheckSchemeKey.
func GenerateSecret(s *scheme.Scheme, n int) (string, error) {
	if n < MinSecretLength {
		return "", fmt.Errorf("a secret needs at least %d random bytes, got %d", MinSecretLength, n)
	}
	if n > 1024 {
		return "", fmt.Errorf("%d bytes is more than any sender accepts; use at most 1024", n)
	}
	b := make([]byte, n)
	for {
		if _, err := rand.Read(b); err != nil {
			return "", fmt.Errorf("reading random bytes: %w", err)
		}
		var secret string
		switch {
		case s != nil && s.Secret == scheme.SecretWhsec:
			secret = "whsec_" + base64.StdEncoding.EncodeToString(b)
		case s != nil && s.Secret == scheme.SecretBase64:
			secret = base64.StdEncoding.EncodeToString(b)
		case s != nil && s.Secret == scheme.SecretHex:
			secret = hex.EncodeToString(b)
		case s != nil:
			secret = s.SecretPrefix + base64.RawURLEncoding.EncodeToString(b)
		default:
			secret = base64.RawURLEncoding.EncodeToString(b)
		}
		// Random bytes can, rarely, spell a common word or a run; draw
		// again rather than hand out a secret our own check would refuse.
		if s == nil && CheckSecret(secret).OK() || s != nil && CheckSchemeKey(s, secret).OK() {
			return secret, nil
		}
	}
}
