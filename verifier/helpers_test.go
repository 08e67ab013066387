package verifier_test

import (
	"net/http"

	"github.com/hookguard/hookguard/internal/verifiertest"
)

// The helpers shared with the interoperability tests in the nested module
// integration/ live in internal/verifiertest.
var (
	reasonOf   = verifiertest.ReasonOf
	wantReason = verifiertest.WantReason
	mustPreset = verifiertest.MustPreset
	mustKey    = verifiertest.MustKey
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
