package signer

import (
	_ "embed"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"math"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/hookguard/hookguard/scheme"
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

// MinKeyBytes is the fewest decoded bytes accepted in a secret that is a
// key rather than a password (the whsec_ secrets of standard and svix):
// Standard Webhooks asks for 24 to 64 random bytes.
const MinKeyBytes = 24

// Rule names a secret strength rule.
type Rule string

// The rules a secret must pass.
const (
	RuleLength  Rule = "length"
	RuleVariety Rule = "variety"
	RuleCommon  Rule = "common"
	// RuleRandom applies to keys (whsec_ secrets of standard and svix):
	// the decoded bytes must look random, see randomLooking.
	RuleRandom Rule = "random"
	// RuleEncoded applies to a secret that is hex or base64 of printable
	// text: the text must pass the rules too, see encodedText.
	RuleEncoded Rule = "encoded"
)

// Finding is the verdict on one rule.
type Finding struct {
	Rule Rule
	OK   bool
	// Want states the rule itself, the same for every secret, so it can be
	// shown even where nothing about a weak secret may be (load-time
	// errors and warnings).
	Want string
	// Detail explains the verdict without quoting the secret. It does say
	// things about the secret (its length, that it is made of a common
	// word), which narrow a guesser's search: only for the owner's eyes,
	// as in check-secret; never in a log line or a config error.
	Detail string
}

// The rules as stated to users.
const (
	wantLength    = "at least 16 characters"
	wantKeyLength = "at least 24 decoded bytes"
	wantVariety   = "at least 2 character classes and 8 distinct characters"
	wantCommon    = "common words and patterns must not make up most of it"
	wantRandom    = "random bytes, not text or a pattern"
	wantEncoded   = "hex or base64 of text must pass the rules as that text"
)

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
	return len(r.Broken()) == 0
}

// Broken lists the rules the secret breaks.
func (r Report) Broken() []Rule {
	var out []Rule
	for _, f := range r.Findings {
		if !f.OK {
			out = append(out, f.Rule)
		}
	}
	return out
}

// Err returns nil for a strong secret, else an error naming each rule it
// breaks, as the rule is stated: no Detail, so nothing it says (length,
// words found) helps anyone guess the secret from a log or an error page.
func (r Report) Err() error {
	var broken []string
	for _, f := range r.Findings {
		if !f.OK {
			broken = append(broken, fmt.Sprintf("rule %s: %s", f.Rule, f.Want))
		}
	}
	if len(broken) == 0 {
		return nil
	}
	// Without a hint: the caller names its own command to make one.
	return fmt.Errorf("weak secret, breaks %s", strings.Join(broken, "; "))
}

// CheckSchemeKey checks a secret as scheme s uses it. A whsec_ secret of
// Standard Webhooks or Svix is a key: base64 of at least MinKeyBytes bytes
// that look random (checkKey). Any other secret is checked as text by
// CheckSecret.
func CheckSchemeKey(s *scheme.Scheme, secret string) Report {
	if s == nil || s.Secret != scheme.SecretWhsec {
		return CheckSecret(secret)
	}
	return checkKey(s, secret)
}

// checkKey judges a whsec_ key by its decoded bytes: the text of a base64
// encoding says nothing of what was encoded (base64 of "Password1234567890!"
// has plenty of variety and no word in it).
func checkKey(s *scheme.Scheme, secret string) Report {
	key, err := s.DecodeSecret(secret)
	n := len(key)
	length := Finding{Rule: RuleLength, OK: err == nil && n >= MinKeyBytes, Want: wantKeyLength,
		Detail: fmt.Sprintf("%d decoded bytes, at least %d needed", n, MinKeyBytes)}
	if err != nil {
		length.Detail = undecodable(secret)
		return Report{Findings: []Finding{length, {Rule: RuleRandom, Want: wantRandom, Detail: "not checked: the key does not decode"}}}
	}
	if isText(key) {
		// A password in base64: judge it as the password it is, and as a
		// key it is not random.
		rep := CheckSecret(string(key))
		rep.Findings[0] = length
		for i := range rep.Findings[1:] {
			rep.Findings[1+i].Detail = "decoded text: " + rep.Findings[1+i].Detail
		}
		rep.Findings = append(rep.Findings, Finding{Rule: RuleRandom, Want: wantRandom,
			Detail: "the decoded key is printable text, not random bytes"})
		return rep
	}
	ok, detail := randomLooking(key)
	rep := Report{Findings: []Finding{length, {Rule: RuleRandom, OK: ok, Want: wantRandom, Detail: detail}}}
	if ok {
		// Bytes that pass are taken for what they claim to be, output of
		// a random generator. Bytes that fail are a pattern whose entropy
		// is whatever went into choosing it: nothing to count, so 0.
		rep.EntropyBits = 8 * float64(n)
	}
	return rep
}

// undecodable says why a whsec_ key does not decode, without quoting it
// (the decoder's error would quote the offending character).
func undecodable(secret string) string {
	rest, prefixed := strings.CutPrefix(secret, "whsec_")
	switch {
	case secret == "":
		return "the secret is empty"
	case prefixed && rest == "":
		return "nothing after whsec_: a key is whsec_ followed by base64 of random bytes"
	case prefixed:
		return "not base64 after whsec_ (standard base64: A-Z, a-z, 0-9, + and /, padded with =)"
	}
	return "not base64 (a key is whsec_ followed by standard base64: A-Z, a-z, 0-9, + and /, padded with =)"
}

// isText reports whether b is printable UTF-8 text (whitespace allowed):
// a password or a hex or base64 string, not raw random bytes. Random bytes
// are valid printable UTF-8 by chance with a probability well under 1e-8
// at 24 bytes.
func isText(b []byte) bool {
	if !utf8.Valid(b) {
		return false
	}
	for _, r := range string(b) {
		if !unicode.IsPrint(r) && r != '\t' && r != '\n' && r != '\r' {
			return false
		}
	}
	return true
}

// randomLooking reports whether key (not text, checked before) looks like
// the output of a random generator, with why not. No test can prove
// randomness, and a key derived from a password by a hash passes; these
// catch the keys people make by hand or by mistake (all zero, a counter,
// a short block repeated), and each is set so that crypto/rand output of
// up to 1024 bytes fails it with a probability under about 1e-9:
//
//   - distinct byte values: at least half the length, up to 64 (24 random
//     bytes have about 23, 1024 have about 251);
//   - no arithmetic run of 6 bytes or more (a run of one value, 01 02 03
//     ..., ff fe fd ...; 2^-32 per position in random bytes);
//   - no 8-byte sequence that occurs twice (a repeated pattern; 2^-64 per
//     pair of positions).
func randomLooking(key []byte) (bool, string) {
	n, distinct := byteVariety(key)
	if need := min(n/2, 64); distinct < need {
		return false, fmt.Sprintf("%d distinct byte values, at least %d needed", distinct, need)
	}
	for i, run := 2, 2; i < n; i++ {
		if key[i]-key[i-1] == key[i-1]-key[i-2] {
			run++
		} else {
			run = 2
		}
		if run >= 6 {
			return false, "a run of 6 or more bytes in arithmetic progression (repeated or counting bytes)"
		}
	}
	seen := make(map[string]bool, n)
	for i := 0; i+8 <= n; i++ {
		w := string(key[i : i+8])
		if seen[w] {
			return false, "a sequence of 8 bytes occurs twice (a repeated pattern)"
		}
		seen[w] = true
	}
	return true, "random-looking bytes"
}

func byteVariety(b []byte) (n, distinct int) {
	var seen [256]bool
	for _, c := range b {
		if !seen[c] {
			seen[c] = true
			distinct++
		}
	}
	return len(b), distinct
}

// decodedText returns the text a whsec_ secret used as a string (Stripe's
// look, or any scheme's secret written that way) encodes in base64, if it
// is text: a guesser would try base64 of a password list as readily as the
// list itself.
func decodedText(secret string) (string, bool) {
	rest, ok := strings.CutPrefix(secret, "whsec_")
	if !ok || rest == "" {
		return "", false
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(rest); err == nil && len(b) > 0 {
			return string(b), isText(b)
		}
	}
	return "", false
}

// minResidual is how many characters must be left once common words and
// patterns are taken out: a secret made mostly of them is guessable however
// long it is.
const minResidual = 12

// CheckSecret applies the secret rules to a secret as the user wrote it.
// A whsec_ secret that is base64 of text must pass them as that text too.
// Any other secret that is hex or base64 of text must pass them as that
// text as well, or it breaks RuleEncoded.
func CheckSecret(secret string) Report {
	rep := checkText(secret)
	if text, ok := decodedText(secret); ok {
		inner := checkText(text)
		for i, f := range inner.Findings {
			if !f.OK && rep.Findings[i].OK {
				f.Detail = "decoded from base64: " + f.Detail
				rep.Findings[i] = f
			}
		}
		rep.EntropyBits = min(rep.EntropyBits, inner.EntropyBits)
	} else if text, enc, ok := encodedText(secret); ok {
		// The text is shorter than the secret, so this ends; text that
		// is itself an encoding of text is judged by what it encodes.
		inner := CheckSecret(text)
		f := Finding{Rule: RuleEncoded, OK: inner.OK(), Want: wantEncoded,
			Detail: fmt.Sprintf("decodes from %s to text that passes every rule", enc)}
		if !f.OK {
			var broken []string
			for _, g := range inner.Findings {
				if !g.OK {
					broken = append(broken, fmt.Sprintf("rule %s (%s)", g.Rule, g.Detail))
				}
			}
			f.Detail = fmt.Sprintf("decodes from %s to text that breaks %s", enc, strings.Join(broken, ", "))
		}
		rep.Findings = append(rep.Findings, f)
		rep.EntropyBits = min(rep.EntropyBits, inner.EntropyBits)
	}
	return rep
}

// encodedText returns the text secret encodes in hex or base64 (standard
// or URL alphabet, padded or not), and which, if it decodes to printable
// text (isText): "UGFzc3dvcmQxMjM0NTY3ODkwIQ==" is varied and holds no
// word, and is a password a guesser would try in base64 as readily as
// plain. Hex and base64 of random bytes (the webhook secret subcommand, openssl
// rand) decode to bytes, not text: at 16 bytes or more, random bytes are
// printable UTF-8 by chance with a probability around 1e-7 or less.
func encodedText(secret string) (text, encoding string, ok bool) {
	if b, err := hex.DecodeString(secret); err == nil && len(b) > 0 && isText(b) {
		return string(b), "hex", true
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.Strict().DecodeString(secret); err == nil && len(b) > 0 {
			if isText(b) {
				return string(b), "base64", true
			}
			return "", "", false
		}
	}
	return "", "", false
}

func checkText(secret string) Report {
	var rep Report
	n := len([]rune(secret))
	rep.Findings = append(rep.Findings, Finding{
		Rule: RuleLength, OK: n >= MinSecretLength, Want: wantLength,
		Detail: fmt.Sprintf("%d characters, at least %d needed", n, MinSecretLength),
	})

	classes, distinct, pool := variety(secret)
	rep.Findings = append(rep.Findings, Finding{
		Rule: RuleVariety, OK: classes >= 2 && distinct >= 8, Want: wantVariety,
		Detail: fmt.Sprintf("%d character classes and %d distinct characters, at least 2 and 8 needed", classes, distinct),
	})

	found, residual := commonParts(secret)
	common := Finding{Rule: RuleCommon, OK: residual >= minResidual, Want: wantCommon}
	switch {
	case len(found) == 0:
		common.Detail = "no common words or patterns"
	case common.OK:
		common.Detail = fmt.Sprintf("contains %s, but %s outside %s, at least %d needed", strings.Join(found, ", "), otherCharacters(residual), them(found), minResidual)
	default:
		common.Detail = fmt.Sprintf("made mostly of %s: only %s outside %s, at least %d needed (what a guesser must still guess once it tries common words and patterns)",
			strings.Join(found, ", "), otherCharacters(residual), them(found), minResidual)
	}
	rep.Findings = append(rep.Findings, common)
	if pool > 0 {
		rep.EntropyBits = float64(residual) * math.Log2(float64(pool))
	}
	return rep
}

// otherCharacters is "1 other character is", "5 other characters are":
// the characters of a secret that no common word or pattern covers.
func otherCharacters(n int) string {
	if n == 1 {
		return "1 other character is"
	}
	return fmt.Sprintf("%d other characters are", n)
}

// them refers back to the common parts found.
func them(found []string) string {
	if len(found) == 1 {
		return "it"
	}
	return "them"
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
