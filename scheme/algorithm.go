package scheme

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"math/big"
	"strings"

	// Registers the hash functions that HMAC names.
	_ "crypto/sha1" //nolint:gosec // G505: senders sign with HMAC-SHA1 (GitHub's legacy header, Twilio); HMAC-SHA1 is not broken as a MAC
	_ "crypto/sha512"
)

// An Algorithm computes and checks signatures over a message that is
// written to it as it streams.
type Algorithm interface {
	// Name is the algorithm as senders' docs name it: "HMAC-SHA256".
	Name() string
	// Size is the length in bytes of every signature, or 0 where it
	// varies (DER-encoded ECDSA, tokens).
	Size() int
	// Begin starts a message signed or checked under keys: what is
	// written to it is what is signed.
	Begin(keys []*Key) Message
}

// A Message is a message in the making under a set of keys.
type Message interface {
	io.Writer
	// Match returns the index of the first key under which one of sigs is
	// a valid signature of what was written, and that signature, or -1.
	// Every key is tried against every signature whatever matches, and
	// secrets are compared in constant time.
	Match(sigs [][]byte) (int, []byte)
	// Sign returns the signature of what was written under key i.
	Sign(i int) ([]byte, error)
}

// An Identified Message names what was signed by something other than
// the signature, for algorithms whose signatures are not unique to the
// message (ECDSA): the verifier identifies a delivery, for replay
// protection, by it instead.
type Identified interface {
	Identity() []byte
}

// A KeyPair is an asymmetric Algorithm: it verifies with public keys and
// signs with private ones, each written as the sender publishes it.
type KeyPair interface {
	Algorithm
	ParsePublic(text string) (crypto.PublicKey, error)
	ParsePrivate(text string) (crypto.Signer, error)
	// Generate returns a fresh key pair, written as ParsePublic and
	// ParsePrivate read them.
	Generate() (public, private string, err error)
}

// A Comparer is an Algorithm that signs nothing: the header holds a
// shared secret (a token, a password). It is checked before any body is
// read.
type Comparer interface {
	Algorithm
	// Compare returns the index of the first key equal to got, or -1,
	// comparing every key in constant time.
	Compare(got []byte, keys []*Key) int
}

// HMAC is HMAC with a hash function; the key is the decoded secret.
type HMAC struct{ Hash crypto.Hash }

// The HMACs senders use.
var (
	HMACSHA1   = HMAC{crypto.SHA1}
	HMACSHA256 = HMAC{crypto.SHA256}
	HMACSHA512 = HMAC{crypto.SHA512}
)

// HMACNamed returns the HMAC of a hash named as in config: sha1, sha256
// or sha512.
func HMACNamed(name string) (HMAC, bool) {
	switch name {
	case "sha1":
		return HMACSHA1, true
	case "sha256":
		return HMACSHA256, true
	case "sha512":
		return HMACSHA512, true
	}
	return HMAC{}, false
}

// Name implements Algorithm.
func (a HMAC) Name() string { return "HMAC-" + strings.ReplaceAll(a.Hash.String(), "-", "") }

// Size implements Algorithm.
func (a HMAC) Size() int { return a.Hash.Size() }

// Begin implements Algorithm.
func (a HMAC) Begin(keys []*Key) Message {
	m := make(macs, len(keys))
	for i, k := range keys {
		m[i] = hmac.New(a.Hash.New, k.Secret)
	}
	return m
}

// macs is one running HMAC per key.
type macs []hash.Hash

func (m macs) Write(p []byte) (int, error) {
	for _, h := range m {
		h.Write(p)
	}
	return len(p), nil
}

func (m macs) Match(sigs [][]byte) (int, []byte) {
	matched := -1
	var matchedSig []byte
	for i, h := range m {
		want := h.Sum(nil)
		for _, sig := range sigs {
			if hmac.Equal(sig, want) && matched < 0 {
				matched, matchedSig = i, sig
			}
		}
	}
	return matched, matchedSig
}

func (m macs) Sign(i int) ([]byte, error) { return m[i].Sum(nil), nil }

// Compare is the Algorithm of Token-like formats: the header's value is
// compared with each secret.
type Compare struct{}

// Name implements Algorithm.
func (Compare) Name() string { return "shared secret" }

// Size implements Algorithm.
func (Compare) Size() int { return 0 }

// Begin implements Algorithm: nothing is signed; the token is the key.
func (Compare) Begin(keys []*Key) Message { return tokens(keys) }

// Compare implements Comparer. Both sides are hashed first so the
// comparison takes the same time whatever their lengths.
func (Compare) Compare(got []byte, keys []*Key) int {
	g := sha256.Sum256(got)
	match := -1
	for i, k := range keys {
		want := sha256.Sum256(k.Secret)
		if subtle.ConstantTimeCompare(g[:], want[:]) == 1 && match < 0 {
			match = i
		}
	}
	return match
}

type tokens []*Key

func (tokens) Write(p []byte) (int, error) { return len(p), nil }

func (t tokens) Match(sigs [][]byte) (int, []byte) {
	if len(sigs) == 0 {
		return -1, nil
	}
	i := Compare{}.Compare(sigs[0], t)
	if i < 0 {
		return -1, nil
	}
	return i, sigs[0]
}

func (t tokens) Sign(i int) ([]byte, error) { return t[i].Secret, nil }

// Ed25519 signs the whole message with Ed25519 (Discord, Standard
// Webhooks v1a). Ed25519 hashes the message twice, so the message is held
// until Match or Sign: schemes using it bound their bodies (Scheme.MaxBody).
type Ed25519 struct{}

// Name implements Algorithm.
func (Ed25519) Name() string { return "Ed25519" }

// Size implements Algorithm.
func (Ed25519) Size() int { return ed25519.SignatureSize }

// Begin implements Algorithm.
func (Ed25519) Begin(keys []*Key) Message { return &edMessage{keys: keys} }

// ParsePublic implements KeyPair: 32 bytes in hex (Discord) or base64, a
// PEM or base64 DER SubjectPublicKeyInfo, or Standard Webhooks' whpk_ +
// base64.
func (Ed25519) ParsePublic(text string) (crypto.PublicKey, error) {
	k, err := parsePublic(text, "whpk_", ed25519.PublicKeySize)
	if err != nil {
		return nil, err
	}
	var pub ed25519.PublicKey
	switch v := k.(type) {
	case []byte:
		pub = ed25519.PublicKey(v)
	case ed25519.PublicKey:
		pub = v
	default:
		return nil, fmt.Errorf("not an Ed25519 public key")
	}
	if smallOrder(pub) {
		return nil, fmt.Errorf("not a usable Ed25519 public key: a point of small order, under which forged signatures verify (a placeholder?)")
	}
	return pub, nil
}

// smallOrderY are the y coordinates (little-endian, sign bit clear) of the
// Ed25519 points of order 1, 2, 4 and 8, in their canonical and
// non-canonical (y + p) encodings, as libsodium's blocklist has them.
var smallOrderY = func() [][]byte {
	var out [][]byte
	for _, h := range []string{
		"0100000000000000000000000000000000000000000000000000000000000000", // 1: the identity
		"ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", // p-1: order 2
		"0000000000000000000000000000000000000000000000000000000000000000", // 0: order 4
		"26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05", // order 8
		"c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a", // order 8
		"edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", // p: 0, not canonical
		"eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", // p+1: 1, not canonical
	} {
		b, _ := hex.DecodeString(h)
		out = append(out, b)
	}
	return out
}()

// smallOrder reports whether pub is a point of small order: under such a
// key, a signature anyone can make verifies any message.
func smallOrder(pub ed25519.PublicKey) bool {
	if len(pub) != ed25519.PublicKeySize {
		return true
	}
	y := bytes.Clone(pub)
	y[31] &= 0x7f
	for _, bad := range smallOrderY {
		if bytes.Equal(y, bad) {
			return true
		}
	}
	return false
}

// ParsePrivate implements KeyPair: a 32-byte seed or a 64-byte private key
// in hex or base64, Standard Webhooks' whsk_ + base64, or a PKCS #8 PEM.
func (Ed25519) ParsePrivate(text string) (crypto.Signer, error) {
	k, err := parsePrivate(text, "whsk_", ed25519.SeedSize, ed25519.PrivateKeySize)
	if err != nil {
		return nil, err
	}
	switch v := k.(type) {
	case []byte:
		if len(v) == ed25519.SeedSize {
			return ed25519.NewKeyFromSeed(v), nil
		}
		priv := ed25519.PrivateKey(v)
		// The second half must be the public key of the first, or
		// signatures would not verify under the key published.
		if !bytes.Equal(ed25519.NewKeyFromSeed(priv.Seed()), priv) {
			return nil, fmt.Errorf("not an Ed25519 private key: its public half does not match its seed")
		}
		return priv, nil
	case ed25519.PrivateKey:
		return v, nil
	}
	return nil, fmt.Errorf("not an Ed25519 private key")
}

// Generate implements KeyPair, in Standard Webhooks' whpk_/whsk_ form. The
// private key is the 32-byte seed, as the Go and Python libraries' v1a
// (standard-webhooks PRs #253 and #304) read whsk_: the Go one refuses the
// 64-byte form. ParsePrivate reads both.
func (Ed25519) Generate() (string, string, error) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return "", "", err
	}
	return "whpk_" + b64(pub), "whsk_" + b64(priv.Seed()), nil
}

type edMessage struct {
	keys []*Key
	buf  bytes.Buffer
}

func (m *edMessage) Write(p []byte) (int, error) { return m.buf.Write(p) }

func (m *edMessage) Match(sigs [][]byte) (int, []byte) {
	matched := -1
	var matchedSig []byte
	for i, k := range m.keys {
		pub, ok := k.Public.(ed25519.PublicKey)
		if !ok {
			continue
		}
		for _, sig := range sigs {
			if len(sig) == ed25519.SignatureSize && ed25519.Verify(pub, m.buf.Bytes(), sig) && matched < 0 {
				matched, matchedSig = i, sig
			}
		}
	}
	return matched, matchedSig
}

func (m *edMessage) Sign(i int) ([]byte, error) {
	priv, ok := m.keys[i].Private.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("key %s has no Ed25519 private key", m.keys[i].Label)
	}
	return ed25519.Sign(priv, m.buf.Bytes()), nil
}

// ECDSAP256 is ECDSA on P-256 over SHA-256 (SendGrid; Plaid's ES256).
// Signatures are ASN.1 DER, or with Raw the 64-byte r||s of JWS.
type ECDSAP256 struct{ Raw bool }

// Name implements Algorithm.
func (a ECDSAP256) Name() string {
	if a.Raw {
		return "ECDSA P-256 SHA-256 (r||s)"
	}
	return "ECDSA P-256 SHA-256"
}

// Size implements Algorithm.
func (a ECDSAP256) Size() int {
	if a.Raw {
		return 64
	}
	return 0
}

// Begin implements Algorithm.
func (a ECDSAP256) Begin(keys []*Key) Message {
	return &ecMessage{raw: a.Raw, keys: keys, h: sha256.New()}
}

// ParsePublic implements KeyPair: a PEM or base64 DER SubjectPublicKeyInfo,
// as SendGrid shows it.
func (ECDSAP256) ParsePublic(text string) (crypto.PublicKey, error) {
	k, err := parsePublic(text, "", 0)
	if err != nil {
		return nil, err
	}
	pub, ok := k.(*ecdsa.PublicKey)
	if !ok || pub.Curve != elliptic.P256() {
		return nil, fmt.Errorf("not an ECDSA P-256 public key")
	}
	return pub, nil
}

// ParsePrivate implements KeyPair: a PKCS #8 or SEC 1 key, PEM or base64
// DER.
func (ECDSAP256) ParsePrivate(text string) (crypto.Signer, error) {
	k, err := parsePrivate(text, "", 0, 0)
	if err != nil {
		return nil, err
	}
	priv, ok := k.(*ecdsa.PrivateKey)
	if !ok || priv.Curve != elliptic.P256() {
		return nil, fmt.Errorf("not an ECDSA P-256 private key")
	}
	return priv, nil
}

// Generate implements KeyPair: base64 DER, public key as SubjectPublicKeyInfo and private as PKCS #8.
func (ECDSAP256) Generate() (string, string, error) {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return "", "", err
	}
	return marshalPair(&priv.PublicKey, priv)
}

type ecMessage struct {
	raw  bool
	keys []*Key
	h    hash.Hash
}

func (m *ecMessage) Write(p []byte) (int, error) { return m.h.Write(p) }

func (m *ecMessage) Match(sigs [][]byte) (int, []byte) {
	sum := m.h.Sum(nil)
	matched := -1
	var matchedSig []byte
	for i, k := range m.keys {
		pub, ok := k.Public.(*ecdsa.PublicKey)
		if !ok {
			continue
		}
		for _, sig := range sigs {
			var good bool
			if m.raw {
				good = len(sig) == 64 && ecdsa.Verify(pub, sum, new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:]))
			} else {
				good = ecdsa.VerifyASN1(pub, sum, sig)
			}
			if good && matched < 0 {
				matched, matchedSig = i, sig
			}
		}
	}
	return matched, matchedSig
}

// Identity implements Identified: an ECDSA signature is malleable ((r, s)
// and (r, N-s) both verify), so it cannot name a delivery; the digest of
// what was signed can.
func (m *ecMessage) Identity() []byte { return m.h.Sum(nil) }

func (m *ecMessage) Sign(i int) ([]byte, error) {
	priv, ok := m.keys[i].Private.(*ecdsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("key %s has no ECDSA private key", m.keys[i].Label)
	}
	sum := m.h.Sum(nil)
	if !m.raw {
		return ecdsa.SignASN1(rand.Reader, priv, sum)
	}
	r, s, err := ecdsa.Sign(rand.Reader, priv, sum)
	if err != nil {
		return nil, err
	}
	out := make([]byte, 64)
	r.FillBytes(out[:32])
	s.FillBytes(out[32:])
	return out, nil
}
