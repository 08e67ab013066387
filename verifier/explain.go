package verifier

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"strings"
	"time"

	"github.com/hookguard/hookguard/scheme"
)

// Explain verifies a captured request and writes, line by line, why it
// passes or fails: the header used or missing, the secrets tried (by
// label), the timestamp skew against the tolerance, the body's length and
// digest, and, on a mismatch, whether a common change to the body in
// transit (a trailing newline, line endings, JSON re-encoding) explains it.
// It never writes a secret or an expected signature.
func Explain(s *Scheme, w io.Writer, h http.Header, body []byte, keys []Key, tolerance time.Duration, now time.Time) (Result, error) {
	return ExplainWith(s, w, Request{Header: h}, body, keys, ExplainOptions{Tolerance: tolerance, Now: now})
}

// ExplainOptions are how Explain judges a capture and how it speaks of it.
type ExplainOptions struct {
	// Tolerance is the timestamp tolerance (zero: no check).
	Tolerance time.Duration
	// Now is the time the capture is judged at.
	Now time.Time
	// Clock names where Now comes from in the report: "this machine's
	// clock" if empty; a caller that was given a time says how (the CLI:
	// "--at").
	Clock string
	// AsOf, if set, says how to check a capture as of the timestamp ts it
	// carries (the CLI: "add --at <ts>"): the hint for a stale or future
	// capture.
	AsOf func(ts string) string
}

// ExplainWith is Explain with options. A capture whose timestamp is out
// of tolerance still has its signature checked (without the timestamp),
// so the report says whether the timestamp is all that is wrong.
func ExplainWith(s *Scheme, w io.Writer, r Request, body []byte, keys []Key, o ExplainOptions) (Result, error) {
	h := r.Header
	tolerance, now, clock := o.Tolerance, o.Now, o.Clock
	if clock == "" {
		clock = "this machine's clock"
	}
	fmt.Fprintf(w, "scheme:    %s\n", s.Name)
	sum := sha256.Sum256(body)
	fmt.Fprintf(w, "body:      %d bytes, sha256 %s\n", len(body), hex.EncodeToString(sum[:]))
	labels := make([]string, 0, len(keys))
	for _, k := range keys {
		l := k.Label
		if k.Expired(now) {
			l += " (expired " + k.NotAfter.UTC().Format(time.RFC3339) + ")"
		}
		labels = append(labels, l)
	}
	fmt.Fprintf(w, "secrets:   %d tried: %s\n", len(keys), join(labels))

	set, _ := headerSet(s, h)
	for _, name := range []string{set.Signature, set.Timestamp, set.ID} {
		if name == "" {
			continue
		}
		switch n := len(h.Values(name)); n {
		case 0:
			fmt.Fprintf(w, "header:    %s: absent\n", name)
		case 1:
			fmt.Fprintf(w, "header:    %s: present (%d characters)\n", name, len(h.Get(name)))
		default:
			fmt.Fprintf(w, "header:    %s: sent %d times\n", name, n)
		}
	}
	if ts := timestampOf(s, set, h); ts != "" && s.Timestamped() {
		if sec, ok := s.Time.Parse(ts, false); ok {
			skew := scheme.Skew(sec, now)
			tol := "off"
			if tolerance > 0 {
				tol = tolerance.String()
			}
			fmt.Fprintf(w, "timestamp: %s, %.0f s %s %s (tolerance %s)\n", ts, abs(skew).Seconds(), direction(skew), clock, tol)
		}
	}

	res, err := VerifyRequest(s, r, body, keys, tolerance, now)
	if err == nil {
		fmt.Fprintf(w, "PASS: signature matches under secret %s\n", res.Key)
		return res, nil
	}
	err = inClock(err, o.Clock)
	fmt.Fprintf(w, "FAIL: %v\n", err)
	var ve *Error
	if errors.As(err, &ve) && ve.Reason == ExpiredSecret {
		fmt.Fprintln(w, "hint:      the sender still signs with a secret that has expired: have it switch to a current one (or, if it cannot yet, move that secret's not_after later)")
	}
	if errors.As(err, &ve) && ve.Reason == WrongSignature {
		explainMismatch(s, w, r, body, keys, tolerance, now)
	}
	if errors.As(err, &ve) && (ve.Reason == StaleTimestamp || ve.Reason == FutureTimestamp) {
		// The timestamp is one question, the signature another: a stale
		// capture (a test replayed later, a queue drained late) can
		// still show whether secret and body are right.
		if res2, err2 := VerifyRequest(s, r, body, keys, 0, now); err2 == nil {
			fmt.Fprintf(w, "signature: checked without the timestamp, it matches under secret %s: only the timestamp fails\n", res2.Key)
		} else {
			fmt.Fprintf(w, "signature: checked without the timestamp, it fails too: %v\n", err2)
			var ve2 *Error
			if errors.As(err2, &ve2) && ve2.Reason == WrongSignature {
				explainMismatch(s, w, r, body, keys, 0, now)
			}
		}
		if ts := timestampOf(s, set, h); o.AsOf != nil && ts != "" {
			fmt.Fprintf(w, "hint:      to check it as of when it was sent: %s\n", o.AsOf(ts))
		}
	}
	return res, err
}

// explainMismatch writes which common change to the body, if any,
// explains a wrong signature.
func explainMismatch(s *Scheme, w io.Writer, r Request, body []byte, keys []Key, tolerance time.Duration, now time.Time) {
	for _, alt := range bodyVariants(body) {
		if _, err := VerifyRequest(s, r, alt.body, keys, tolerance, now); err == nil {
			fmt.Fprintf(w, "hint:      the signature matches the body %s: %s\n", alt.what, alt.cause)
			return
		}
	}
	fmt.Fprintln(w, "hint:      no common change to the body explains the mismatch: check that the secret is the one the sender uses, and the scheme")
}

// inClock rewords a future-timestamp failure for a time that is not this
// server's clock (clock, e.g. "--at"); other errors are returned as they
// are.
func inClock(err error, clock string) error {
	var ve *Error
	if clock == "" || !errors.As(err, &ve) || ve.Reason != FutureTimestamp {
		return err
	}
	e := *ve
	e.Detail = strings.Replace(e.Detail, "this server's clock", clock, 1)
	return &e
}

type variant struct {
	what, cause string
	body        []byte
}

// bodyVariants are the bodies a proxy, a capture tool or a framework
// commonly turns a webhook body into.
func bodyVariants(b []byte) []variant {
	var out []variant
	added := "something between the sender and here added a newline (a capture tool, an editor, echo)"
	if t := bytes.TrimSuffix(bytes.TrimSuffix(b, []byte("\n")), []byte("\r")); len(t) != len(b) {
		out = append(out, variant{"without its last trailing newline", added, t})
	}
	if t := bytes.TrimRight(b, "\r\n"); len(t) != len(b) {
		out = append(out, variant{"without its trailing newlines", added, t})
	}
	out = append(out, variant{"with a trailing newline", "the sender signed a newline that was lost in the capture", append(append([]byte(nil), b...), '\n')})
	if bytes.Contains(b, []byte("\r\n")) {
		out = append(out, variant{"with LF line endings", "line endings were changed to CRLF in transit or in the capture", bytes.ReplaceAll(b, []byte("\r\n"), []byte("\n"))})
	} else if bytes.Contains(b, []byte("\n")) {
		out = append(out, variant{"with CRLF line endings", "line endings were changed to LF in transit or in the capture", bytes.ReplaceAll(b, []byte("\n"), []byte("\r\n"))})
	}
	if json.Valid(b) {
		var compact bytes.Buffer
		if json.Compact(&compact, b) == nil && !bytes.Equal(compact.Bytes(), b) {
			out = append(out, variant{"as compact JSON", "the body was re-encoded (pretty-printed) after signing; verify the raw bytes", compact.Bytes()})
		}
		var indented bytes.Buffer
		if json.Indent(&indented, b, "", "  ") == nil && !bytes.Equal(indented.Bytes(), b) {
			out = append(out, variant{"as indented JSON", "the body was re-encoded (compacted) after signing; verify the raw bytes", indented.Bytes()})
		}
	}
	return out
}

func timestampOf(s *Scheme, set Headers, h http.Header) string {
	if set.Timestamp != "" {
		return h.Get(set.Timestamp)
	}
	if s.Format != nil && s.Format.CarriesTimestamp() {
		_, ts, _ := s.Format.Parse(h.Get(set.Signature), s.Encoding)
		return ts
	}
	return ""
}

func abs(d time.Duration) time.Duration {
	if d == math.MinInt64 {
		return math.MaxInt64
	}
	if d < 0 {
		return -d
	}
	return d
}

func direction(skew time.Duration) string {
	if skew < 0 {
		return "ahead of"
	}
	return "behind"
}

func join(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, ", ")
}
