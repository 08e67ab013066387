package caddymodule

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/caddyserver/caddy/v2"
	caddycmd "github.com/caddyserver/caddy/v2/cmd"
	"github.com/caddyserver/certmagic"
	"github.com/spf13/cobra"

	"github.com/hookguard/hookguard/signer"
	"github.com/hookguard/hookguard/verifier"
)

func init() {
	caddycmd.RegisterCommand(caddycmd.Command{
		Name:  "webhook",
		Usage: "secret|check-secret|sign|verify|status [flags]",
		Short: "Generates and checks webhook secrets, signs and verifies webhooks, shows webhook routes",
		Long: `
Tools for the webhook secrets and signatures that webhook_verify and
webhook_sign use:

  secret        print a new high-entropy secret in the format a scheme wants
  check-secret  read a secret from stdin and report each strength rule
  sign          print the signature headers for a body, or send it signed
  verify        say exactly why a captured request passes or fails
  status        show the running Caddy's webhook routes: counts, secrets, replay
`,
		CobraFunc: func(cmd *cobra.Command) {
			addWebhookCommands(cmd)
		},
	})
}

func addWebhookCommands(cmd *cobra.Command) {
	cmd.AddCommand(secretCommand(), checkSecretCommand(), signCommand(), verifyCommand(), statusCommand())
}

// These make a command exit 1 after it has said why on stdout.
var (
	errWeak         = errors.New("the secret is weak (see above)")
	errUnverified   = errors.New("the request fails verification (see above)")
	errReceiverSaid = errors.New("the receiver answered with an error status")
)

func secretCommand() *cobra.Command {
	var scheme string
	var n int
	c := &cobra.Command{
		Use:   "secret [--scheme <scheme>] [--bytes <n>]",
		Short: "Prints a new random secret (crypto/rand) for a scheme",
		Long: `Prints a new secret made of random bytes from crypto/rand, in the format the
scheme wants: whsec_ + base64 for standard and svix, URL-safe base64 otherwise.
The secret goes to stdout alone; advice on storing it goes to stderr.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runSecret(cmd.OutOrStdout(), cmd.ErrOrStderr(), scheme, n)
		},
	}
	c.Flags().StringVar(&scheme, "scheme", "standard", "scheme the secret is for")
	c.Flags().IntVar(&n, "bytes", signer.DefaultSecretBytes, "random bytes in the secret")
	return c
}

func runSecret(out, errOut io.Writer, scheme string, n int) error {
	s, err := buildScheme(scheme, SchemeFields{}, verifier.Options{})
	if err != nil {
		return err
	}
	secret, err := signer.GenerateSecret(s, n)
	if err != nil {
		return err
	}
	fmt.Fprintln(out, secret)
	fmt.Fprintf(errOut, `Store it where only Caddy can read it, and refer to it in the Caddyfile:
  in a file:   umask 077; %[2]s webhook secret > /etc/caddy/webhook.secret
               webhook_sign %[1]s {file./etc/caddy/webhook.secret}
  in the env:  WEBHOOK_SECRET=... and webhook_sign %[1]s {env.WEBHOOK_SECRET}
Not {$WEBHOOK_SECRET}: that copies the secret into the JSON config.
`, scheme, commandName)
	return nil
}

func checkSecretCommand() *cobra.Command {
	var scheme string
	c := &cobra.Command{
		Use:   "check-secret [--scheme <scheme>] < secret",
		Short: "Reads a secret from stdin and reports each strength rule",
		Long: `Reads a secret from standard input (never from the command line, which other
users can see in ps) and reports each rule webhook_sign holds it to: length,
character variety, common words and patterns, with an entropy estimate. With
--scheme standard or svix, a whsec_ secret is a key: it must decode to at
least 24 random-looking bytes (base64 of a password is judged as that
password, and is no key); any other secret that is hex or base64 of text is
judged as that text too (rule encoded). The report details what it found;
the load-time errors and warnings only name the rules, so keep this output
to yourself.
Exits 1 if any rule fails.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runCheckSecret(cmd.InOrStdin(), cmd.OutOrStdout(), scheme)
		},
	}
	c.Flags().StringVar(&scheme, "scheme", "", "judge the secret as this scheme uses it (whsec_ secrets by their decoded bytes)")
	return c
}

func runCheckSecret(in io.Reader, out io.Writer, scheme string) error {
	raw, err := io.ReadAll(io.LimitReader(in, 1<<20))
	if err != nil {
		return fmt.Errorf("reading secret from stdin: %w", err)
	}
	secret := trimNewline(string(raw))
	rep := signer.CheckSecret(secret)
	if scheme != "" {
		s, err := buildScheme(scheme, SchemeFields{}, verifier.Options{})
		if err != nil {
			return err
		}
		rep = signer.CheckSchemeKey(s, secret)
	}
	for _, f := range rep.Findings {
		verdict := "ok  "
		if !f.OK {
			verdict = "FAIL"
		}
		fmt.Fprintf(out, "%s %-8s %s\n", verdict, f.Rule, f.Detail)
	}
	fmt.Fprintf(out, "entropy  about %.0f bits\n", rep.EntropyBits)
	if !rep.OK() {
		fmt.Fprintln(out, "weak: generate a secret with "+subcommand("secret"))
		return errWeak
	}
	fmt.Fprintln(out, "strong enough")
	return nil
}

// keyFlags are the ways the sign and verify commands take secrets: from
// files or environment variables, never from argv.
type keyFlags struct {
	files, envs []string
}

func (k *keyFlags) register(c *cobra.Command) {
	c.Flags().StringArrayVar(&k.files, "secret-file", nil, "file holding a secret (repeatable)")
	c.Flags().StringArrayVar(&k.envs, "secret-env", nil, "environment variable holding a secret (repeatable)")
}

// load reads the secrets and labels each with where it came from and, if
// installKey is set (see cliFingerprintKey) and the secret is strong, the
// fingerprint the server's logs show for it. A weak secret gets no
// fingerprint here either: this output is pasted into tickets and chats.
func (k *keyFlags) load(s *verifier.Scheme, installKey []byte) ([]verifier.Key, error) {
	var keys []verifier.Key
	add := func(source, value string) error {
		if strings.TrimSpace(value) == "" {
			// A key of blanks is one anyone can compute, as at load.
			return fmt.Errorf("%s is empty or only whitespace", source)
		}
		key, err := s.DecodeSecret(value)
		if err != nil {
			return fmt.Errorf("%s: %w", source, err)
		}
		label := source
		if installKey != nil && signer.CheckSchemeKey(s, value).OK() {
			label = Fingerprint(installKey, key) + " (" + source + ")"
		}
		keys = append(keys, verifier.Key{Label: label, Secret: key})
		return nil
	}
	for _, f := range k.files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("reading secret: %w", err)
		}
		if err := add("file "+f, trimNewline(string(b))); err != nil {
			return nil, err
		}
	}
	for _, e := range k.envs {
		if err := add("env "+e, os.Getenv(e)); err != nil {
			return nil, err
		}
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("no secret: give --secret-file <path> or --secret-env <NAME>")
	}
	return keys, nil
}

func registerSchemeFlags(c *cobra.Command, scheme *string, g *SchemeFields) {
	c.Flags().StringVar(scheme, "scheme", "standard", "scheme: "+verifier.PresetList()+", hmac or token")
	c.Flags().StringVar(&g.Header, "header", "", "hmac/token: signature or token header")
	c.Flags().StringVar(&g.Algorithm, "algorithm", "", "hmac: sha1, sha256 or sha512")
	c.Flags().StringVar(&g.Encoding, "encoding", "", "hmac: hex, base64 or base64url")
	c.Flags().StringVar(&g.Prefix, "prefix", "", "hmac: text before the signature")
	c.Flags().StringVar(&g.SignedContent, "signed-content", "", "hmac: what is signed, e.g. {timestamp}.{body}")
	c.Flags().StringVar(&g.TimestampHeader, "timestamp-header", "", "hmac: timestamp header")
	c.Flags().StringVar(&g.IDHeader, "id-header", "", "hmac/token: delivery id header")
}

func signCommand() *cobra.Command {
	var (
		scheme, bodyPath, sendURL, id string
		g                             SchemeFields
		keys                          keyFlags
		insecure                      bool
		extra                         []string
	)
	c := &cobra.Command{
		Use:   "sign --scheme <scheme> --secret-file <path>|--secret-env <NAME> [--body <file>|-] [--send <url> [--insecure]]",
		Short: "Prints the signature headers for a body, or sends the signed request",
		Long: `Signs a body (a file, or stdin with --body -) as the scheme's sender does and
prints the headers to add. With --send, POSTs the body with those headers to
the URL and prints the response status: the quickest way to test a route.
Redirects are not followed (they would carry the signature, or a token, and
the body elsewhere): a 3xx answer is printed with its Location.
--insecure skips verification of the URL's TLS certificate (development only).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			body, err := readInput(cmd.InOrStdin(), bodyPath)
			if err != nil {
				return err
			}
			return runSign(cmd.OutOrStdout(), signRequest{
				scheme: scheme, fields: g, keys: keys, body: body, id: id,
				send: sendURL, insecure: insecure, extra: extra, now: time.Now(),
			})
		},
	}
	registerSchemeFlags(c, &scheme, &g)
	keys.register(c)
	c.Flags().StringVar(&bodyPath, "body", "-", "file with the body, or - for stdin")
	c.Flags().StringVar(&id, "id", "", "delivery id (default: a fresh one)")
	c.Flags().StringVar(&sendURL, "send", "", "POST the signed body to this URL")
	c.Flags().BoolVar(&insecure, "insecure", false, "with --send: do not verify the TLS certificate")
	c.Flags().StringArrayVar(&extra, "H", nil, "with --send: extra header 'Name: value' (repeatable)")
	return c
}

type signRequest struct {
	scheme   string
	fields   SchemeFields
	keys     keyFlags
	body     []byte
	id       string
	send     string
	insecure bool
	extra    []string
	now      time.Time
}

func runSign(out io.Writer, req signRequest) error {
	s, err := buildScheme(req.scheme, req.fields, verifier.Options{})
	if err != nil {
		return err
	}
	keys, err := req.keys.load(s, nil) // sign prints no labels
	if err != nil {
		return err
	}
	secrets := make([][]byte, len(keys))
	for i, k := range keys {
		secrets[i] = k.Secret
	}
	if req.id == "" {
		req.id = signer.NewID()
	}
	h := signer.Sign(s, secrets, signer.Message{Body: req.body, ID: req.id, Time: req.now})
	if req.send == "" {
		names := make([]string, 0, len(h))
		for name := range h {
			names = append(names, name)
		}
		sort.Strings(names)
		for _, name := range names {
			for _, v := range h[name] {
				fmt.Fprintf(out, "%s: %s\n", name, v)
			}
		}
		return nil
	}

	r, err := http.NewRequest(http.MethodPost, req.send, bytes.NewReader(req.body))
	if err != nil {
		return fmt.Errorf("--send: %w", err)
	}
	r.Header.Set("Content-Type", "application/json")
	for _, e := range req.extra {
		name, value, ok := strings.Cut(e, ":")
		if !ok {
			return fmt.Errorf("-H %q: write 'Name: value'", e)
		}
		r.Header.Set(strings.TrimSpace(name), strings.TrimSpace(value))
	}
	for name, vals := range h {
		r.Header[name] = vals
	}
	client := &http.Client{
		Timeout: 30 * time.Second,
		// A redirect would re-send the signature (or, for token schemes,
		// the secret itself) and the body to wherever the receiver points:
		// stop at the first answer and let the user decide.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	if req.insecure {
		client.Transport = &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}} //nolint:gosec // asked for with --insecure
	}
	resp, err := client.Do(r)
	if err != nil {
		return fmt.Errorf("sending: %w", err)
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	fmt.Fprintf(out, "%s %s\n", resp.Proto, resp.Status)
	if loc := resp.Header.Get("Location"); loc != "" && resp.StatusCode >= 300 && resp.StatusCode < 400 {
		fmt.Fprintf(out, "Location: %s\n", loc)
		fmt.Fprintln(out, "not followed: the signed request was sent to --send only; if you trust the new address, send it there with --send")
	}
	if len(answer) > 0 {
		fmt.Fprintf(out, "%s\n", bytes.TrimRight(answer, "\n"))
	}
	if resp.StatusCode >= 300 {
		return errReceiverSaid
	}
	return nil
}

func verifyCommand() *cobra.Command {
	var (
		scheme, capturePath string
		g                   SchemeFields
		keys                keyFlags
		tolerance           time.Duration
		at                  int64
		legacy              bool
	)
	c := &cobra.Command{
		Use:   "verify --scheme <scheme> --secret-file <path>|--secret-env <NAME> [--capture <file>|-]",
		Short: "Says exactly why a captured request passes or fails",
		Long: `Reads a captured request (raw HTTP/1.1, or JSON: {"method", "url", "headers",
"body" or "body_base64"}) and verifies it as webhook_verify would, printing
which header is missing or malformed, which secrets were tried, the timestamp
skew against the tolerance, the body's length and digest, and whether a
trailing newline or a re-encoded body explains a mismatch.
A strong secret is named by the fingerprint Caddy's logs show for it, keyed
with the installation key in Caddy's default storage (run this as the user
Caddy runs as); without that key, or for a weak secret, by where it came from.
Exits 0 if it passes, 1 if it fails.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			data, err := readInput(cmd.InOrStdin(), capturePath)
			if err != nil {
				return err
			}
			now := time.Now()
			if at > 0 {
				now = time.Unix(at, 0)
			}
			var tol *time.Duration
			if cmd.Flags().Changed("tolerance") {
				tol = &tolerance
			}
			installKey, err := cliFingerprintKey(cmd.Context())
			if err != nil {
				fmt.Fprintf(cmd.ErrOrStderr(), "note: secrets are named by where they came from, without the fingerprint Caddy's logs show: %v\n", err)
			}
			return runVerify(cmd.OutOrStdout(), data, scheme, g, legacy, keys, installKey, tol, now)
		},
	}
	registerSchemeFlags(c, &scheme, &g)
	keys.register(c)
	c.Flags().StringVar(&capturePath, "capture", "-", "file with the captured request, or - for stdin")
	c.Flags().DurationVar(&tolerance, "tolerance", 0, "timestamp tolerance (default: the scheme's; 0 = off)")
	c.Flags().Int64Var(&at, "at", 0, "verify as if the Unix time were this (for old captures)")
	c.Flags().BoolVar(&legacy, "legacy-sha1", false, "github: accept X-Hub-Signature (SHA-1)")
	return c
}

func runVerify(out io.Writer, data []byte, scheme string, g SchemeFields, legacy bool, keys keyFlags, installKey []byte, tolerance *time.Duration, now time.Time) error {
	s, err := buildScheme(scheme, g, verifier.Options{LegacySHA1: legacy})
	if err != nil {
		return err
	}
	ks, err := keys.load(s, installKey)
	if err != nil {
		return err
	}
	capture, err := verifier.ReadCapture(data)
	if err != nil {
		return err
	}
	tol := s.Tolerance
	if tolerance != nil {
		tol = *tolerance
	}
	if _, err := s.Explain(out, capture.Header, capture.Body, ks, tol, now); err != nil {
		return errUnverified
	}
	return nil
}

// cliStorage is where the CLI looks for the installation's fingerprint
// key: Caddy's default storage, the one a config without a storage block
// uses (under $XDG_DATA_HOME/caddy, else ~/.local/share/caddy, of the user
// running the command). A var so tests can point it elsewhere.
var cliStorage = func() certmagic.Storage { return caddy.DefaultStorage }

// cliFingerprintKey returns the fingerprint key the server uses, so the
// CLI's fingerprints match the logs. It only reads: a key made here would
// be this user's, not the server's (Caddy usually runs as its own user),
// and its fingerprints would silently disagree with the logs. Without one
// the CLI shows no fingerprints at all rather than different ones.
func cliFingerprintKey(ctx context.Context) ([]byte, error) {
	if ctx == nil {
		ctx = context.Background()
	}
	key, err := ReadFingerprintKey(ctx, cliStorage())
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w (Caddy has not needed one yet, runs as another user, or uses another storage; run this as Caddy's user, with its XDG_DATA_HOME)", err)
	}
	return key, err
}

func readInput(stdin io.Reader, path string) ([]byte, error) {
	if path == "-" || path == "" {
		return io.ReadAll(stdin)
	}
	return os.ReadFile(path)
}

// trimNewline drops one trailing newline, as Caddy's {file.*} does.
func trimNewline(s string) string {
	s = strings.TrimSuffix(s, "\n")
	return strings.TrimSuffix(s, "\r")
}
