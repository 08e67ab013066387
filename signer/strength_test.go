package signer

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/hookguard/hookguard/preset"
	"github.com/hookguard/hookguard/scheme"
	"github.com/hookguard/hookguard/verifier"
)

func TestCheckSecret(t *testing.T) {
	cases := []struct {
		secret string
		broken []Rule
	}{
		{"kX3vQ9mR2pL8nT5wY7zB4cF6", nil},
		{"3f9a0c27d4e1b86f5a2c9d0e7b41f3a8", nil}, // hex from `openssl rand -hex 16`: two classes is enough
		{"7Gx!pQ2mZr9@Lk4Vw", nil},
		{"Ab3$eF6&", []Rule{RuleLength, RuleCommon}},
		{"aaaaaaaaaaaaaaaaaaaa", []Rule{RuleVariety, RuleCommon}},
		{"correcthorsebatterystaple", []Rule{RuleVariety}},
		{"Password1234567890!", []Rule{RuleCommon}},
		{"P4ssw0rdP4ssw0rd99", []Rule{RuleCommon}},     // leetspeak undone
		{"webhook-secret-2024", []Rule{RuleCommon}},    // words
		{"qwertyuiopQWERTYUIOP12", []Rule{RuleCommon}}, // keyboard walk
		{"0123456789abcdefghij", []Rule{RuleCommon}},   // sequences
		{"zyxwvutsrqponm987654", []Rule{RuleCommon}},   // descending
		{"x8Kq2LmZpW4n-webhook", nil},                  // a word, but 12 other characters remain
	}
	for _, c := range cases {
		rep := CheckSecret(c.secret)
		var broken []Rule
		for _, f := range rep.Findings {
			if !f.OK {
				broken = append(broken, f.Rule)
			}
		}
		if strings.Join(rules(broken), ",") != strings.Join(rules(c.broken), ",") {
			t.Errorf("%q: broken rules %v, want %v (%+v)", c.secret, broken, c.broken, rep.Findings)
		}
		if err := rep.Err(); (err == nil) != (len(c.broken) == 0) {
			t.Errorf("%q: Err() = %v", c.secret, err)
		} else if err != nil {
			if strings.Contains(err.Error(), c.secret) {
				t.Errorf("error quotes the secret: %v", err)
			}
			for _, r := range c.broken {
				if !strings.Contains(err.Error(), "rule "+string(r)) {
					t.Errorf("%q: error %q does not name rule %s", c.secret, err, r)
				}
			}
		}
	}
}

func rules(r []Rule) []string {
	out := make([]string, len(r))
	for i := range r {
		out[i] = string(r[i])
	}
	return out
}

func TestEntropyEstimateOrdersSecrets(t *testing.T) {
	weak := CheckSecret("Password1234567890!").EntropyBits
	strong := CheckSecret("kX3vQ9mR2pL8nT5wY7zB4cF6").EntropyBits
	if !(weak < 40 && strong > 100) {
		t.Fatalf("entropy estimates: weak %.0f, strong %.0f", weak, strong)
	}
}

func TestCheckSchemeKeyWhsec(t *testing.T) {
	s, _ := preset.Get("standard", preset.Options{})
	if rep := CheckSchemeKey(s, "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"); !rep.OK() {
		t.Fatalf("24-byte whsec secret refused: %v", rep.Err())
	}
	// 8 decoded bytes: too short however varied the base64 looks.
	if rep := CheckSchemeKey(s, "whsec_q83vEjRWeJo="); rep.OK() || rep.Findings[0].OK {
		t.Fatalf("8-byte whsec secret accepted: %+v", rep.Findings)
	}
	if rep := CheckSchemeKey(s, "whsec_!!!"); rep.Findings[0].OK {
		t.Fatal("undecodable whsec secret passes the length rule")
	}
}

// whsec is a Standard Webhooks secret holding key.
func whsec(key []byte) string { return "whsec_" + base64.StdEncoding.EncodeToString(key) }

// TestWeakKeysInWhsecForm: a whsec_ key is judged by the bytes it decodes
// to, not by how varied its base64 looks (issue 7, finding 7).
func TestWeakKeysInWhsecForm(t *testing.T) {
	random := func(n int) []byte {
		b := make([]byte, n)
		rand.Read(b)
		return b
	}
	block16 := random(16)
	counting := make([]byte, 32)
	for i := range counting {
		counting[i] = byte(7 * i)
	}
	cases := []struct {
		name   string
		secret string
		broken []Rule // for standard and svix
		// text: broken rules when the same secret is a string (Stripe's
		// look; github, hmac): base64 of text is judged as that text.
		text []Rule
	}{
		{"password in base64", whsec([]byte("Password1234567890!")), []Rule{RuleLength, RuleCommon, RuleRandom}, []Rule{RuleCommon}},
		{"long password in base64", whsec([]byte("Password1234567890!Password1234567890!")), []Rule{RuleCommon, RuleRandom}, []Rule{RuleCommon}},
		{"strong text in base64", whsec([]byte("kX3vQ9mR2pL8nT5wY7zB4cF6")), []Rule{RuleRandom}, nil},
		{"hex text in base64", whsec([]byte("3f9a0c27d4e1b86f5a2c9d0e7b41f3a8")), []Rule{RuleRandom}, nil},
		{"16 random bytes", whsec(random(16)), []Rule{RuleLength}, nil},
		{"23 random bytes", whsec(random(23)), []Rule{RuleLength}, nil},
		{"32 zero bytes", whsec(make([]byte, 32)), []Rule{RuleRandom}, []Rule{RuleCommon}}, // AAAA...: a run as text too
		{"32 bytes of 0xff", whsec(bytes.Repeat([]byte{0xff}, 32)), []Rule{RuleRandom}, []Rule{RuleCommon}},
		{"4 bytes repeated", whsec(bytes.Repeat([]byte{0xde, 0xad, 0xbe, 0xef}, 8)), []Rule{RuleRandom}, nil},
		{"16 random bytes twice", whsec(append(append([]byte(nil), block16...), block16...)), []Rule{RuleRandom}, nil},
		{"counting bytes", whsec(counting), []Rule{RuleRandom}, nil},
		{"random with a zero run", whsec(append(random(26), make([]byte, 6)...)), []Rule{RuleRandom}, nil},
		{"24 random bytes", whsec(random(24)), nil, nil},
		{"64 random bytes", whsec(random(64)), nil, nil},
	}
	std, _ := preset.Get("standard", preset.Options{})
	svix, _ := preset.Get("svix", preset.Options{})
	gh, _ := preset.Get("github", preset.Options{})
	for _, c := range cases {
		for _, s := range []*verifier.Scheme{std, svix} {
			rep := CheckSchemeKey(s, c.secret)
			if got := rules(rep.Broken()); strings.Join(got, ",") != strings.Join(rules(c.broken), ",") {
				t.Errorf("%s, %s: broken %v, want %v (%+v)", c.name, s.Name, got, c.broken, rep.Findings)
			}
			wantRuleNamesOnly(t, c.name, c.secret, rep)
		}
		for _, rep := range []Report{CheckSchemeKey(gh, c.secret), CheckSecret(c.secret)} {
			if got := rules(rep.Broken()); strings.Join(got, ",") != strings.Join(rules(c.text), ",") {
				t.Errorf("%s as a string: broken %v, want %v (%+v)", c.name, got, c.text, rep.Findings)
			}
			wantRuleNamesOnly(t, c.name, c.secret, rep)
		}
	}
}

// wantRuleNamesOnly checks that rep.Err() names each broken rule and says
// nothing about the secret beyond that: no detail (counts, "made mostly
// of a common word"), no part of the secret.
func wantRuleNamesOnly(t *testing.T, name, secret string, rep Report) {
	t.Helper()
	err := rep.Err()
	if (err == nil) != rep.OK() {
		t.Fatalf("%s: Err() = %v but OK() = %v", name, err, rep.OK())
	}
	if err == nil {
		return
	}
	for _, f := range rep.Findings {
		if !f.OK && !strings.Contains(err.Error(), "rule "+string(f.Rule)) {
			t.Errorf("%s: %q does not name rule %s", name, err, f.Rule)
		}
		if strings.Contains(err.Error(), f.Detail) {
			t.Errorf("%s: %q holds the detail %q", name, err, f.Detail)
		}
	}
	for _, leak := range []string{"decoded bytes,", "distinct byte", "made mostly of", "other characters", "printable text", "a common word", "a repeated", strings.TrimPrefix(secret, "whsec_")} {
		if strings.Contains(err.Error(), leak) {
			t.Errorf("%s: %q says %q about the secret", name, err, leak)
		}
	}
}

// TestRandomLookingNeverRefusesRandomKeys: the random rule is tuned so that
// crypto/rand output passes it; draw many keys of the sizes in use.
func TestRandomLookingNeverRefusesRandomKeys(t *testing.T) {
	for _, n := range []int{24, 32, 64, 1024} {
		b := make([]byte, n)
		for i := 0; i < 2000; i++ {
			rand.Read(b)
			if ok, why := randomLooking(b); !ok || isText(b) {
				t.Fatalf("%d random bytes refused: %s (text %v)", n, why, isText(b))
			}
		}
	}
}

// TestEncodedTextIsJudged: a plain secret that is hex or base64 of text is
// judged by that text too, under rule encoded: its encoded form looks
// varied whatever it encodes (a guesser tries encodings of a password list
// as readily as the list).
func TestEncodedTextIsJudged(t *testing.T) {
	weak := []byte("Password1234567890!")
	strong := []byte("kX3vQ9mR2pL8nT5wY7zB4cF6")
	cases := []struct {
		name   string
		secret string
		broken []Rule
	}{
		{"base64 of a password", base64.StdEncoding.EncodeToString(weak), []Rule{RuleEncoded}},
		{"unpadded base64 of a password", base64.RawStdEncoding.EncodeToString(weak), []Rule{RuleEncoded}},
		{"url base64 of a password", base64.URLEncoding.EncodeToString([]byte("Password1234567890?>")), []Rule{RuleEncoded}},
		{"unpadded url base64 of a password", base64.RawURLEncoding.EncodeToString([]byte("Password1234567890?>")), []Rule{RuleEncoded}},
		{"hex of a password", hex.EncodeToString(weak), []Rule{RuleEncoded}},
		{"upper-case hex of a password", strings.ToUpper(hex.EncodeToString(weak)), []Rule{RuleEncoded}},
		{"base64 of a short random password", base64.StdEncoding.EncodeToString([]byte("x8K!q2Lm#pW4")), []Rule{RuleEncoded}},
		{"hex of base64 of a password", hex.EncodeToString([]byte(base64.StdEncoding.EncodeToString(weak))), []Rule{RuleEncoded}},
		{"base64 of words", base64.StdEncoding.EncodeToString([]byte("webhook-secret-2024")), []Rule{RuleEncoded}},
		{"base64 of strong text", base64.StdEncoding.EncodeToString(strong), nil},
		{"hex of strong text", hex.EncodeToString(strong), nil},
		{"a password that is no encoding", string(weak), []Rule{RuleCommon}},
	}
	gh, _ := preset.Get("github", preset.Options{})
	stripe, _ := preset.Get("stripe", preset.Options{})
	for _, c := range cases {
		for _, rep := range []Report{CheckSecret(c.secret), CheckSchemeKey(gh, c.secret), CheckSchemeKey(stripe, c.secret)} {
			if got := rules(rep.Broken()); strings.Join(got, ",") != strings.Join(rules(c.broken), ",") {
				t.Errorf("%s: broken %v, want %v (%+v)", c.name, got, c.broken, rep.Findings)
			}
			wantRuleNamesOnly(t, c.name, c.secret, rep)
			if err := rep.Err(); err != nil {
				for _, leak := range []string{string(weak), "base64 to", "hex to", "decodes from", "text that breaks"} {
					if strings.Contains(err.Error(), leak) {
						t.Errorf("%s: %q says %q about the secret", c.name, err, leak)
					}
				}
			}
		}
	}
	// The owner is told which rules the decoded text breaks.
	rep := CheckSecret(base64.StdEncoding.EncodeToString(weak))
	if f := rep.Findings[len(rep.Findings)-1]; f.Rule != RuleEncoded || !strings.Contains(f.Detail, "decodes from base64 to text that breaks rule common") {
		t.Errorf("encoded finding %+v", f)
	}
	if rep.EntropyBits > CheckSecret(string(weak)).EntropyBits {
		t.Errorf("entropy of base64 of a password %.0f, more than the password's", rep.EntropyBits)
	}
	rep = CheckSecret(hex.EncodeToString(weak))
	if f := rep.Findings[len(rep.Findings)-1]; f.Rule != RuleEncoded || !strings.Contains(f.Detail, "decodes from hex to text") {
		t.Errorf("encoded finding %+v", f)
	}
}

// TestRandomEncodedSecretsPass: hex and base64 of random bytes (hookguard
// webhook secret, openssl rand -hex 32, openssl rand -base64 32) decode to
// bytes, not text, and pass.
func TestRandomEncodedSecretsPass(t *testing.T) {
	encodings := map[string]func([]byte) string{
		"hex":          hex.EncodeToString,
		"base64":       base64.StdEncoding.EncodeToString,
		"raw base64":   base64.RawStdEncoding.EncodeToString,
		"url base64":   base64.URLEncoding.EncodeToString,
		"raw url":      base64.RawURLEncoding.EncodeToString,
		"upper hex":    func(b []byte) string { return strings.ToUpper(hex.EncodeToString(b)) },
		"whsec base64": func(b []byte) string { return "whsec_" + base64.RawURLEncoding.EncodeToString(b) },
	}
	for _, n := range []int{24, 32, 48, 64} {
		b := make([]byte, n)
		for name, enc := range encodings {
			for i := 0; i < 2000; i++ {
				rand.Read(b)
				if rep := CheckSecret(enc(b)); !rep.OK() {
					t.Fatalf("%s of %d random bytes refused: %+v", name, n, rep.Findings)
				}
			}
		}
	}
	for _, name := range preset.Names() {
		s, _ := preset.Get(name, preset.Options{})
		if s.Secret == scheme.SecretWhsec {
			continue
		}
		for i := 0; i < 2000; i++ {
			secret, err := GenerateSecret(s, DefaultSecretBytes)
			if err != nil {
				t.Fatal(err)
			}
			if rep := CheckSchemeKey(s, secret); !rep.OK() || len(rep.Findings) != 3 {
				t.Fatalf("%s: generated secret judged %+v", name, rep.Findings)
			}
		}
	}
}

func TestGenerateSecret(t *testing.T) {
	for _, name := range preset.Names() {
		s, _ := preset.Get(name, preset.Options{})
		seen := map[string]bool{}
		for i := 0; i < 50; i++ {
			secret, err := GenerateSecret(s, DefaultSecretBytes)
			if err != nil {
				t.Fatal(err)
			}
			if seen[secret] {
				t.Fatalf("%s: secret repeated", name)
			}
			seen[secret] = true
			if !CheckSchemeKey(s, secret).OK() {
				t.Fatalf("%s: generated secret fails the check", name)
			}
			key, err := s.DecodeSecret(secret)
			if err != nil || (s.Secret == scheme.SecretWhsec && len(key) != DefaultSecretBytes) {
				t.Fatalf("%s: generated secret decodes to %d bytes, err %v", name, len(key), err)
			}
		}
	}
	if _, err := GenerateSecret(nil, 8); err == nil {
		t.Fatal("8 bytes accepted")
	}
}

// TestDetailsSayWhatTheyMean (issue 12, item 8): a whsec_ key that does
// not decode is "not base64", never "0 decoded bytes"; "nothing after
// whsec_" when nothing follows; the rule common says that the count is of
// the characters outside the common parts, singular or plural.
func TestDetailsSayWhatTheyMean(t *testing.T) {
	s, _ := preset.Get("standard", preset.Options{})
	for secret, want := range map[string]string{
		"whsec_!!!!notbase64": "not base64 after whsec_",
		"whsec_abc":           "not base64 after whsec_",
		"whsec_":              "nothing after whsec_",
		"no-prefix-at-all!":   "not base64 (a key is whsec_",
	} {
		rep := CheckSchemeKey(s, secret)
		length := rep.Findings[0]
		if length.Rule != RuleLength || length.OK || !strings.Contains(length.Detail, want) || strings.Contains(length.Detail, "decoded bytes") {
			t.Errorf("%q: length finding %+v, want %q", secret, length, want)
		}
		if strings.Contains(length.Detail, strings.TrimPrefix(secret, "whsec_")) && secret != "whsec_" {
			t.Errorf("%q: the detail quotes the secret: %s", secret, length.Detail)
		}
	}
	for secret, want := range map[string]string{
		"Password1234567890!":  "only 1 other character is outside them, at least 12 needed (what a guesser must still guess",
		"webhook-secret-2024":  "only 6 other characters are outside it, at least 12 needed",
		"x8Kq2LmZpW4n-webhook": "but 13 other characters are outside it, at least 12 needed",
	} {
		var common Finding
		for _, f := range CheckSecret(secret).Findings {
			if f.Rule == RuleCommon {
				common = f
			}
		}
		if !strings.Contains(common.Detail, want) {
			t.Errorf("%q: common detail %q, want %q", secret, common.Detail, want)
		}
	}
}
