package verifier

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"hash"
	"io"
	"math"
	"net/http"
	"slices"
	"strings"
	"time"
)

// Key is one accepted secret. Several keys are accepted at once so that a
// secret can be rotated without a window where valid webhooks fail.
type Key struct {
	// Label names the key in logs and placeholders; never the secret.
	Label string
	// Secret is the decoded key (see Scheme.DecodeSecret), or for token
	// schemes the token itself.
	Secret []byte
	// NotAfter, if set, is when the key stops being accepted.
	NotAfter time.Time
}

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
	// Signature is the decoded signature that matched; nil for token
	// schemes, whose token is the secret itself. It covers the body, so
	// it identifies the delivery without revealing the secret.
	Signature []byte
	// BodyDigest is the SHA-256 of the body for token schemes, which sign
	// nothing: with no signature, it is what identifies the delivery.
	BodyDigest []byte
}

// Check is a verification in progress: Begin has parsed the headers, the
// body is written to it as it is read, and Finish gives the verdict.
type Check struct {
	scheme *Scheme
	set    Headers // the header set actually used
	header string  // its signature header
	keys   []*Key
	idx    []int // each key's index in the keys given to Begin
	macs   []hash.Hash
	sigs   [][]byte
	id, ts string
	// main, when a fallback header set is checked (GitHub's legacy SHA-1
	// header), computes the main scheme's MAC alongside under each key:
	// the matched key's main MAC stands for the signature in Result, so a
	// delivery is identified the same way whichever of the sender's
	// signatures was checked.
	main     *Scheme
	mainMACs []hash.Hash
	// all and now are the keys given to Begin and its time, for
	// MatchExpired: the keys past their NotAfter are looked for only
	// once a request has failed, so a request that passes costs nothing
	// more for them.
	all []Key
	now time.Time
}

// MaxExpiredChecked is how many expired keys a refused request is checked
// against, to tell a sender that still signs with a retired secret
// (ExpiredSecret) from a forgery or a changed body (WrongSignature): the
// ones that expired last. Checking one is one more HMAC of the body, on
// refused requests only; the bound keeps what a forged request costs
// within a small multiple of what it costs without expired keys, however
// many of them a route still lists.
const MaxExpiredChecked = 2

// Begin parses the signature, timestamp and id headers of a request and
// checks the timestamp against tolerance (zero: no check), before any body
// is read, so that a request that cannot pass costs no hashing. Keys whose
// NotAfter is not after now are never accepted; MatchExpired tells a
// request signed with one of them from a forgery.
func (s *Scheme) Begin(h http.Header, keys []Key, tolerance time.Duration, now time.Time) (*Check, error) {
	set, ok := s.headerSet(h)
	if !ok && s.Fallback != nil {
		// Only when the fallback's own header is there: a request with
		// neither is reported against the main header, not the legacy one.
		if _, fok := s.Fallback.headerSet(h); fok {
			c, err := s.Fallback.Begin(h, keys, tolerance, now)
			if err != nil {
				return nil, err
			}
			c.main = s
			for _, k := range c.keys {
				c.mainMACs = append(c.mainMACs, s.newMAC(k.Secret, c.id, c.ts))
			}
			return c, nil
		}
	}
	c := &Check{scheme: s, set: set, header: set.Signature, all: keys, now: now}
	for i := range keys {
		// An empty key would make an HMAC anyone can compute: never use one.
		if len(keys[i].Secret) == 0 {
			continue
		}
		if keys[i].NotAfter.IsZero() || now.Before(keys[i].NotAfter) {
			c.keys = append(c.keys, &keys[i])
			c.idx = append(c.idx, i)
		}
	}
	if len(c.keys) == 0 {
		return nil, fail(NoUsableSecret, "", "no configured secret is usable (all empty or expired)")
	}
	raw, err := single(h, set.Signature)
	if err != nil {
		return nil, err
	}
	if c.id, err = optional(h, set.ID); err != nil {
		return nil, err
	}

	var problem string
	switch s.Format {
	case FormatToken:
		// A wrong token fails before the body is read. The body is only
		// digested, to identify the delivery (Result.BodyDigest).
		if err := c.matchToken(raw); err != nil {
			return nil, err
		}
		c.macs = []hash.Hash{sha256.New()}
		return c, nil
	case FormatSingle:
		var sig []byte
		sig, problem = ParseSingle(raw, s.Prefix, s.Encoding)
		c.sigs = [][]byte{sig}
	case FormatStripe:
		c.ts, c.sigs, problem = ParseStripe(raw)
	case FormatStandard:
		c.sigs, problem = ParseStandard(raw)
	}
	if problem == "" {
		problem = s.checkSizes(c.sigs)
	}
	if problem != "" {
		return nil, fail(MalformedHeader, set.Signature, "%s", problem)
	}

	tsHeader := set.Signature // Stripe's timestamp is inside its signature header
	if set.Timestamp != "" {
		tsHeader = set.Timestamp
		if c.ts, err = single(h, set.Timestamp); err != nil {
			return nil, err
		}
	}
	if s.Timestamped() {
		if err := checkTimestamp(c.ts, tsHeader, tolerance, now); err != nil {
			return nil, err
		}
	}
	if c.id == "" && s.usesID {
		return nil, fail(MissingHeader, set.ID, "not present")
	}
	if s.usesID && strings.ContainsAny(c.id, s.idForbidden) {
		// Otherwise one signature could be replayed under another split
		// of id and body (see separators).
		return nil, fail(MalformedHeader, set.ID, "contains a character of the text that separates the id from the rest of what is signed (%q)", s.idForbidden)
	}

	c.macs = make([]hash.Hash, len(c.keys))
	for i, k := range c.keys {
		c.macs[i] = s.newMAC(k.Secret, c.id, c.ts)
	}
	return c, nil
}

// checkSizes refuses any signature that is not exactly one MAC long, so
// that a header which cannot match (sha256=00) is refused before a byte of
// body is read or a MAC computed.
func (s *Scheme) checkSizes(sigs [][]byte) string {
	for _, sig := range sigs {
		if len(sig) != s.MACSize() {
			return fmt.Sprintf("a signature is %d bytes; HMAC-%s gives %d (%s)", len(sig), strings.ToUpper(s.Algorithm), s.MACSize(), s.encodedSize())
		}
	}
	return ""
}

// encodedSize describes how long a MAC is as the scheme writes it.
func (s *Scheme) encodedSize() string {
	switch s.Encoding {
	case Hex:
		return fmt.Sprintf("%d hex characters", 2*s.MACSize())
	case Base64:
		return fmt.Sprintf("%d base64 characters", base64.StdEncoding.EncodedLen(s.MACSize()))
	default:
		return fmt.Sprintf("%d base64url characters", base64.URLEncoding.EncodedLen(s.MACSize()))
	}
}

// headerSet picks the first header set whose signature header is present;
// with none present it returns the first, so errors name the main header.
func (s *Scheme) headerSet(h http.Header) (Headers, bool) {
	for _, set := range s.HeaderSets {
		if len(h.Values(set.Signature)) > 0 {
			return set, true
		}
	}
	return s.HeaderSets[0], false
}

func checkTimestamp(ts, header string, tolerance time.Duration, now time.Time) *Error {
	sec, ok := ParseTimestamp(ts)
	if !ok {
		return fail(MalformedHeader, header, "timestamp is not a decimal Unix time")
	}
	if tolerance <= 0 {
		return nil
	}
	skew := Skew(sec, now)
	switch {
	case skew > tolerance:
		e := fail(StaleTimestamp, header, "timestamp is older than the tolerance of %s", tolerance)
		e.Skew = skew
		return e
	case skew < -tolerance: // not -skew > tolerance: -math.MinInt64 overflows
		e := fail(FutureTimestamp, header, "timestamp is ahead of this server's clock by more than the tolerance of %s", tolerance)
		e.Skew = skew
		return e
	}
	return nil
}

// Skew is how long before now the Unix time sec is (negative: after now),
// clamped to what a Duration holds so that absurd timestamps cannot
// overflow into an accepted range.
func Skew(sec int64, now time.Time) time.Duration {
	const limit = int64(math.MaxInt64 / time.Second)
	n := now.Unix()
	d := n - sec
	// The subtraction overflows only when n and sec have opposite signs
	// and the result's sign differs from n's; saturate in n's direction.
	if (n >= 0) != (sec >= 0) && (d >= 0) != (n >= 0) {
		if n >= 0 {
			return math.MaxInt64
		}
		return math.MinInt64
	}
	switch {
	case d >= limit:
		return math.MaxInt64
	case d <= -limit:
		return math.MinInt64
	}
	return now.Sub(time.Unix(sec, 0))
}

// matchToken compares a token header with every key. Both sides are hashed
// first so the comparison takes the same time whatever their lengths.
func (c *Check) matchToken(got string) *Error {
	g := sha256.Sum256([]byte(got))
	match := -1
	for i, k := range c.keys {
		want := sha256.Sum256(k.Secret)
		if subtle.ConstantTimeCompare(g[:], want[:]) == 1 && match < 0 {
			match = i
		}
	}
	if match < 0 {
		// A token is compared, not computed: trying the expired ones
		// costs a hash of each, nothing of the body.
		for _, k := range c.expiredKeys() {
			want := sha256.Sum256(k.Secret)
			if subtle.ConstantTimeCompare(g[:], want[:]) == 1 {
				return expiredError(c.header, &k)
			}
		}
		return fail(WrongSignature, c.header, "token does not match any configured secret")
	}
	c.keys, c.idx = c.keys[match:match+1], c.idx[match:match+1]
	return nil
}

// Write feeds body bytes to the verification. It never fails.
func (c *Check) Write(p []byte) (int, error) {
	for _, m := range c.macs {
		m.Write(p)
	}
	for _, m := range c.mainMACs {
		m.Write(p)
	}
	return len(p), nil
}

// Finish completes the verification once the whole body has been written.
func (c *Check) Finish() (Result, error) {
	res := Result{ID: c.id, Timestamp: c.ts, Headers: c.set}
	if c.scheme.Format == FormatToken {
		res.Key, res.KeyIndex = c.keys[0].Label, c.idx[0]
		res.BodyDigest = c.macs[0].Sum(nil)
		return res, nil
	}
	matched, matchedSig := c.match(c.macs)
	if matched < 0 {
		return res, fail(WrongSignature, c.header, "signature does not match the body under any configured secret")
	}
	res.Key, res.KeyIndex = c.keys[matched].Label, c.idx[matched]
	res.IDSigned = c.scheme.usesID
	res.Signature = matchedSig
	if c.main != nil {
		m := c.mainMACs[matched]
		writeParts(m, c.main.after, c.id, c.ts)
		res.Signature = m.Sum(nil)
	}
	return res, nil
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
	if !errors.As(err, &ve) || ve.Reason != WrongSignature || c.scheme.Format == FormatToken {
		return err
	}
	keys := c.expiredKeys()
	if len(keys) == 0 {
		return err
	}
	macs := make([]hash.Hash, len(keys))
	ws := make([]io.Writer, len(keys))
	for i, k := range keys {
		macs[i] = c.scheme.newMAC(k.Secret, c.id, c.ts)
		ws[i] = macs[i]
	}
	if _, rerr := io.Copy(io.MultiWriter(ws...), body); rerr != nil {
		return err
	}
	if matched, _ := c.match(macs); matched >= 0 {
		return expiredError(c.header, &keys[matched])
	}
	return err
}

// match finishes macs (the body written to each) and returns the index of
// the first whose MAC is among the request's signatures, and that
// signature, or -1. Every MAC is compared with every signature, in
// constant time, whatever matches.
func (c *Check) match(macs []hash.Hash) (int, []byte) {
	matched := -1
	var matchedSig []byte
	for i, m := range macs {
		writeParts(m, c.scheme.after, c.id, c.ts)
		want := m.Sum(nil)
		for _, sig := range c.sigs {
			if hmac.Equal(sig, want) && matched < 0 {
				matched, matchedSig = i, sig
			}
		}
	}
	return matched, matchedSig
}

// expiredKeys are the keys to try in MatchExpired: LastExpired of those
// given to Begin.
func (c *Check) expiredKeys() []Key { return LastExpired(c.all, c.now) }

// LastExpired returns, in the order given, the keys (not empty) past their
// NotAfter at now, at most the MaxExpiredChecked that expired last: the
// ones MatchExpired tries.
func LastExpired(keys []Key, now time.Time) []Key {
	var out []Key
	for _, k := range keys {
		if len(k.Secret) > 0 && !k.NotAfter.IsZero() && !now.Before(k.NotAfter) {
			out = append(out, k)
		}
	}
	if len(out) <= MaxExpiredChecked {
		return out
	}
	// The positions of the MaxExpiredChecked that expired last, then
	// back in the order given.
	idx := make([]int, len(out))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int { return out[b].NotAfter.Compare(out[a].NotAfter) })
	idx = idx[:MaxExpiredChecked]
	slices.Sort(idx)
	kept := make([]Key, len(idx))
	for i, j := range idx {
		kept[i] = out[j]
	}
	return kept
}

func expiredError(header string, k *Key) *Error {
	e := fail(ExpiredSecret, header, "signature matches secret %q, which expired at %s and is no longer accepted",
		k.Label, k.NotAfter.UTC().Format(time.RFC3339))
	e.Key = k.Label
	return e
}

// Verify checks a request whose body is already in memory. A signature
// valid under an expired key is refused as ExpiredSecret (MatchExpired).
func (s *Scheme) Verify(h http.Header, body []byte, keys []Key, tolerance time.Duration, now time.Time) (Result, error) {
	c, err := s.Begin(h, keys, tolerance, now)
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
