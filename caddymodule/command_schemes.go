package caddymodule

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/hookguard/hookguard/preset"
	"github.com/hookguard/hookguard/scheme"
)

// The webhook schemes subcommand and the README's table of senders are
// both made here, from the preset registry and the schemes it builds:
// nothing about a sender is written twice.

func schemesCommand() *cobra.Command {
	var asJSON bool
	c := &cobra.Command{
		Use:   "schemes [<name>] [--json]",
		Short: "Lists the senders hookguard knows, or shows one in full",
		Long: `Without a name, lists every preset scheme: the sender, its signature header,
what it signs, the encoding, the timestamp (format and default tolerance, or
none), the secret or key it takes and the sender's documentation.
With a name, shows everything about that preset: each set of headers, the
layout of the signature header, the algorithm, the exact template of what is
signed, the timestamp, the secret or key format, the handshake, the default
body limit.
--json prints the same as JSON (an array without a name, an object with one).
An unknown name exits 1, suggesting the nearest ones.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := ""
			if len(args) == 1 {
				name = args[0]
			}
			return runSchemes(cmd.OutOrStdout(), cmd.ErrOrStderr(), name, asJSON)
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return c
}

func runSchemes(out, errOut io.Writer, name string, asJSON bool) error {
	if name == "" {
		infos, err := allSchemeInfos()
		if err != nil {
			return err
		}
		if asJSON {
			return writeSchemesJSON(out, infos)
		}
		writeSchemeTable(out, infos)
		fmt.Fprintf(errOut, "%d presets; %s shows one in full; hmac and token describe your own sender\n", len(infos), subcommand("schemes <name>"))
		return nil
	}
	info, err := describePreset(name)
	if err != nil {
		return err
	}
	if asJSON {
		return writeSchemesJSON(out, info)
	}
	writeSchemeDetail(out, info)
	return nil
}

func writeSchemesJSON(out io.Writer, v any) error {
	enc := json.NewEncoder(out)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// schemeInfo is what the registry and the built scheme say of a preset.
type schemeInfo struct {
	Name    string          `json:"name"`
	Sender  string          `json:"sender"`
	Family  string          `json:"family"`
	Docs    string          `json:"docs"`
	Signed  string          `json:"signed"`
	Notes   string          `json:"notes,omitempty"`
	Headers []schemeHeaders `json:"headers"`
	// Layout is the signature header as the sender writes it, with
	// <signature> and <timestamp> in place of values.
	Layout    string           `json:"layout"`
	Algorithm string           `json:"algorithm"`
	Encoding  string           `json:"encoding"`
	Content   string           `json:"content"`
	Timestamp *schemeTimestamp `json:"timestamp"` // nil: the sender signs none
	Key       schemeKey        `json:"key"`
	Handshake bool             `json:"handshake"`
	MaxBody   int64            `json:"max_body,omitempty"`
	// LegacySHA1 is the header accepted besides with legacy_sha1.
	LegacySHA1 string `json:"legacy_sha1,omitempty"`
}

type schemeHeaders struct {
	Signature string `json:"signature"`
	Timestamp string `json:"timestamp,omitempty"`
	ID        string `json:"id,omitempty"`
}

type schemeTimestamp struct {
	Format    string `json:"format"`
	Where     string `json:"where"`
	Tolerance string `json:"tolerance"` // a Go duration; "0s": not checked by default
}

type schemeKey struct {
	// Kind is "secret", "token" or "public key".
	Kind string `json:"kind"`
	// Format is how the secret is decoded, or the key pair's algorithm.
	Format string `json:"format"`
	// Prefix is how the sender's own secrets start (used as text).
	Prefix string `json:"prefix,omitempty"`
}

func (k schemeKey) String() string {
	switch k.Kind {
	case "public key":
		return "public key (" + k.Format + ")"
	case "token":
		return "token, compared as sent"
	}
	s := "secret: " + k.Format
	if k.Prefix != "" {
		s += ", starts " + k.Prefix
	}
	return s
}

func (t *schemeTimestamp) String() string {
	if t == nil {
		return "none"
	}
	if t.Tolerance == "0s" {
		return t.Format + ", not checked by default"
	}
	return t.Format + ", " + t.Tolerance
}

// allSchemeInfos describes every preset, in order of name.
func allSchemeInfos() ([]schemeInfo, error) {
	var infos []schemeInfo
	for _, name := range preset.Names() {
		info, err := describePreset(name)
		if err != nil {
			return nil, err
		}
		infos = append(infos, info)
	}
	return infos, nil
}

// describePreset describes the named preset from its registry entry and
// the scheme it builds. An unknown name gives preset.UnknownError.
func describePreset(name string) (schemeInfo, error) {
	e, ok := preset.Lookup(name)
	if !ok {
		if name == "hmac" || name == "token" {
			return schemeInfo{}, fmt.Errorf("%s is no preset: it describes your own sender, with header, algorithm, encoding, prefix, signed_content, timestamp_header and id_header (see webhook_verify in the README)", name)
		}
		return schemeInfo{}, preset.UnknownError(name)
	}
	s, err := preset.Get(name, preset.Options{})
	if err != nil {
		return schemeInfo{}, err
	}
	info := schemeInfo{
		Name: e.Name, Sender: e.Sender, Family: e.Family, Docs: e.Docs, Signed: e.Signed, Notes: e.Notes,
		Layout:    describeLayout(s),
		Algorithm: s.Algorithm.Name(),
		Encoding:  string(s.Encoding),
		Content:   describeContent(s),
		Timestamp: describeTimestamp(s),
		Key:       describeKey(s),
		Handshake: s.Handshake != nil,
		MaxBody:   s.MaxBody,
	}
	if s.Compares() {
		info.Encoding = "none"
	}
	if info.Signed == "" {
		info.Signed = info.Content
	}
	for _, h := range s.HeaderSets {
		info.Headers = append(info.Headers, schemeHeaders{h.Signature, h.Timestamp, h.ID})
	}
	// What the one option changes: a header accepted besides.
	if l, err := preset.Get(name, preset.Options{LegacySHA1: true}); err == nil && l.Fallback != nil {
		info.LegacySHA1 = describeLayout(l.Fallback) + " (" + l.Fallback.Algorithm.Name() + ", " + string(l.Fallback.Encoding) + ")"
	}
	return info, nil
}

// layout is the signature header as the sender writes it, from the
// scheme's own Render: "Stripe-Signature: t=<timestamp>,v1=<signature>".
func describeLayout(s *scheme.Scheme) string {
	h := s.HeaderSets[0].Signature
	if s.Strategy != nil {
		return h + ": set by the sender's strategy"
	}
	sig := "<signature>"
	if s.Compares() {
		sig = "<token>"
	}
	sigs := []string{sig}
	if s.Format.PerKey() {
		sigs = append(sigs, sig)
	}
	v := h + ": " + s.Format.Render(sigs, "<timestamp>")
	key := "secret"
	if s.Asymmetric() {
		key = "key"
	}
	switch f := s.Format.(type) {
	case scheme.Token:
		v += " (the secret itself)"
	case scheme.List:
		v += fmt.Sprintf(" (one %s per %s; other elements ignored)", f.SignatureKey, key)
	case scheme.Versioned:
		v += fmt.Sprintf(" (one %s per %s; other versions ignored)", f.Version, key)
	default:
		if s.Format.PerKey() {
			v += " (one per " + key + ")"
		}
	}
	return v
}

// content is the template of what is signed.
func describeContent(s *scheme.Scheme) string {
	switch {
	case s.Strategy != nil:
		return "set by the sender's strategy"
	case s.Compares():
		return "nothing: the header holds the secret"
	case s.Content == "":
		return "{body}"
	}
	return s.Content
}

func describeTimestamp(s *scheme.Scheme) *schemeTimestamp {
	// A strategy reads the timestamp where the sender puts it (Mailgun's
	// body fields); a tolerance says it is checked.
	if !s.Timestamped() && (s.Strategy == nil || s.Tolerance == 0) {
		return nil
	}
	t := &schemeTimestamp{Format: s.Time.String(), Tolerance: durationText(s.Tolerance)}
	switch {
	case s.Strategy == nil && s.Format.CarriesTimestamp():
		t.Where = "in " + s.HeaderSets[0].Signature
		if f, ok := s.Format.(scheme.List); ok {
			t.Where = "the " + f.TimestampKey + f.Assign + " element of " + s.HeaderSets[0].Signature
		}
	case s.HeaderSets[0].Timestamp != "":
		t.Where = "header " + s.HeaderSets[0].Timestamp
	default:
		t.Where = "read by the sender's strategy"
	}
	if s.FixedWidthTime {
		t.Format += " (fixed width)"
	}
	return t
}

func describeKey(s *scheme.Scheme) schemeKey {
	switch {
	case s.Asymmetric():
		return schemeKey{Kind: "public key", Format: s.Algorithm.Name()}
	case s.Compares():
		return schemeKey{Kind: "token", Format: s.Secret.String()}
	}
	return schemeKey{Kind: "secret", Format: s.Secret.String(), Prefix: s.SecretPrefix}
}

// durationText is d as a Go duration, without trailing zero units: 5m,
// 1h, 90s.
func durationText(d time.Duration) string {
	v := d.String()
	if strings.HasSuffix(v, "m0s") {
		v = strings.TrimSuffix(v, "0s")
	}
	if strings.HasSuffix(v, "h0m") {
		v = strings.TrimSuffix(v, "0m")
	}
	return v
}

// sizeText is n bytes as Caddy's size syntax writes it: 1MiB, 64KiB.
func sizeText(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%dMiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%dKiB", n>>10)
	}
	return fmt.Sprintf("%dB", n)
}

// headerCell is the signature headers of all sets: "Svix-Signature or
// Webhook-Signature".
func (info schemeInfo) headerCell() string {
	names := make([]string, len(info.Headers))
	for i, h := range info.Headers {
		names[i] = h.Signature
	}
	return strings.Join(names, " or ")
}

func writeSchemeTable(out io.Writer, infos []schemeInfo) {
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tSENDER\tFAMILY\tSIGNATURE HEADER\tSIGNED\tENCODING\tTIMESTAMP\tKEY\tDOCS")
	for _, i := range infos {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n",
			i.Name, i.Sender, i.Family, i.headerCell(), singleLine(i.Signed), i.Encoding, i.Timestamp, i.Key, i.Docs)
	}
	_ = tw.Flush()
}

func writeSchemeDetail(out io.Writer, i schemeInfo) {
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	line := func(k, v string) { fmt.Fprintf(tw, "%s\t%s\n", k, singleLine(v)) }
	line(i.Name, i.Sender+" ("+i.Family+")")
	line("docs", i.Docs)
	line("signed", i.Signed)
	for n, h := range i.Headers {
		k := "headers"
		if len(i.Headers) > 1 {
			k = fmt.Sprintf("headers %d", n+1)
		}
		v := "signature " + h.Signature
		if i.Key.Kind == "token" {
			v = "token " + h.Signature
		}
		if h.Timestamp != "" {
			v += ", timestamp " + h.Timestamp
		}
		if h.ID != "" {
			v += ", id " + h.ID
		}
		line(k, v)
	}
	if len(i.Headers) > 1 {
		line("", "the first set whose signature header is present is used")
	}
	line("format", i.Layout)
	line("algorithm", i.Algorithm)
	line("encoding", i.Encoding)
	line("content", i.Content)
	if t := i.Timestamp; t == nil {
		line("timestamp", "none")
	} else {
		tol := "tolerance " + t.Tolerance + " unless the route's tolerance says otherwise"
		if t.Tolerance == "0s" {
			tol = "not checked unless the route sets a tolerance"
		}
		line("timestamp", t.Format+", "+t.Where+"; "+tol)
	}
	switch i.Key.Kind {
	case "public key":
		line("key", i.Key.String()+": public_key verifies, private_key signs; "+subcommand("secret --scheme "+i.Name)+" makes a pair")
	case "token":
		line("token", i.Key.Format+", compared as sent in constant time")
	default:
		v := i.Key.Format
		if i.Key.Prefix != "" {
			v += "; the sender's secrets start with " + i.Key.Prefix
		}
		line("secret", v)
	}
	if i.LegacySHA1 != "" {
		line("legacy_sha1", "also accepts "+i.LegacySHA1)
	}
	hs := "no"
	if i.Handshake {
		hs = "yes: the sender checks the endpoint before it sends (see notes)"
	}
	line("handshake", hs)
	if i.MaxBody != 0 {
		line("max body", sizeText(i.MaxBody)+" unless the route's max_body says otherwise")
	}
	if i.Notes != "" {
		line("notes", i.Notes)
	}
	_ = tw.Flush()
}

// singleLine keeps a registry text on one line of a table.
func singleLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// Markers of the README's table of senders, which sendersMarkdown makes.
const (
	sendersBegin = "<!-- senders:begin -->"
	sendersEnd   = "<!-- senders:end -->"
)

// sendersMarkdown is the README's table of senders, one row a preset.
func sendersMarkdown() (string, error) {
	infos, err := allSchemeInfos()
	if err != nil {
		return "", err
	}
	var b strings.Builder
	b.WriteString("| scheme | sender | family | signature header | what is signed | encoding | timestamp | secret or key | docs |\n")
	b.WriteString("| --- | --- | --- | --- | --- | --- | --- | --- | --- |\n")
	for _, i := range infos {
		headers := make([]string, len(i.Headers))
		for n, h := range i.Headers {
			headers[n] = "`" + h.Signature + "`"
		}
		cells := []string{
			"`" + i.Name + "`", mdCell(i.Sender), mdCell(i.Family), strings.Join(headers, " or "),
			mdCell(i.Signed), mdCell(i.Encoding), mdCell(i.Timestamp.String()), mdCell(i.Key.String()),
			"[docs](" + i.Docs + ")",
		}
		b.WriteString("| " + strings.Join(cells, " | ") + " |\n")
	}
	return b.String(), nil
}

// md escapes registry text for a cell of a Markdown table.
func mdCell(s string) string {
	return strings.NewReplacer("|", `\|`, "<", "&lt;", ">", "&gt;", "*", `\*`, "`", "\\`").Replace(singleLine(s))
}

// replaceSenders returns readme with the text between the senders
// markers replaced by table.
func replaceSenders(readme, table string) (string, error) {
	begin := strings.Index(readme, sendersBegin)
	end := strings.Index(readme, sendersEnd)
	if begin < 0 || end < begin || strings.Count(readme, sendersBegin) != 1 || strings.Count(readme, sendersEnd) != 1 {
		return "", errors.New("README.md needs " + sendersBegin + " and then " + sendersEnd + ", once each")
	}
	return readme[:begin+len(sendersBegin)] + "\n" + table + readme[end:], nil
}

// runKeyPair is webhook secret for a scheme that signs with a key pair:
// a fresh pair on stdout, one labelled line each, and on stderr where
// each key goes.
func runKeyPair(out, errOut io.Writer, s *scheme.Scheme) error {
	kp, ok := s.Algorithm.(scheme.KeyPair)
	if !ok {
		return fmt.Errorf("scheme %s signs with a shared secret, not a key pair", s.Name)
	}
	pub, priv, err := kp.Generate()
	if err != nil {
		return fmt.Errorf("generating a %s key pair: %w", s.Algorithm.Name(), err)
	}
	// What is printed must read back as webhook_sign and webhook_verify
	// will read it, one line each, so that scripts can split it.
	if strings.ContainsAny(pub+priv, " \t\r\n") {
		return fmt.Errorf("scheme %s: the %s key pair is not one line each", s.Name, s.Algorithm.Name())
	}
	if _, err := s.ParsePrivateKey(priv); err != nil {
		return fmt.Errorf("scheme %s: the new private key does not read back: %w", s.Name, err)
	}
	if _, err := s.ParsePublicKey(pub); err != nil {
		return fmt.Errorf("scheme %s: the new public key does not read back: %w", s.Name, err)
	}
	fmt.Fprintf(out, "private_key %s\npublic_key %s\n", priv, pub)
	fmt.Fprint(errOut, keyPairAdvice(s.Name, s.Algorithm.Name()))
	return nil
}

// keyPairAdvice says where each key of a pair made for scheme goes.
func keyPairAdvice(name, alg string) string {
	const dir = "/etc/caddy/"
	var b strings.Builder
	fmt.Fprintf(&b, "A new %s key pair: private_key signs, public_key verifies. Split it into files, the private one readable by Caddy only:\n", alg)
	fmt.Fprintf(&b, "      umask 077; %s webhook secret --scheme %s > pair\n", commandName, name)
	fmt.Fprintf(&b, "      awk '$1==\"private_key\" {print $2}' pair > %swebhook.key; awk '$1==\"public_key\" {print $2}' pair > %swebhook.pub; rm pair\n", dir, dir)
	fmt.Fprintf(&b, "Sending: sign with the private key\n      webhook_sign %s {\n          private_key {file.%swebhook.key}\n      }\n", name, dir)
	fmt.Fprintf(&b, "and give the receiver the public key (it is not secret), to check with\n      webhook_verify %s {\n          public_key {file.%swebhook.pub}\n      }\n", name, dir)
	fmt.Fprintf(&b, "Receiving: a %s sender makes its own key pair; put the public key it publishes in webhook_verify %s, not this one.\n", name, name)
	return b.String()
}
