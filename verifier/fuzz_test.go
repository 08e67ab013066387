package verifier_test

// Fuzz tests. Seeds come from f.Add below and from testdata/fuzz/FuzzXxx/
// (entries kept from fuzzing runs). Run one with, for example:
//
//	go test -run=^$ -fuzz=FuzzVerify -fuzztime=20s ./verifier/
//
// Every fuzzer checks more than "no panic": the parsers against a
// reference or an invariant, FuzzVerify that nothing verifies under a key
// the input cannot know, and that whatever verifies under the one key it
// can know carries that key's MAC of exactly that body.

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hookguard/hookguard/preset"
	"github.com/hookguard/hookguard/scheme"
	"github.com/hookguard/hookguard/signer"
	"github.com/hookguard/hookguard/verifier"
)

func FuzzParseTimestamp(f *testing.F) {
	for _, s := range []string{"", "0", "1614265330", "-1", "+1", " 1", "1 ", "9223372036854775807",
		"9223372036854775808", "0000000000000000001", strings.Repeat("9", 30), "１", "1e9", "0x1f"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, ok := scheme.ParseTimestamp(s)
		// Reference: 1 to 19 ASCII digits that strconv parses as an int64.
		ref, err := strconv.ParseInt(s, 10, 64)
		digits := len(s) > 0 && len(s) <= 19 && strings.Trim(s, "0123456789") == ""
		wantOK := digits && err == nil
		if ok != wantOK {
			t.Fatalf("ParseTimestamp(%q) ok=%v, reference ok=%v", s, ok, wantOK)
		}
		if !ok {
			if n != 0 {
				t.Fatalf("ParseTimestamp(%q) = %d with ok=false", s, n)
			}
			return
		}
		if n != ref || n < 0 {
			t.Fatalf("ParseTimestamp(%q) = %d, strconv says %d", s, n, ref)
		}
	})
}

func FuzzParseSingle(f *testing.F) {
	f.Add("sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17", "sha256=", uint8(0))
	f.Add("v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503", "v0=", uint8(0))
	f.Add("D0UMXmhjwBRi4y66TmhJrDlhQABD7zI2fm3p6/QLMo8=", "", uint8(1))
	f.Add("D0UMXmhjwBRi4y66TmhJrDlhQABD7zI2fm3p6_QLMo8", "", uint8(2))
	f.Add("sha256=abc", "sha256=", uint8(0))
	f.Add("", "", uint8(1))
	f.Add("AQJ=", "", uint8(1))
	f.Fuzz(func(t *testing.T, value, prefix string, e uint8) {
		encs := []scheme.Encoding{scheme.Hex, scheme.Base64, scheme.Base64URL, "other"}
		enc := encs[int(e)%len(encs)]
		sig, problem := parseSingle(value, prefix, enc)
		if problem != "" {
			if sig != nil {
				t.Fatalf("problem %q with a signature", problem)
			}
			return
		}
		if enc == "other" || !strings.HasPrefix(value, prefix) || len(sig) == 0 {
			t.Fatalf("ParseSingle(%q, %q, %s) accepted: %x", value, prefix, enc, sig)
		}
		// Round trip: the accepted text is the canonical encoding of the
		// bytes (modulo hex case and base64 padding), so two different
		// texts never stand for one signature by accident.
		rest := value[len(prefix):]
		switch enc {
		case scheme.Hex:
			if hex.EncodeToString(sig) != strings.ToLower(rest) {
				t.Fatalf("hex %q decoded to %x", rest, sig)
			}
		case scheme.Base64:
			if strings.TrimRight(base64.StdEncoding.EncodeToString(sig), "=") != strings.TrimRight(rest, "=") {
				t.Fatalf("base64 %q decoded to %x", rest, sig)
			}
		case scheme.Base64URL:
			if strings.TrimRight(base64.URLEncoding.EncodeToString(sig), "=") != strings.TrimRight(rest, "=") {
				t.Fatalf("base64url %q decoded to %x", rest, sig)
			}
		}
	})
}

func FuzzParseStripe(f *testing.F) {
	f.Add("t=1492774577,v1=88a022085c6bdb887b02cb26ff76dd681234d9675c0f22844059f55552a8883a")
	f.Add("t=1492774577,v1=5257a869e7ecebeda32affa62cdca3fa51cad7e77a0e56ff536d0ce8e108d8bd,v0=6ffbb59b2300aae63f272406069a9788598b792a944a07aba816edb039989a39")
	f.Add("t=1,t=2,v1=ab")
	f.Add("v1=ab")
	f.Add("t=1,v1=zz,v1=ab, x=y")
	f.Add("")
	f.Add(v1List(17, "ab"))
	f.Fuzz(func(t *testing.T, value string) {
		ts, sigs, problem := parseStripe(value)
		if problem != "" {
			if ts != "" || sigs != nil {
				t.Fatalf("problem %q with results %q %x", problem, ts, sigs)
			}
			return
		}
		if ts == "" || len(sigs) == 0 || len(sigs) > 16 {
			t.Fatalf("ParseStripe(%q) = %q, %d sigs", value, ts, len(sigs))
		}
		// Reference reading: ts is the value of the one t element, and the
		// signatures are the hex-decodable v1 values, in order.
		var tElems int
		var v1 [][]byte
		for _, item := range strings.Split(value, ",") {
			item = strings.TrimSpace(item)
			if v, ok := strings.CutPrefix(item, "t="); ok {
				tElems++
				if v != ts {
					t.Fatalf("ParseStripe(%q): ts %q, element says %q", value, ts, v)
				}
			}
			if v, ok := strings.CutPrefix(item, "v1="); ok {
				if b, err := hex.DecodeString(v); err == nil && len(b) > 0 {
					v1 = append(v1, b)
				}
			}
		}
		if tElems != 1 || len(v1) != len(sigs) {
			t.Fatalf("ParseStripe(%q): %d t elements, %d v1 by reference, %d returned", value, tElems, len(v1), len(sigs))
		}
		for i := range sigs {
			if !bytes.Equal(sigs[i], v1[i]) {
				t.Fatalf("ParseStripe(%q): signature %d is %x, want %x", value, i, sigs[i], v1[i])
			}
		}
	})
}

func FuzzParseStandard(f *testing.F) {
	f.Add("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
	f.Add("v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc= v2,xyz v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
	f.Add("v1a,abc")
	f.Add("v1,")
	f.Add("")
	f.Add(stdList(17, "AQID"))
	f.Fuzz(func(t *testing.T, value string) {
		sigs, problem := parseStandard(value)
		if problem != "" {
			if sigs != nil {
				t.Fatalf("problem %q with results", problem)
			}
			return
		}
		if len(sigs) == 0 || len(sigs) > 16 {
			t.Fatalf("ParseStandard(%q) = %d sigs", value, len(sigs))
		}
		for _, s := range sigs {
			enc := strings.TrimRight(base64.StdEncoding.EncodeToString(s), "=")
			if len(s) == 0 || !strings.Contains(value, "v1,"+enc) {
				t.Fatalf("signature %x not in %q", s, value)
			}
		}
	})
}

// The one key a fuzzed request may know, and the fixed clock.
const fuzzKnownSecret = "fuzz-known-secret-0123456789"

var fuzzNow = time.Unix(1614265330, 0)

// fuzzNames are the presets fuzzed here: those whose signature travels in
// headers over a content template. A Strategy's (a JWT, a body field) is
// not the MAC of the body this fuzzer checks for; its family's tests cover
// it.
func fuzzNames(t testing.TB) []string {
	var out []string
	for _, n := range preset.Names() {
		if mustPreset(t, n, preset.Options{}).Strategy == nil {
			out = append(out, n)
		}
	}
	return out
}

// fuzzIndex is the number fuzzScheme takes for the preset called name.
func fuzzIndex(t testing.TB, name string) uint8 {
	i := slices.Index(fuzzNames(t), name)
	if i < 0 {
		t.Fatalf("%s is not fuzzed", name)
	}
	return uint8(i)
}

// fuzzScheme returns the preset numbered which, and the key it uses.
func fuzzScheme(t testing.TB, which uint8, legacy bool) (*verifier.Scheme, []byte) {
	names := fuzzNames(t)
	s := mustPreset(t, names[int(which)%len(names)], preset.Options{LegacySHA1: legacy})
	key := []byte(fuzzKnownSecret)
	if s.Secret == scheme.SecretWhsec {
		key, _ = s.DecodeSecret("whsec_" + base64.StdEncoding.EncodeToString(key))
	}
	return s, key
}

// fuzzHeaders lays the fuzzed values out in the scheme's header set
// numbered by flags bit 0; bit 1 repeats the signature header; bit 3 puts
// the signature in GitHub's legacy header.
func fuzzHeaders(s *verifier.Scheme, sig, ts, id string, flags uint8) http.Header {
	set := s.HeaderSets[int(flags&1)%len(s.HeaderSets)]
	name := set.Signature
	if flags&8 != 0 && s.Fallback != nil {
		name = s.Fallback.HeaderSets[0].Signature
	}
	h := http.Header{}
	h.Set(name, sig)
	if flags&2 != 0 {
		h.Add(name, sig)
	}
	if set.Timestamp != "" && flags&16 == 0 {
		h.Set(set.Timestamp, ts)
	}
	if set.ID != "" && flags&32 == 0 {
		h.Set(set.ID, id)
	}
	return h
}

func FuzzVerify(f *testing.F) {
	// Seeds: a correctly signed request per preset (under the known key),
	// and near misses.
	ts := strconv.FormatInt(fuzzNow.Unix(), 10)
	for i := range fuzzNames(f) {
		s, key := fuzzScheme(f, uint8(i), false)
		body := []byte(`{"event":"seed"}`)
		h := signer.Sign(s, [][]byte{key}, signer.Message{Body: body, ID: "msg_seed", Time: fuzzNow})
		sig := h.Get(s.HeaderSets[0].Signature)
		f.Add(uint8(i), sig, ts, "msg_seed", body, uint8(0), uint16(5))
		f.Add(uint8(i), sig, ts, "msg_seed", body, uint8(2), uint16(0))
		f.Add(uint8(i), sig, "1614265331", "msg_seed", body, uint8(1), uint16(100))
		f.Add(uint8(i), sig+"0", ts, "msg_seed", body[1:], uint8(0), uint16(1))
		f.Add(uint8(i), "", "", "", []byte{}, uint8(0), uint16(0))
	}
	// The published vectors, as they were sent.
	f.Add(fuzzIndex(f, "github"), "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17", "", "", []byte("Hello, World!"), uint8(0), uint16(3))
	f.Add(fuzzIndex(f, "standard"), swSig, swTS, swID, []byte(swBody), uint8(0), uint16(7))

	// A key no input can know: fresh for every process.
	unknown := make([]byte, 32)
	rand.Read(unknown)

	f.Fuzz(func(t *testing.T, which uint8, sig, ts, id string, body []byte, flags uint8, split uint16) {
		s, known := fuzzScheme(t, which, flags&4 != 0)
		h := fuzzHeaders(s, sig, ts, id, flags)
		const tol = 5 * time.Minute

		// 1. Nothing verifies under a key the input cannot know.
		if res, err := verifier.Verify(s, h, body, []verifier.Key{{Label: "unknown", Secret: unknown}}, tol, fuzzNow); err == nil {
			t.Fatalf("verified under a random key: %+v (headers %q)", res, h)
		}

		// 2. Under the known key: the verdict is a *verifier.Error with a
		// known Reason, the same through Begin/Write/Finish with the body
		// split anywhere.
		keys := []verifier.Key{{Label: "known", Secret: known}}
		res, err := verifier.Verify(s, h, body, keys, tol, fuzzNow)
		if err != nil {
			var ve *verifier.Error
			if !errors.As(err, &ve) {
				t.Fatalf("error of type %T: %v", err, err)
			}
			switch ve.Reason {
			case verifier.MissingHeader, verifier.MalformedHeader, verifier.WrongSignature,
				verifier.StaleTimestamp, verifier.FutureTimestamp:
			default:
				t.Fatalf("unexpected reason %q", ve.Reason)
			}
		}
		streamed := func() error {
			c, err := verifier.Begin(s, verifier.Request{Header: h}, keys, tol, fuzzNow)
			if err != nil {
				return err
			}
			at := int(split) % (len(body) + 1)
			c.Write(body[:at])
			c.Write(body[at:])
			_, err = c.Finish()
			return err
		}()
		if reasonOf(t, err) != reasonOf(t, streamed) {
			t.Fatalf("Verify says %v, streaming says %v", err, streamed)
		}
		if err != nil {
			return
		}

		// 3. It verified: the request carries the known key's MAC of this
		// very body (or, for a token scheme, the token itself).
		sch := s
		if h.Get(s.HeaderSets[0].Signature) == "" && s.Fallback != nil && len(s.HeaderSets) == 1 {
			sch = s.Fallback
		}
		if res.Key != "known" {
			t.Fatalf("matched key %q", res.Key)
		}
		if sch.Timestamped() && res.Timestamp == "" {
			t.Fatalf("timestamped scheme verified without a timestamp")
		}
		val := strings.TrimSpace(sig)
		if sch.Compares() {
			// The token as the format carries it (Postmark's Basic
			// credentials are base64 after "Basic ").
			toks, _, _ := sch.Format.Parse(val, sch.Encoding)
			if len(toks) != 1 || !bytes.Equal(toks[0], known) {
				t.Fatalf("token %q accepted", val)
			}
			return
		}
		want := sch.Digest(known, res.ID, res.Timestamp, body)
		sigs, _, _ := sch.Format.Parse(val, sch.Encoding)
		found := false
		for _, s := range sigs {
			found = found || bytes.Equal(s, want)
		}
		if !found {
			t.Fatalf("verified without the MAC of the body: headers %q", h)
		}
		if res.Timestamp != "" {
			if n, ok := sch.Time.Parse(res.Timestamp, false); !ok || scheme.Skew(n, fuzzNow).Abs() > tol {
				t.Fatalf("verified with timestamp %q outside tolerance", res.Timestamp)
			}
		}
	})
}

// idBodyLiteral finds {id} and {body} next to each other with only
// literal text between them, either way round.
var idBodyLiteral = regexp.MustCompile(`(\{id\}|\{body\})([^{}]*)(?:\{id\}|\{body\})`)

// FuzzContentTemplate: any signed_content template either fails Init or
// describes content that round-trips: what the signer signs for an id,
// timestamp and body verifies, and moving the id/body boundary by one byte
// (the same signed bytes split another way) never verifies with a
// different body.
func FuzzContentTemplate(f *testing.F) {
	for _, c := range []string{"{body}", "{timestamp}.{body}", "{id}.{timestamp}.{body}", "v0:{timestamp}:{body}",
		"{id}.{body}", "{body}|{id}", "{id}{timestamp}{body}", "{timestamp}1{body}", "{id}..{body}", "a}b{body}", "{", "{body}{"} {
		f.Add(c, "evt_1", []byte("a=1&note=x.y"))
	}
	f.Fuzz(func(t *testing.T, content, id string, body []byte) {
		s := &verifier.Scheme{Name: "g", HeaderSets: []verifier.Headers{{Signature: "X-Sig", Timestamp: "X-Ts", ID: "X-Id"}},
			Algorithm: scheme.HMACSHA256, Encoding: scheme.Hex, Content: content}
		if s.Init() != nil {
			return
		}
		key := []byte("fuzz-key")
		ts := strconv.FormatInt(fixedNow.Unix(), 10)
		if id == "" || strings.ContainsAny(id, "\r\n") || strings.TrimSpace(id) != id {
			id = "evt"
		}
		sig := hex.EncodeToString(s.Digest(key, id, ts, body))
		keys := []verifier.Key{{Secret: key}}
		h := http.Header{"X-Sig": {sig}, "X-Ts": {ts}, "X-Id": {id}}
		res, err := verifier.Verify(s, h, body, keys, time.Minute, fixedNow)
		if err != nil {
			var ve *verifier.Error
			if errors.As(err, &ve) && ve.Reason == verifier.MalformedHeader && ve.Header == "X-Id" {
				return // an id this template cannot carry unambiguously
			}
			t.Fatalf("content %q, id %q: own signature refused: %v", content, id, err)
		}
		_ = res
		// The same bytes split another way: id grows by the body's first
		// byte, or gives its last byte to the body.
		var alts [][2]string
		if len(body) > 0 {
			alts = append(alts, [2]string{id + string(body[:1]), string(body[1:])})
		}
		if len(id) > 1 {
			alts = append(alts, [2]string{id[:len(id)-1], id[len(id)-1:] + string(body)})
		}
		// Across the text L between {id} and {body}: "{id}L{body}" signs
		// the same bytes for (id+L+b1, b2) wherever body is b1+L+b2, and
		// "{body}L{id}" for (b2+L+id, b1).
		if m := idBodyLiteral.FindStringSubmatch(content); m != nil && m[2] != "" {
			lit, b := m[2], string(body)
			for i := 0; i+len(lit) <= len(b); i++ {
				if b[i:i+len(lit)] != lit {
					continue
				}
				if m[1] == "{id}" {
					alts = append(alts, [2]string{id + lit + b[:i], b[i+len(lit):]})
				} else {
					alts = append(alts, [2]string{b[i+len(lit):] + lit + id, b[:i]})
				}
			}
		}
		for _, a := range alts {
			if a[1] == string(body) || strings.ContainsAny(a[0], "\r\n") || strings.TrimSpace(a[0]) != a[0] {
				continue
			}
			h := http.Header{"X-Sig": {sig}, "X-Ts": {ts}, "X-Id": {a[0]}}
			if _, err := verifier.Verify(s, h, []byte(a[1]), keys, time.Minute, fixedNow); err == nil {
				t.Fatalf("content %q: the signature of (id %q, body %q) also verifies (id %q, body %q)", content, id, body, a[0], a[1])
			}
		}
	})
}
