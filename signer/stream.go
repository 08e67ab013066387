package signer

import (
	"hash"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/hookguard/hookguard/verifier"
)

// Signing signs a body while it streams through Write, so a body too large
// to hold in memory is signed in the pass that reads it; Header then gives
// the headers Sign would have given for the same bytes.
type Signing struct {
	s    *verifier.Scheme
	keys [][]byte
	id   string
	ts   string
	macs []hash.Hash
}

// Begin starts signing a body under keys, with delivery id id and signing
// time t (see Message).
func Begin(s *verifier.Scheme, keys [][]byte, id string, t time.Time) *Signing {
	g := &Signing{s: s, keys: keys, id: id, ts: strconv.FormatInt(t.Unix(), 10)}
	switch s.Format {
	case verifier.FormatSingle:
		if len(keys) > 0 {
			g.macs = []hash.Hash{s.NewMAC(keys[0], id, g.ts)}
		}
	case verifier.FormatStripe, verifier.FormatStandard:
		for _, k := range keys {
			g.macs = append(g.macs, s.NewMAC(k, id, g.ts))
		}
	}
	return g
}

// Write feeds body bytes to the signatures. It never fails.
func (g *Signing) Write(p []byte) (int, error) {
	for _, m := range g.macs {
		m.Write(p)
	}
	return len(p), nil
}

// Header returns the headers that carry the signatures of the body
// written, for the scheme's first header set. Call it once, at the end.
func (g *Signing) Header() http.Header {
	s := g.s
	names := s.HeaderSets[0]
	h := make(http.Header)
	if names.ID != "" && g.id != "" {
		h.Set(names.ID, g.id)
	}
	if names.Timestamp != "" {
		h.Set(names.Timestamp, g.ts)
	}
	if len(g.keys) == 0 {
		return h
	}
	sig := func(i int) string { return s.Encode(s.SumMAC(g.macs[i], g.id, g.ts)) }
	switch s.Format {
	case verifier.FormatToken:
		h.Set(names.Signature, string(g.keys[0]))
	case verifier.FormatSingle:
		h.Set(names.Signature, s.Prefix+sig(0))
	case verifier.FormatStripe:
		parts := []string{"t=" + g.ts}
		for i := range g.macs {
			parts = append(parts, "v1="+sig(i))
		}
		h.Set(names.Signature, strings.Join(parts, ","))
	case verifier.FormatStandard:
		parts := make([]string, 0, len(g.macs))
		for i := range g.macs {
			parts = append(parts, "v1,"+sig(i))
		}
		h.Set(names.Signature, strings.Join(parts, " "))
	}
	return h
}
