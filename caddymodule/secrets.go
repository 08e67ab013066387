package caddymodule

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/caddyserver/caddy/v2"

	"github.com/hookguard/hookguard/verifier"
)

type resolvedKeys struct {
	active     []verifier.Key
	expired    []string // labels of secrets past their not_after
	configured int      // secrets that resolved to a value
}

// resolveKeys resolves {env.*} and {file.*} placeholders in the secrets and
// decodes them for scheme s. A placeholder that is unknown or resolves empty
// is an error, unless allowEmpty (insecure_unsigned): then it is skipped and
// the caller decides what having no secret means.
// inspect, if set, sees each resolved secret (1-based index, label, value)
// and may refuse it.
func resolveKeys(secrets []Secret, s *verifier.Scheme, now time.Time, allowEmpty bool, inspect func(int, string, string) error) (resolvedKeys, error) {
	var out resolvedKeys
	repl := caddy.NewReplacer()
	for i, sec := range secrets {
		val, err := repl.ReplaceOrErr(sec.Value, true, true)
		if allowEmpty && (err != nil || val == "") {
			continue
		}
		if err != nil {
			return out, fmt.Errorf("secret %d: %s", i+1, placeholderProblem(sec.Value, err))
		}
		if val == "" {
			return out, fmt.Errorf("secret %d is empty", i+1)
		}
		key, err := s.DecodeSecret(val)
		if err != nil {
			return out, fmt.Errorf("secret %d: %w", i+1, err)
		}
		label := sec.Label
		if label == "" {
			label = Fingerprint(key)
		}
		if inspect != nil {
			if err := inspect(i+1, label, val); err != nil {
				return out, err
			}
		}
		out.configured++
		k := verifier.Key{Label: label, Secret: key}
		if sec.NotAfter != "" {
			if k.NotAfter, err = time.Parse(time.RFC3339, sec.NotAfter); err != nil {
				return out, fmt.Errorf("secret %d (%s): not_after %q is not an RFC 3339 time such as 2026-12-31T23:59:59Z", i+1, label, sec.NotAfter)
			}
			if !now.Before(k.NotAfter) {
				out.expired = append(out.expired, label)
				continue
			}
		}
		out.active = append(out.active, k)
	}
	if out.configured > 0 && len(out.active) == 0 {
		return out, fmt.Errorf("every secret has expired (not_after); add a current one")
	}
	return out, nil
}

// placeholderProblem explains a failed resolution without echoing the
// value unless the value is nothing but a placeholder (a name, not a secret).
func placeholderProblem(value string, err error) string {
	if strings.HasPrefix(value, "{") && strings.HasSuffix(value, "}") && strings.Count(value, "{") == 1 {
		return fmt.Sprintf("%s did not resolve to a value (is the variable set, the file readable and not empty?)", value)
	}
	_ = err // its text may quote part of a literal secret
	return "a placeholder in it did not resolve (use {env.NAME} or {file./path}; write a literal { as \\{)"
}

// Fingerprint names a key without revealing it: the first 8 hex digits of
// a domain-separated SHA-256, enough to tell secrets apart in logs.
func Fingerprint(key []byte) string {
	h := sha256.New()
	h.Write([]byte("hookguard key fingerprint\x00"))
	h.Write(key)
	return "fp-" + hex.EncodeToString(h.Sum(nil)[:4])
}
