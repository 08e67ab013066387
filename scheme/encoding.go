package scheme

import (
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"
)

// Encoding is how signature bytes are written in a header.
type Encoding string

// The encodings a signature can have. Raw is the bytes as they are, for
// tokens and passwords.
const (
	Hex       Encoding = "hex"
	Base64    Encoding = "base64"
	Base64URL Encoding = "base64url"
	Raw       Encoding = "raw"
)

// Decode decodes an encoded signature. Base64 is accepted with or without
// padding, since senders differ and the bytes compared are the same.
// encoding/base64 silently skips CR and LF, even in strict mode; they are
// refused here so that a signature has one spelling (hex never allows them).
func (enc Encoding) Decode(s string) ([]byte, bool) {
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
	case Raw:
		b = []byte(s)
	default:
		return nil, false
	}
	return b, err == nil && len(b) > 0
}

// Encode writes signature bytes in the encoding.
func (enc Encoding) Encode(sig []byte) string {
	switch enc {
	case Base64:
		return base64.StdEncoding.EncodeToString(sig)
	case Base64URL:
		return base64.URLEncoding.EncodeToString(sig)
	case Raw:
		return string(sig)
	default:
		return hex.EncodeToString(sig)
	}
}

// valid reports whether enc is one of the encodings.
func (enc Encoding) valid() bool {
	switch enc {
	case Hex, Base64, Base64URL, Raw:
		return true
	}
	return false
}

// describeLen says how long n signature bytes are as enc writes them.
func (enc Encoding) describeLen(n int) string {
	switch enc {
	case Hex:
		return fmt.Sprintf("%d hex characters", 2*n)
	case Base64:
		return fmt.Sprintf("%d base64 characters", base64.StdEncoding.EncodedLen(n))
	case Base64URL:
		return fmt.Sprintf("%d base64url characters", base64.URLEncoding.EncodedLen(n))
	default:
		return fmt.Sprintf("%d bytes", n)
	}
}
