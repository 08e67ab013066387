package scheme

import (
	"fmt"
	"strings"
)

// A Format is the layout of a signature header's value: where the
// signatures are in it, and the timestamp where the header carries one.
type Format interface {
	// Parse reads the header's value; signatures are decoded with enc. A
	// value that does not fit the layout gives a problem, in words safe
	// to log (never the value).
	Parse(value string, enc Encoding) (sigs [][]byte, ts string, problem string)
	// Render writes the header's value for encoded signatures and the
	// timestamp, as the sender would.
	Render(sigs []string, ts string) string
	// PerKey reports whether the header carries one signature per secret
	// (Stripe, Standard Webhooks), so a signer rotating secrets sends them
	// all; otherwise a signer signs with its first secret.
	PerKey() bool
	// CarriesTimestamp reports whether the timestamp travels inside the
	// header (Stripe's t=) rather than in a header of its own.
	CarriesTimestamp() bool
}

// maxSignatures bounds the signatures one header may carry. Real senders
// stay far below it; it bounds the work an attacker causes with one header.
const maxSignatures = 16

// Single is one encoded signature, optionally after a fixed prefix
// (GitHub's "sha256=", Slack's "v0=").
type Single struct{ Prefix string }

// Parse implements Format.
func (f Single) Parse(value string, enc Encoding) ([][]byte, string, string) {
	if !strings.HasPrefix(value, f.Prefix) {
		return nil, "", "does not start with " + f.Prefix
	}
	sig, ok := enc.Decode(value[len(f.Prefix):])
	if !ok {
		return nil, "", "not valid " + string(enc)
	}
	return [][]byte{sig}, "", ""
}

// Render implements Format.
func (f Single) Render(sigs []string, _ string) string { return f.Prefix + sigs[0] }

// PerKey implements Format.
func (Single) PerKey() bool { return false }

// CarriesTimestamp implements Format.
func (Single) CarriesTimestamp() bool { return false }

// List is a list of key=value elements (Stripe's "t=<unix>,v1=<hex>",
// Paddle's "ts=<unix>;h1=<hex>"): an optional timestamp element and one or
// more signature elements; elements of other keys (Stripe's v0) are
// ignored. A repeated or empty timestamp, no timestamp where one is
// expected, no signature, or a signature that does not decode is malformed:
// a header is judged whole before any body is read. (stripe-go skips an
// undecodable v1; Stripe never sends one.)
type List struct {
	// Separator is between elements; Assign between key and value.
	Separator, Assign string
	// TimestampKey names the timestamp element; empty when the header
	// carries none.
	TimestampKey string
	// SignatureKey names the signature elements.
	SignatureKey string
}

// Stripe is Stripe's layout, also used by several senders that copied it.
var Stripe = List{Separator: ",", Assign: "=", TimestampKey: "t", SignatureKey: "v1"}

// Parse implements Format.
func (f List) Parse(value string, enc Encoding) (sigs [][]byte, ts string, problem string) {
	n := 0
	for _, item := range strings.Split(value, f.Separator) {
		k, v, ok := strings.Cut(strings.TrimSpace(item), f.Assign)
		if !ok {
			return nil, "", "element without " + f.Assign
		}
		switch {
		case f.TimestampKey != "" && k == f.TimestampKey:
			if ts != "" {
				return nil, "", k + " appears more than once"
			}
			if v == "" {
				return nil, "", "empty " + k
			}
			ts = v
		case k == f.SignatureKey:
			n++
			if n > maxSignatures {
				return nil, "", "too many " + k + " signatures"
			}
			sig, ok := enc.Decode(v)
			if !ok {
				return nil, "", fmt.Sprintf("a %s signature is not valid %s", k, enc)
			}
			sigs = append(sigs, sig)
		}
	}
	switch {
	case f.TimestampKey != "" && ts == "":
		return nil, "", "no " + f.TimestampKey + " element"
	case n == 0:
		return nil, "", "no " + f.SignatureKey + " signature"
	}
	return sigs, ts, ""
}

// Render implements Format.
func (f List) Render(sigs []string, ts string) string {
	parts := make([]string, 0, len(sigs)+1)
	if f.TimestampKey != "" {
		parts = append(parts, f.TimestampKey+f.Assign+ts)
	}
	for _, s := range sigs {
		parts = append(parts, f.SignatureKey+f.Assign+s)
	}
	return strings.Join(parts, f.Separator)
}

// PerKey implements Format.
func (List) PerKey() bool { return true }

// CarriesTimestamp implements Format.
func (f List) CarriesTimestamp() bool { return f.TimestampKey != "" }

// Versioned is Standard Webhooks' space-separated "<version>,<signature>"
// list. Elements of other versions (v1a next to v1, future ones) are
// ignored. A list with none of Version, or whose Version element does not
// decode, is malformed (the official libraries skip such an element; no
// sender emits one).
type Versioned struct{ Version string }

// Parse implements Format.
func (f Versioned) Parse(value string, enc Encoding) ([][]byte, string, string) {
	var sigs [][]byte
	for _, item := range strings.Fields(value) {
		ver, s, ok := strings.Cut(item, ",")
		if !ok {
			return nil, "", "element without version"
		}
		if ver != f.Version {
			continue
		}
		if len(sigs) == maxSignatures {
			return nil, "", "too many " + f.Version + " signatures"
		}
		sig, ok := enc.Decode(s)
		if !ok {
			return nil, "", fmt.Sprintf("a %s signature is not valid %s", f.Version, enc)
		}
		sigs = append(sigs, sig)
	}
	if len(sigs) == 0 {
		return nil, "", "no " + f.Version + " signature"
	}
	return sigs, "", ""
}

// Render implements Format.
func (f Versioned) Render(sigs []string, _ string) string {
	parts := make([]string, len(sigs))
	for i, s := range sigs {
		parts[i] = f.Version + "," + s
	}
	return strings.Join(parts, " ")
}

// PerKey implements Format.
func (Versioned) PerKey() bool { return true }

// CarriesTimestamp implements Format.
func (Versioned) CarriesTimestamp() bool { return false }

// Token is a shared secret sent as-is in the header (GitLab's
// X-Gitlab-Token); its Algorithm is Compare.
type Token struct{}

// Parse implements Format.
func (Token) Parse(value string, _ Encoding) ([][]byte, string, string) {
	return [][]byte{[]byte(value)}, "", ""
}

// Render implements Format.
func (Token) Render(sigs []string, _ string) string { return sigs[0] }

// PerKey implements Format.
func (Token) PerKey() bool { return false }

// CarriesTimestamp implements Format.
func (Token) CarriesTimestamp() bool { return false }
