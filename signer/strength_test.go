package signer

import (
	"strings"
	"testing"

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
			if !strings.Contains(err.Error(), "hookguard webhook secret") {
				t.Errorf("error does not suggest hookguard webhook secret: %v", err)
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
	s, _ := verifier.Preset("standard", verifier.Options{})
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

func TestGenerateSecret(t *testing.T) {
	for _, name := range verifier.PresetNames() {
		s, _ := verifier.Preset(name, verifier.Options{})
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
			if err != nil || (s.Secret == verifier.SecretWhsec && len(key) != DefaultSecretBytes) {
				t.Fatalf("%s: generated secret decodes to %d bytes, err %v", name, len(key), err)
			}
		}
	}
	if _, err := GenerateSecret(nil, 8); err == nil {
		t.Fatal("8 bytes accepted")
	}
}
