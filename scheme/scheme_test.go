package scheme_test

import (
	"crypto/ed25519"
	"strings"
	"testing"
	"time"

	"github.com/hookguard/hookguard/scheme"
)

func TestTimeFormats(t *testing.T) {
	for _, c := range []struct {
		f     scheme.TimeFormat
		in    string
		fixed bool
		want  int64
		ok    bool
	}{
		{scheme.UnixSeconds, "1700000000", false, 1700000000, true},
		{scheme.UnixSeconds, "170000000", false, 170000000, true},
		{scheme.UnixSeconds, "170000000", true, 0, false}, // 9 digits where 10 are fixed
		{scheme.UnixSeconds, "-1700000000", false, 0, false},
		{scheme.UnixSeconds, "+1700000000", false, 0, false},
		{scheme.UnixMillis, "1700000000123", true, 1700000000, true},
		{scheme.UnixMillis, "170000000012", true, 0, false},
		{scheme.RFC3339, "2023-11-14T22:13:20Z", false, 1700000000, true},
		{scheme.RFC3339, "2023-11-14T22:13:20.123456789Z", false, 1700000000, true},
		{scheme.RFC3339, "2023-11-14T23:13:20+01:00", false, 1700000000, true},
		{scheme.RFC3339, "2023-11-14T22:13:20", false, 0, false},   // no zone: could run into what follows
		{scheme.RFC3339, "02023-11-14T22:13:20Z", false, 0, false}, // a character taken from what precedes
		{scheme.RFC3339, "2023-11-14T22:13:20Zx", false, 0, false},
		{scheme.RFC3339, "2023-11-14 22:13:20Z", false, 0, false},
		{scheme.RFC3339, "1700000000", false, 0, false},
	} {
		got, ok := c.f.Parse(c.in, c.fixed)
		if ok != c.ok || got != c.want {
			t.Errorf("%v.Parse(%q, fixed %v) = %d, %v; want %d, %v", c.f, c.in, c.fixed, got, ok, c.want, c.ok)
		}
	}
	at := time.Unix(1700000000, 123_000_000)
	for f, want := range map[scheme.TimeFormat]string{scheme.UnixSeconds: "1700000000", scheme.UnixMillis: "1700000000123", scheme.RFC3339: "2023-11-14T22:13:20.123Z"} {
		if got := f.Format(at); got != want {
			t.Errorf("%v.Format = %q, want %q", f, got, want)
		}
	}
}

// TestSplitsAreUnique: a template whose tokens touch is refused unless the
// bytes signed can be split back one way only.
func TestSplitsAreUnique(t *testing.T) {
	base := func(content string) *scheme.Scheme {
		return &scheme.Scheme{Name: "t", HeaderSets: []scheme.Headers{{Signature: "S", Timestamp: "T", ID: "I"}},
			Algorithm: scheme.HMACSHA256, Encoding: scheme.Hex, Content: content}
	}
	for _, c := range []struct {
		content string
		tweak   func(*scheme.Scheme)
		ok      bool
	}{
		{"{id}{timestamp}{body}", nil, false},
		{"{timestamp}{body}", nil, false},
		{"{timestamp}{body}", func(s *scheme.Scheme) { s.FixedWidthTime = true }, true},
		// An RFC 3339 timestamp between an id and a body of any length
		// pins neither: the body may hold another RFC 3339 time.
		{"{id}{timestamp}{body}", func(s *scheme.Scheme) { s.Time = scheme.RFC3339 }, false},
		{"{id}{timestamp}{body}", func(s *scheme.Scheme) { s.Time, s.FixedWidthID = scheme.RFC3339, 36 }, true},
		// A fixed-width timestamp between two of any length pins nothing.
		{"{id}{timestamp}{body}", func(s *scheme.Scheme) { s.FixedWidthTime = true }, false},
		{"{id}{timestamp}.{body}", func(s *scheme.Scheme) { s.FixedWidthTime = true }, false},
		{"{id}{timestamp}{body}", func(s *scheme.Scheme) { s.FixedWidthTime, s.FixedWidthID = true, 36 }, true},
		// Text after {url} must start with what no URL holds.
		{"{url}.{body}", nil, false},
		{"{url}|{body}", nil, true},
		{"{url} {body}", nil, true},
		{"{url}{body}", nil, true},
		{"{method}{url}{body}{timestamp}", func(s *scheme.Scheme) { s.Time, s.FixedWidthTime = scheme.UnixMillis, true }, true},
		{"{url}{method}{body}", nil, false},
		{"{body}{url}", nil, false},
		{"{id}{body}", nil, false},
		{"{id}.{body}", nil, true},
	} {
		s := base(c.content)
		if c.tweak != nil {
			c.tweak(s)
		}
		if err := s.Init(); (err == nil) != c.ok {
			t.Errorf("%q: Init = %v, want ok %v", c.content, err, c.ok)
		}
	}
}

func TestURLSafe(t *testing.T) {
	for u, want := range map[string]bool{
		"https://h.example/a/b?x=1&y=%20":     true,
		"https://[::1]:8443/a?b=c":            true,
		"https://h.example/a{":                false,
		"https://h.example/a?x=\"":            false,
		"https://h.example/a#frag":            false,
		"https://h.example/a?x=[1]":           false,
		"https://h.example":                   true,
		"https://h.example/a b":               false,
		"https://h.example/~user/;p=1,2@x:!$": true,
	} {
		if got := scheme.URLSafe(u); got != want {
			t.Errorf("URLSafe(%q) = %v", u, got)
		}
	}
	for _, c := range []byte("{[\"< \n") {
		if !scheme.BodyStartSafe(c) {
			t.Errorf("BodyStartSafe(%q) = false", c)
		}
	}
	for _, c := range []byte("a0%/?&=") {
		if scheme.BodyStartSafe(c) {
			t.Errorf("BodyStartSafe(%q) = true", c)
		}
	}
}

// TestKeyPairs: each key-pair algorithm reads back the keys it generates,
// and a signature made with the private half verifies with the public
// half, not with another key.
func TestKeyPairs(t *testing.T) {
	for _, kp := range []scheme.KeyPair{scheme.Ed25519{}, scheme.ECDSAP256{}, scheme.ECDSAP256{Raw: true}} {
		pub, priv, err := kp.Generate()
		if err != nil {
			t.Fatal(err)
		}
		k := scheme.Key{Label: "a"}
		if k.Public, err = kp.ParsePublic(pub); err != nil {
			t.Fatalf("%s: public: %v", kp.Name(), err)
		}
		if k.Private, err = kp.ParsePrivate(priv); err != nil {
			t.Fatalf("%s: private: %v", kp.Name(), err)
		}
		opub, _, _ := kp.Generate()
		other := scheme.Key{Label: "b"}
		other.Public, _ = kp.ParsePublic(opub)
		m := kp.Begin([]*scheme.Key{&k})
		m.Write([]byte("message"))
		sig, err := m.Sign(0)
		if err != nil {
			t.Fatal(err)
		}
		if n := kp.Size(); n != 0 && len(sig) != n {
			t.Errorf("%s: signature of %d bytes, want %d", kp.Name(), len(sig), n)
		}
		v := kp.Begin([]*scheme.Key{&other, &k})
		v.Write([]byte("message"))
		if i, _ := v.Match([][]byte{sig}); i != 1 {
			t.Errorf("%s: matched key %d, want 1", kp.Name(), i)
		}
		v = kp.Begin([]*scheme.Key{&k})
		v.Write([]byte("messagE"))
		if i, _ := v.Match([][]byte{sig}); i != -1 {
			t.Errorf("%s: a changed message matched", kp.Name())
		}
		if _, err := kp.ParsePublic("not a key"); err == nil || strings.Contains(err.Error(), "not a key") {
			t.Errorf("%s: ParsePublic of junk: %v (must fail without quoting it)", kp.Name(), err)
		}
	}
	// Discord publishes its Ed25519 key as 64 hex characters.
	pub, _, _ := ed25519.GenerateKey(nil)
	hexKey := strings.ToLower(strings.TrimSpace(string(hexOf(pub))))
	if k, err := (scheme.Ed25519{}).ParsePublic(hexKey); err != nil || !pub.Equal(k) {
		t.Errorf("hex Ed25519 key: %v", err)
	}
}

func hexOf(b []byte) []byte {
	const digits = "0123456789abcdef"
	out := make([]byte, 0, 2*len(b))
	for _, c := range b {
		out = append(out, digits[c>>4], digits[c&15])
	}
	return out
}

// FuzzTimeParse: no input is read as a time that does not round-trip
// its own digits or zone, and none panics.
func FuzzTimeParse(f *testing.F) {
	for _, s := range []string{"1700000000", "1700000000123", "2023-11-14T22:13:20Z", "2023-11-14T22:13:20.5+01:00", "", "9999999999999999999", "0"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, tf := range []scheme.TimeFormat{scheme.UnixSeconds, scheme.UnixMillis, scheme.RFC3339} {
			for _, fixed := range []bool{false, true} {
				if _, ok := tf.Parse(s, fixed); ok && (strings.ContainsAny(s, " \t\r\n") || tf != scheme.RFC3339 && fixed && len(s) != 10 && len(s) != 13) {
					t.Fatalf("%v accepted %q", tf, s)
				}
			}
		}
	})
}

// FuzzParseKey: key parsing never panics and never quotes its input.
func FuzzParseKey(f *testing.F) {
	for _, s := range []string{"whpk_MCowBQYDK2VwAyEA", "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----", "00ff", "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, kp := range []scheme.KeyPair{scheme.Ed25519{}, scheme.ECDSAP256{}} {
			if _, err := kp.ParsePublic(s); err != nil && len(s) >= 8 && strings.Contains(err.Error(), s) {
				t.Fatalf("error quotes the input: %v", err)
			}
			if _, err := kp.ParsePrivate(s); err != nil && len(s) >= 8 && strings.Contains(err.Error(), s) {
				t.Fatalf("error quotes the input: %v", err)
			}
		}
	})
}
