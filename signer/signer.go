// Package signer signs webhook bodies with the scheme descriptions of
// package scheme, so that a scheme is described once and used in both
// directions.
package signer

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/hookguard/hookguard/scheme"
)

// Message is what gets signed.
type Message struct {
	// Body is the exact bytes that will be sent.
	Body []byte
	// ID is the delivery id for schemes that carry one; NewID makes one.
	ID string
	// Time is the signing time for timestamped schemes.
	Time time.Time
	// Method and URL are the request's method and the URL it is sent to,
	// for schemes that sign them.
	Method, URL string
}

// Sign returns the headers that carry the signatures of m under each
// shared secret, for a scheme's first header set. Schemes that hold one
// signature per header (everything but Standard Webhooks, Svix, Stripe and
// their kind) sign with the first secret only. For key pairs, use SignKeys.
func Sign(s *scheme.Scheme, secrets [][]byte, m Message) http.Header {
	h, err := SignKeys(s, Secrets(secrets...), m)
	if err != nil {
		// Only a key pair without its private key, or a sender whose
		// signature is in the body, fails; neither has a shared secret.
		return http.Header{}
	}
	return h
}

// SignKeys returns the headers that carry the signatures of m under keys.
func SignKeys(s *scheme.Scheme, keys []scheme.Key, m Message) (http.Header, error) {
	g := Begin(s, keys, m)
	g.Write(m.Body)
	return g.Header()
}

// Secrets makes keys of shared secrets, labelled by position.
func Secrets(secrets ...[]byte) []scheme.Key {
	keys := make([]scheme.Key, len(secrets))
	for i, s := range secrets {
		keys[i] = scheme.Key{Secret: s}
	}
	return keys
}

// NewID returns a fresh random message id in the "msg_" style Standard
// Webhooks uses.
func NewID() string {
	var b [16]byte
	rand.Read(b[:])
	return "msg_" + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b[:]))
}

// IDFor returns the delivery id to send with scheme s: id itself, or a
// fresh one (NewID) when id is empty. A sender whose ids have a fixed
// width (Twitch's 36-character UUIDs, Scheme.FixedWidthID) gets an id of
// that form: a random UUID, or, for an id of another form, one derived
// from it, so one webhook keeps one id.
func IDFor(s *scheme.Scheme, id string) string {
	if s == nil || s.FixedWidthID != 36 {
		if id == "" {
			return NewID()
		}
		return id
	}
	if len(id) == 36 {
		return id
	}
	var b [16]byte
	if id == "" {
		rand.Read(b[:])
	} else {
		sum := sha256.Sum256([]byte(id))
		copy(b[:], sum[:16])
	}
	b[6] = b[6]&0x0f | 0x40 // version 4 (random) form, as Twitch's are
	b[8] = b[8]&0x3f | 0x80 // RFC 9562 variant
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
