package signer

import (
	"bytes"
	"fmt"
	"net/http"

	"github.com/hookguard/hookguard/scheme"
)

// Signing signs a body while it streams through Write, so a body too large
// to hold in memory is signed in the pass that reads it; Header then gives
// the headers Sign would have given for the same bytes. (A scheme whose
// Algorithm needs the whole message, or that has a Strategy, holds the
// body until Header.)
type Signing struct {
	s    *scheme.Scheme
	keys []*scheme.Key
	req  scheme.Request
	vals scheme.Values
	msg  scheme.Message
	body *bytes.Buffer // for a Strategy
}

// Begin starts signing a body under keys (the first only, unless the
// scheme's header carries one signature per key), for the message m
// describes (its Body is not used: write it).
func Begin(s *scheme.Scheme, keys []scheme.Key, m Message) *Signing {
	g := &Signing{s: s, req: scheme.Request{Method: m.Method, URL: m.URL}}
	g.vals = scheme.Values{ID: m.ID, Timestamp: s.Time.Format(m.Time), Method: m.Method, URL: m.URL}
	for i := range keys {
		g.keys = append(g.keys, &keys[i])
	}
	if len(g.keys) > 1 && !s.Format.PerKey() {
		g.keys = g.keys[:1]
	}
	if s.Strategy != nil {
		g.body = new(bytes.Buffer)
		return g
	}
	g.msg = s.Algorithm.Begin(g.keys)
	s.WriteParts(g.msg, false, g.vals)
	return g
}

// Write feeds body bytes to the signatures. It never fails.
func (g *Signing) Write(p []byte) (int, error) {
	if g.body != nil {
		return g.body.Write(p)
	}
	return g.msg.Write(p)
}

// Header returns the headers that carry the signatures of the body
// written, for the scheme's first header set. Call it once, at the end.
// With no key it returns the id and timestamp headers only.
func (g *Signing) Header() (http.Header, error) {
	s := g.s
	if g.body != nil {
		if len(g.keys) == 0 {
			return http.Header{}, nil
		}
		return s.Strategy.Sign(&g.req, g.body.Bytes(), g.vals, func(msg []byte) ([][]byte, error) {
			m := s.Algorithm.Begin(g.keys)
			m.Write(msg)
			return signAll(m, len(g.keys))
		})
	}
	names := s.HeaderSets[0]
	h := make(http.Header)
	if names.ID != "" && g.vals.ID != "" {
		h.Set(names.ID, g.vals.ID)
	}
	if names.Timestamp != "" {
		h.Set(names.Timestamp, g.vals.Timestamp)
	}
	if len(g.keys) == 0 {
		return h, nil
	}
	s.WriteParts(g.msg, true, g.vals)
	raw, err := signAll(g.msg, len(g.keys))
	if err != nil {
		return nil, err
	}
	sigs := make([]string, len(raw))
	for i, sig := range raw {
		sigs[i] = s.Encoding.Encode(sig)
	}
	h.Set(names.Signature, s.Format.Render(sigs, g.vals.Timestamp))
	return h, nil
}

func signAll(m scheme.Message, n int) ([][]byte, error) {
	out := make([][]byte, n)
	for i := range out {
		sig, err := m.Sign(i)
		if err != nil {
			return nil, fmt.Errorf("signing: %w", err)
		}
		out[i] = sig
	}
	return out, nil
}
