package signer

import (
	_ "embed"
	"fmt"
	"math"
	"strings"
	"unicode"

	"github.com/hookguard/hookguard/verifier"
)

// MinSecretLength is the shortest secret accepted for signing.
const MinSecretLength = 16

//go:embed words.txt
var wordList string

var commonWords = func() []string {
	var out []string
	for _, l := range strings.Split(wordList, "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") && len(l) >= 4 {
			out = append(out, l)
		}
	}
	return out
}()

// Rule names a secret strength rule.
type Rule string

// The rules a secret must pass.
const (
	RuleLength  Rule = "length"
	RuleVariety Rule = "variety"
	RuleCommon  Rule = "common"
)

// Finding is the verdict on one rule.
type Finding struct {
	Rule Rule
	OK   bool
	// Detail explains the verdict without quoting the secret.
	Detail string
}

// Report is the result of CheckSecret.
type Report struct {
	Findings []Finding
	// EntropyBits is a rough estimate of the secret's entropy: the length
	// left once common words and patterns are taken out, times the bits per
	// character of the character classes used.
	EntropyBits float64
}

// OK reports whether every rule passed.
func (r Report) OK() bool {
	for _, f := range r.Findings {
		if !f.OK {
			return false
		}
	}
	return true
}

// Err returns nil for a strong secret, else an error naming each rule it
// breaks; the text never contains the secret.
func (r Report) Err() error {
	var broken []string
	for _, f := range r.Findings {
		if !f.OK {
			broken = append(broken, fmt.Sprintf("rule %s: %s", f.Rule, f.Detail))
		}
	}
	if len(broken) == 0 {
		return nil
	}
	return fmt.Errorf("weak secret (%s); generate one with: hookguard webhook secret", strings.Join(broken, "; "))
}

// CheckSchemeKey checks a secret as scheme s uses it: a whsec_ secret of
// Standard Webhooks or Svix is judged by its decoded length and by the
// variety of its base64 text.
func CheckSchemeKey(s *verifier.Scheme, secret string) Report {
	if s.Secret != verifier.SecretWhsec {
		return CheckSecret(secret)
	}
	rep := CheckSecret(strings.TrimPrefix(secret, "whsec_"))
	key, err := s.DecodeSecret(secret)
	n := len(key)
	rep.Findings[0] = Finding{
		Rule: RuleLength, OK: err == nil && n >= MinSecretLength,
		Detail: fmt.Sprintf("%d decoded bytes, at least %d needed", n, MinSecretLength),
	}
	return rep
}

// minResidual is how many characters must be left once common words and
// patterns are taken out: a secret made mostly of them is guessable however
// long it is.
const minResidual = 12

// CheckSecret applies the secret rules to a secret as the user wrote it.
func CheckSecret(secret string) Report {
	var rep Report
	n := len([]rune(secret))
	rep.Findings = append(rep.Findings, Finding{
		Rule: RuleLength, OK: n >= MinSecretLength,
		Detail: fmt.Sprintf("%d characters, at least %d needed", n, MinSecretLength),
	})

	classes, distinct, pool := variety(secret)
	rep.Findings = append(rep.Findings, Finding{
		Rule: RuleVariety, OK: classes >= 2 && distinct >= 8,
		Detail: fmt.Sprintf("%d character classes and %d distinct characters, at least 2 and 8 needed", classes, distinct),
	})

	found, residual := commonParts(secret)
	common := Finding{Rule: RuleCommon, OK: residual >= minResidual}
	switch {
	case len(found) == 0:
		common.Detail = "no common words or patterns"
	case common.OK:
		common.Detail = fmt.Sprintf("contains %s, but %d other characters remain", strings.Join(found, ", "), residual)
	default:
		common.Detail = fmt.Sprintf("made mostly of %s: only %d other characters, at least %d needed", strings.Join(found, ", "), residual, minResidual)
	}
	rep.Findings = append(rep.Findings, common)
	if pool > 0 {
		rep.EntropyBits = float64(residual) * math.Log2(float64(pool))
	}
	return rep
}

// variety counts character classes (lower, upper, digit, other), distinct
// characters and the size of the alphabet the classes imply.
func variety(s string) (classes, distinct, pool int) {
	var lower, upper, digit, other bool
	seen := map[rune]bool{}
	for _, r := range s {
		seen[r] = true
		switch {
		case unicode.IsLower(r):
			lower = true
		case unicode.IsUpper(r):
			upper = true
		case unicode.IsDigit(r):
			digit = true
		default:
			other = true
		}
	}
	for _, c := range []struct {
		on   bool
		size int
	}{{lower, 26}, {upper, 26}, {digit, 10}, {other, 33}} {
		if c.on {
			classes++
			pool += c.size
		}
	}
	return classes, len(seen), pool
}

// keyboardRows are walked left to right and right to left.
var keyboardRows = []string{"`1234567890-=", "qwertyuiop[]", "asdfghjkl;'", "zxcvbnm,./", "1qaz2wsx3edc4rfv5tgb6yhn7ujm8ik9ol0p"}

// commonParts finds common words, runs (aaaa), sequences (abcd, 4321) and
// keyboard walks (qwer) of four or more characters, and returns their
// names and how many characters lie outside all of them.
func commonParts(secret string) (found []string, residual int) {
	s := []rune(strings.ToLower(secret))
	covered := make([]bool, len(s))
	mark := func(i, j int, what string) {
		for k := i; k < j; k++ {
			covered[k] = true
		}
		for _, f := range found {
			if f == what {
				return
			}
		}
		found = append(found, what)
	}
	// deLeet maps rune to rune, so indexes agree between both spellings.
	for _, str := range []string{string(s), deLeet(string(s))} {
		for _, w := range commonWords {
			for off := 0; ; {
				i := strings.Index(str[off:], w)
				if i < 0 {
					break
				}
				b := len([]rune(str[:off+i]))
				mark(b, b+len([]rune(w)), "a common word")
				off += i + len(w)
			}
		}
	}
	for i := 0; i < len(s); {
		j := i + 1
		for j < len(s) && s[j] == s[i] {
			j++
		}
		if j-i >= 4 {
			mark(i, j, "a repeated character")
		}
		i = j
	}
	for _, step := range []rune{1, -1} {
		for i := 0; i < len(s); {
			j := i + 1
			for j < len(s) && s[j]-s[j-1] == step && (unicode.IsLetter(s[j]) || unicode.IsDigit(s[j])) {
				j++
			}
			if j-i >= 4 {
				mark(i, j, "a sequence")
			}
			i = j
		}
	}
	for _, row := range keyboardRows {
		for _, r := range []string{row, reverse(row)} {
			for i := 0; i+4 <= len(s); i++ {
				j := i
				for j < len(s) && strings.Contains(r, string(s[i:j+1])) {
					j++
				}
				if j-i >= 4 {
					mark(i, j, "a keyboard walk")
				}
			}
		}
	}
	for _, c := range covered {
		if !c {
			residual++
		}
	}
	return found, residual
}

func deLeet(s string) string {
	return strings.NewReplacer("0", "o", "1", "i", "3", "e", "4", "a", "5", "s", "7", "t", "@", "a", "$", "s").Replace(s)
}

func reverse(s string) string {
	r := []rune(s)
	for i, j := 0, len(r)-1; i < j; i, j = i+1, j-1 {
		r[i], r[j] = r[j], r[i]
	}
	return string(r)
}
