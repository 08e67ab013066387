package caddymodule

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/caddyserver/caddy/v2"
	"go.uber.org/zap"

	"github.com/hookguard/hookguard/signer"
	"github.com/hookguard/hookguard/verifier"
)

type resolvedKeys struct {
	active  []verifier.Key
	expired []verifier.Key // secrets past their not_after: label and not_after only, no secret
	// expiredKeys are the same secrets, keys included: never accepted,
	// webhook_verify keeps the last to expire (see
	// verifier.MaxExpiredChecked) to name them when a request signed
	// with one is refused. Nothing else may hold on to them.
	expiredKeys []verifier.Key
}

// resolveKeys resolves the {env.*} and {file.*} placeholders in secrets,
// decodes them for scheme s, judges their strength and names them.
//
// A configured secret that does not resolve (an unknown placeholder, an
// unset or empty variable, an empty or unreadable file) or resolves empty
// or to whitespace only (a key anyone can compute) is an error, whatever else the route says: insecure_unsigned is for a
// route with no secret configured at all, never a way to skip one that
// failed to load.
//
// A secret without a label is named by its Fingerprint if it is strong,
// and by its position (secret-2) if it is weak, so nothing shown of it
// helps a guesser. weak is called for each weak secret with its 1-based
// index and label, and may refuse it. A secret written in the config
// rather than as a placeholder is warned about; the log lines name the
// secret by index and label, never by value.
//
// word says what the values are: secret, or, for a scheme that signs with
// a key pair, public_key or private_key. Keys are read as the sender
// publishes them; a public key is no secret, so one written in the config
// is not warned about, and neither kind of key is judged for strength.
func resolveKeys(ctx caddy.Context, logger *zap.Logger, secrets []Secret, s *verifier.Scheme, now time.Time, word string, weak func(n int, label string, rep signer.Report) error) (resolvedKeys, error) {
	var out resolvedKeys
	repl := caddy.NewReplacer()
	fp := fingerprinter{ctx: ctx, logger: logger}
	labelOf := map[string]int{}
	keyOf := map[string]int{} // decoded keys, to find one listed twice
	for i, sec := range secrets {
		n := i + 1
		val, err := repl.ReplaceOrErr(sec.Value, true, true)
		if err != nil {
			return out, fmt.Errorf("%s %d: %s", word, n, placeholderProblem(sec.Value, err))
		}
		if val == "" {
			return out, fmt.Errorf("%s %d is empty (a {$VAR} unset when the Caddyfile was adapted leaves nothing; write {env.VAR}, which is checked at every load)", word, n)
		}
		if strings.TrimSpace(val) == "" {
			// A key of spaces or newlines is one anyone can compute.
			if name, ok := placeholderName(sec.Value); ok {
				return out, fmt.Errorf("%s %d: %s resolved to only whitespace (is the variable set to the %s, the file not blank?)", word, n, name, word)
			}
			return out, fmt.Errorf("%s %d is only whitespace", word, n)
		}
		var k verifier.Key
		var key []byte // what is fingerprinted, and compared to find a key listed twice
		rep := signer.Report{}
		switch word {
		case "public_key":
			if k.Public, err = s.ParsePublicKey(val); err != nil {
				return out, fmt.Errorf("%s %d: %w", word, n, err)
			}
			key = []byte(strings.TrimSpace(val))
		case "private_key":
			if k.Private, err = s.ParsePrivateKey(val); err != nil {
				return out, fmt.Errorf("%s %d: %w", word, n, err)
			}
			key = []byte(strings.TrimSpace(val))
		default:
			if key, err = s.DecodeSecret(val); err != nil {
				return out, fmt.Errorf("secret %d: %w", n, err)
			}
			k.Secret = key
			rep = signer.CheckSchemeKey(s, val)
		}
		label := sec.Label
		if label == "" {
			if rep.OK() {
				label = fp.label(n, key)
			} else {
				label = neutralLabel(n)
			}
		}
		// Labels tell secrets apart in metrics, logs and the admin API
		// (a rotation is watched by the old one's): a label given that is
		// also another secret's generated one, or one secret listed twice,
		// would merge two secrets' figures.
		if first, ok := keyOf[string(key)]; ok {
			return out, fmt.Errorf("%s %d is the same as %s %d; list each %s once", word, n, word, first, word)
		}
		keyOf[string(key)] = n
		if first, ok := labelOf[label]; ok {
			return out, fmt.Errorf("%s %d is named %s, as %s %d is (the same one twice, or a label that is another's generated name); give each %s its own label", word, n, label, word, first, word)
		}
		labelOf[label] = n
		if !rep.OK() {
			if err := weak(n, label, rep); err != nil {
				return out, err
			}
		}
		if !isPlaceholder(sec.Value) && word != "public_key" {
			logger.Warn("secret is written in the config, so it is also in the JSON config, the admin API's /config/ and autosave.json: give it as {env.NAME} or {file./path}",
				zap.Int(word, n), zap.String("key", label))
		}
		k.Label = label
		if sec.NotAfter != "" {
			if k.NotAfter, err = time.Parse(time.RFC3339, sec.NotAfter); err != nil {
				return out, fmt.Errorf("%s %d (%s): not_after %q is not an RFC 3339 time such as 2026-12-31T23:59:59Z", word, n, label, sec.NotAfter)
			}
			if !now.Before(k.NotAfter) {
				out.expired = append(out.expired, verifier.Key{Label: label, NotAfter: k.NotAfter})
				out.expiredKeys = append(out.expiredKeys, k)
				continue
			}
		}
		out.active = append(out.active, k)
	}
	if len(secrets) > 0 && len(out.active) == 0 {
		return out, fmt.Errorf("every %s has expired (not_after); add a current one", word)
	}
	return out, nil
}

// neutralLabel names the n-th secret by position only: the label of a weak
// secret, whose fingerprint is not shown.
func neutralLabel(n int) string { return fmt.Sprintf("secret-%d", n) }

// placeholderOnly matches a value that is one {env.*} or {file.*}
// placeholder and nothing else: the only forms that keep a secret out of
// the JSON config.
var placeholderOnly = regexp.MustCompile(`^\{(env|file)\.[^{}]+\}$`)

func isPlaceholder(v string) bool { return placeholderOnly.MatchString(v) }

// fingerprinter names strong secrets by their keyed Fingerprint, loading
// the installation key from the config's storage the first time one is
// needed. If the storage cannot give one, it names them by position, as
// weak ones are, and says why once: a secret never goes unnamed, and never
// gets an unkeyed fingerprint.
type fingerprinter struct {
	ctx    caddy.Context
	logger *zap.Logger
	key    []byte
	failed bool
}

func (f *fingerprinter) label(n int, key []byte) string {
	if f.key == nil && !f.failed {
		var err error
		if f.key, err = LoadFingerprintKey(f.ctx, configStorage(f.ctx)); err != nil {
			f.failed = true
			f.logger.Warn("no fingerprint key in Caddy's storage: secrets without a label are named by position (secret-1, ...); give them a label or fix the storage",
				zap.Error(err))
		}
	}
	if f.failed {
		return neutralLabel(n)
	}
	return Fingerprint(f.key, key)
}

// placeholderName returns value if it is nothing but one placeholder: a
// name, not a secret, so an error may show it.
func placeholderName(value string) (string, bool) {
	// Only {env.*} and {file.*}: a literal secret that happens to be
	// written in braces is not a name and must not be echoed.
	return value, isPlaceholder(value)
}

// placeholderProblem explains a failed resolution without echoing the
// value unless the value is nothing but a placeholder (a name, not a secret).
//
// An {env.*} placeholder is read from the environment of the process that
// loads the config: for `caddy reload` or the admin API that is the
// running server, never the shell that runs the reload, so
// `X=new caddy reload` cannot set X. The error says so, and points to
// {file.*} for a secret that will be rotated: a file is read afresh at
// every load.
func placeholderProblem(value string, err error) string {
	if name, ok := placeholderName(value); ok {
		if strings.HasPrefix(name, "{env.") {
			return fmt.Sprintf("%s did not resolve: the variable is unset or empty in the environment of the running server, "+
				"which is where it is read, not in that of the shell that runs caddy reload; "+
				"set it where the server is started (e.g. systemd's Environment= or EnvironmentFile=) and restart it, "+
				"and for a secret that will be rotated use {file./path}, which is read again at every load", name)
		}
		if strings.HasPrefix(name, "{file.") {
			return fmt.Sprintf("%s did not resolve to a value (is the file there, readable by the user the server runs as, and not empty?)", name)
		}
		return fmt.Sprintf("%s did not resolve to a value (a secret takes {env.NAME} or {file./path})", name)
	}
	_ = err // its text may quote part of a literal secret
	return "a placeholder in it did not resolve (use {env.NAME} or {file./path}; write a literal { as \\{)"
}
