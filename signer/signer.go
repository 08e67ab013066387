// Package signer signs webhook bodies with the scheme descriptions of
// package verifier, so that a scheme is described once and used in both
// directions.
package signer

import (
	"crypto/rand"
	"encoding/base32"
	"net/http"
	"strings"
	"time"

	"github.com/hookguard/hookguard/verifier"
)

// Message is what gets signed.
type Message struct {
	// Body is the exact bytes that will be sent.
	Body []byte
	// ID is the delivery id for schemes that carry one; NewID makes one.
	ID string
	// Time is the signing time for timestamped schemes.
	Time time.Time
}

// Sign returns the headers that carry the signatures of m under each key,
// for a scheme's first header set. Schemes that hold one signature per
// header (everything but Standard Webhooks, Svix and Stripe) sign with the
// first key only.
func Sign(s *verifier.Scheme, keys [][]byte, m Message) http.Header {
	g := Begin(s, keys, m.ID, m.Time)
	g.Write(m.Body)
	return g.Header()
}

// NewID returns a fresh random message id in the "msg_" style Standard
// Webhooks uses.
func NewID() string {
	var b [16]byte
	rand.Read(b[:])
	return "msg_" + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b[:]))
}
