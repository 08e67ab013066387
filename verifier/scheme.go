// Package verifier checks webhook signatures. A Scheme describes, once, where
// a sender puts its signature, how it encodes it, what exactly it signs and
// where the timestamp and delivery id travel; Begin/Write/Finish then verify
// a request against that description while its body streams through, so the
// body is hashed in the same pass that reads it and never re-serialised.
//
// The package has no Caddy import: it is used by the Caddy modules, the CLI
// and the signer alike.
package verifier

import (
	"crypto"
	"crypto/hmac"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"hash"
	"strings"
	"time"

	// Registers the hash functions that Algorithm names.
	_ "crypto/sha1" //nolint:gosec // G505: senders sign with HMAC-SHA1 (GitHub's legacy header); HMAC-SHA1 is not broken as a MAC
	_ "crypto/sha256"
	_ "crypto/sha512"
)

// Format says how a signature header's value is laid out.
type Format int

const (
	// FormatSingle is one encoded signature, optionally after a fixed prefix
	// (GitHub's "sha256=", Slack's "v0=").
	FormatSingle Format = iota
	// FormatStripe is Stripe's "t=<unix>,v1=<hex>[,v1=<hex>...]" list; the
	// timestamp travels inside the signature header.
	FormatStripe
	// FormatStandard is Standard Webhooks' space-separated "v1,<base64>"
	// list; versions other than v1 are ignored.
	FormatStandard
	// FormatToken is a shared secret sent as-is; nothing is hashed.
	FormatToken
)

// Encoding is how signature bytes are written in the header.
type Encoding string

// The encodings a signature can have.
const (
	Hex       Encoding = "hex"
	Base64    Encoding = "base64"
	Base64URL Encoding = "base64url"
)

// SecretFormat says how a configured secret string becomes key bytes.
type SecretFormat int

const (
	// SecretRaw uses the secret's UTF-8 bytes as the key.
	SecretRaw SecretFormat = iota
	// SecretWhsec strips an optional "whsec_" prefix and base64-decodes the
	// rest, as Standard Webhooks and Svix do.
	SecretWhsec
)

// Headers names the headers one sender uses. Timestamp and ID are optional.
type Headers struct {
	Signature string
	Timestamp string
	ID        string
}

// Scheme describes one way of signing webhooks. Presets are returned by
// Preset; a generic scheme is built by filling the fields and calling Init.
type Scheme struct {
	// Name is what the scheme is called in config and logs.
	Name string
	// Format is the layout of the signature header.
	Format Format
	// HeaderSets lists the header names the sender may use, in order of
	// preference: the first set whose signature header is present is used.
	// Svix, for example, sends svix-* or webhook-* headers.
	HeaderSets []Headers
	// Algorithm is the HMAC hash: "sha1", "sha256" or "sha512".
	Algorithm string
	// Encoding of the signature bytes.
	Encoding Encoding
	// Prefix precedes the encoded signature in FormatSingle ("sha256=").
	Prefix string
	// Content is a template of what is signed, made of literal text and
	// the tokens {body}, {timestamp} and {id}; {body} must appear exactly
	// once. Empty means "{body}".
	Content string
	// Tolerance is the sender's own allowed clock skew for timestamped
	// schemes; zero switches the timestamp check off.
	Tolerance time.Duration
	// Secret says how configured secrets are decoded into keys.
	Secret SecretFormat
	// Fallback, if set, is tried when none of HeaderSets' signature headers
	// is present (GitHub's legacy SHA-1 header, when opted in).
	Fallback *Scheme

	hash   crypto.Hash
	before []part // what is hashed before the body
	after  []part // what is hashed after it
	usesID bool   // the content signs the delivery id, so it must be sent
	names  []headerName
	// idForbidden holds the characters of the literal text next to {id}:
	// an id containing none of them can be split from its neighbours in
	// one way only (see separators).
	idForbidden string
}

type partKind int

const (
	partLiteral partKind = iota
	partTimestamp
	partID
	partBody // only in separators' view of the whole template
)

type part struct {
	kind partKind
	text string
}

var algorithms = map[string]crypto.Hash{
	"sha1":   crypto.SHA1,
	"sha256": crypto.SHA256,
	"sha512": crypto.SHA512,
}

// Init checks the description and prepares it for use. Presets come
// initialised; call it after building a generic scheme by hand.
func (s *Scheme) Init() error {
	if len(s.HeaderSets) == 0 {
		return fmt.Errorf("scheme %s: no signature header", s.Name)
	}
	for _, h := range s.HeaderSets {
		if strings.TrimSpace(h.Signature) == "" {
			return fmt.Errorf("scheme %s: empty signature header name", s.Name)
		}
		// One header cannot be two things: an id or timestamp header that
		// is the signature (or token) header would put the secret, or the
		// signature, where ids go (logs, {http.webhook.id}, the app).
		for _, o := range []struct{ what, name string }{{"id header", h.ID}, {"timestamp header", h.Timestamp}} {
			if o.name != "" && fold(o.name) == fold(h.Signature) {
				return fmt.Errorf("scheme %s: the %s %s is the signature header %s; name the header the sender puts it in", s.Name, o.what, o.name, h.Signature)
			}
		}
		if h.ID != "" && h.Timestamp != "" && fold(h.ID) == fold(h.Timestamp) {
			return fmt.Errorf("scheme %s: the id header and the timestamp header are both %s; name the header the sender puts each in", s.Name, h.ID)
		}
	}
	s.initNames()
	if s.Format == FormatToken {
		return nil
	}
	h, ok := algorithms[s.Algorithm]
	if !ok {
		return fmt.Errorf("scheme %s: unknown algorithm %q (use sha1, sha256 or sha512)", s.Name, s.Algorithm)
	}
	s.hash = h
	switch s.Encoding {
	case Hex, Base64, Base64URL:
	default:
		return fmt.Errorf("scheme %s: unknown encoding %q (use hex, base64 or base64url)", s.Name, s.Encoding)
	}
	content := s.Content
	if content == "" {
		content = "{body}"
	}
	before, after, err := parseContent(content)
	if err != nil {
		return fmt.Errorf("scheme %s: %w", s.Name, err)
	}
	for _, p := range append(append([]part(nil), before...), after...) {
		s.usesID = s.usesID || p.kind == partID
		if p.kind == partTimestamp && !s.Timestamped() {
			return fmt.Errorf("scheme %s: content uses {timestamp} but no timestamp header is set", s.Name)
		}
		if p.kind == partID && s.HeaderSets[0].ID == "" {
			return fmt.Errorf("scheme %s: content uses {id} but no id header is set", s.Name)
		}
	}
	s.before, s.after = before, after
	if s.idForbidden, err = separators(before, after); err != nil {
		return fmt.Errorf("scheme %s: content %q: %w", s.Name, content, err)
	}
	if s.Fallback != nil {
		return s.Fallback.Init()
	}
	return nil
}

// Timestamped reports whether the scheme carries a signed timestamp, so
// that a tolerance applies.
func (s *Scheme) Timestamped() bool {
	return s.Format == FormatStripe || s.HeaderSets[0].Timestamp != ""
}

// parseContent splits a content template around its single {body} token.
// Two tokens must have literal text between them: "{id}{timestamp}{body}"
// signs the same bytes for id "a1", timestamp "2" as for id "a", timestamp
// "12", so one MAC would verify under several (id, timestamp) splits.
func parseContent(tmpl string) (before, after []part, err error) {
	var parts []part
	body := -1
	prev := "" // the token just before, if nothing literal came since
	for rest := tmpl; rest != ""; {
		i := strings.IndexByte(rest, '{')
		if i < 0 {
			parts = append(parts, part{kind: partLiteral, text: rest})
			break
		}
		if i > 0 {
			parts = append(parts, part{kind: partLiteral, text: rest[:i]})
			prev = ""
		}
		j := strings.IndexByte(rest[i:], '}')
		if j < 0 {
			return nil, nil, fmt.Errorf("content %q: unclosed {", tmpl)
		}
		tok := rest[i : i+j+1]
		if prev != "" {
			return nil, nil, fmt.Errorf("content %q: %s directly follows %s, so one signature would match other splits of the two; put literal text between them, e.g. %s.%s", tmpl, tok, prev, prev, tok)
		}
		prev = tok
		switch tok {
		case "{body}":
			if body >= 0 {
				return nil, nil, fmt.Errorf("content %q: {body} appears twice", tmpl)
			}
			body = len(parts)
		case "{timestamp}":
			parts = append(parts, part{kind: partTimestamp})
		case "{id}":
			parts = append(parts, part{kind: partID})
		default:
			return nil, nil, fmt.Errorf("content %q: unknown token %s (use {body}, {timestamp} or {id})", tmpl, tok)
		}
		rest = rest[i+j+1:]
	}
	if body < 0 {
		return nil, nil, fmt.Errorf("content %q: {body} is missing", tmpl)
	}
	return parts[:body], parts[body:], nil
}

// separators checks that what is signed splits back into its parts in one
// way only, given that tokens already have literal text between them. A
// timestamp is digits, so the text next to {timestamp} must not continue
// with a digit on that side. An id is free text: it is split off at the
// literal next to it, so an id may not contain any character of that
// literal (returned, for Begin to enforce): if ids never do, any other
// split of the same bytes would need an id that does. (A sender whose ids
// contain those characters cannot use such a template: its deliveries are
// refused, never misread.) {body} takes the rest, whatever it holds.
func separators(before, after []part) (idForbidden string, err error) {
	seq := append(append(append([]part(nil), before...), part{kind: partBody}), after...)
	for i, p := range seq {
		var prev, next string
		if i > 0 && seq[i-1].kind == partLiteral {
			prev = seq[i-1].text
		}
		if i+1 < len(seq) && seq[i+1].kind == partLiteral {
			next = seq[i+1].text
		}
		switch p.kind {
		case partTimestamp:
			if prev != "" && isDigit(prev[len(prev)-1]) || next != "" && isDigit(next[0]) {
				return "", fmt.Errorf("the text next to {timestamp} touches it with a digit, so the timestamp's digits could be split more than one way; put a non-digit next to it, e.g. {timestamp}.{body}")
			}
		case partID:
			idForbidden += prev + next
		}
	}
	return idForbidden, nil
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// DecodeSecret turns a configured secret into key bytes.
func (s *Scheme) DecodeSecret(secret string) ([]byte, error) {
	if secret == "" {
		return nil, fmt.Errorf("empty secret")
	}
	if s.Secret != SecretWhsec {
		return []byte(secret), nil
	}
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil || len(key) == 0 {
		// The decoder's error would quote the offending byte of the secret.
		return nil, fmt.Errorf("a %s secret must be whsec_ followed by base64", s.Name)
	}
	return key, nil
}

// newMAC returns a MAC keyed with key that has already consumed everything
// signed before the body.
func (s *Scheme) newMAC(key []byte, id, ts string) hash.Hash {
	m := hmac.New(s.hash.New, key)
	writeParts(m, s.before, id, ts)
	return m
}

func writeParts(w hash.Hash, parts []part, id, ts string) {
	for _, p := range parts {
		switch p.kind {
		case partLiteral:
			w.Write([]byte(p.text))
		case partTimestamp:
			w.Write([]byte(ts))
		case partID:
			w.Write([]byte(id))
		}
	}
}

// Digest returns the raw signature of body under key, for the given id and
// timestamp header values (ignored where the content does not use them).
// The signer and tests use it; verification goes through Begin.
func (s *Scheme) Digest(key []byte, id, ts string, body []byte) []byte {
	m := s.newMAC(key, id, ts)
	m.Write(body)
	writeParts(m, s.after, id, ts)
	return m.Sum(nil)
}

// Encode writes signature bytes in the scheme's encoding.
func (s *Scheme) Encode(sig []byte) string {
	switch s.Encoding {
	case Base64:
		return base64.StdEncoding.EncodeToString(sig)
	case Base64URL:
		return base64.URLEncoding.EncodeToString(sig)
	default:
		return hex.EncodeToString(sig)
	}
}

// MACSize is the length in bytes of the scheme's signatures.
func (s *Scheme) MACSize() int { return s.hash.Size() }
