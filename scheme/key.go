package scheme

import (
	"crypto"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Key is one accepted key. Several are accepted at once so that a key can
// be rotated without a window where valid webhooks fail.
type Key struct {
	// Label names the key in logs and placeholders; never the key.
	Label string
	// Secret is the decoded shared secret of a symmetric scheme (see
	// Scheme.DecodeSecret), or the token itself for a Comparer.
	Secret []byte
	// Public verifies, for schemes whose Algorithm is a KeyPair.
	Public crypto.PublicKey
	// Private signs, for schemes whose Algorithm is a KeyPair.
	Private crypto.Signer
	// NotAfter, if set, is when the key stops being accepted.
	NotAfter time.Time
}

// Empty reports whether the key holds nothing to check with: an empty
// HMAC key is one anyone can compute, so it is never used.
func (k *Key) Empty() bool { return len(k.Secret) == 0 && k.Public == nil && k.Private == nil }

// Expired reports whether the key is past its NotAfter at now.
func (k *Key) Expired(now time.Time) bool { return !k.NotAfter.IsZero() && !now.Before(k.NotAfter) }

// Usable returns the keys that may verify or sign at now (not empty, not
// expired) and each one's index in keys.
func Usable(keys []Key, now time.Time) ([]*Key, []int) {
	var out []*Key
	var idx []int
	for i := range keys {
		if !keys[i].Empty() && !keys[i].Expired(now) {
			out = append(out, &keys[i])
			idx = append(idx, i)
		}
	}
	return out, idx
}

// MaxExpiredChecked is how many expired keys a refused request is checked
// against, to tell a sender that still signs with a retired secret
// (ExpiredSecret) from a forgery or a changed body (WrongSignature): the
// ones that expired last. Checking one is one more signature over the
// body, on refused requests only; the bound keeps what a forged request
// costs within a small multiple of what it costs without expired keys,
// however many of them a route still lists.
const MaxExpiredChecked = 2

// LastExpired returns, in the order given, the keys (not empty) past their
// NotAfter at now, at most the MaxExpiredChecked that expired last: the
// ones a refused request is checked against.
func LastExpired(keys []Key, now time.Time) []Key {
	var out []Key
	for _, k := range keys {
		if !k.Empty() && k.Expired(now) {
			out = append(out, k)
		}
	}
	if len(out) <= MaxExpiredChecked {
		return out
	}
	// The positions of the MaxExpiredChecked that expired last, then
	// back in the order given.
	idx := make([]int, len(out))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int { return out[b].NotAfter.Compare(out[a].NotAfter) })
	idx = idx[:MaxExpiredChecked]
	slices.Sort(idx)
	kept := make([]Key, len(idx))
	for i, j := range idx {
		kept[i] = out[j]
	}
	return kept
}

// SecretFormat says how a configured secret string becomes key bytes.
type SecretFormat int

const (
	// SecretRaw uses the secret's UTF-8 bytes as the key.
	SecretRaw SecretFormat = iota
	// SecretWhsec strips an optional "whsec_" prefix and base64-decodes the
	// rest, as Standard Webhooks and Svix do.
	SecretWhsec
	// SecretBase64 base64-decodes the secret (Airtable's MAC secret).
	SecretBase64
	// SecretHex hex-decodes the secret (Onfleet).
	SecretHex
)

func (f SecretFormat) String() string {
	switch f {
	case SecretWhsec:
		return "whsec_ + base64"
	case SecretBase64:
		return "base64"
	case SecretHex:
		return "hex"
	}
	return "text (its UTF-8 bytes)"
}

// DecodeSecret turns a configured secret into key bytes. Its errors never
// quote the secret.
func (s *Scheme) DecodeSecret(secret string) ([]byte, error) {
	if secret == "" {
		return nil, fmt.Errorf("empty secret")
	}
	var (
		key []byte
		err error
	)
	switch s.Secret {
	case SecretWhsec:
		key, err = base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
		if err != nil || len(key) == 0 {
			// The decoder's error would quote the offending byte of the secret.
			return nil, fmt.Errorf("a %s secret must be whsec_ followed by base64", s.Name)
		}
	case SecretBase64:
		key, err = base64.StdEncoding.DecodeString(secret)
		if err != nil {
			key, err = base64.RawStdEncoding.DecodeString(secret)
		}
		if err != nil || len(key) == 0 {
			return nil, fmt.Errorf("a %s secret must be base64", s.Name)
		}
	case SecretHex:
		key, err = hex.DecodeString(secret)
		if err != nil || len(key) == 0 {
			return nil, fmt.Errorf("a %s secret must be hex", s.Name)
		}
	default:
		key = []byte(secret)
	}
	return key, nil
}

// Asymmetric reports whether the scheme verifies with public keys.
func (s *Scheme) Asymmetric() bool {
	_, ok := s.Algorithm.(KeyPair)
	return ok
}

// ParsePublicKey reads a public key as the sender publishes it.
func (s *Scheme) ParsePublicKey(text string) (crypto.PublicKey, error) {
	kp, ok := s.Algorithm.(KeyPair)
	if !ok {
		return nil, fmt.Errorf("scheme %s signs with a shared secret, not a key pair: use secret", s.Name)
	}
	return kp.ParsePublic(strings.TrimSpace(text))
}

// ParsePrivateKey reads a private key for signing.
func (s *Scheme) ParsePrivateKey(text string) (crypto.Signer, error) {
	kp, ok := s.Algorithm.(KeyPair)
	if !ok {
		return nil, fmt.Errorf("scheme %s signs with a shared secret, not a key pair: use secret", s.Name)
	}
	return kp.ParsePrivate(strings.TrimSpace(text))
}

// parsePublic reads a public key in the forms senders publish: PEM, base64
// or hex of a DER SubjectPublicKeyInfo, or, where raw is not 0, raw bytes
// of that length in hex or base64, optionally after prefix. Raw bytes are
// returned as []byte. Errors never quote the text.
func parsePublic(text, prefix string, raw int) (any, error) {
	der, err := keyBytes(text, prefix, "PUBLIC KEY")
	if err != nil {
		return nil, err
	}
	if raw != 0 && len(der) == raw {
		return der, nil
	}
	k, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		return nil, fmt.Errorf("not a public key the scheme reads (PEM, or base64/hex DER%s)", rawHint(raw))
	}
	return k, nil
}

// parsePrivate is parsePublic for private keys: PKCS #8 or SEC 1 DER, or
// raw bytes of length raw1 or raw2.
func parsePrivate(text, prefix string, raw1, raw2 int) (any, error) {
	der, err := keyBytes(text, prefix, "PRIVATE KEY")
	if err != nil {
		return nil, err
	}
	if raw1 != 0 && (len(der) == raw1 || len(der) == raw2) {
		return der, nil
	}
	if k, err := x509.ParsePKCS8PrivateKey(der); err == nil {
		return k, nil
	}
	if k, err := x509.ParseECPrivateKey(der); err == nil {
		return k, nil
	}
	return nil, fmt.Errorf("not a private key the scheme reads (PEM, or base64/hex PKCS #8 DER%s)", rawHint(raw1))
}

func rawHint(raw int) string {
	if raw == 0 {
		return ""
	}
	return fmt.Sprintf(", or %d raw bytes in hex or base64", raw)
}

// keyBytes undoes the text form of a key: PEM, an optional prefix, hex,
// base64 (standard or URL, padded or not).
func keyBytes(text, prefix, what string) ([]byte, error) {
	text = strings.TrimSpace(text)
	if text == "" {
		return nil, fmt.Errorf("empty key")
	}
	if strings.HasPrefix(text, "-----BEGIN") {
		b, _ := pem.Decode([]byte(text))
		if b == nil || !strings.HasSuffix(b.Type, what) {
			return nil, fmt.Errorf("PEM block is not a %s", what)
		}
		return b.Bytes, nil
	}
	if prefix != "" {
		text = strings.TrimPrefix(text, prefix)
	}
	if b, err := hex.DecodeString(text); err == nil && len(text) >= 64 {
		return b, nil
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(text); err == nil {
			return b, nil
		}
	}
	return nil, fmt.Errorf("not PEM, hex or base64")
}

// marshalPair writes a key pair as base64 DER: SubjectPublicKeyInfo and
// PKCS #8.
func marshalPair(pub crypto.PublicKey, priv crypto.Signer) (string, string, error) {
	p, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return "", "", err
	}
	s, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return "", "", err
	}
	return b64(p), b64(s), nil
}

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }
