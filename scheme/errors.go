package scheme

import (
	"fmt"
	"time"
)

// Reason classifies why a request failed verification.
type Reason string

// The reasons Verify fails.
const (
	MissingHeader   Reason = "missing_header"
	MalformedHeader Reason = "malformed_header"
	WrongSignature  Reason = "wrong_signature"
	StaleTimestamp  Reason = "stale_timestamp"
	FutureTimestamp Reason = "future_timestamp"
	NoUsableSecret  Reason = "no_usable_secret"
	// ExpiredSecret: the signature is valid under a secret past its
	// NotAfter, which is no longer accepted (see Check.MatchExpired).
	ExpiredSecret Reason = "expired_secret"
)

// Error is a verification failure. Its text names the header and the
// reason, and never a secret or an expected signature.
type Error struct {
	Reason Reason
	// Header is the header at fault, if any.
	Header string
	// Detail is a short safe explanation (e.g. "odd length hex").
	Detail string
	// Skew is how far the timestamp was from now (positive: in the past),
	// for timestamp failures.
	Skew time.Duration
	// Key is the label of the secret the failure is about, for
	// ExpiredSecret: the expired secret the signature matched. A label
	// names a secret and says nothing of it.
	Key string
}

func (e *Error) Error() string {
	msg := string(e.Reason)
	if e.Header != "" {
		msg += " " + e.Header
	}
	if e.Detail != "" {
		msg += ": " + e.Detail
	}
	return msg
}

// Is makes errors.Is(err, &Error{Reason: r}) match on the reason alone.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Reason == e.Reason && (t.Header == "" || t.Header == e.Header)
}

// Fail returns an Error for reason r about header, with a detail made
// from format and args: never put a secret or an expected signature in it.
func Fail(r Reason, header, format string, args ...any) *Error {
	return &Error{Reason: r, Header: header, Detail: fmt.Sprintf(format, args...)}
}
