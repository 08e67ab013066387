package scheme

import (
	"fmt"
	"strings"
	"time"
)

// DefaultTolerance is the clock skew timestamped senders document when
// they document none of their own (Stripe, Slack and Standard Webhooks all
// say five minutes).
const DefaultTolerance = 5 * time.Minute

// WholeBodyLimit is the default max_body of schemes that hold the whole
// body in memory to check it (an Ed25519 signature, a Strategy): senders
// of such webhooks send small bodies, and the bound keeps what a burst of
// forged large ones can hold in memory.
const WholeBodyLimit = 1 << 20

// Headers names the headers one sender uses. Timestamp and ID are optional.
type Headers struct {
	Signature string
	Timestamp string
	ID        string
}

// Scheme describes one way of signing webhooks. Presets come from package
// preset; a generic scheme is built by filling the fields and calling
// Init.
type Scheme struct {
	// Name is what the scheme is called in config and logs.
	Name string
	// HeaderSets lists the header names the sender may use, in order of
	// preference: the first set whose signature header is present is used.
	// Svix, for example, sends svix-* or webhook-* headers.
	HeaderSets []Headers
	// Format is the layout of the signature header.
	Format Format
	// Algorithm computes and checks signatures.
	Algorithm Algorithm
	// Encoding of the signature bytes in the header.
	Encoding Encoding
	// Content is a template of what is signed, made of literal text and
	// the tokens {body}, {timestamp}, {id}, {method} and {url}; {body}
	// must appear exactly once. Empty means "{body}".
	Content string
	// Time is how the timestamp is written.
	Time TimeFormat
	// FixedWidthTime says the sender's Unix timestamps always have 10
	// (seconds) or 13 (milliseconds) digits, so the template may put the
	// timestamp right next to other signed text; timestamps of another
	// width are then refused.
	FixedWidthTime bool
	// Tolerance is the sender's own allowed clock skew for timestamped
	// schemes; zero switches the timestamp check off.
	Tolerance time.Duration
	// Secret says how configured secrets are decoded into keys.
	Secret SecretFormat
	// SecretPrefix is how the sender's own secrets start (Stripe's
	// whsec_, used as text): secrets generated for the scheme do too.
	SecretPrefix string
	// Fallback, if set, is tried when none of HeaderSets' signature headers
	// is present (GitHub's legacy SHA-1 header, when opted in).
	Fallback *Scheme
	// Strategy, if set, reads signatures and what they sign from the
	// whole request instead of Format and Content.
	Strategy Strategy
	// Handshake, if set, answers the sender's check of the endpoint.
	Handshake Handshake
	// SignsURL says a Strategy signs the URL the sender called (Twilio),
	// as a template with {url} does: the caller must give it.
	SignsURL bool
	// MaxBody, if set, is the largest body a route of this scheme accepts
	// unless its configuration says otherwise (see WholeBodyLimit).
	MaxBody int64

	parts         []part // the content template, {body} at body
	body          int
	before, after []part // what is signed before and after the body
	usesID        bool   // the content signs the delivery id, so it must be sent
	usesURL       bool   // the content signs the URL, so the caller must give it
	urlBeforeBody bool   // see checkSplits
	fixedTime     bool   // timestamps must have the fixed width
	names         []headerName
	// idForbidden holds the characters of the literal text next to {id}:
	// an id containing none of them can be split from its neighbours in
	// one way only (see checkSplits).
	idForbidden string
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
	if s.Format == nil {
		s.Format = Single{}
	}
	if s.Algorithm == nil {
		return fmt.Errorf("scheme %s: no algorithm", s.Name)
	}
	if _, ok := s.Algorithm.(Comparer); ok {
		s.Encoding = Raw
		return s.initFallback()
	}
	if !s.Encoding.valid() {
		return fmt.Errorf("scheme %s: unknown encoding %q (use hex, base64 or base64url)", s.Name, s.Encoding)
	}
	if s.Strategy != nil {
		if s.MaxBody == 0 {
			s.MaxBody = WholeBodyLimit
		}
		return s.initFallback()
	}
	if _, ok := s.Algorithm.(Ed25519); ok && s.MaxBody == 0 {
		s.MaxBody = WholeBodyLimit
	}
	content := s.Content
	if content == "" {
		content = "{body}"
	}
	parts, body, err := parseContent(content)
	if err != nil {
		return fmt.Errorf("scheme %s: %w", s.Name, err)
	}
	s.idForbidden, s.usesID, s.usesURL, s.fixedTime, s.urlBeforeBody = "", false, false, false, false
	for _, p := range parts {
		switch p.kind {
		case partID:
			s.usesID = true
			if s.HeaderSets[0].ID == "" {
				return fmt.Errorf("scheme %s: content uses {id} but no id header is set", s.Name)
			}
		case partTimestamp:
			if !s.Timestamped() {
				return fmt.Errorf("scheme %s: content uses {timestamp} but no timestamp header is set", s.Name)
			}
		case partURL:
			s.usesURL = true
		}
	}
	if err := s.checkSplits(content, parts); err != nil {
		return fmt.Errorf("scheme %s: %w", s.Name, err)
	}
	s.parts, s.body = parts, body
	s.before, s.after = parts[:body], parts[body+1:]
	return s.initFallback()
}

func (s *Scheme) initFallback() error {
	if s.Fallback != nil {
		return s.Fallback.Init()
	}
	return nil
}

// Timestamped reports whether the scheme carries a signed timestamp, so
// that a tolerance applies.
func (s *Scheme) Timestamped() bool {
	if ts, ok := s.Strategy.(TimestampedStrategy); ok && ts.CarriesTimestamp() {
		return true
	}
	return s.Format != nil && s.Format.CarriesTimestamp() || s.HeaderSets[0].Timestamp != ""
}

// UsesID reports whether what is signed covers the delivery id.
func (s *Scheme) UsesID() bool { return s.usesID }

// UsesURL reports whether what is signed covers the URL the sender
// called, so the caller must rebuild it (Request.URL).
func (s *Scheme) UsesURL() bool { return s.usesURL || s.SignsURL }

// URLBeforeBody reports whether the URL is signed right before the body:
// see checkSplits for what the verifier then refuses.
func (s *Scheme) URLBeforeBody() bool { return s.urlBeforeBody }

// IDForbidden is the characters a delivery id may not contain (see
// checkSplits).
func (s *Scheme) IDForbidden() string { return s.idForbidden }

// Compares reports whether the scheme's header is a shared secret that
// is compared, not a signature that is computed.
func (s *Scheme) Compares() bool {
	_, ok := s.Algorithm.(Comparer)
	return ok
}

// Size is the length in bytes of the scheme's signatures, 0 where it
// varies.
func (s *Scheme) Size() int { return s.Algorithm.Size() }

// CheckSizes refuses any signature that is not exactly one signature long
// where the algorithm's signatures have one length, so that a header which
// cannot match (sha256=00) is refused before a byte of body is read or a
// MAC computed. It returns a problem or "".
func (s *Scheme) CheckSizes(sigs [][]byte) string {
	n := s.Size()
	if n == 0 {
		return ""
	}
	for _, sig := range sigs {
		if len(sig) != n {
			return fmt.Sprintf("a signature is %d bytes; %s gives %d (%s)", len(sig), s.Algorithm.Name(), n, s.Encoding.describeLen(n))
		}
	}
	return ""
}

// Digest returns the signature of body under a shared secret key, for
// the given id and timestamp (ignored where the content does not use
// them), as the scheme's Algorithm computes it: for tests and tools that
// need one signature at hand. Signing goes through package signer and
// verifying through package verifier.
func (s *Scheme) Digest(key []byte, id, ts string, body []byte) []byte {
	m := s.Algorithm.Begin([]*Key{{Secret: key}})
	v := Values{ID: id, Timestamp: ts}
	s.WriteParts(m, false, v)
	m.Write(body)
	s.WriteParts(m, true, v)
	sig, _ := m.Sign(0)
	return sig
}

// Encode writes signature bytes in the scheme's encoding.
func (s *Scheme) Encode(sig []byte) string { return s.Encoding.Encode(sig) }
