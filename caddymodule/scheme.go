package caddymodule

import (
	"fmt"

	"github.com/hookguard/hookguard/preset"
	"github.com/hookguard/hookguard/scheme"
	"github.com/hookguard/hookguard/verifier"
)

// SchemeFields describe a generic scheme (hmac or token); presets take
// none of them.
type SchemeFields struct {
	// Header is the signature header of a generic hmac scheme, or the
	// header carrying the token of a token scheme.
	Header string `json:"header,omitempty"`
	// Algorithm is the hmac hash: sha1, sha256 (default) or sha512.
	Algorithm string `json:"algorithm,omitempty"`
	// Encoding of an hmac signature: hex (default), base64 or base64url.
	Encoding string `json:"encoding,omitempty"`
	// Prefix is text before the encoded hmac signature, e.g. "sha256=".
	Prefix string `json:"prefix,omitempty"`
	// SignedContent is what an hmac sender signs: literal text and the
	// tokens {body}, {timestamp} and {id}, with {body} exactly once.
	// Default: {body}.
	SignedContent string `json:"signed_content,omitempty"`
	// TimestampHeader names the header with the Unix timestamp of an hmac
	// scheme; setting it turns on the tolerance check (default 5m).
	TimestampHeader string `json:"timestamp_header,omitempty"`
	// IDHeader names the header with the delivery id of a generic scheme.
	IDHeader string `json:"id_header,omitempty"`
}

func (g SchemeFields) empty() bool { return g == SchemeFields{} }

// buildScheme returns the named preset, or the generic scheme g describes.
func buildScheme(name string, g SchemeFields, o preset.Options) (*verifier.Scheme, error) {
	switch name {
	case "":
		return nil, fmt.Errorf("no scheme given (use one of %s, hmac or token)", preset.List())
	case "hmac", "token":
		if g.Header == "" {
			return nil, fmt.Errorf("scheme %s needs a header: the name of the header that carries the %s", name, map[string]string{"hmac": "signature", "token": "token"}[name])
		}
	default:
		if !g.empty() {
			return nil, fmt.Errorf("scheme %s is a preset: header, algorithm, encoding, prefix, signed_content, timestamp_header and id_header are only for hmac and token", name)
		}
		if o.LegacySHA1 && name != "github" {
			return nil, fieldErrorf("legacy_sha1", "legacy_sha1 is only for the github scheme")
		}
		return preset.Get(name, o)
	}
	s := &verifier.Scheme{
		Name:       name,
		HeaderSets: []verifier.Headers{{Signature: g.Header, Timestamp: g.TimestampHeader, ID: g.IDHeader}},
	}
	if name == "token" {
		if g.Algorithm != "" || g.Encoding != "" || g.Prefix != "" || g.SignedContent != "" || g.TimestampHeader != "" {
			return nil, fmt.Errorf("scheme token takes only header and id_header: a token is compared as sent")
		}
		s.Format, s.Algorithm = scheme.Token{}, scheme.Compare{}
		return s, s.Init()
	}
	alg := g.Algorithm
	if alg == "" {
		alg = "sha256"
	}
	mac, ok := scheme.HMACNamed(alg)
	if !ok {
		return nil, fmt.Errorf("scheme %s: unknown algorithm %q (use sha1, sha256 or sha512)", name, alg)
	}
	s.Format, s.Algorithm, s.Encoding, s.Content = scheme.Single{Prefix: g.Prefix}, mac, scheme.Encoding(g.Encoding), g.SignedContent
	if s.Encoding == "" {
		s.Encoding = scheme.Hex
	}
	if s.Encoding == scheme.Raw {
		return nil, fmt.Errorf("scheme %s: unknown encoding %q (use hex, base64 or base64url)", name, g.Encoding)
	}
	if g.TimestampHeader != "" {
		s.Tolerance = scheme.DefaultTolerance
	}
	return s, s.Init()
}
