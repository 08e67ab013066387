// Package verifier checks webhook signatures against a scheme.Scheme.
// Begin/Write/Finish verify a request while its body streams through, so
// the body is hashed in the same pass that reads it and never
// re-serialised.
//
// The package has no Caddy import: it is used by the Caddy modules and the
// CLI alike.
package verifier

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"hash"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/hookguard/hookguard/scheme"
)

// The types verification speaks in, defined by package scheme.
type (
	Scheme  = scheme.Scheme
	Key     = scheme.Key
	Headers = scheme.Headers
	Request = scheme.Request
	Error   = scheme.Error
	Reason  = scheme.Reason
)

// The reasons verification fails.
const (
	MissingHeader   = scheme.MissingHeader
	MalformedHeader = scheme.MalformedHeader
	WrongSignature  = scheme.WrongSignature
	StaleTimestamp  = scheme.StaleTimestamp
	FutureTimestamp = scheme.FutureTimestamp
	NoUsableSecret  = scheme.NoUsableSecret
	ExpiredSecret   = scheme.ExpiredSecret
)

// MaxExpiredChecked is scheme.MaxExpiredChecked.
const MaxExpiredChecked = scheme.MaxExpiredChecked

var fail = scheme.Fail

// Result describes a verified request.
type Result struct {
	// Key is the label of the key that matched.
	Key string
	// ID and Timestamp are the delivery id and timestamp as the sender
	// sent them ("" where the scheme has none).
	ID, Timestamp string
	// KeyIndex is the index, in the keys given to Begin or Verify, of the
	// key that matched.
	KeyIndex int
	// Headers is the header set the request was verified with (Svix's
	// svix-* or webhook-*, GitHub's SHA-256 or legacy header).
	Headers Headers
	// IDSigned reports whether the signature covers ID (Standard Webhooks,
	// Svix, a generic scheme whose content has {id}): only then is ID the
	// sender's own and not whatever a replayer put in the header.
	IDSigned bool
	// Signature is the decoded signature that matched; nil for schemes
	// that compare a shared secret, which is the secret itself. It covers
	// the body, so it identifies the delivery without revealing the
	// secret.
	Signature []byte
	// BodyDigest is the SHA-256 of the body for schemes that compare a
	// shared secret, which sign nothing: with no signature, it is what
	// identifies the delivery.
	BodyDigest []byte
}

// Check is a verification in progress: Begin has parsed the headers, the
// body is written to it as it is read, and Finish gives the verdict.
type Check struct {
	s      *Scheme
	req    Request
	set    Headers // the header set actually used
	header string  // its signature header
	keys   []*Key
	idx    []int // each key's index in the keys given to Begin
	msg    scheme.Message
	sigs   [][]byte
	vals   scheme.Values
	tol    time.Duration
	// digest is the body's SHA-256, for schemes that compare a secret.
	digest hash.Hash
	// body holds the whole body for a Strategy, which reads it at Finish.
	body *bytes.Buffer
	// first is the body's first byte and wrote whether there was one,
	// for a URL signed right before the body (scheme.URLBeforeBody).
	first byte
	wrote bool
	// main, when a fallback header set is checked (GitHub's legacy SHA-1
	// header), computes the main scheme's signature alongside under each
	// key: the matched key's stands for the signature in Result, so a
	// delivery is identified the same way whichever of the sender's
	// signatures was checked.
	main    *Scheme
	mainMsg scheme.Message
	// message and idSigned are what a Strategy extracted.
	message  []byte
	idSigned bool
	// all and now are the keys given to Begin and its time, for
	// MatchExpired: the keys past their NotAfter are looked for only
	// once a request has failed, so a request that passes costs nothing
	// more for them.
	all []Key
	now time.Time
}

// Begin parses the signature, timestamp and id headers of a request and
// checks the timestamp against tolerance (zero: no check), before any body
// is read, so that a request that cannot pass costs no hashing. Keys whose
// NotAfter is not after now are never accepted; MatchExpired tells a
// request signed with one of them from a forgery. r.URL must be set for
// schemes that sign it (Scheme.UsesURL).
func Begin(s *Scheme, r Request, keys []Key, tolerance time.Duration, now time.Time) (*Check, error) {
	h := r.Header
	set, ok := headerSet(s, h)
	if !ok && s.Fallback != nil {
		// Only when the fallback's own header is there: a request with
		// neither is reported against the main header, not the legacy one.
		if _, fok := headerSet(s.Fallback, h); fok {
			c, err := Begin(s.Fallback, r, keys, tolerance, now)
			if err != nil {
				return nil, err
			}
			c.main = s
			c.mainMsg = s.Algorithm.Begin(c.keys)
			s.WriteParts(c.mainMsg, false, c.vals)
			return c, nil
		}
	}
	c := &Check{s: s, req: r, set: set, header: set.Signature, all: keys, now: now, tol: tolerance}
	c.keys, c.idx = scheme.Usable(keys, now)
	if len(c.keys) == 0 {
		return nil, fail(NoUsableSecret, "", "no configured secret is usable (all empty or expired)")
	}
	c.vals.Method, c.vals.URL = r.Method, r.URL
	if s.Strategy != nil {
		// What is signed, and often the signature, is in the body.
		c.body = new(bytes.Buffer)
		return c, nil
	}
	raw, err := single(h, set.Signature)
	if err != nil {
		return nil, err
	}
	if c.vals.ID, err = optional(h, set.ID); err != nil {
		return nil, err
	}
	sigs, ts, problem := s.Format.Parse(raw, s.Encoding)
	if cmp, ok := s.Algorithm.(scheme.Comparer); ok && problem == "" {
		// A wrong token fails before the body is read. The body is only
		// digested, to identify the delivery (Result.BodyDigest).
		if err := c.compare(cmp, sigs[0]); err != nil {
			return nil, err
		}
		c.digest = sha256.New()
		return c, nil
	}
	if problem == "" {
		problem = s.CheckSizes(sigs)
	}
	if problem != "" {
		return nil, fail(MalformedHeader, set.Signature, "%s", problem)
	}
	c.sigs, c.vals.Timestamp = sigs, ts

	tsHeader := set.Signature // Stripe's timestamp is inside its signature header
	if set.Timestamp != "" {
		tsHeader = set.Timestamp
		if c.vals.Timestamp, err = single(h, set.Timestamp); err != nil {
			return nil, err
		}
	}
	if s.Timestamped() {
		if err := s.CheckTimestamp(c.vals.Timestamp, tsHeader, tolerance, now); err != nil {
			return nil, err
		}
	}
	if c.vals.ID == "" && s.UsesID() {
		return nil, fail(MissingHeader, set.ID, "not present")
	}
	if s.UsesID() && s.FixedWidthID > 0 && len(c.vals.ID) != s.FixedWidthID {
		// Its width is what keeps it from being split differently from
		// its neighbours (see scheme.checkSplits).
		return nil, fail(MalformedHeader, set.ID, "is %d characters long; the sender's are %d", len(c.vals.ID), s.FixedWidthID)
	}
	if s.UsesID() && strings.ContainsAny(c.vals.ID, s.IDForbidden()) {
		// Otherwise one signature could be replayed under another split
		// of id and body (see scheme.checkSplits).
		return nil, fail(MalformedHeader, set.ID, "contains a character of the text that separates the id from the rest of what is signed (%q)", s.IDForbidden())
	}
	if s.UsesURL() && r.URL == "" {
		return nil, fail(MalformedHeader, set.Signature, "the scheme signs the URL the sender called, and it is not known")
	}
	if s.URLBeforeBody() && !scheme.URLSafe(r.URL) {
		// Otherwise the URL could have taken the body's first bytes.
		return nil, fail(MalformedHeader, set.Signature, "the URL, signed right before the body, has characters RFC 3986 does not allow there")
	}
	c.msg = s.Algorithm.Begin(c.keys)
	s.WriteParts(c.msg, false, c.vals)
	return c, nil
}

// compare checks a shared secret sent as-is against every key, and names
// an expired key it matches.
func (c *Check) compare(cmp scheme.Comparer, got []byte) error {
	match := cmp.Compare(got, c.keys)
	if match < 0 {
		// A secret is compared, not computed: trying the expired ones
		// costs a hash of each, nothing of the body.
		expired := c.expiredKeys()
		for i := range expired {
			if cmp.Compare(got, []*Key{&expired[i]}) == 0 {
				return expiredError(c.header, &expired[i])
			}
		}
		return fail(WrongSignature, c.header, "token does not match any configured secret")
	}
	c.keys, c.idx = c.keys[match:match+1], c.idx[match:match+1]
	return nil
}

// single returns the one value of header name, failing on absence or on
// repetition: the gateway never guesses which copy the sender meant.
func single(h http.Header, name string) (string, *Error) {
	vals := h.Values(name)
	switch len(vals) {
	case 0:
		return "", fail(MissingHeader, name, "not present")
	case 1:
		v := strings.TrimSpace(vals[0])
		if v == "" {
			return "", fail(MalformedHeader, name, "empty")
		}
		return v, nil
	default:
		return "", fail(MalformedHeader, name, "sent %d times", len(vals))
	}
}

// optional is single for headers that may be absent.
func optional(h http.Header, name string) (string, *Error) {
	if name == "" || len(h.Values(name)) == 0 {
		return "", nil
	}
	return single(h, name)
}

// headerSet picks the first header set whose signature header is present;
// with none present it returns the first, so errors name the main header.
func headerSet(s *Scheme, h http.Header) (Headers, bool) {
	for _, set := range s.HeaderSets {
		if len(h.Values(set.Signature)) > 0 {
			return set, true
		}
	}
	return s.HeaderSets[0], false
}

// Write feeds body bytes to the verification. It never fails.
func (c *Check) Write(p []byte) (int, error) {
	if len(p) > 0 && !c.wrote {
		c.first, c.wrote = p[0], true
	}
	switch {
	case c.body != nil:
		c.body.Write(p)
	case c.digest != nil:
		c.digest.Write(p)
	default:
		c.msg.Write(p)
	}
	if c.mainMsg != nil {
		c.mainMsg.Write(p)
	}
	return len(p), nil
}

// Finish completes the verification once the whole body has been written.
func (c *Check) Finish() (Result, error) {
	res := Result{Headers: c.set}
	if c.body != nil {
		if err := c.extract(); err != nil {
			res.ID, res.Timestamp = c.vals.ID, c.vals.Timestamp
			return res, err
		}
	}
	res.ID, res.Timestamp = c.vals.ID, c.vals.Timestamp
	if c.digest != nil {
		res.Key, res.KeyIndex = c.keys[0].Label, c.idx[0]
		res.BodyDigest = c.digest.Sum(nil)
		return res, nil
	}
	if c.s.URLBeforeBody() && c.wrote && !scheme.BodyStartSafe(c.first) {
		return res, fail(MalformedHeader, c.header, "the body, signed right after the URL, starts with a character a URL could end with")
	}
	matched, matchedSig := c.match(c.msg)
	if matched < 0 {
		return res, fail(WrongSignature, c.header, "signature does not match the body under any configured secret")
	}
	res.Key, res.KeyIndex = c.keys[matched].Label, c.idx[matched]
	res.IDSigned = c.s.UsesID() || c.s.Strategy != nil && c.idSigned
	res.Signature = matchedSig
	if id, ok := c.msg.(scheme.Identified); ok {
		// Another signature of the same message (ECDSA's (r, N-s)) must
		// not pass for another delivery.
		res.Signature = id.Identity()
	}
	if c.main != nil {
		c.main.WriteParts(c.mainMsg, true, c.vals)
		if sig, err := c.mainMsg.Sign(matched); err == nil {
			res.Signature = sig
		}
	}
	return res, nil
}

// extract has the scheme's Strategy read the whole request, and checks
// its timestamp; the message it returns is then signed under every key.
func (c *Check) extract() error {
	ex, err := c.s.Strategy.Extract(&c.req, c.body.Bytes())
	if err != nil {
		return err
	}
	if len(ex.Sigs) == 0 {
		return fail(MissingHeader, c.header, "no signature")
	}
	if len(ex.Sigs) > 16 {
		return fail(MalformedHeader, c.header, "too many signatures")
	}
	c.vals.ID, c.vals.Timestamp, c.idSigned = ex.ID, ex.Timestamp, ex.IDSigned
	if c.s.Timestamped() || ex.Timestamp != "" {
		header := c.set.Timestamp
		if header == "" {
			header = c.header
		}
		if err := c.s.CheckTimestamp(ex.Timestamp, header, c.tol, c.now); err != nil {
			return err
		}
	}
	if cmp, ok := c.s.Algorithm.(scheme.Comparer); ok {
		if err := c.compare(cmp, ex.Sigs[0]); err != nil {
			return err
		}
		c.digest = sha256.New()
		c.digest.Write(c.body.Bytes())
		return nil
	}
	if problem := c.s.CheckSizes(ex.Sigs); problem != "" {
		return fail(MalformedHeader, c.header, "%s", problem)
	}
	c.sigs = ex.Sigs
	c.message = ex.Message
	c.msg = c.s.Algorithm.Begin(c.keys)
	c.msg.Write(ex.Message)
	return nil
}

// MatchExpired is for a request that Finish refused: if err is Finish's
// WrongSignature and the signature is valid under a key given to Begin
// that had expired by then, it returns an ExpiredSecret error naming that
// key by its label; otherwise err unchanged. It never makes a request
// pass: an expired key is only named, never accepted.
//
// body must give the whole body again; it is read only if there is an
// expired key to try. Only the MaxExpiredChecked keys that expired last
// are tried, in one pass, and every one of them whatever matches, so the
// time it takes depends on the configuration and the body's length, not
// on the signature. A body that cannot be read again leaves err as it is.
func (c *Check) MatchExpired(err error, body io.Reader) error {
	var ve *Error
	if !errors.As(err, &ve) || ve.Reason != WrongSignature || c.digest != nil || c.sigs == nil {
		return err
	}
	keys := c.expiredKeys()
	if len(keys) == 0 {
		return err
	}
	ptrs := make([]*Key, len(keys))
	for i := range keys {
		ptrs[i] = &keys[i]
	}
	msg := c.s.Algorithm.Begin(ptrs)
	if c.message != nil {
		msg.Write(c.message)
	} else {
		c.s.WriteParts(msg, false, c.vals)
		if _, rerr := io.Copy(msg, body); rerr != nil {
			return err
		}
	}
	if matched, _ := c.match(msg); matched >= 0 {
		return expiredError(c.header, &keys[matched])
	}
	return err
}

// match completes msg (the body written to it) with what is signed after
// the body and returns the index of the first key under which one of the
// request's signatures is valid, and that signature, or -1.
func (c *Check) match(msg scheme.Message) (int, []byte) {
	if c.message == nil {
		c.s.WriteParts(msg, true, c.vals)
	}
	return msg.Match(c.sigs)
}

// expiredKeys are the keys to try in MatchExpired: LastExpired of those
// given to Begin.
func (c *Check) expiredKeys() []Key { return scheme.LastExpired(c.all, c.now) }

// LastExpired is scheme.LastExpired.
func LastExpired(keys []Key, now time.Time) []Key { return scheme.LastExpired(keys, now) }

func expiredError(header string, k *Key) *Error {
	e := fail(ExpiredSecret, header, "signature matches secret %q, which expired at %s and is no longer accepted",
		k.Label, k.NotAfter.UTC().Format(time.RFC3339))
	e.Key = k.Label
	return e
}

// Verify checks a request whose body is already in memory, with only its
// headers: for schemes that do not sign the URL or method.
func Verify(s *Scheme, h http.Header, body []byte, keys []Key, tolerance time.Duration, now time.Time) (Result, error) {
	return VerifyRequest(s, Request{Header: h}, body, keys, tolerance, now)
}

// VerifyRequest checks a request whose body is already in memory. A
// signature valid under an expired key is refused as ExpiredSecret
// (MatchExpired).
func VerifyRequest(s *Scheme, r Request, body []byte, keys []Key, tolerance time.Duration, now time.Time) (Result, error) {
	c, err := Begin(s, r, keys, tolerance, now)
	if err != nil {
		return Result{}, err
	}
	c.Write(body)
	res, err := c.Finish()
	if err != nil {
		return res, c.MatchExpired(err, bytes.NewReader(body))
	}
	return res, nil
}
