package verifier_test

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hookguard/hookguard/preset"
	"github.com/hookguard/hookguard/scheme"
	"github.com/hookguard/hookguard/signer"
	"github.com/hookguard/hookguard/verifier"
)

func TestParseTimestamp(t *testing.T) {
	cases := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"0", 0, true},
		{"1614265330", 1614265330, true},
		{"0000000000000000001", 1, true}, // 19 characters: allowed
		{"9223372036854775807", math.MaxInt64, true},
		{"", 0, false},
		{" ", 0, false},
		{" 1614265330", 0, false},
		{"1614265330 ", 0, false},
		{"1614265330\n", 0, false},
		{"+1614265330", 0, false},
		{"-1614265330", 0, false},
		{"-0", 0, false},
		{"1.5", 0, false},
		{"1e9", 0, false},
		{"0x10", 0, false},
		{"1_000", 0, false},
		{"9223372036854775808", 0, false},      // MaxInt64 + 1
		{"9999999999999999999", 0, false},      // 19 digits, overflows
		{"00000000000000000001", 0, false},     // 20 characters
		{strings.Repeat("9", 30), 0, false},    // 30 digits
		{strings.Repeat("1", 1<<20), 0, false}, // 1 MiB
		{"١٦١٤٢٦٥٣٣٠", 0, false},               // Arabic-Indic digits
		{"１６１４２６５３３０", 0, false},               // full-width digits
		{"16142653３0", 0, false},               // one full-width digit
		{"1614265330\x00", 0, false},           // NUL
		{"\u200b1614265330", 0, false},         // zero-width space
		{strconv.FormatInt(time.Now().Unix(), 10), time.Now().Unix(), true},
	}
	for _, c := range cases {
		got, ok := scheme.ParseTimestamp(c.in)
		if got != c.want || ok != c.ok {
			name := c.in
			if len(name) > 40 {
				name = name[:40] + "..."
			}
			t.Errorf("ParseTimestamp(%q) = %d, %v; want %d, %v", name, got, ok, c.want, c.ok)
		}
	}
}

func TestParseSingle(t *testing.T) {
	big := strings.Repeat("ab", 1<<19) // 1 MiB of hex
	cases := []struct {
		name   string
		value  string
		prefix string
		enc    scheme.Encoding
		want   []byte // nil: a problem is expected
	}{
		{"hex", "sha256=abcd", "sha256=", scheme.Hex, []byte{0xab, 0xcd}},
		{"upper-case hex", "sha256=ABCD", "sha256=", scheme.Hex, []byte{0xab, 0xcd}},
		{"no prefix wanted", "abcd", "", scheme.Hex, []byte{0xab, 0xcd}},
		{"empty", "", "sha256=", scheme.Hex, nil},
		{"prefix only", "sha256=", "sha256=", scheme.Hex, nil},
		{"empty, no prefix", "", "", scheme.Hex, nil},
		{"odd-length hex", "sha256=abc", "sha256=", scheme.Hex, nil},
		{"truncated prefix", "sha256", "sha256=", scheme.Hex, nil},
		{"not hex", "sha256=zz", "sha256=", scheme.Hex, nil},
		{"wrong prefix", "sha1=abcd", "sha256=", scheme.Hex, nil},
		{"prefix case", "SHA256=abcd", "sha256=", scheme.Hex, nil},
		{"leading space", " sha256=abcd", "sha256=", scheme.Hex, nil},
		{"inner space", "sha256=ab cd", "sha256=", scheme.Hex, nil},
		{"trailing space", "sha256=abcd ", "sha256=", scheme.Hex, nil},
		{"prefix twice", "sha256=sha256=abcd", "sha256=", scheme.Hex, nil},
		{"full-width hex", "sha256=ａｂ", "sha256=", scheme.Hex, nil},
		{"1 MiB hex", "sha256=" + big, "sha256=", scheme.Hex, bytes.Repeat([]byte{0xab}, 1<<19)},
		{"base64", "AQID", "", scheme.Base64, []byte{1, 2, 3}},
		{"base64 padded", "AQI=", "", scheme.Base64, []byte{1, 2}},
		{"base64 unpadded", "AQI", "", scheme.Base64, []byte{1, 2}},
		{"base64 over-padded", "AQI==", "", scheme.Base64, nil},
		{"base64 non-zero padding bits", "AQJ=", "", scheme.Base64, nil},
		{"base64 url alphabet in std", "-_8=", "", scheme.Base64, nil},
		{"base64 bad char", "AQ*D", "", scheme.Base64, nil},
		{"base64 single char", "A", "", scheme.Base64, nil},
		{"base64url", "-_8=", "", scheme.Base64URL, []byte{0xfb, 0xff}},
		{"base64url unpadded", "-_8", "", scheme.Base64URL, []byte{0xfb, 0xff}},
		{"base64url std alphabet", "+/8=", "", scheme.Base64URL, nil},
		{"unknown encoding", "abcd", "", scheme.Encoding("base32"), nil},
	}
	for _, c := range cases {
		got, problem := parseSingle(c.value, c.prefix, c.enc)
		if c.want == nil {
			if problem == "" || got != nil {
				t.Errorf("%s: ParseSingle = %x, %q; want a problem", c.name, got, problem)
			}
			continue
		}
		if problem != "" || !bytes.Equal(got, c.want) {
			t.Errorf("%s: ParseSingle = %x, %q; want %x", c.name, got, problem, c.want)
		}
	}
}

func v1List(n int, sig string) string {
	parts := []string{"t=1"}
	for range n {
		parts = append(parts, "v1="+sig)
	}
	return strings.Join(parts, ",")
}

func TestParseStripe(t *testing.T) {
	cases := []struct {
		name  string
		value string
		ts    string
		sigs  int // number of decodable v1; -1: a problem is expected
	}{
		{"minimal", "t=1,v1=abcd", "1", 1},
		{"v1 first", "v1=abcd,t=1", "1", 1},
		{"spaces around elements", "t=1 , v1=abcd", "1", 1},
		{"v0 ignored", "t=1,v1=abcd,v0=ef01", "1", 1},
		{"unknown key ignored", "t=1,v1=abcd,x=y", "1", 1},
		{"two v1", "t=1,v1=abcd,v1=ef01", "1", 2},
		{"bad v1 next to a good one", "t=1,v1=zz,v1=abcd", "", -1},
		{"16 v1", v1List(16, "ab"), "1", 16},
		{"timestamp as sent", "t=0001,v1=ab", "0001", 1},
		{"unicode t is returned as sent", "t=１,v1=ab", "１", 1},
		{"30-digit t is returned as sent", "t=" + strings.Repeat("9", 30) + ",v1=ab", strings.Repeat("9", 30), 1},
		{"empty", "", "", -1},
		{"whitespace", "   ", "", -1},
		{"comma only", ",", "", -1},
		{"no t", "v1=abcd", "", -1},
		{"no v1", "t=1", "", -1},
		{"only v0", "t=1,v0=abcd", "", -1},
		{"empty t", "t=,v1=abcd", "", -1},
		{"t twice", "t=1,t=2,v1=abcd", "", -1},
		{"t twice, same value", "t=1,t=1,v1=abcd", "", -1},
		{"odd-length v1", "t=1,v1=abc", "", -1},
		{"empty v1", "t=1,v1=", "", -1},
		{"v1 with =", "t=1,v1=ab=cd", "", -1},
		{"element without =", "t=1,v1=abcd,junk", "", -1},
		{"empty element", "t=1,,v1=abcd", "", -1},
		{"truncated", "t=1,v1", "", -1},
		{"upper-case keys", "T=1,V1=abcd", "", -1},
		{"17 v1", v1List(17, "ab"), "", -1},
		{"100 v1", v1List(100, "ab"), "", -1},
		{"100 bad v1", v1List(100, "zz"), "", -1},
		{"full-width v1", "t=1,v1=ａｂ", "", -1},
	}
	for _, c := range cases {
		ts, sigs, problem := parseStripe(c.value)
		if c.sigs < 0 {
			if problem == "" || sigs != nil || ts != "" {
				t.Errorf("%s: ParseStripe = %q, %d sigs, %q; want a problem", c.name, ts, len(sigs), problem)
			}
			continue
		}
		if problem != "" || ts != c.ts || len(sigs) != c.sigs {
			t.Errorf("%s: ParseStripe = %q, %d sigs, %q; want %q, %d", c.name, ts, len(sigs), problem, c.ts, c.sigs)
		}
	}
}

func stdList(n int, sig string) string {
	parts := make([]string, n)
	for i := range parts {
		parts[i] = "v1," + sig
	}
	return strings.Join(parts, " ")
}

func TestParseStandard(t *testing.T) {
	cases := []struct {
		name  string
		value string
		sigs  int // -1: a problem is expected
	}{
		{"one", "v1,AQID", 1},
		{"unpadded", "v1,AQI", 1},
		{"two", "v1,AQID v1,BAUG", 2},
		{"tab separated", "v1,AQID\tv1,BAUG", 2},
		{"extra spaces", "  v1,AQID   v1,BAUG  ", 2},
		{"other versions ignored", "v1a,xyz v2,AQID v1,AQID", 1},
		{"undecodable v1 next to a good one", "v1,!!!! v1,AQID", -1},
		{"16", stdList(16, "AQID"), 16},
		{"empty", "", -1},
		{"whitespace", " \t ", -1},
		{"no comma", "v1", -1},
		{"element without comma among good", "junk v1,AQID", -1},
		{"empty signature", "v1,", -1},
		{"only v2", "v2,AQID", -1},
		{"upper-case version", "V1,AQID", -1},
		{"comma-joined list", "v1,AQID,v1,BAUG", -1},
		{"url alphabet", "v1,-_8=", -1},
		{"bad base64", "v1,A", -1},
		{"full-width base64", "v1,ＡＱＩＤ", -1},
		{"17", stdList(17, "AQID"), -1},
		{"100", stdList(100, "AQID"), -1},
		{"100 undecodable", stdList(100, "!"), -1},
	}
	for _, c := range cases {
		sigs, problem := parseStandard(c.value)
		if c.sigs < 0 {
			if problem == "" || sigs != nil {
				t.Errorf("%s: ParseStandard = %d sigs, %q; want a problem", c.name, len(sigs), problem)
			}
			continue
		}
		if problem != "" || len(sigs) != c.sigs {
			t.Errorf("%s: ParseStandard = %d sigs, %q; want %d", c.name, len(sigs), problem, c.sigs)
		}
	}
	// Decoded bytes, not just counts.
	sigs, _ := parseStandard("v1,AQID v1,BAUG")
	if !bytes.Equal(sigs[0], []byte{1, 2, 3}) || !bytes.Equal(sigs[1], []byte{4, 5, 6}) {
		t.Errorf("ParseStandard decoded %x", sigs)
	}
}

// signedStandard returns headers of a correctly signed standard request.
func signedStandard(t *testing.T, s *verifier.Scheme, key []byte, body []byte, now time.Time) http.Header {
	t.Helper()
	return signer.Sign(s, [][]byte{key}, signer.Message{Body: body, ID: "msg_1", Time: now})
}

// Header handling in Begin: what is malformed, what is missing, and that
// the error names the header at fault.
func TestBeginHeaderHandling(t *testing.T) {
	now := time.Unix(1700000000, 0)
	std := mustPreset(t, "standard", preset.Options{})
	gh := mustPreset(t, "github", preset.Options{})
	stdKey := []byte("0123456789abcdef0123456789abcdef")
	ghKey := []byte("gh-secret")
	body := []byte(`{"ok":true}`)
	stdGood := signedStandard(t, std, stdKey, body, now)
	ghGood := signer.Sign(gh, [][]byte{ghKey}, signer.Message{Body: body})

	with := func(base http.Header, f func(h http.Header)) http.Header {
		h := base.Clone()
		f(h)
		return h
	}
	huge := strings.Repeat("A", 1<<20)

	cases := []struct {
		name   string
		scheme *verifier.Scheme
		key    []byte
		h      http.Header
		want   verifier.Reason
		header string // the header the error must name
	}{
		{"std good", std, stdKey, stdGood, "", ""},
		{"gh good", gh, ghKey, ghGood, "", ""},
		{"gh value padded with spaces", gh, ghKey, with(ghGood, func(h http.Header) {
			h.Set("X-Hub-Signature-256", "  "+h.Get("X-Hub-Signature-256")+"\t")
		}), "", ""},
		{"gh empty value", gh, ghKey, with(ghGood, func(h http.Header) { h.Set("X-Hub-Signature-256", "") }), verifier.MalformedHeader, "X-Hub-Signature-256"},
		{"gh whitespace value", gh, ghKey, with(ghGood, func(h http.Header) { h.Set("X-Hub-Signature-256", " \t ") }), verifier.MalformedHeader, "X-Hub-Signature-256"},
		{"gh sent twice, same value", gh, ghKey, with(ghGood, func(h http.Header) { h.Add("X-Hub-Signature-256", h.Get("X-Hub-Signature-256")) }), verifier.MalformedHeader, "X-Hub-Signature-256"},
		{"gh sent twice, one empty", gh, ghKey, with(ghGood, func(h http.Header) { h.Add("X-Hub-Signature-256", "") }), verifier.MalformedHeader, "X-Hub-Signature-256"},
		{"gh absent", gh, ghKey, http.Header{}, verifier.MissingHeader, "X-Hub-Signature-256"},
		{"gh 1 MiB value", gh, ghKey, with(ghGood, func(h http.Header) { h.Set("X-Hub-Signature-256", "sha256="+strings.Repeat("g", 1<<20)) }), verifier.MalformedHeader, "X-Hub-Signature-256"},
		{"gh 1 MiB valid hex", gh, ghKey, with(ghGood, func(h http.Header) { h.Set("X-Hub-Signature-256", "sha256="+strings.Repeat("ab", 1<<19)) }), verifier.MalformedHeader, "X-Hub-Signature-256"},
		// Finding 5: a signature that cannot be one MAC long is refused
		// before any body is read.
		{"gh one byte", gh, ghKey, with(ghGood, func(h http.Header) { h.Set("X-Hub-Signature-256", "sha256=00") }), verifier.MalformedHeader, "X-Hub-Signature-256"},
		{"gh 31 bytes", gh, ghKey, with(ghGood, func(h http.Header) { h.Set("X-Hub-Signature-256", "sha256="+strings.Repeat("ab", 31)) }), verifier.MalformedHeader, "X-Hub-Signature-256"},
		{"gh 33 bytes", gh, ghKey, with(ghGood, func(h http.Header) { h.Set("X-Hub-Signature-256", "sha256="+strings.Repeat("ab", 33)) }), verifier.MalformedHeader, "X-Hub-Signature-256"},
		{"gh 32 bytes, wrong", gh, ghKey, with(ghGood, func(h http.Header) { h.Set("X-Hub-Signature-256", "sha256="+strings.Repeat("ab", 32)) }), verifier.WrongSignature, "X-Hub-Signature-256"},
		{"std short v1 next to a good one", std, stdKey, with(stdGood, func(h http.Header) { h.Set("Webhook-Signature", "v1,AQID "+h.Get("Webhook-Signature")) }), verifier.MalformedHeader, "Webhook-Signature"},
		{"std junk v1 next to a good one", std, stdKey, with(stdGood, func(h http.Header) { h.Set("Webhook-Signature", h.Get("Webhook-Signature")+" v1,!!!!") }), verifier.MalformedHeader, "Webhook-Signature"},
		{"gh unicode value", gh, ghKey, with(ghGood, func(h http.Header) { h.Set("X-Hub-Signature-256", "sha256=ünïcødé") }), verifier.MalformedHeader, "X-Hub-Signature-256"},
		{"gh delivery id twice", gh, ghKey, with(ghGood, func(h http.Header) {
			h.Add("X-GitHub-Delivery", "a")
			h.Add("X-GitHub-Delivery", "b")
		}), verifier.MalformedHeader, "X-GitHub-Delivery"},
		{"std signature twice", std, stdKey, with(stdGood, func(h http.Header) { h.Add("Webhook-Signature", h.Get("Webhook-Signature")) }), verifier.MalformedHeader, "Webhook-Signature"},
		{"std timestamp twice", std, stdKey, with(stdGood, func(h http.Header) { h.Add("Webhook-Timestamp", h.Get("Webhook-Timestamp")) }), verifier.MalformedHeader, "Webhook-Timestamp"},
		{"std id twice", std, stdKey, with(stdGood, func(h http.Header) { h.Add("Webhook-Id", "msg_1") }), verifier.MalformedHeader, "Webhook-Id"},
		{"std id empty", std, stdKey, with(stdGood, func(h http.Header) { h.Set("Webhook-Id", "") }), verifier.MalformedHeader, "Webhook-Id"},
		{"std id missing", std, stdKey, with(stdGood, func(h http.Header) { h.Del("Webhook-Id") }), verifier.MissingHeader, "Webhook-Id"},
		{"std timestamp missing", std, stdKey, with(stdGood, func(h http.Header) { h.Del("Webhook-Timestamp") }), verifier.MissingHeader, "Webhook-Timestamp"},
		{"std timestamp empty", std, stdKey, with(stdGood, func(h http.Header) { h.Set("Webhook-Timestamp", "") }), verifier.MalformedHeader, "Webhook-Timestamp"},
		{"std 30-digit timestamp", std, stdKey, with(stdGood, func(h http.Header) { h.Set("Webhook-Timestamp", strings.Repeat("1", 30)) }), verifier.MalformedHeader, "Webhook-Timestamp"},
		{"std negative timestamp", std, stdKey, with(stdGood, func(h http.Header) { h.Set("Webhook-Timestamp", "-1700000000") }), verifier.MalformedHeader, "Webhook-Timestamp"},
		{"std signed timestamp", std, stdKey, with(stdGood, func(h http.Header) { h.Set("Webhook-Timestamp", "+1700000000") }), verifier.MalformedHeader, "Webhook-Timestamp"},
		{"std unicode timestamp", std, stdKey, with(stdGood, func(h http.Header) { h.Set("Webhook-Timestamp", "１７００００００００") }), verifier.MalformedHeader, "Webhook-Timestamp"},
		{"std zero timestamp", std, stdKey, with(stdGood, func(h http.Header) { h.Set("Webhook-Timestamp", "0") }), verifier.StaleTimestamp, "Webhook-Timestamp"},
		{"std max timestamp", std, stdKey, with(stdGood, func(h http.Header) { h.Set("Webhook-Timestamp", "9223372036854775807") }), verifier.FutureTimestamp, "Webhook-Timestamp"},
		{"std 100 v1 entries", std, stdKey, with(stdGood, func(h http.Header) { h.Set("Webhook-Signature", stdList(99, "AQID")+" "+h.Get("Webhook-Signature")) }), verifier.MalformedHeader, "Webhook-Signature"},
		{"std 1 MiB signature", std, stdKey, with(stdGood, func(h http.Header) { h.Set("Webhook-Signature", "v1,"+huge) }), verifier.MalformedHeader, "Webhook-Signature"},
		{"std 1 MiB garbage", std, stdKey, with(stdGood, func(h http.Header) { h.Set("Webhook-Signature", strings.Repeat("v1,! ", 1<<18)) }), verifier.MalformedHeader, "Webhook-Signature"},
		{"std truncated signature", std, stdKey, with(stdGood, func(h http.Header) {
			v := h.Get("Webhook-Signature")
			h.Set("Webhook-Signature", v[:len(v)-2])
		}), verifier.MalformedHeader, "Webhook-Signature"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := verifier.Verify(c.scheme, c.h, body, []verifier.Key{{Label: "k", Secret: c.key}}, 5*time.Minute, now)
			wantReason(t, err, c.want)
			if err == nil {
				return
			}
			var ve *verifier.Error
			errors.As(err, &ve)
			if ve.Header != c.header {
				t.Errorf("error names header %q, want %q", ve.Header, c.header)
			}
			if !errors.Is(err, &verifier.Error{Reason: c.want}) {
				t.Errorf("errors.Is does not match reason %s", c.want)
			}
			if errors.Is(err, &verifier.Error{Reason: c.want, Header: "Other"}) {
				t.Errorf("errors.Is matches another header")
			}
			// Never the secret nor a full signature in the message.
			msg := err.Error()
			if strings.Contains(msg, string(c.key)) || len(msg) > 300 {
				t.Errorf("error text leaks or is unbounded: %.300q", msg)
			}
		})
	}
}

// The error's text never contains the expected signature.
func TestErrorDoesNotLeakExpectedSignature(t *testing.T) {
	s := mustPreset(t, "github", preset.Options{})
	key := []byte("It's a Secret to Everybody")
	body := []byte("Hello, World!")
	want := s.Encode(s.Digest(key, "", "", body))
	h := hdr("X-Hub-Signature-256", "sha256="+strings.Repeat("0", 64))
	_, err := verifier.Verify(s, h, body, []verifier.Key{{Secret: key}}, 0, fixedNow)
	wantReason(t, err, verifier.WrongSignature)
	if strings.Contains(err.Error(), want) || strings.Contains(fmt.Sprintf("%+v", err), want) {
		t.Fatalf("error leaks the expected signature: %v", err)
	}
}

// Skew reports how far in the past a timestamp is and saturates instead
// of overflowing, including for times a Duration cannot hold.
func TestSkew(t *testing.T) {
	now := time.Unix(1700000000, 0)
	cases := []struct {
		sec  int64
		now  time.Time
		want time.Duration
	}{
		{1700000000, now, 0},
		{1699999700, now, 5 * time.Minute},
		{1700000300, now, -5 * time.Minute},
		{0, now, 1700000000 * time.Second},
		{math.MaxInt64, now, math.MinInt64},
		{math.MinInt64, now, math.MaxInt64},
		{-1, now, 1700000001 * time.Second},
		{math.MaxInt64, time.Time{}, math.MinInt64}, // now before 1970
		{math.MinInt64, time.Time{}, math.MaxInt64},
		{1700000000 + 9223372036, now, math.MinInt64}, // just past what a Duration holds
		{1700000000 - 9223372036, now, math.MaxInt64},
	}
	for _, c := range cases {
		if got := scheme.Skew(c.sec, c.now); got != c.want {
			t.Errorf("Skew(%d, %v) = %v, want %v", c.sec, c.now.Unix(), got, c.want)
		}
	}
	// Sub-second clocks: the skew is exact.
	if got := scheme.Skew(1700000000, now.Add(1500*time.Millisecond)); got != 1500*time.Millisecond {
		t.Errorf("Skew with fractional now = %v", got)
	}
}

// A timestamp error carries the skew for logs and the CLI.
func TestTimestampErrorCarriesSkew(t *testing.T) {
	s := mustPreset(t, "slack", preset.Options{})
	key := []byte("k")
	now := time.Unix(1700000000, 0)
	h := signer.Sign(s, [][]byte{key}, signer.Message{Body: nil, Time: now.Add(-time.Hour)})
	_, err := verifier.Verify(s, h, nil, []verifier.Key{{Secret: key}}, 5*time.Minute, now)
	var ve *verifier.Error
	if !errors.As(err, &ve) || ve.Reason != verifier.StaleTimestamp || ve.Skew != time.Hour {
		t.Fatalf("got %#v", err)
	}
	h = signer.Sign(s, [][]byte{key}, signer.Message{Body: nil, Time: now.Add(time.Hour)})
	_, err = verifier.Verify(s, h, nil, []verifier.Key{{Secret: key}}, 5*time.Minute, now)
	if !errors.As(err, &ve) || ve.Reason != verifier.FutureTimestamp || ve.Skew != -time.Hour {
		t.Fatalf("got %#v", err)
	}
}

// Regression: a correctly signed timestamp so far ahead that Skew
// saturates at math.MinInt64 used to pass the tolerance check, because
// -math.MinInt64 overflows back to math.MinInt64 (not > tolerance).
func TestFarFutureSignedTimestampRejected(t *testing.T) {
	now := time.Unix(1700000000, 0)
	for _, name := range []string{"standard", "slack", "stripe"} {
		s := mustPreset(t, name, preset.Options{})
		key := []byte("0123456789abcdef")
		body := []byte(`{}`)
		for _, ts := range []string{"9223372036854775807", "1000000000000000000", strconv.FormatInt(now.Unix()+9223372036, 10)} {
			if _, ok := scheme.ParseTimestamp(ts); !ok {
				continue
			}
			sig := s.Encode(s.Digest(key, "msg_1", ts, body))
			var h http.Header
			switch name {
			case "standard":
				h = hdr("Webhook-Id", "msg_1", "Webhook-Timestamp", ts, "Webhook-Signature", "v1,"+sig)
			case "slack":
				h = hdr("X-Slack-Request-Timestamp", ts, "X-Slack-Signature", "v0="+sig)
			case "stripe":
				h = hdr("Stripe-Signature", "t="+ts+",v1="+sig)
			}
			// The signature itself is right: with the check off it verifies.
			if _, err := verifier.Verify(s, h, body, []verifier.Key{{Secret: key}}, 0, now); err != nil {
				t.Fatalf("%s ts=%s: setup: %v", name, ts, err)
			}
			_, err := verifier.Verify(s, h, body, []verifier.Key{{Secret: key}}, 5*time.Minute, now)
			if got := reasonOf(t, err); got != verifier.FutureTimestamp {
				t.Errorf("%s ts=%s: got %v, want future_timestamp", name, ts, err)
			}
		}
	}
}
