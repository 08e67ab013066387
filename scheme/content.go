package scheme

import (
	"fmt"
	"io"
	"strings"
)

// partKind is what one piece of a content template stands for.
type partKind int

const (
	partLiteral partKind = iota
	partTimestamp
	partID
	partMethod
	partURL
	partBody // only in the view of the whole template (checkSplits)
)

var tokenKinds = map[string]partKind{
	"{timestamp}": partTimestamp,
	"{id}":        partID,
	"{method}":    partMethod,
	// What the Caddyfile adapter turns {method} into (one of Caddy's
	// placeholder shorthands) before the template reaches us.
	"{http.request.method}": partMethod,
	"{url}":                 partURL,
	"{body}":                partBody,
}

type part struct {
	kind partKind
	text string // partLiteral's text; the token as written otherwise
}

// Values are what a content template's tokens stand for, other than the
// body, in one request.
type Values struct {
	ID, Timestamp string
	// Method and URL are the request's method and the URL the sender
	// called (Request).
	Method, URL string
}

// WriteParts writes the parts of the template before the body (after:
// false) or after it (true) to w, with v's values.
func (s *Scheme) WriteParts(w io.Writer, after bool, v Values) {
	parts := s.before
	if after {
		parts = s.after
	}
	for _, p := range parts {
		switch p.kind {
		case partLiteral:
			io.WriteString(w, p.text)
		case partTimestamp:
			io.WriteString(w, v.Timestamp)
		case partID:
			io.WriteString(w, v.ID)
		case partMethod:
			io.WriteString(w, v.Method)
		case partURL:
			io.WriteString(w, v.URL)
		}
	}
}

// parseContent splits a content template into parts around its single
// {body} token, at index body of the parts returned.
func parseContent(tmpl string) (parts []part, body int, err error) {
	body = -1
	for rest := tmpl; rest != ""; {
		i := strings.IndexByte(rest, '{')
		if i < 0 {
			parts = append(parts, part{kind: partLiteral, text: rest})
			break
		}
		if i > 0 {
			parts = append(parts, part{kind: partLiteral, text: rest[:i]})
		}
		j := strings.IndexByte(rest[i:], '}')
		if j < 0 {
			return nil, 0, fmt.Errorf("content %q: unclosed {", tmpl)
		}
		tok := rest[i : i+j+1]
		kind, ok := tokenKinds[tok]
		if !ok {
			return nil, 0, fmt.Errorf("content %q: unknown token %s (use {body}, {timestamp}, {id}, {method} or {url})", tmpl, tok)
		}
		if kind == partBody {
			if body >= 0 {
				return nil, 0, fmt.Errorf("content %q: {body} appears twice", tmpl)
			}
			body = len(parts)
		}
		parts = append(parts, part{kind: kind, text: tok})
		rest = rest[i+j+1:]
	}
	if body < 0 {
		return nil, 0, fmt.Errorf("content %q: {body} is missing", tmpl)
	}
	return parts, body, nil
}

// checkSplits checks that what is signed splits back into its parts in
// one way only. Otherwise one signature would verify under several
// readings of the same bytes: "{id}{timestamp}{body}" signs the same bytes
// for id "a1", timestamp "2" as for id "a", timestamp "12".
//
// Two tokens need literal text between them, except where the one on
// either side cannot grow or shrink into the other:
//   - a timestamp that is RFC 3339 (four-digit year first, zone last) or,
//     where the sender's timestamps have a fixed width (FixedWidthTime),
//     exactly 10 or 13 digits;
//   - {method} before {url}: a URL starts with its scheme;
//   - {url} before {body}: the verifier then refuses a URL with a
//     character outside RFC 3986 and a body whose first byte could end a
//     URL (JSON starts with { or [, neither of which can).
//
// Next to literal text, a timestamp's neighbour must not continue it with
// a digit, and an id may not contain any character of the text next to
// it (returned, for the verifier to enforce): if ids never do, any other
// split of the same bytes would need an id that does. (A sender whose ids
// contain those characters cannot use such a template: its deliveries are
// refused, never misread.) {body} takes the rest, whatever it holds.
func (s *Scheme) checkSplits(tmpl string, parts []part) error {
	for i, p := range parts {
		var prev, next string
		if i > 0 && parts[i-1].kind == partLiteral {
			prev = parts[i-1].text
		}
		if i+1 < len(parts) && parts[i+1].kind == partLiteral {
			next = parts[i+1].text
		}
		switch p.kind {
		case partTimestamp:
			if prev != "" && isDigit(prev[len(prev)-1]) || next != "" && isDigit(next[0]) {
				return fmt.Errorf("content %q: the text next to {timestamp} touches it with a digit, so the timestamp's digits could be split more than one way; put a non-digit next to it, e.g. {timestamp}.{body}", tmpl)
			}
		case partID:
			s.idForbidden += prev + next
		}
		if i == 0 || p.kind == partLiteral || parts[i-1].kind == partLiteral {
			continue
		}
		a, b := parts[i-1], p
		switch {
		case a.kind == partTimestamp || b.kind == partTimestamp:
			if s.Time == RFC3339 {
				continue
			}
			if s.FixedWidthTime {
				s.fixedTime = true
				continue
			}
		case a.kind == partMethod && b.kind == partURL:
			continue
		case a.kind == partURL && b.kind == partBody:
			s.urlBeforeBody = true
			continue
		}
		return fmt.Errorf("content %q: %s directly follows %s, so one signature would match other splits of the two; put literal text between them, e.g. %s.%s", tmpl, b.text, a.text, a.text, b.text)
	}
	return nil
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// URLSafe reports whether the path and query of URL u hold only
// characters RFC 3986 allows there, so that, signed right before a body,
// the URL cannot have taken the body's first bytes.
func URLSafe(u string) bool {
	if i := strings.Index(u, "://"); i >= 0 {
		rest := u[i+3:]
		j := strings.IndexByte(rest, '/')
		if j < 0 {
			return true
		}
		u = rest[j:]
	}
	return pathQuerySafe(u)
}

func pathQuerySafe(u string) bool {
	for i := 0; i < len(u); i++ {
		c := u[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte("-._~:/?@!$&'()*+,;=%", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// BodyStartSafe reports whether a body starting with c cannot be read as
// the end of a URL signed right before it: c is not a character URLs use.
func BodyStartSafe(c byte) bool { return !pathQuerySafe(string([]byte{c})) }
