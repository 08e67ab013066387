package caddymodule

import (
	"fmt"
	"time"

	"github.com/hookguard/hookguard/verifier"
)

// generic holds the fields that describe an hmac or token scheme.
type generic struct {
	Header, Algorithm, Encoding, Prefix, SignedContent, TimestampHeader, IDHeader string
}

func (g generic) empty() bool { return g == generic{} }

// buildScheme returns the named preset, or the generic scheme g describes.
func buildScheme(name string, g generic, o verifier.Options) (*verifier.Scheme, error) {
	switch name {
	case "":
		return nil, fmt.Errorf("no scheme given (use one of %s, hmac or token)", verifier.PresetList())
	case "hmac", "token":
		if g.Header == "" {
			return nil, fmt.Errorf("scheme %s needs a header: the name of the header that carries the %s", name, map[string]string{"hmac": "signature", "token": "token"}[name])
		}
	default:
		if !g.empty() {
			return nil, fmt.Errorf("scheme %s is a preset: header, algorithm, encoding, prefix, signed_content, timestamp_header and id_header are only for hmac and token", name)
		}
		if o.LegacySHA1 && name != "github" {
			return nil, fmt.Errorf("legacy_sha1 is only for the github scheme")
		}
		return verifier.Preset(name, o)
	}
	s := &verifier.Scheme{
		Name:       name,
		HeaderSets: []verifier.Headers{{Signature: g.Header, Timestamp: g.TimestampHeader, ID: g.IDHeader}},
	}
	if name == "token" {
		if g.Algorithm != "" || g.Encoding != "" || g.Prefix != "" || g.SignedContent != "" || g.TimestampHeader != "" {
			return nil, fmt.Errorf("scheme token takes only header and id_header: a token is compared as sent")
		}
		s.Format = verifier.FormatToken
		return s, s.Init()
	}
	s.Algorithm, s.Encoding, s.Prefix, s.Content = g.Algorithm, verifier.Encoding(g.Encoding), g.Prefix, g.SignedContent
	if s.Algorithm == "" {
		s.Algorithm = "sha256"
	}
	if s.Encoding == "" {
		s.Encoding = verifier.Hex
	}
	if g.TimestampHeader != "" {
		s.Tolerance = 5 * time.Minute
	}
	return s, s.Init()
}
