package scheme

import (
	"net/http"
	"net/textproto"
	"strings"
)

// headerName is one header name of a scheme as net/http stores it
// (canonical) and as a CGI-style back end sees it (folded).
type headerName struct {
	canonical, folded string
}

// fold maps a header name to what FastCGI, CGI and PHP make of it: case
// does not count, and '-', '_' and '.' all become the same character. Two
// names that fold alike reach such a back end as one variable.
func fold(name string) string {
	b := []byte(name)
	for i, c := range b {
		switch {
		case c == '_' || c == '.':
			b[i] = '-'
		case 'A' <= c && c <= 'Z':
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// foldedEqual reports whether fold(name) == folded without allocating.
func foldedEqual(name, folded string) bool {
	if len(name) != len(folded) {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c == '_' || c == '.':
			c = '-'
		case 'A' <= c && c <= 'Z':
			c += 'a' - 'A'
		}
		if c != folded[i] {
			return false
		}
	}
	return true
}

// initNames collects every header name of every header set, the
// fallback's included.
func (s *Scheme) initNames() {
	s.names = nil
	for t := s; t != nil; t = t.Fallback {
		for _, set := range t.HeaderSets {
			for _, n := range []string{set.Signature, set.Timestamp, set.ID} {
				if n != "" {
					s.names = append(s.names, headerName{textproto.CanonicalMIMEHeaderKey(n), fold(n)})
				}
			}
		}
	}
}

// DropUnverified removes, after a request was verified with header set
// used, every header that a back end could take for one of the scheme's
// headers but that was not part of what was verified: the other header
// sets (Svix's webhook-* when svix-* was verified, GitHub's SHA-1 header
// next to the SHA-256 one) and look-alikes such as Webhook_Id or
// webhook.id next to the verified Webhook-Id, which FastCGI and PHP fold
// into the same variable. The verified headers themselves stay.
func (s *Scheme) DropUnverified(h http.Header, used Headers) {
	for name := range h {
		for _, n := range s.names {
			if !foldedEqual(name, n.folded) {
				continue
			}
			if name != n.canonical || !used.has(n.canonical) {
				delete(h, name)
			}
			break
		}
	}
}

// has reports whether canonical is one of the set's header names.
func (set Headers) has(canonical string) bool {
	for _, n := range []string{set.Signature, set.Timestamp, set.ID} {
		if n != "" && strings.EqualFold(n, canonical) {
			return true
		}
	}
	return false
}

// Names returns the canonical names of every header of the scheme: each
// header set's signature, timestamp and id headers, the fallback's too.
func (s *Scheme) Names() []string {
	out := make([]string, 0, len(s.names))
	for _, n := range s.names {
		out = append(out, n.canonical)
	}
	return out
}
