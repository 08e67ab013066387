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
// for id "a1", timestamp "2" as for id "a", timestamp "12", and a replayer
// could move bytes between the delivery id and the body.
//
// What is signed before the body is read from the start, what is after it
// from the end, and each token must end (from the start) or begin (from the
// end) in one place only, given where its other end is:
//   - a timestamp that is RFC 3339 (four-digit year first, zone last) or of
//     a fixed width (FixedWidthTime), or one next to text that is not a
//     digit on that side;
//   - an id of a fixed width (FixedWidthID), or one next to text;
//   - {method} before {url} or before a space, colon or slash: a method is
//     an HTTP token, and a URL starts with its scheme and a colon;
//   - {url} before {body}: the verifier then refuses a URL with a character
//     outside RFC 3986 and a body whose first byte could end a URL (JSON
//     starts with { or [, neither of which can); or before text that starts
//     with a character no URL holds.
//
// So a fixed-width timestamp between an id and a body of any length pins
// nothing, and is refused.
//
// Next to literal text, a timestamp's neighbour must not continue it with
// a digit; an id may not contain any character of the text next to it
// (returned, for the verifier to enforce): if ids never do, any other split
// of the same bytes would need an id that does. (A sender whose ids contain
// those characters cannot use such a template: its deliveries are refused,
// never misread.) Text right after {url} must start with a character no URL
// holds, or the URL could grow into it. {body} takes the rest.
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
		case partURL:
			if next != "" && !BodyStartSafe(next[0]) {
				return fmt.Errorf("content %q: the text after {url} starts with %q, which a URL can hold, so the URL could take in what follows it; start it with a character URLs cannot hold, e.g. {url}|{body}", tmpl, next[:1])
			}
		}
	}
	// What is before the body is read from the start, what is after it
	// from the end: every token on the way must end (or, from the end,
	// start) where it can only end, given where it starts.
	n := len(parts)
	body := -1
	for i, p := range parts {
		if p.kind == partBody {
			body = i
		}
	}
	for i := 0; i < body; i++ {
		if !s.endsFixed(parts, i) {
			return splitError(tmpl, parts, parts[i], parts[i+1])
		}
	}
	for i := n - 1; i > body; i-- {
		if !s.startsFixed(parts, i) {
			return splitError(tmpl, parts, parts[i-1], parts[i])
		}
	}
	for i, p := range parts {
		if p.kind == partURL && i+1 < n && parts[i+1].kind == partBody {
			s.urlBeforeBody = true
		}
	}
	s.fixedTime = s.FixedWidthTime && s.Time != RFC3339
	return nil
}

func splitError(tmpl string, parts []part, a, b part) error {
	// Name the first two tokens that touch, where the fix is most often
	// made, unless the two found are text and a token.
	for i := 1; i < len(parts); i++ {
		x, y := parts[i-1], parts[i]
		pinned := x.kind == partMethod && y.kind == partURL || x.kind == partURL && y.kind == partBody
		if x.kind != partLiteral && y.kind != partLiteral && !pinned {
			a, b = x, y
			break
		}
	}
	return fmt.Errorf("content %q: %s directly follows %s, so one signature would match other splits of the two; put literal text between them, e.g. %s.%s", tmpl, b.text, a.text, a.text, b.text)
}

// endsFixed reports whether parts[i], its start known, can end in one
// place only.
func (s *Scheme) endsFixed(parts []part, i int) bool {
	p := parts[i]
	last := i+1 == len(parts)
	var next part
	if !last {
		next = parts[i+1]
	}
	switch p.kind {
	case partLiteral:
		return true
	case partTimestamp:
		return s.Time == RFC3339 || s.FixedWidthTime || last || next.kind == partLiteral && !isDigit(next.text[0])
	case partID:
		// Next to text, an id holds none of its characters (idForbidden).
		return s.FixedWidthID > 0 || last || next.kind == partLiteral
	case partMethod:
		// A method is a token: no space, colon or slash in it, and a URL
		// starts with its scheme and a colon.
		return last || next.kind == partURL || next.kind == partLiteral && strings.IndexByte(" :/\t", next.text[0]) >= 0
	case partURL:
		// A body or text that starts with what no URL holds (checked at
		// request time for the body).
		return last || next.kind == partBody || next.kind == partLiteral && BodyStartSafe(next.text[0])
	}
	return false
}

// startsFixed reports whether parts[i], its end known, can start in one
// place only.
func (s *Scheme) startsFixed(parts []part, i int) bool {
	p := parts[i]
	first := i == 0
	var prev part
	if !first {
		prev = parts[i-1]
	}
	switch p.kind {
	case partLiteral:
		return true
	case partTimestamp:
		return s.Time == RFC3339 || s.FixedWidthTime || first || prev.kind == partLiteral && !isDigit(prev.text[len(prev.text)-1])
	case partID:
		return s.FixedWidthID > 0 || first || prev.kind == partLiteral
	case partMethod, partURL:
		// A URL may hold anything a method or another URL ends with.
		return first
	}
	return false
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
