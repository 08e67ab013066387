package verifier_test

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"hash"
	"net/http"
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

// independentMAC computes an HMAC without going through the package, so
// that the generic scheme is checked against the definition, not itself.
func independentMAC(h func() hash.Hash, key []byte, parts ...string) []byte {
	m := hmac.New(h, key)
	for _, p := range parts {
		m.Write([]byte(p))
	}
	return m.Sum(nil)
}

func TestGenericContentTemplate(t *testing.T) {
	base := func(content string, hs verifier.Headers) *verifier.Scheme {
		return &verifier.Scheme{
			Name: "custom", Format: scheme.Single{}, HeaderSets: []verifier.Headers{hs},
			Algorithm: scheme.HMACSHA256, Encoding: scheme.Hex, Content: content,
		}
	}
	all := verifier.Headers{Signature: "X-Sig", Timestamp: "X-Ts", ID: "X-Id"}
	sigOnly := verifier.Headers{Signature: "X-Sig"}
	errCases := []struct {
		name, content string
		hs            verifier.Headers
		errHas        string
	}{
		{"missing body", "{timestamp}.{id}", all, "{body} is missing"},
		{"only literal", "hello", all, "{body} is missing"},
		{"body twice", "{body}.{body}", all, "{body} appears twice"},
		{"unknown token", "{ts}.{body}", all, "unknown token {ts}"},
		{"upper-case token", "{BODY}", all, "unknown token {BODY}"},
		{"empty token", "{}{body}", all, "unknown token {}"},
		{"nested braces", "{{body}}", all, "unknown token {{body}"},
		{"unclosed brace", "{timestamp.{body", all, "unclosed {"},
		{"unclosed at end", "{body}{", all, "unclosed {"},
		{"timestamp without timestamp header", "{timestamp}.{body}", sigOnly, "no timestamp header"},
		{"id without id header", "{id}.{body}", sigOnly, "no id header"},
		// Finding 12: adjacent tokens make one MAC verify under several
		// (id, timestamp) splits.
		{"id then timestamp", "{id}{timestamp}{body}", all, "{timestamp} directly follows {id}"},
		{"timestamp then body", "{timestamp}{body}", all, "{body} directly follows {timestamp}"},
		{"body then id", "{body}{id}.{timestamp}", all, "{id} directly follows {body}"},
		{"body id timestamp", "{body}{id}{timestamp}", all, "put literal text between them, e.g. {body}.{id}"},
	}
	for _, c := range errCases {
		s := base(c.content, c.hs)
		err := s.Init()
		if err == nil || !strings.Contains(err.Error(), c.errHas) {
			t.Errorf("%s: Init(%q) = %v, want an error containing %q", c.name, c.content, err, c.errHas)
		}
	}

	key := []byte("generic-secret-123")
	body := "the body {body} with braces}"
	okCases := []struct {
		content string
		hs      verifier.Headers
		parts   []string // what the sender HMACs, in order
	}{
		{"", sigOnly, []string{body}},
		{"{body}", sigOnly, []string{body}},
		{"{timestamp}.{body}", all, []string{"1700000000", ".", body}},
		{"{id}:{timestamp}:{body}:end", all, []string{"msg_9", ":", "1700000000", ":", body, ":end"}},
		{"a}b{body}", sigOnly, []string{"a}b", body}},
		{"{body}|{id}|{timestamp}", all, []string{body, "|", "msg_9", "|", "1700000000"}},
	}
	now := time.Unix(1700000000, 0)
	for _, c := range okCases {
		s := base(c.content, c.hs)
		if err := s.Init(); err != nil {
			t.Fatalf("Init(%q): %v", c.content, err)
		}
		mac := hex.EncodeToString(independentMAC(sha256.New, key, c.parts...))
		h := hdr("X-Sig", mac)
		if c.hs.Timestamp != "" {
			h.Set("X-Ts", "1700000000")
			h.Set("X-Id", "msg_9")
		}
		res, err := verifier.Verify(s, h, []byte(body), []verifier.Key{{Label: "g", Secret: key}}, 5*time.Minute, now)
		if err != nil {
			t.Errorf("content %q: %v", c.content, err)
			continue
		}
		if c.hs.ID != "" && res.ID != "msg_9" {
			t.Errorf("content %q: id %q", c.content, res.ID)
		}
		// Moving a byte between the template parts changes the MAC.
		if len(c.parts) > 1 {
			h.Set("X-Sig", hex.EncodeToString(independentMAC(sha256.New, key, strings.Join(c.parts, "")+"x")))
			_, err := verifier.Verify(s, h, []byte(body), []verifier.Key{{Secret: key}}, 5*time.Minute, now)
			wantReason(t, err, verifier.WrongSignature)
		}
	}
}

// TestAdjacentTokensWereAmbiguous shows why finding 12 refuses adjacent
// tokens: under "{id}{timestamp}.{body}" (had it loaded) the MAC a sender
// made for id "evt1", timestamp "1700000000" is the same bytes as for id
// "evt", timestamp "11700000000". With a separator the two differ.
func TestAdjacentTokensWereAmbiguous(t *testing.T) {
	key := []byte("generic-secret-123")
	a := independentMAC(sha256.New, key, "evt1", "1700000000", ".", "{}")
	b := independentMAC(sha256.New, key, "evt", "11700000000", ".", "{}")
	if !hmac.Equal(a, b) {
		t.Fatal("the two splits should sign the same bytes")
	}
	s := &verifier.Scheme{Name: "g", HeaderSets: []verifier.Headers{{Signature: "X-Sig", Timestamp: "X-Ts", ID: "X-Id"}},
		Algorithm: scheme.HMACSHA256, Encoding: scheme.Hex, Content: "{id}{timestamp}.{body}"}
	if err := s.Init(); err == nil {
		t.Fatal("Init accepted {id}{timestamp}: one signature would verify under both splits")
	}
	s.Content = "{id}:{timestamp}.{body}"
	if err := s.Init(); err != nil {
		t.Fatal(err)
	}
	h := hdr("X-Sig", hex.EncodeToString(independentMAC(sha256.New, key, "evt1", ":", "1700000000", ".", "{}")), "X-Ts", "1700000000", "X-Id", "evt1")
	if _, err := verifier.Verify(s, h, []byte("{}"), []verifier.Key{{Secret: key}}, 0, fixedNow); err != nil {
		t.Fatal(err)
	}
	h.Set("X-Id", "evt")
	h.Set("X-Ts", "11700000000")
	_, err := verifier.Verify(s, h, []byte("{}"), []verifier.Key{{Secret: key}}, 0, fixedNow)
	wantReason(t, err, verifier.WrongSignature)
}

// TestIDCannotBeResplit (review C): under "{id}.{body}" the MAC of id
// "evt_1", body "a=1&note=x.y" is also the MAC of id "evt_1.a=1&note=x",
// body "y". An id may not contain a character of the text next to {id},
// so only the sender's split verifies; the same holds for a separator
// that overlaps itself ("..") and for text on either side of {id}.
func TestIDCannotBeResplit(t *testing.T) {
	key := []byte("generic-secret-123")
	for _, c := range []struct {
		content                    string
		id, body, evilID, evilBody string
	}{
		{"{id}.{body}", "evt_1", "a=1&note=x.y&amount=100", "evt_1.a=1&note=x", "y&amount=100"},
		{"{id}..{body}", "x", ".tail", "x.", "tail"},
		{"{body}|{id}", "evt", "a|b", "b|evt", "a"},
		{"{timestamp}.{id}.{body}", "evt", "x.y", "evt.x", "y"},
	} {
		s := &verifier.Scheme{Name: "g", HeaderSets: []verifier.Headers{{Signature: "X-Sig", Timestamp: "X-Ts", ID: "X-Id"}},
			Algorithm: scheme.HMACSHA256, Encoding: scheme.Hex, Content: c.content}
		if err := s.Init(); err != nil {
			t.Fatalf("%s: %v", c.content, err)
		}
		ts := strconv.FormatInt(fixedNow.Unix(), 10)
		sig := hex.EncodeToString(s.Digest(key, c.id, ts, []byte(c.body)))
		if !bytes.Equal(s.Digest(key, c.id, ts, []byte(c.body)), s.Digest(key, c.evilID, ts, []byte(c.evilBody))) {
			t.Fatalf("%s: the two splits should sign the same bytes", c.content)
		}
		keys := []verifier.Key{{Secret: key}}
		_, err := verifier.Verify(s, hdr("X-Sig", sig, "X-Id", c.id, "X-Ts", ts), []byte(c.body), keys, time.Minute, fixedNow)
		wantReason(t, err, "")
		_, err = verifier.Verify(s, hdr("X-Sig", sig, "X-Id", c.evilID, "X-Ts", ts), []byte(c.evilBody), keys, time.Minute, fixedNow)
		wantReason(t, err, verifier.MalformedHeader)
	}
	// A timestamp's digits must not run into literal digits.
	for _, content := range []string{"{timestamp}1.{body}", "v1{timestamp}.{body}", "{body}.{timestamp}0"} {
		s := &verifier.Scheme{Name: "g", HeaderSets: []verifier.Headers{{Signature: "X-Sig", Timestamp: "X-Ts"}},
			Algorithm: scheme.HMACSHA256, Encoding: scheme.Hex, Content: content}
		if err := s.Init(); err == nil || !strings.Contains(err.Error(), "non-digit") {
			t.Errorf("Init(%q) = %v, want an error about digits next to {timestamp}", content, err)
		}
	}
}

func TestGenericAlgorithmsAndEncodings(t *testing.T) {
	key := []byte("k3y")
	body := []byte("payload")
	for _, c := range []struct {
		alg string
		h   func() hash.Hash
		enc scheme.Encoding
		fmt func([]byte) string
	}{
		{"sha1", sha1.New, scheme.Hex, hex.EncodeToString},
		{"sha256", sha256.New, scheme.Base64, base64.StdEncoding.EncodeToString},
		{"sha512", sha512.New, scheme.Base64URL, base64.URLEncoding.EncodeToString},
		{"sha512", sha512.New, scheme.Base64URL, base64.RawURLEncoding.EncodeToString},
	} {
		s := &verifier.Scheme{Name: "g", HeaderSets: []verifier.Headers{{Signature: "Sig"}},
			Algorithm: hmacNamed(t, c.alg), Encoding: c.enc, Format: scheme.Single{Prefix: "sig="}}
		if err := s.Init(); err != nil {
			t.Fatal(err)
		}
		if s.Size() != c.h().Size() {
			t.Errorf("%s: MACSize %d", c.alg, s.Size())
		}
		sig := c.fmt(independentMAC(c.h, key, string(body)))
		_, err := verifier.Verify(s, hdr("Sig", "sig="+sig), body, []verifier.Key{{Secret: key}}, 0, fixedNow)
		wantReason(t, err, "")
		_, err = verifier.Verify(s, hdr("Sig", sig), body, []verifier.Key{{Secret: key}}, 0, fixedNow)
		wantReason(t, err, verifier.MalformedHeader)
	}
}

func TestInitRejectsBadDescriptions(t *testing.T) {
	cases := []struct {
		name string
		s    verifier.Scheme
		has  string
	}{
		{"no header", verifier.Scheme{Algorithm: scheme.HMACSHA256, Encoding: scheme.Hex}, "no signature header"},
		{"blank header", verifier.Scheme{HeaderSets: []verifier.Headers{{Signature: " "}}, Algorithm: scheme.HMACSHA256, Encoding: scheme.Hex}, "empty signature header"},
		{"md5", verifier.Scheme{HeaderSets: []verifier.Headers{{Signature: "S"}}, Encoding: scheme.Hex}, "no algorithm"},
		{"no algorithm", verifier.Scheme{HeaderSets: []verifier.Headers{{Signature: "S"}}, Encoding: scheme.Hex}, "no algorithm"},
		{"base32", verifier.Scheme{HeaderSets: []verifier.Headers{{Signature: "S"}}, Algorithm: scheme.HMACSHA256, Encoding: "base32"}, "unknown encoding"},
		{"bad fallback", verifier.Scheme{HeaderSets: []verifier.Headers{{Signature: "S"}}, Algorithm: scheme.HMACSHA256, Encoding: scheme.Hex,
			Fallback: &verifier.Scheme{HeaderSets: []verifier.Headers{{Signature: "F"}}, Encoding: scheme.Hex}}, "no algorithm"},
		{"token without header", verifier.Scheme{Format: scheme.Token{}, Algorithm: scheme.Compare{}}, "no signature header"},
	}
	for _, c := range cases {
		err := c.s.Init()
		if err == nil || !strings.Contains(err.Error(), c.has) {
			t.Errorf("%s: Init = %v, want error containing %q", c.name, err, c.has)
		}
	}
}

func TestTokenScheme(t *testing.T) {
	s := &verifier.Scheme{Name: "token", Format: scheme.Token{}, Algorithm: scheme.Compare{},
		HeaderSets: []verifier.Headers{{Signature: "X-Token", ID: "X-Id"}}}
	if err := s.Init(); err != nil {
		t.Fatal(err)
	}
	keys := []verifier.Key{
		{Label: "old", Secret: []byte("old-token-0123456789")},
		{Label: "new", Secret: []byte("new-token-0123456789")},
	}
	cases := []struct {
		name, token string
		want        verifier.Reason
		key         string
	}{
		{"old", "old-token-0123456789", "", "old"},
		{"new", "new-token-0123456789", "", "new"},
		{"shorter", "new-token-012345678", verifier.WrongSignature, ""},
		{"longer", "new-token-01234567890", verifier.WrongSignature, ""},
		{"prefix", "new", verifier.WrongSignature, ""},
		{"one char", "n", verifier.WrongSignature, ""},
		{"case", "NEW-TOKEN-0123456789", verifier.WrongSignature, ""},
		{"both joined", "old-token-0123456789,new-token-0123456789", verifier.WrongSignature, ""},
		{"empty", "", verifier.MalformedHeader, ""},
		{"blank", "   ", verifier.MalformedHeader, ""},
		{"surrounding spaces trimmed", "  new-token-0123456789 ", "", "new"},
		{"1 MiB", strings.Repeat("x", 1<<20), verifier.WrongSignature, ""},
	}
	for _, c := range cases {
		res, err := verifier.Verify(s, hdr("X-Token", c.token, "X-Id", "d1"), []byte("any body"), keys, 0, fixedNow)
		wantReason(t, err, c.want)
		if err == nil && (res.Key != c.key || res.ID != "d1") {
			t.Errorf("%s: result %+v, want key %s", c.name, res, c.key)
		}
	}
	_, err := verifier.Verify(s, http.Header{}, nil, keys, 0, fixedNow)
	wantReason(t, err, verifier.MissingHeader)
	_, err = verifier.Verify(s, hdr("X-Token", "old-token-0123456789", "X-Token", "old-token-0123456789"), nil, keys, 0, fixedNow)
	wantReason(t, err, verifier.MalformedHeader)
	// The streaming path reports a token mismatch at Begin, before any body
	// is read: nothing is hashed, so there is nothing to wait for.
	_, err = verifier.Begin(s, verifier.Request{Header: hdr("X-Token", "nope")}, keys, 0, fixedNow)
	wantReason(t, err, verifier.WrongSignature)
}

func TestKeyExpiry(t *testing.T) {
	s := mustPreset(t, "github", preset.Options{})
	now := time.Unix(1700000000, 0)
	oldKey, newKey := []byte("old-secret"), []byte("new-secret")
	body := []byte("{}")
	signedOld := signer.Sign(s, [][]byte{oldKey}, signer.Message{Body: body})
	signedNew := signer.Sign(s, [][]byte{newKey}, signer.Message{Body: body})

	cases := []struct {
		name     string
		notAfter time.Time // of the old key
		h        http.Header
		want     verifier.Reason
		key      string
	}{
		{"old key, no end", time.Time{}, signedOld, "", "old"},
		{"old key, ends later", now.Add(time.Second), signedOld, "", "old"},
		// Refused, and named: the signature is the old key's (see
		// TestExpiredSecretNamed).
		{"old key, ends now", now, signedOld, verifier.ExpiredSecret, ""},
		{"old key, ended", now.Add(-time.Second), signedOld, verifier.ExpiredSecret, ""},
		{"new key while old ended", now.Add(-time.Hour), signedNew, "", "new"},
	}
	for _, c := range cases {
		keys := []verifier.Key{
			{Label: "old", Secret: oldKey, NotAfter: c.notAfter},
			{Label: "new", Secret: newKey},
		}
		res, err := verifier.Verify(s, c.h, body, keys, 0, now)
		wantReason(t, err, c.want)
		if err == nil && res.Key != c.key {
			t.Errorf("%s: matched %q, want %q", c.name, res.Key, c.key)
		}
	}

	// Every key expired: NoUsableSecret, whatever the request.
	keys := []verifier.Key{{Label: "old", Secret: oldKey, NotAfter: now.Add(-time.Second)}}
	for _, h := range []http.Header{signedOld, {}} {
		_, err := verifier.Verify(s, h, body, keys, 0, now)
		wantReason(t, err, verifier.NoUsableSecret)
	}
	_, err := verifier.Verify(s, signedOld, body, nil, 0, now)
	wantReason(t, err, verifier.NoUsableSecret)
}

// An empty key would give an HMAC anyone can compute; it is never used.
func TestEmptyKeyNeverUsed(t *testing.T) {
	for _, name := range preset.Names() {
		s := mustPreset(t, name, preset.Options{})
		body := []byte("forged")
		now := time.Unix(1700000000, 0)
		// Forge with the empty key.
		h := signPost(s, [][]byte{{}}, signer.Message{Body: body, ID: "msg_1", Time: now})
		if s.Compares() {
			h.Set(s.HeaderSets[0].Signature, token(s, "x"))
		}
		_, err := verifyPost(s, h, body, []verifier.Key{{Label: "empty"}}, 5*time.Minute, now)
		wantReason(t, err, verifier.NoUsableSecret)
		_, err = verifyPost(s, h, body, []verifier.Key{{Label: "empty", Secret: []byte{}}, {Label: "real", Secret: []byte("real-secret")}}, 5*time.Minute, now)
		if got := reasonOf(t, err); got != verifier.WrongSignature {
			t.Errorf("%s: empty key next to a real one: %v", name, err)
		}
	}
}

func TestRotation(t *testing.T) {
	now := time.Unix(1700000000, 0)
	body := []byte(`{"event":"rotate"}`)
	for _, name := range preset.Names() {
		s := mustPreset(t, name, preset.Options{})
		a, b, c := []byte("secret-a-0123456789"), []byte("secret-b-0123456789"), []byte("secret-c-0123456789")
		keys := []verifier.Key{{Label: "a", Secret: a}, {Label: "b", Secret: b}}
		for _, tc := range []struct {
			signWith [][]byte
			want     string // "" = must fail
		}{
			{[][]byte{a}, "a"},
			{[][]byte{b}, "b"},
			{[][]byte{c}, ""},
		} {
			h := signPost(s, tc.signWith, signer.Message{Body: body, ID: "msg_1", Time: now})
			res, err := verifyPost(s, h, body, keys, 5*time.Minute, now)
			if tc.want == "" {
				wantReason(t, err, verifier.WrongSignature)
				continue
			}
			if err != nil || res.Key != tc.want {
				t.Errorf("%s: signed with %s: %+v, %v", name, tc.want, res, err)
			}
		}
		// Multi-signature schemes: a header carrying c's and b's signatures
		// matches b; one carrying a's and b's names the first configured key.
		if s.Format.PerKey() {
			h := signPost(s, [][]byte{c, b}, signer.Message{Body: body, ID: "msg_1", Time: now})
			if res, err := verifyPost(s, h, body, keys, 5*time.Minute, now); err != nil || res.Key != "b" {
				t.Errorf("%s: c+b: %+v, %v", name, res, err)
			}
			h = signPost(s, [][]byte{b, a}, signer.Message{Body: body, ID: "msg_1", Time: now})
			if res, err := verifyPost(s, h, body, keys, 5*time.Minute, now); err != nil || res.Key != "a" {
				t.Errorf("%s: b+a: %+v, %v", name, res, err)
			}
		}
	}
}

func TestToleranceZeroDisablesTimestampCheck(t *testing.T) {
	now := time.Unix(1700000000, 0)
	body := []byte("x")
	key := []byte("0123456789abcdef")
	for _, name := range []string{"slack", "stripe", "standard", "svix"} {
		s := mustPreset(t, name, preset.Options{})
		if !s.Timestamped() {
			t.Fatalf("%s: not Timestamped", name)
		}
		for _, d := range []time.Duration{-10 * 365 * 24 * time.Hour, -time.Hour, time.Hour, 10 * 365 * 24 * time.Hour} {
			h := signer.Sign(s, [][]byte{key}, signer.Message{Body: body, ID: "msg_1", Time: now.Add(d)})
			_, err := verifier.Verify(s, h, body, []verifier.Key{{Secret: key}}, 0, now)
			wantReason(t, err, "")
			_, err = verifier.Verify(s, h, body, []verifier.Key{{Secret: key}}, -time.Second, now)
			wantReason(t, err, "") // negative counts as off too
			_, err = verifier.Verify(s, h, body, []verifier.Key{{Secret: key}}, 5*time.Minute, now)
			want := verifier.StaleTimestamp
			if d > 0 {
				want = verifier.FutureTimestamp
			}
			wantReason(t, err, want)
		}
		// Off means "any time", not "any text": the timestamp must still parse.
		h := signer.Sign(s, [][]byte{key}, signer.Message{Body: body, ID: "msg_1", Time: now})
		switch name {
		case "slack":
			h.Set("X-Slack-Request-Timestamp", "soon")
		case "stripe":
			h.Set("Stripe-Signature", strings.Replace(h.Get("Stripe-Signature"), "t=", "t=x", 1))
		case "standard":
			h.Set("Webhook-Timestamp", "soon")
		case "svix":
			h.Set("Svix-Timestamp", "soon")
		}
		_, err := verifier.Verify(s, h, body, []verifier.Key{{Secret: key}}, 0, now)
		wantReason(t, err, verifier.MalformedHeader)
	}
	for _, name := range []string{"github", "gitlab", "shopify", "bitbucket", "decsys"} {
		if mustPreset(t, name, preset.Options{}).Timestamped() {
			t.Errorf("%s: Timestamped", name)
		}
	}
}

func TestGitHubLegacySHA1Fallback(t *testing.T) {
	key := []byte("It's a Secret to Everybody")
	body := []byte("Hello, World!")
	sha1Sig := "sha1=" + hex.EncodeToString(independentMAC(sha1.New, key, string(body)))
	sha256Sig := "sha256=" + hex.EncodeToString(independentMAC(sha256.New, key, string(body)))
	keys := []verifier.Key{{Label: "gh", Secret: key}}
	strict := mustPreset(t, "github", preset.Options{})
	legacy := mustPreset(t, "github", preset.Options{LegacySHA1: true})

	check := func(s *verifier.Scheme, h http.Header, want verifier.Reason, wantHeader string) {
		t.Helper()
		res, err := verifier.Verify(s, h, body, keys, 0, fixedNow)
		wantReason(t, err, want)
		if err == nil && res.Key != "gh" {
			t.Errorf("key %q", res.Key)
		}
		var ve *verifier.Error
		if errors.As(err, &ve) && ve.Header != wantHeader {
			t.Errorf("error %v names %q, want %s", err, ve.Header, wantHeader)
		}
	}
	// Not opted in: the SHA-1 header alone is as good as nothing.
	check(strict, hdr("X-Hub-Signature", sha1Sig), verifier.MissingHeader, "X-Hub-Signature-256")
	check(strict, hdr("X-Hub-Signature-256", sha256Sig), "", "")
	// Opted in: SHA-1 accepted when the SHA-256 header is absent.
	check(legacy, hdr("X-Hub-Signature", sha1Sig), "", "")
	check(legacy, hdr("X-Hub-Signature-256", sha256Sig), "", "")
	check(legacy, hdr("X-Hub-Signature", "sha1="+strings.Repeat("0", 40)), verifier.WrongSignature, "X-Hub-Signature")
	check(legacy, hdr("X-Hub-Signature", sha256Sig), verifier.MalformedHeader, "X-Hub-Signature")
	check(legacy, hdr("X-Hub-Signature", sha1Sig, "X-Hub-Signature", sha1Sig), verifier.MalformedHeader, "X-Hub-Signature")
	// No downgrade: with both present, only SHA-256 counts.
	check(legacy, hdr("X-Hub-Signature-256", sha256Sig, "X-Hub-Signature", "sha1=garbage"), "", "")
	check(legacy, hdr("X-Hub-Signature-256", "sha256="+strings.Repeat("0", 64), "X-Hub-Signature", sha1Sig), verifier.WrongSignature, "X-Hub-Signature-256")
	// Neither header: the error names the main (SHA-256) header.
	check(legacy, http.Header{}, verifier.MissingHeader, "X-Hub-Signature-256")
}

func TestDecodeSecret(t *testing.T) {
	std := mustPreset(t, "standard", preset.Options{})
	gh := mustPreset(t, "github", preset.Options{})
	if k, err := gh.DecodeSecret("whsec_AAAA"); err != nil || string(k) != "whsec_AAAA" {
		t.Errorf("raw secret: %q, %v", k, err)
	}
	if k, err := std.DecodeSecret("whsec_AQID"); err != nil || string(k) != "\x01\x02\x03" {
		t.Errorf("whsec: %x, %v", k, err)
	}
	if k, err := std.DecodeSecret("AQID"); err != nil || string(k) != "\x01\x02\x03" {
		t.Errorf("bare base64: %x, %v", k, err)
	}
	for _, bad := range []string{"", "whsec_", "whsec_!!!!", "whsec_AQI", "not base64 at all", "whsec_whsec_AQID"} {
		k, err := std.DecodeSecret(bad)
		if err == nil {
			t.Errorf("DecodeSecret(%q) = %x, want error", bad, k)
			continue
		}
		if bad != "" && bad != "whsec_" && strings.Contains(err.Error(), strings.TrimPrefix(bad, "whsec_")) {
			t.Errorf("error %q quotes the secret", err)
		}
	}
	if _, err := gh.DecodeSecret(""); err == nil {
		t.Error("empty raw secret accepted")
	}
}

func TestPresets(t *testing.T) {
	want := []string{"bitbucket", "decsys", "github", "gitlab", "shopify", "slack", "standard", "stripe", "svix"}
	got := preset.Names()
	for _, n := range want {
		if !slices.Contains(got, n) {
			t.Errorf("Names = %v, lacks %s", got, n)
		}
	}
	if !slices.IsSorted(got) {
		t.Errorf("Names = %v, not sorted", got)
	}
	if !strings.Contains(preset.List(), "github, gitlab") {
		t.Errorf("PresetList = %q", preset.List())
	}
	_, err := preset.Get("gihtub", preset.Options{})
	if err == nil || !strings.Contains(err.Error(), "github") {
		t.Errorf("unknown preset: %v", err)
	}
	// Each call returns a fresh copy.
	a := mustPreset(t, "github", preset.Options{})
	a.HeaderSets[0].Signature = "X-Changed"
	a.Format = scheme.Single{Prefix: "changed="}
	if b := mustPreset(t, "github", preset.Options{}); b.HeaderSets[0].Signature != "X-Hub-Signature-256" || b.Format != (scheme.Single{Prefix: "sha256="}) {
		t.Errorf("presets share state: %+v", b.HeaderSets)
	}
	for _, n := range want {
		if s := mustPreset(t, n, preset.Options{}); s.Name != n {
			t.Errorf("preset %s named %q", n, s.Name)
		}
	}
	// The documented header names of each sender.
	sig := map[string]string{
		"github": "X-Hub-Signature-256", "gitlab": "X-Gitlab-Token", "stripe": "Stripe-Signature",
		"slack": "X-Slack-Signature", "shopify": "X-Shopify-Hmac-Sha256", "standard": "Webhook-Signature",
		"svix": "Svix-Signature", "decsys": "X-Decsys-Signature", "bitbucket": "X-Hub-Signature",
	}
	for n, h := range sig {
		if got := mustPreset(t, n, preset.Options{}).HeaderSets[0].Signature; http.CanonicalHeaderKey(got) != http.CanonicalHeaderKey(h) {
			t.Errorf("%s: signature header %s, want %s", n, got, h)
		}
	}
}

// TestResultIdentifiesDelivery: a verified Result carries the signature
// that matched (for a header of several, the one made with the key that
// matched) and says whether the id is covered by it, so that a re-signer
// can give a replayed webhook the same id; a token scheme carries no
// signature (its token is the secret).
func TestResultIdentifiesDelivery(t *testing.T) {
	now := time.Unix(1700000000, 0)
	body := []byte(`{"event":"identify"}`)
	a, b := []byte("secret-a-0123456789"), []byte("secret-b-0123456789")
	for _, c := range []struct {
		name     string
		idSigned bool
	}{{"standard", true}, {"svix", true}, {"github", false}, {"stripe", false}, {"gitlab", false}} {
		s := mustPreset(t, c.name, preset.Options{})
		signWith := [][]byte{b}
		if s.Format.PerKey() {
			signWith = [][]byte{a, b} // the match is the second signature
		}
		h := signer.Sign(s, signWith, signer.Message{Body: body, ID: "msg_1", Time: now})
		res, err := verifier.Verify(s, h, body, []verifier.Key{{Label: "b", Secret: b}}, 5*time.Minute, now)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if res.IDSigned != c.idSigned {
			t.Errorf("%s: IDSigned = %v, want %v", c.name, res.IDSigned, c.idSigned)
		}
		switch {
		case s.Compares():
			if res.Signature != nil {
				t.Errorf("%s: a token scheme's Result carries %d signature bytes", c.name, len(res.Signature))
			}
		case s.Format.CarriesTimestamp():
			// Stripe's timestamp travels inside its signature header.
			ts := strings.TrimPrefix(strings.Split(h.Get("Stripe-Signature"), ",")[0], "t=")
			if want := s.Digest(b, "", ts, body); string(res.Signature) != string(want) {
				t.Errorf("%s: Signature is not the one made with the matching key", c.name)
			}
		case string(res.Signature) != string(s.Digest(b, "msg_1", h.Get(s.HeaderSets[0].Timestamp), body)):
			t.Errorf("%s: Signature is not the one made with the matching key", c.name)
		}
	}
}

// TestLegacyHeaderIdentifiesDeliveryAlike (review B): with legacy_sha1, a
// GitHub delivery verified through its SHA-1 header and the same delivery
// verified through its SHA-256 header carry the same Signature, so a
// re-signed webhook keeps one id whichever header a replayer leaves in.
// A token scheme's delivery is identified by its body's digest.
func TestLegacyHeaderIdentifiesDeliveryAlike(t *testing.T) {
	s := mustPreset(t, "github", preset.Options{LegacySHA1: true})
	key := []byte("secret-0123456789abc")
	body := []byte(`{"zen":"legacy"}`)
	both := signer.Sign(s, [][]byte{key}, signer.Message{Body: body, ID: "d"})
	m := hmac.New(sha1.New, key)
	m.Write(body)
	both.Set("X-Hub-Signature", "sha1="+hex.EncodeToString(m.Sum(nil)))
	sha256Only, sha1Only := both.Clone(), both.Clone()
	sha256Only.Del("X-Hub-Signature")
	sha1Only.Del("X-Hub-Signature-256")
	keys := []verifier.Key{{Label: "k", Secret: key}}
	var sigs [][]byte
	for _, h := range []http.Header{both, sha256Only, sha1Only} {
		res, err := verifier.Verify(s, h, body, keys, 0, fixedNow)
		if err != nil {
			t.Fatal(err)
		}
		sigs = append(sigs, res.Signature)
	}
	if !bytes.Equal(sigs[0], sigs[1]) || !bytes.Equal(sigs[1], sigs[2]) {
		t.Errorf("one delivery, three Signatures: %x", sigs)
	}

	gl := mustPreset(t, "gitlab", preset.Options{})
	res, err := verifier.Verify(gl, http.Header{"X-Gitlab-Token": {"tok-0123456789abcdef"}}, body,
		[]verifier.Key{{Secret: []byte("tok-0123456789abcdef")}}, 0, fixedNow)
	if err != nil {
		t.Fatal(err)
	}
	if want := sha256.Sum256(body); !bytes.Equal(res.BodyDigest, want[:]) || res.Signature != nil {
		t.Errorf("token scheme: BodyDigest %x, Signature %x; want the body's SHA-256 and no signature", res.BodyDigest, res.Signature)
	}
}
