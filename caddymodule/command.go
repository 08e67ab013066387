package caddymodule

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"

	caddycmd "github.com/caddyserver/caddy/v2/cmd"
	"github.com/spf13/cobra"

	"github.com/hookguard/hookguard/preset"
	"github.com/hookguard/hookguard/signer"
	"github.com/hookguard/hookguard/verifier"
)

func init() {
	caddycmd.RegisterCommand(caddycmd.Command{
		Name:  "webhook",
		Usage: "secret|check-secret|sign|verify|fingerprint|status|schemes|version [flags]",
		Short: "Generates and checks webhook secrets, signs and verifies webhooks, shows webhook routes",
		Long: `
Tools for the webhook secrets and signatures that webhook_verify and
webhook_sign use:

  secret        print a new high-entropy secret in the format a scheme wants
  check-secret  read a secret from stdin and report each strength rule
  sign          print the signature headers for a body, or send it signed
  verify        say exactly why a captured request passes or fails
  fingerprint   print the label (fp-...) logs and metrics show for a secret
  status        show the running Caddy's webhook routes: counts, secrets, replay
  schemes       list the senders hookguard knows, or show one in full
  version       print hookguard's version and Caddy's
`,
		CobraFunc: func(cmd *cobra.Command) {
			addWebhookCommands(cmd)
		},
	})
}

func addWebhookCommands(cmd *cobra.Command) {
	for _, c := range []*cobra.Command{
		secretCommand(), checkSecretCommand(), signCommand(), verifyCommand(),
		fingerprintCommand(), statusCommand(), versionCommand(), schemesCommand(), relayCommand(),
	} {
		quietWhenSaid(c)
		cmd.AddCommand(c)
	}
}

// These make a command exit 1 after it has said why on stdout.
var (
	errWeak         = errors.New("the secret is weak (see above)")
	errUnverified   = errors.New("the request fails verification (see above)")
	errReceiverSaid = errors.New("the receiver answered with an error status")
)

// quietWhenSaid keeps cobra from printing "Error: ..." after a command
// that has already said why it fails (errWeak, errUnverified,
// errReceiverSaid): one verdict, not two. The exit status stays 1.
func quietWhenSaid(c *cobra.Command) {
	run := c.RunE
	c.RunE = func(cmd *cobra.Command, args []string) error {
		err := run(cmd, args)
		if errors.Is(err, errWeak) || errors.Is(err, errUnverified) || errors.Is(err, errReceiverSaid) {
			cmd.SilenceErrors = true
		}
		return err
	}
}

// secretScheme is the scheme a secret is made, judged or fingerprinted
// for. The generic schemes read a secret as its bytes whatever header
// they use, so hmac and token need no --header here.
func secretScheme(name string) (*verifier.Scheme, error) {
	var g SchemeFields
	if name == "hmac" || name == "token" {
		g.Header = "X-Signature" // any name: only the secret's format matters
	}
	return buildScheme(name, g, preset.Options{})
}

func secretCommand() *cobra.Command {
	var scheme string
	var n int
	c := &cobra.Command{
		Use:   "secret [--scheme <scheme>] [--bytes <n>]",
		Short: "Prints a new random secret (crypto/rand) for a scheme",
		Long: `Prints a new secret made of random bytes from crypto/rand, in the format the
scheme wants: whsec_ + base64 for standard and svix, URL-safe base64 otherwise
(hmac and token included). The secret goes to stdout alone; advice on where it
goes (webhook_verify for a secret you give a sender, webhook_sign for one you
sign with) and how to store it goes to stderr.
For a scheme that signs with a key pair, prints a new pair instead, as two
lines: "private_key <key>" (for webhook_sign) and "public_key <key>" (for the
receiver's webhook_verify).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runSecret(cmd.OutOrStdout(), cmd.ErrOrStderr(), scheme, n, cmd.Flags().Changed("bytes"))
		},
	}
	c.Flags().StringVar(&scheme, "scheme", "standard", "scheme the secret is for: "+preset.List()+", hmac or token")
	c.Flags().IntVar(&n, "bytes", signer.DefaultSecretBytes, "random bytes in the secret")
	return c
}

func runSecret(out, errOut io.Writer, scheme string, n int, bytesGiven bool) error {
	s, err := secretScheme(scheme)
	if err != nil {
		return err
	}
	if s.Asymmetric() {
		if bytesGiven {
			return fmt.Errorf("--bytes: scheme %s signs with a key pair (%s), whose size the algorithm fixes", s.Name, s.Algorithm.Name())
		}
		return runKeyPair(out, errOut, s)
	}
	secret, err := signer.GenerateSecret(s, n)
	if err != nil {
		return err
	}
	fmt.Fprintln(out, secret)
	fmt.Fprint(errOut, secretAdvice(scheme))
	return nil
}

// senderMadeSecret lists the schemes whose senders make the secret and
// hand it to the receiver: a secret generated here is one to sign with.
// For the others the receiver usually chooses it and gives it to the
// sender, where the value below says.
var senderMadeSecret = map[string]bool{"stripe": true, "slack": true, "shopify": true, "standard": true, "svix": true}

var whereSenderTakesIt = map[string]string{
	"github":    "as the Secret of the webhook's settings",
	"gitlab":    "as the Secret token of the webhook's settings",
	"bitbucket": "as the Secret of the webhook's settings",
}

// secretAdvice says where a secret generated for scheme goes: the
// directive that uses it for each direction, and how to store it.
func secretAdvice(scheme string) string {
	const file = "/etc/caddy/webhook.secret"
	directive := func(handler string) string {
		line := fmt.Sprintf("      %s %s {file.%s}", handler, scheme, file)
		switch scheme {
		case "hmac":
			line += " {\n          header X-Signature\n      }"
		case "token":
			line += " {\n          header X-Token\n      }"
		}
		return line + "\n"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Store it where only Caddy can read it:\n      umask 077; %s webhook secret --scheme %s > %s\n", commandName, scheme, file)
	if senderMadeSecret[scheme] {
		fmt.Fprintf(&b, "Receiving: a %[1]s sender makes its own secret; put the one it gives you in webhook_verify %[1]s, not this one.\n", scheme)
		fmt.Fprintf(&b, "This one is for webhooks you send: give it to the receiver, and sign with\n%s", directive("webhook_sign"))
	} else {
		where := whereSenderTakesIt[scheme]
		if where == "" {
			where = "in its webhook settings"
		}
		fmt.Fprintf(&b, "Receiving: give it to the sender (%s), and check what it sends with\n%s", where, directive("webhook_verify"))
		fmt.Fprintf(&b, "Sending: to sign webhooks you send, give it to the receiver, and sign with\n%s", directive("webhook_sign"))
	}
	fmt.Fprintf(&b, "Or from the environment: {env.WEBHOOK_SECRET}, not {$WEBHOOK_SECRET}: that copies the secret into the JSON config.\n")
	fmt.Fprintf(&b, "Another scheme: --scheme <name> (%s, hmac or token).\n", preset.List())
	return b.String()
}

func checkSecretCommand() *cobra.Command {
	var scheme string
	c := &cobra.Command{
		Use:   "check-secret [--scheme <scheme>] < secret",
		Short: "Reads a secret from stdin and reports each strength rule",
		Long: `Reads a secret from standard input (never from the command line, which other
users can see in ps) and reports each rule webhook_sign holds it to: length,
character variety, common words and patterns (the characters outside them
are what a guesser must still guess: at least 12), with an entropy
estimate. With --scheme standard or svix, a whsec_ secret is a key: it must
decode to at least 24 random-looking bytes (base64 of a password is judged
as that password, and is no key); any other secret that is hex or base64 of
text is judged as that text too (rule encoded). The report details what it
found; the load-time errors and warnings only name the rules, so keep this
output to yourself.
Exits 1 if any rule fails, or if the secret is empty.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			stdinHint(cmd, "the secret")
			return runCheckSecret(cmd.InOrStdin(), cmd.OutOrStdout(), scheme)
		},
	}
	c.Flags().StringVar(&scheme, "scheme", "", "judge the secret as this scheme uses it (whsec_ secrets by their decoded bytes)")
	return c
}

func runCheckSecret(in io.Reader, out io.Writer, scheme string) error {
	secret, err := readSecret(in)
	if err != nil {
		return err
	}
	rep := signer.CheckSecret(secret)
	if scheme != "" {
		s, err := secretScheme(scheme)
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
		fmt.Fprintf(out, "weak: breaks rule %s; generate a strong one with %s\n", ruleList(rep.Broken()), secretCommandFor(scheme))
		return errWeak
	}
	fmt.Fprintln(out, "strong enough")
	return nil
}

// readSecret reads a secret from stdin as {file.*} would: one trailing
// newline dropped. An empty or blank one is an error, as at load.
func readSecret(in io.Reader) (string, error) {
	raw, err := io.ReadAll(io.LimitReader(in, 1<<20))
	if err != nil {
		return "", fmt.Errorf("reading secret from stdin: %w", err)
	}
	secret := trimNewline(string(raw))
	switch {
	case secret == "":
		return "", errors.New("the secret is empty: nothing came on stdin (give it as < file, or printf '%s' \"$SECRET\" | ...)")
	case strings.TrimSpace(secret) == "":
		return "", errors.New("the secret is only whitespace: a key anyone can compute, refused at load")
	}
	return secret, nil
}

// ruleList is "length", "length and common", "length, variety and common".
func ruleList(rules []signer.Rule) string {
	names := make([]string, len(rules))
	for i, r := range rules {
		names[i] = string(r)
	}
	if len(names) <= 1 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
}

// secretCommandFor is the command that makes a secret for scheme, quoted
// for a message; with no scheme known it shows where to name one.
func secretCommandFor(scheme string) string {
	if scheme == "" {
		scheme = "<scheme>"
	}
	return subcommand("secret --scheme " + scheme)
}

// stdinHint says, on stderr, that a command waits for what on a
// terminal: without it a command reading stdin looks hung.
func stdinHint(cmd *cobra.Command, what string) {
	if f, ok := cmd.InOrStdin().(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			fmt.Fprintf(cmd.ErrOrStderr(), "reading %s from stdin: end it with Ctrl-D\n", what)
		}
	}
}

// keyFlags are the ways the sign and verify commands take secrets: from
// files or environment variables, never from argv.
type keyFlags struct {
	files, envs []string
	// private says which half of a key pair a key-pair scheme's keys
	// are: the private one to sign with, else the public one.
	private bool
}

func (k *keyFlags) register(c *cobra.Command) {
	half := "public"
	if k.private {
		half = "private"
	}
	c.Flags().StringArrayVar(&k.files, "secret-file", nil, "file holding a secret, or for a key-pair scheme the "+half+" key (repeatable)")
	c.Flags().StringArrayVar(&k.envs, "secret-env", nil, "environment variable holding a secret, or for a key-pair scheme the "+half+" key (repeatable)")
}

// weakSecret is a loaded secret that breaks a strength rule: where it came
// from and its report.
type weakSecret struct {
	source string
	report signer.Report
}

// load reads the secrets and labels each with where it came from and, if
// installKey is set (see cliFingerprintKey) and the secret is strong, the
// fingerprint the server's logs show for it. A weak secret gets no
// fingerprint here either: this output is pasted into tickets and chats.
// The weak ones are listed too, for a warning.
func (k *keyFlags) load(s *verifier.Scheme, installKey []byte) ([]verifier.Key, []weakSecret, error) {
	private := k.private
	var keys []verifier.Key
	var weak []weakSecret
	add := func(source, value string) error {
		if strings.TrimSpace(value) == "" {
			// A key of blanks is one anyone can compute, as at load.
			return fmt.Errorf("%s is empty or only whitespace", source)
		}
		if s.Asymmetric() {
			// A key pair's half, as the sender publishes it: named by
			// where it came from, and not judged for strength.
			key := verifier.Key{Label: source}
			var err error
			if private {
				key.Private, err = s.ParsePrivateKey(value)
			} else {
				key.Public, err = s.ParsePublicKey(value)
			}
			if err != nil {
				return fmt.Errorf("%s: %w", source, err)
			}
			keys = append(keys, key)
			return nil
		}
		key, err := s.DecodeSecret(value)
		if err != nil {
			return fmt.Errorf("%s: %w", source, err)
		}
		rep := signer.CheckSchemeKey(s, value)
		label := source
		if installKey != nil && rep.OK() {
			label = Fingerprint(installKey, key) + " (" + source + ")"
		}
		if !rep.OK() {
			weak = append(weak, weakSecret{source: source, report: rep})
		}
		keys = append(keys, verifier.Key{Label: label, Secret: key})
		return nil
	}
	for _, f := range k.files {
		b, err := os.ReadFile(f) //nolint:gosec // G304: the user names the file on the command line
		if err != nil {
			return nil, nil, fmt.Errorf("reading secret: %w", err)
		}
		if err := add("file "+f, trimNewline(string(b))); err != nil {
			return nil, nil, err
		}
	}
	for _, e := range k.envs {
		if err := add("env "+e, os.Getenv(e)); err != nil {
			return nil, nil, err
		}
	}
	if len(keys) == 0 {
		return nil, nil, fmt.Errorf("no secret: give --secret-file <path> or --secret-env <NAME>")
	}
	return keys, weak, nil
}

func registerSchemeFlags(c *cobra.Command, scheme *string, g *SchemeFields) {
	c.Flags().StringVar(scheme, "scheme", "standard", "scheme: "+preset.List()+", hmac or token")
	c.Flags().StringVar(&g.Header, "header", "", "hmac/token: signature or token header")
	c.Flags().StringVar(&g.Algorithm, "algorithm", "", "hmac: sha1, sha256 or sha512")
	c.Flags().StringVar(&g.Encoding, "encoding", "", "hmac: hex, base64 or base64url")
	c.Flags().StringVar(&g.Prefix, "prefix", "", "hmac: text before the signature")
	c.Flags().StringVar(&g.SignedContent, "signed-content", "", "hmac: what is signed, e.g. {timestamp}.{body}")
	c.Flags().StringVar(&g.TimestampHeader, "timestamp-header", "", "hmac: timestamp header")
	c.Flags().StringVar(&g.IDHeader, "id-header", "", "hmac/token: delivery id header")
}

// parseAt reads the time of --at: a Unix time or an RFC 3339 time.
func parseAt(v string) (time.Time, error) {
	if sec, err := strconv.ParseInt(v, 10, 64); err == nil {
		return time.Unix(sec, 0), nil
	}
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("--at %q: give a Unix time (1700000000) or an RFC 3339 time (2023-11-14T22:13:20Z)", v)
}

func signCommand() *cobra.Command {
	var (
		scheme, bodyPath, sendURL, signURL, id, at, caCert string
		g                                                  SchemeFields
		keys                                               = keyFlags{private: true}
		insecure                                           bool
		extra                                              []string
	)
	c := &cobra.Command{
		Use:   "sign --scheme <scheme> --secret-file <path>|--secret-env <NAME> [--body <file>|-] [--at <time>] [--send <url> [-H 'Name: value'] [--cacert <pem>|--insecure]]",
		Short: "Prints the signature headers for a body, or sends the signed request",
		Long: `Signs a body (a file, or stdin with --body -) as the scheme's sender does and
prints the headers to add. With --send, POSTs the body with those headers to
the URL and prints the response status: the quickest way to test a route.
-H 'Name: value' adds a header to the request sent, as curl's -H does.
--at signs as of another time, a Unix time or RFC 3339 (also --timestamp):
an old one makes a stale request, to see a receiver refuse it.
Redirects are not followed (they would carry the signature, or a token, and
the body elsewhere): a 3xx answer is printed with its Location.
--cacert <file> trusts the certificates in that PEM file, and only them, for
the receiver's TLS certificate (a self-signed receiver, or a private CA), as
reverse_proxy's tls_trust_pool file does. --insecure skips verification of
the certificate: the last resort, for development only.
Warns on stderr when the body read from stdin is empty, and when a secret
is one webhook_sign would refuse at load.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			fromStdin := bodyPath == "-" || bodyPath == ""
			if fromStdin {
				stdinHint(cmd, "the body")
			}
			body, err := readInput(cmd.InOrStdin(), bodyPath)
			if err != nil {
				return err
			}
			req := signRequest{
				scheme: scheme, fields: g, keys: keys, body: body, id: id, emptyStdin: fromStdin && len(body) == 0,
				send: sendURL, url: signURL, caCert: caCert, insecure: insecure, extra: extra, now: time.Now(),
			}
			if at != "" {
				if req.at, err = parseAt(at); err != nil {
					return err
				}
			}
			return runSign(cmd.OutOrStdout(), cmd.ErrOrStderr(), req)
		},
	}
	registerSchemeFlags(c, &scheme, &g)
	keys.register(c)
	c.Flags().StringVar(&bodyPath, "body", "-", "file with the body, or - for stdin")
	c.Flags().StringVar(&id, "id", "", "delivery id (default: a fresh one)")
	c.Flags().StringVar(&at, "at", "", "sign as of this time, Unix or RFC 3339 (default: now); an old one makes a stale request")
	c.Flags().StringVar(&at, "timestamp", "", "same as --at")
	c.Flags().StringVar(&sendURL, "send", "", "POST the signed body to this URL")
	c.Flags().StringVar(&signURL, "url", "", "the URL the receiver is called at, for schemes that sign it (default: --send's)")
	c.Flags().StringVar(&caCert, "cacert", "", "with --send: trust only the certificates in this PEM file for the receiver's TLS")
	c.Flags().BoolVar(&insecure, "insecure", false, "with --send: do not verify the TLS certificate (last resort)")
	c.Flags().StringArrayVarP(&extra, "H", "H", nil, "with --send: extra header 'Name: value' (repeatable)")
	return c
}

type signRequest struct {
	scheme     string
	fields     SchemeFields
	keys       keyFlags
	body       []byte
	emptyStdin bool // body is empty and was read from stdin
	id         string
	at         time.Time // sign as of this time; zero: now
	send       string
	url        string // the URL signed, for schemes that sign it; default: send
	caCert     string
	insecure   bool
	extra      []string
	now        time.Time
}

func runSign(out, errOut io.Writer, req signRequest) error {
	s, err := buildScheme(req.scheme, req.fields, preset.Options{})
	if err != nil {
		return err
	}
	keys, weak, err := req.keys.load(s, nil) // sign prints no labels
	if err != nil {
		return err
	}
	if req.caCert != "" && req.insecure {
		return errors.New("give --cacert or --insecure, not both: --insecure would skip the check --cacert sets up")
	}
	for _, w := range weak {
		fmt.Fprintf(errOut, "warning: the secret in %s is weak (breaks rule %s): webhook_sign would refuse it at load; %s says why\n",
			w.source, ruleList(w.report.Broken()), subcommand("check-secret --scheme "+req.scheme))
	}
	if req.emptyStdin {
		fmt.Fprintln(errOut, "warning: the body is empty (nothing on stdin?): signing an empty body; give the body on stdin or with --body <file>")
	}
	if req.send == "" && (len(req.extra) > 0 || req.caCert != "" || req.insecure) {
		fmt.Fprintln(errOut, "note: -H, --cacert and --insecure only apply with --send; ignored")
	}
	signAt := req.now
	if !req.at.IsZero() {
		signAt = req.at
		if !s.Timestamped() {
			fmt.Fprintf(errOut, "note: scheme %s signs no timestamp: --at changes nothing\n", s.Name)
		} else if d := req.now.Sub(signAt).Round(time.Second); d > 0 {
			fmt.Fprintf(errOut, "note: signed as of %s, %s ago: a receiver whose tolerance is shorter refuses it as stale (%s's default: %s)\n",
				signAt.UTC().Format(time.RFC3339), d, s.Name, s.Tolerance)
		}
	}
	if req.id == "" {
		req.id = signer.IDFor(s, "")
	}
	msg := signer.Message{Body: req.body, ID: req.id, Time: signAt, Method: http.MethodPost, URL: req.url}
	if msg.URL == "" {
		msg.URL = req.send
	}
	if s.UsesURL() && msg.URL == "" {
		return fmt.Errorf("scheme %s signs the URL the receiver is called at: give it with --url, or --send", s.Name)
	}
	h, err := signer.SignKeys(s, keys, msg)
	if err != nil {
		return err
	}
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
	given := map[string]bool{}
	for _, e := range req.extra {
		name, value, ok := strings.Cut(e, ":")
		name = strings.TrimSpace(name)
		if !ok || name == "" {
			return fmt.Errorf("-H %q: write 'Name: value'", e)
		}
		// As curl: a header given replaces the default, and one given
		// twice is sent twice.
		if !given[http.CanonicalHeaderKey(name)] {
			r.Header.Del(name)
			given[http.CanonicalHeaderKey(name)] = true
		}
		r.Header.Add(name, strings.TrimSpace(value))
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
	switch {
	case req.caCert != "":
		pool, err := loadCACert(req.caCert)
		if err != nil {
			return err
		}
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
		client.Transport = t
	case req.insecure:
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.TLSClientConfig = &tls.Config{InsecureSkipVerify: true} //nolint:gosec // asked for with --insecure
		client.Transport = t
	}
	if r.URL.Scheme == "http" && !isLoopbackHost(r.URL.Hostname()) {
		what := "the signature"
		if s.Compares() {
			what = "the token, the secret itself,"
		}
		fmt.Fprintf(errOut, "warning: --send uses plain http to %s: %s and the body cross the network unencrypted\n", r.URL.Host, what)
	}
	resp, err := client.Do(r)
	if err != nil {
		return sendError(err, req.caCert)
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	fmt.Fprintf(out, "%s %s\n", resp.Proto, printable(resp.Status))
	if loc := resp.Header.Get("Location"); loc != "" && resp.StatusCode >= 300 && resp.StatusCode < 400 {
		fmt.Fprintf(out, "Location: %s\n", printable(loc))
		fmt.Fprintln(out, "not followed: the signed request was sent to --send only; if you trust the new address, send it there with --send")
	}
	if len(answer) > 0 {
		fmt.Fprintf(out, "%s\n", printable(string(bytes.TrimRight(answer, "\n"))))
	}
	if resp.StatusCode >= 300 {
		return errReceiverSaid
	}
	return nil
}

// loadCACert reads a PEM file of certificates to trust, and only those.
func loadCACert(path string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(path) //nolint:gosec // G304: the user names the file (--cacert)
	if err != nil {
		return nil, fmt.Errorf("--cacert: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("--cacert %s: no PEM certificate in it (-----BEGIN CERTIFICATE-----)", path)
	}
	return pool, nil
}

// sendError says what to do when the receiver's certificate is not
// trusted: pin it, and skip the check only as a last resort.
func sendError(err error, caCert string) error {
	var cve *tls.CertificateVerificationError
	if !errors.As(err, &cve) {
		return fmt.Errorf("sending: %w", err)
	}
	if caCert != "" {
		return fmt.Errorf("sending: %w: the receiver's certificate is not one --cacert %s vouches for (give its own certificate or its CA's, PEM)", err, caCert)
	}
	return fmt.Errorf("sending: %w: to trust this receiver's certificate, give --cacert <its certificate or its CA's, PEM> (as tls_trust_pool file does in the Caddyfile); --insecure skips the check, as a last resort", err)
}

func verifyCommand() *cobra.Command {
	var (
		scheme, capturePath, at string
		g                       SchemeFields
		keys                    keyFlags
		st                      storageFlags
		tolerance               time.Duration
		legacy                  bool
		calledURL               string
	)
	c := &cobra.Command{
		Use:   "verify --scheme <scheme> --secret-file <path>|--secret-env <NAME> [--capture <file>|-] [--at <time>]",
		Short: "Says exactly why a captured request passes or fails",
		Long: `Reads a captured request (raw HTTP/1.1, or JSON: {"method", "url", "headers",
"body" or "body_base64"}) and verifies it as webhook_verify would, printing
which header is missing or malformed, which secrets were tried, the timestamp
skew against the tolerance, the body's length and digest, and whether a
trailing newline or a re-encoded body explains a mismatch. A capture older
than the tolerance still has its signature checked; --at <its timestamp>
checks all of it as of when it was sent (--at takes a Unix time or RFC 3339).
When the capture has none of the scheme's headers, it names the scheme whose
headers it has (--scheme defaults to standard).
A strong secret is named by the fingerprint Caddy's logs show for it, keyed
with the installation key in Caddy's storage (the default storage, or that of
the config given with --config; run this as the user Caddy runs as); without
that key, or for a weak secret, by where it came from.
Exits 0 if it passes, 1 if it fails.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if capturePath == "-" || capturePath == "" {
				stdinHint(cmd, "the captured request")
			}
			data, err := readInput(cmd.InOrStdin(), capturePath)
			if err != nil {
				return err
			}
			req := verifyRequest{
				scheme: scheme, schemeGiven: cmd.Flags().Changed("scheme"), fields: g, legacy: legacy,
				keys: keys, capture: data, now: time.Now(), url: calledURL,
			}
			if at != "" {
				if req.now, err = parseAt(at); err != nil {
					return err
				}
				req.atGiven = true
			}
			if cmd.Flags().Changed("tolerance") {
				req.tolerance = &tolerance
			}
			ctx := cmd.Context()
			if ctx == nil {
				ctx = context.Background()
			}
			stor, done, err := st.storage(ctx)
			if err != nil {
				return err
			}
			defer done()
			req.installKey, err = cliFingerprintKey(ctx, stor)
			if err != nil {
				fmt.Fprintf(cmd.ErrOrStderr(), "note: secrets are named by where they came from, without the fingerprint Caddy's logs show: %v\n", err)
			}
			return runVerify(cmd.OutOrStdout(), req)
		},
	}
	registerSchemeFlags(c, &scheme, &g)
	keys.register(c)
	st.register(c)
	c.Flags().StringVar(&capturePath, "capture", "-", "file with the captured request, or - for stdin")
	c.Flags().DurationVar(&tolerance, "tolerance", 0, "timestamp tolerance (default: the scheme's; 0 = off)")
	c.Flags().StringVar(&at, "at", "", "verify as of this time, Unix or RFC 3339 (for old captures: their timestamp)")
	c.Flags().BoolVar(&legacy, "legacy-sha1", false, "github: accept X-Hub-Signature (SHA-1)")
	c.Flags().StringVar(&calledURL, "url", "", "the URL the sender called, for schemes that sign it (default: https://, the capture's Host and its request-target)")
	return c
}

type verifyRequest struct {
	url         string // the URL the sender called; "": from the capture
	scheme      string
	schemeGiven bool // --scheme was given, not defaulted
	fields      SchemeFields
	legacy      bool
	keys        keyFlags
	installKey  []byte
	capture     []byte
	tolerance   *time.Duration // nil: the scheme's
	now         time.Time
	atGiven     bool // now is --at, not this machine's clock
}

func runVerify(out io.Writer, req verifyRequest) error {
	s, err := buildScheme(req.scheme, req.fields, preset.Options{LegacySHA1: req.legacy})
	if err != nil {
		return err
	}
	ks, _, err := req.keys.load(s, req.installKey)
	if err != nil {
		return err
	}
	capture, err := verifier.ReadCapture(req.capture)
	if err != nil {
		return err
	}
	o := verifier.ExplainOptions{Tolerance: s.Tolerance, Now: req.now, AsOf: func(ts string) string { return "add --at " + ts }}
	if req.tolerance != nil {
		o.Tolerance = *req.tolerance
	}
	if req.atGiven {
		o.Clock = "--at"
	}
	r := verifier.Request{Method: capture.Method, URL: req.url, Header: capture.Header}
	if r.URL == "" {
		r.URL = capture.URL
		if strings.HasPrefix(r.URL, "/") && capture.Host != "" {
			// Webhooks are sent over TLS; --url says otherwise.
			r.URL = "https://" + capture.Host + r.URL
		}
	}
	if _, err := verifier.ExplainWith(s, out, r, capture.Body, ks, o); err != nil {
		if hint := schemeHint(s, req.schemeGiven, capture.Header); hint != "" {
			fmt.Fprintf(out, "hint:      %s\n", hint)
		}
		return errUnverified
	}
	return nil
}

// schemeHint is advice for a capture that has none of scheme s's
// signature headers: name the default if --scheme was not given, and the
// preset schemes whose signature headers the capture has.
func schemeHint(s *verifier.Scheme, given bool, h http.Header) string {
	if hasSignatureHeader(s, h) {
		return ""
	}
	hint, has, none := fmt.Sprintf("no --scheme given, so it was checked as %s, the default", s.Name), "; the capture has ", "; the capture has no signature header of any preset"
	if given {
		hint, has, none = fmt.Sprintf("the capture has no signature header of scheme %s", s.Name), ", but has ", ", nor of any other preset"
	}
	var headers []string           // the capture's signature headers of other presets, in order
	flags := map[string][]string{} // for each, the flags that check it
	for _, name := range preset.Names() {
		if name == s.Name {
			continue
		}
		p, err := preset.Get(name, preset.Options{})
		if err != nil {
			continue
		}
		flag := "--scheme " + name
		header, ok := signatureHeaderIn(p, h)
		if !ok && name == "github" {
			// GitHub's legacy SHA-1 header, if that is all there is.
			if p, err = preset.Get(name, preset.Options{LegacySHA1: true}); err == nil {
				header, ok = signatureHeaderIn(p.Fallback, h)
				flag += " --legacy-sha1"
			}
		}
		if ok {
			if flags[header] == nil {
				headers = append(headers, header)
			}
			flags[header] = append(flags[header], flag)
		}
	}
	if len(headers) == 0 {
		return hint + none + ": for another sender, describe its scheme with --scheme hmac or token and --header <name> (see --help)"
	}
	tries := make([]string, len(headers))
	for i, header := range headers {
		tries[i] = header + ": try " + strings.Join(flags[header], " or ")
	}
	return hint + has + strings.Join(tries, "; ")
}

// hasSignatureHeader reports whether h has one of s's signature headers,
// its fallback's included.
func hasSignatureHeader(s *verifier.Scheme, h http.Header) bool {
	for t := s; t != nil; t = t.Fallback {
		if _, ok := signatureHeaderIn(t, h); ok {
			return true
		}
	}
	return false
}

// signatureHeaderIn returns the first of s's own signature headers that h
// has.
func signatureHeaderIn(s *verifier.Scheme, h http.Header) (string, bool) {
	if s == nil {
		return "", false
	}
	for _, set := range s.HeaderSets {
		if len(h.Values(set.Signature)) > 0 {
			return http.CanonicalHeaderKey(set.Signature), true
		}
	}
	return "", false
}

func readInput(stdin io.Reader, path string) ([]byte, error) {
	if path == "-" || path == "" {
		return io.ReadAll(stdin)
	}
	return os.ReadFile(path) //nolint:gosec // G304: the user names the file on the command line
}

// trimNewline drops one trailing newline, as Caddy's {file.*} does.
func trimNewline(s string) string {
	s = strings.TrimSuffix(s, "\n")
	return strings.TrimSuffix(s, "\r")
}

// printable escapes the control characters (other than newline and tab)
// of what a receiver sent, so its answer cannot drive the terminal.
func printable(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '\n' || r == '\t' || !unicode.IsControl(r) {
			return r
		}
		return '\uFFFD'
	}, s)
}

// isLoopbackHost reports whether host names this machine.
func isLoopbackHost(host string) bool {
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
