package verifier

import (
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"strings"
)

// Parsing limits. Real senders stay far below them; they bound the work an
// attacker can cause with one header.
const (
	maxSignatures   = 16
	maxTimestampLen = 19 // decimal digits of the largest int64
)

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

// decode decodes an encoded signature. Base64 is accepted with or without
// padding, since senders differ and the bytes compared are the same.
// encoding/base64 silently skips CR and LF, even in strict mode; they are
// refused here so that a signature has one spelling (hex never allows them).
func decode(enc Encoding, s string) ([]byte, bool) {
	var (
		b   []byte
		err error
	)
	if strings.ContainsAny(s, "\r\n") {
		return nil, false
	}
	switch enc {
	case Hex:
		b, err = hex.DecodeString(s)
	case Base64:
		b, err = base64.StdEncoding.Strict().DecodeString(s)
		if err != nil {
			b, err = base64.RawStdEncoding.Strict().DecodeString(s)
		}
	case Base64URL:
		b, err = base64.URLEncoding.Strict().DecodeString(s)
		if err != nil {
			b, err = base64.RawURLEncoding.Strict().DecodeString(s)
		}
	default:
		return nil, false
	}
	return b, err == nil && len(b) > 0
}

// ParseTimestamp parses a decimal Unix time in seconds: digits only, no
// sign, no spaces, at most 19 digits.
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

// ParseSingle parses a FormatSingle value: prefix then one signature.
func ParseSingle(value, prefix string, enc Encoding) ([]byte, string) {
	if !strings.HasPrefix(value, prefix) {
		return nil, "does not start with " + prefix
	}
	sig, ok := decode(enc, value[len(prefix):])
	if !ok {
		return nil, "not valid " + string(enc)
	}
	return sig, ""
}

// ParseStripe parses "t=<unix>,v1=<hex>,...". It returns the timestamp as
// sent and the v1 signatures; other schemes (v0) are ignored. A repeated
// t, no t, no v1, or a v1 that is not hex is malformed. stripe-go skips an
// undecodable v1; Stripe never sends one, and refusing it means a header
// is judged whole before any body is read.
func ParseStripe(value string) (ts string, sigs [][]byte, problem string) {
	v1 := 0
	for _, item := range strings.Split(value, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(item), "=")
		if !ok {
			return "", nil, "element without ="
		}
		switch k {
		case "t":
			if ts != "" {
				return "", nil, "t appears more than once"
			}
			if v == "" {
				return "", nil, "empty t"
			}
			ts = v
		case "v1":
			v1++
			if v1 > maxSignatures {
				return "", nil, "too many v1 signatures"
			}
			sig, ok := decode(Hex, v)
			if !ok {
				return "", nil, "a v1 signature is not valid hex"
			}
			sigs = append(sigs, sig)
		}
	}
	switch {
	case ts == "":
		return "", nil, "no t element"
	case v1 == 0:
		return "", nil, "no v1 signature"
	}
	return ts, sigs, ""
}

// ParseStandard parses Standard Webhooks' space-separated "v1,<base64>"
// list. Other versions (v1a, future ones) are ignored. A list with no v1,
// or with a v1 that is not base64, is malformed (the official libraries
// skip such an element; no sender emits one).
func ParseStandard(value string) (sigs [][]byte, problem string) {
	v1 := 0
	for _, item := range strings.Fields(value) {
		ver, enc, ok := strings.Cut(item, ",")
		if !ok {
			return nil, "element without version"
		}
		if ver != "v1" {
			continue
		}
		v1++
		if v1 > maxSignatures {
			return nil, "too many v1 signatures"
		}
		sig, ok := decode(Base64, enc)
		if !ok {
			return nil, "a v1 signature is not valid base64"
		}
		sigs = append(sigs, sig)
	}
	if v1 == 0 {
		return nil, "no v1 signature"
	}
	return sigs, ""
}
