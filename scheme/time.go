package scheme

import (
	"math"
	"strconv"
	"strings"
	"time"
)

// TimeFormat is how a sender writes its timestamp.
type TimeFormat int

const (
	// UnixSeconds is a decimal Unix time in seconds (most senders).
	UnixSeconds TimeFormat = iota
	// UnixMillis is a decimal Unix time in milliseconds (HubSpot,
	// Contentful).
	UnixMillis
	// RFC3339 is an RFC 3339 time, fractional seconds allowed (Twitch,
	// Zendesk).
	RFC3339
)

func (f TimeFormat) String() string {
	switch f {
	case UnixMillis:
		return "Unix milliseconds"
	case RFC3339:
		return "RFC 3339"
	}
	return "Unix seconds"
}

// maxTimestampLen is the decimal digits of the largest int64.
const maxTimestampLen = 19

// fixedWidth is how many digits a Unix timestamp has when the content
// template puts it right next to other signed text (Init): 10 for seconds
// and 13 for milliseconds, true from 2001 until 2286. A fixed width is
// what keeps its digits from being shifted into its neighbour.
func (f TimeFormat) fixedWidth() int {
	if f == UnixMillis {
		return 13
	}
	return 10
}

// Parse reads a timestamp in format f and returns it in Unix seconds.
// Unix times are digits only: no sign, no spaces, at most 19 digits, and
// exactly fixedWidth when fixed is set. RFC 3339 times are parsed strictly:
// four-digit year first and a zone (Z or an offset) last, so that one is
// never read out of, or into, the text next to it.
func (f TimeFormat) Parse(s string, fixed bool) (int64, bool) {
	switch f {
	case RFC3339:
		if len(s) < len("2006-01-02T15:04:05Z") || len(s) > 64 || strings.ContainsAny(s, " \t") {
			return 0, false
		}
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return 0, false
		}
		return t.Unix(), true
	}
	if fixed && len(s) != f.fixedWidth() {
		return 0, false
	}
	n, ok := ParseTimestamp(s)
	if !ok {
		return 0, false
	}
	if f == UnixMillis {
		n /= 1000
	}
	return n, true
}

// Format writes t in format f, as a sender would.
func (f TimeFormat) Format(t time.Time) string {
	switch f {
	case UnixMillis:
		return strconv.FormatInt(t.UnixMilli(), 10)
	case RFC3339:
		return t.UTC().Format(time.RFC3339Nano)
	}
	return strconv.FormatInt(t.Unix(), 10)
}

// ParseTimestamp parses a decimal Unix time: digits only, no sign, no
// spaces, at most 19 digits.
func ParseTimestamp(s string) (int64, bool) {
	if s == "" || len(s) > maxTimestampLen {
		return 0, false
	}
	var n int64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		d := int64(c - '0')
		if n > (1<<63-1-d)/10 {
			return 0, false
		}
		n = n*10 + d
	}
	return n, true
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

// CheckTimestamp judges a timestamp as sent in header against tolerance
// (zero: only its form is checked).
func (s *Scheme) CheckTimestamp(ts, header string, tolerance time.Duration, now time.Time) *Error {
	sec, ok := s.Time.Parse(ts, s.fixedTime)
	if !ok {
		return Fail(MalformedHeader, header, "timestamp is not %s", s.describeTime())
	}
	if tolerance <= 0 {
		return nil
	}
	skew := Skew(sec, now)
	switch {
	case skew > tolerance:
		e := Fail(StaleTimestamp, header, "timestamp is older than the tolerance of %s", tolerance)
		e.Skew = skew
		return e
	case skew < -tolerance: // not -skew > tolerance: -math.MinInt64 overflows
		e := Fail(FutureTimestamp, header, "timestamp is ahead of this server's clock by more than the tolerance of %s", tolerance)
		e.Skew = skew
		return e
	}
	return nil
}

// describeTime names the timestamp's form in messages.
func (s *Scheme) describeTime() string {
	switch {
	case s.Time == RFC3339:
		return "an RFC 3339 time"
	case s.fixedTime:
		return "a " + strconv.Itoa(s.Time.fixedWidth()) + "-digit Unix time in " + strings.TrimPrefix(s.Time.String(), "Unix ")
	case s.Time == UnixMillis:
		return "a decimal Unix time in milliseconds"
	}
	return "a decimal Unix time"
}
