package integration

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig"

	"github.com/hookguard/hookguard/caddymodule"
)

// The README's code is tested here: every Caddyfile block adapts, every
// recipe's snippet runs in a real gateway and its shell test gets the
// statuses its comments promise, the JSON example validates, the JSON
// reference names every field of the modules, and every link to a
// section finds it.

// readmeBlock is a fenced code block of README.md.
type readmeBlock struct {
	lang   string // the first word of the fence's info string
	text   string // the content, the fence's indentation removed
	line   int    // the line of the opening fence, 1-based
	marker string // the HTML comment just before the fence, if any, without <!-- -->
}

func (b readmeBlock) String() string { return fmt.Sprintf("README.md:%d", b.line) }

var htmlComment = regexp.MustCompile(`^<!--\s*(.*?)\s*-->$`)

// readme returns README.md's text.
func readme(t *testing.T) string {
	t.Helper()
	root, err := signModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// readmeBlocks returns every fenced code block of README.md, in order.
func readmeBlocks(t *testing.T) []readmeBlock {
	t.Helper()
	var blocks []readmeBlock
	var cur *readmeBlock
	var indent int
	var content []string
	prev := "" // the last non-blank line outside a block
	for i, line := range strings.Split(readme(t), "\n") {
		trimmed := strings.TrimSpace(line)
		if cur != nil {
			if trimmed == "```" {
				cur.text = strings.Join(content, "\n") + "\n"
				blocks = append(blocks, *cur)
				cur, content = nil, nil
				continue
			}
			// Remove the fence's indentation (a block inside a list item).
			n := min(indent, len(line)-len(strings.TrimLeft(line, " ")))
			content = append(content, line[n:])
			continue
		}
		if strings.HasPrefix(trimmed, "```") {
			cur = &readmeBlock{lang: strings.Fields(trimmed[3:] + " x")[0], line: i + 1}
			if cur.lang == "x" {
				cur.lang = ""
			}
			if m := htmlComment.FindStringSubmatch(prev); m != nil {
				cur.marker = m[1]
			}
			indent = len(line) - len(strings.TrimLeft(line, " "))
			continue
		}
		if trimmed != "" {
			prev = trimmed
		}
	}
	if cur != nil {
		t.Fatalf("README.md:%d: a code block is never closed", cur.line)
	}
	return blocks
}

// markedBlock is the block marked <!-- marker -->, which must exist and
// be unique.
func markedBlock(t *testing.T, blocks []readmeBlock, marker string) readmeBlock {
	t.Helper()
	var found []readmeBlock
	for _, b := range blocks {
		if b.marker == marker {
			found = append(found, b)
		}
	}
	if len(found) != 1 {
		t.Fatalf("README.md has %d code blocks marked <!-- %s -->, want 1", len(found), marker)
	}
	return found[0]
}

// TestReadmeCaddyfilesAdapt: every ```caddyfile block of the README, but
// those marked as syntax, adapts to JSON with no warning but Caddy's
// formatting hint. A block that starts with directives (a route, a
// handler, a matcher) is adapted inside a site block; one that starts
// with a site address or global options, as it stands. Placeholders such
// as {env.X} and files named in the blocks are only resolved when a config
// loads, not here.
func TestReadmeCaddyfilesAdapt(t *testing.T) {
	adapter := caddyconfig.GetAdapter("caddyfile")
	if adapter == nil {
		t.Fatal("no caddyfile adapter registered")
	}
	n := 0
	for _, b := range readmeBlocks(t) {
		if b.lang != "caddyfile" || strings.HasPrefix(b.marker, "syntax") {
			continue
		}
		n++
		text := b.text
		if first := firstToken(text); first != "{" && !looksLikeSiteAddress(first) {
			text = "example.com {\n" + text + "}\n"
		}
		_, warnings, err := adapter.Adapt([]byte(text), map[string]any{"filename": b.String()})
		if err != nil {
			t.Errorf("%s does not adapt: %v\n%s", b, err, text)
			continue
		}
		for _, w := range warnings {
			if !strings.Contains(w.Message, "not formatted") {
				t.Errorf("%s: adapting warns: %s", b, w.String())
			}
		}
	}
	if n < 10 {
		t.Errorf("only %d Caddyfile blocks found in README.md: is the parser broken?", n)
	}
}

// firstToken is the first word of text outside comments.
func firstToken(text string) string {
	for _, line := range strings.Split(text, "\n") {
		if f := strings.Fields(line); len(f) > 0 && !strings.HasPrefix(f[0], "#") {
			return f[0]
		}
	}
	return ""
}

// looksLikeSiteAddress tells a site address (example.com,
// http://localhost:8090, :8443) from a directive or a matcher.
func looksLikeSiteAddress(tok string) bool {
	return strings.Contains(tok, "://") || strings.Contains(tok, ".") || strings.HasPrefix(tok, ":") ||
		strings.HasPrefix(tok, "localhost")
}

// A recipe of the README: a Caddyfile snippet marked <!-- recipe: name -->,
// a shell test marked <!-- recipe test: name --> that reads URL and SECRET
// and prints one status per request, each followed in the README by a
// comment that starts with the status it gets, and optionally a setup
// script marked <!-- recipe setup: name -->.
type recipe struct {
	name   string
	path   string // the route's path in the snippet
	secret func(t testing.TB) string
	want   []int // the statuses the test prints, in order
	// reached is how many of the test's requests the app (or the
	// partner, for the relay) must see.
	reached int
}

var readmeRecipes = []recipe{
	{name: "stripe", path: "/webhooks/stripe", secret: stripeSecret, want: []int{200, 401, 401}, reached: 1},
	{name: "github", path: "/webhooks/github", secret: rawSecret, want: []int{200, 401, 200}, reached: 1},
	{name: "gitlab", path: "/webhooks/gitlab", secret: rawSecret, want: []int{200, 401, 401}, reached: 1},
	{name: "slack", path: "/webhooks/slack", secret: func(t testing.TB) string { return randomHex(t, 16) }, want: []int{200, 401, 401}, reached: 1},
	{name: "standard", path: "/webhooks/orders", secret: whsecSecret, want: []int{200, 401, 401}, reached: 1},
	// The partner answers all three: two signed by the relay, one
	// unsigned sent to it directly.
	{name: "relay", path: "/relay/partner", secret: func(t testing.TB) string { return signSecret(t, "standard") }, want: []int{200, 200, 401}, reached: 3},
}

var (
	fileSecret     = regexp.MustCompile(`\{file\.(/etc/caddy/[^}]+)\}`)
	statusComment  = regexp.MustCompile(`(?m)^# (\d{3})\b`)
	readmeSiteAddr = regexp.MustCompile(`(?m)^(example\.com|http://localhost:8090) \{`)
)

// TestReadmeRecipes runs every recipe of the README: Caddy loads the
// recipe's snippet (its site on the test port, its app a test upstream,
// its files under /etc/caddy/ in a temporary directory, each secret file
// holding the recipe's secret) and the recipe's bash test runs against
// it with curl and openssl. The statuses it prints must be those its
// comments promise and this table wants (the signed request passes, the
// forged and stale ones get 401), and only the passing requests may reach
// the app. The relay recipe's setup fetches the partner's self-signed
// certificate with openssl, and that file is what the route pins.
func TestReadmeRecipes(t *testing.T) {
	skipShort(t)
	for _, tool := range []string{"bash", "curl", "openssl"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("the README's recipe tests need %s (apt-get install %s; .ci/run installs it): %v", tool, tool, err)
		}
	}
	blocks := readmeBlocks(t)
	var names []string
	for _, b := range blocks {
		if name, ok := strings.CutPrefix(b.marker, "recipe: "); ok {
			names = append(names, name)
		}
	}
	var tested []string
	for _, r := range readmeRecipes {
		tested = append(tested, r.name)
	}
	if !slices.Equal(names, tested) {
		t.Fatalf("README.md has the recipes %q; this test runs %q", names, tested)
	}

	for _, r := range readmeRecipes {
		t.Run(r.name, func(t *testing.T) {
			snippet := markedBlock(t, blocks, "recipe: "+r.name)
			script := markedBlock(t, blocks, "recipe test: "+r.name)
			if snippet.lang != "caddyfile" || script.lang != "sh" {
				t.Fatalf("recipe %s: blocks are %s (%s) and %s (%s), want caddyfile and sh", r.name, snippet, snippet.lang, script, script.lang)
			}
			runRecipe(t, r, blocks, snippet.text, script.text)
		})
	}
}

func runRecipe(t *testing.T, r recipe, blocks []readmeBlock, snippet, script string) {
	dir := t.TempDir()
	secret := r.secret(t)
	url := gatewayURL + r.path
	if !strings.Contains(snippet, r.path) {
		t.Fatalf("the snippet has no route %s:\n%s", r.path, snippet)
	}

	// What stands for the real world in the README, and what stands for
	// it here. Each must be found where it is expected.
	var caddyfileSubs, scriptSubs []string
	var partner *signReceiver
	up := newUpstream(t)
	if r.name == "relay" {
		cert := recipePartnerCert(t)
		partner = newSignReceiverWithCert(t, cert, signStandardCheck(secret))
		setup := markedBlock(t, blocks, "recipe setup: relay")
		out := runRecipeScript(t, dir, mustReplace(t, setup.text, "hooks.partner.example:443", partner.hostport()), nil)
		pinned := readPEMCert(t, filepath.Join(dir, "partner.pem"))
		if !bytes.Equal(pinned.Raw, cert.Certificate[0]) {
			t.Fatalf("the setup script did not fetch the partner's certificate")
		}
		if fp := fmt.Sprintf("%X", sha256.Sum256(pinned.Raw)); !strings.Contains(strings.ReplaceAll(out, ":", ""), fp) {
			t.Errorf("the setup script does not print the certificate's SHA-256 fingerprint %s:\n%s", fp, out)
		}
		caddyfileSubs = []string{"https://hooks.partner.example", partner.url()}
		scriptSubs = []string{"https://hooks.partner.example", partner.url(), "/etc/caddy/", dir + "/"}
	} else {
		caddyfileSubs = []string{"localhost:3000", up.addr()}
		scriptSubs = nil
	}
	for _, m := range fileSecret.FindAllStringSubmatch(snippet, -1) {
		path := filepath.Join(dir, strings.TrimPrefix(m[1], "/etc/caddy/"))
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(secret+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if !fileSecret.MatchString(snippet) {
		t.Fatalf("the snippet takes no secret from a {file./etc/caddy/...} placeholder:\n%s", snippet)
	}
	site := readmeSiteAddr.FindStringSubmatch(snippet)
	if site == nil {
		t.Fatalf("the snippet's site is neither example.com nor http://localhost:8090:\n%s", snippet)
	}
	config := mustReplace(t, snippet, site[0], fmt.Sprintf("http://localhost:%d {", httpPort))
	for i := 0; i < len(caddyfileSubs); i += 2 {
		config = mustReplace(t, config, caddyfileSubs[i], caddyfileSubs[i+1])
	}
	config = strings.ReplaceAll(config, "/etc/caddy/", dir+"/")
	loadConfig(t, config)

	for i := 0; i < len(scriptSubs); i += 2 {
		script = mustReplace(t, script, scriptSubs[i], scriptSubs[i+1])
	}
	promised := statusComment.FindAllStringSubmatch(script, -1)
	var promise []string
	for _, m := range promised {
		promise = append(promise, m[1])
	}
	var want []string
	for _, s := range r.want {
		want = append(want, fmt.Sprint(s))
	}
	if !slices.Equal(promise, want) {
		t.Errorf("the test's comments promise the statuses %q; this test wants %q", promise, want)
	}
	out := runRecipeScript(t, dir, script, []string{"URL=" + url, "SECRET=" + secret})
	if got := strings.Fields(out); !slices.Equal(got, want) {
		t.Errorf("the recipe's test printed %q, want %q\nconfig:\n%s", got, want, config)
	}

	if partner == nil {
		if n := up.count(); n != r.reached {
			t.Errorf("the app saw %d request(s), want %d", n, r.reached)
		}
		return
	}
	got := partner.all()
	if len(got) != r.reached {
		t.Fatalf("the partner saw %d request(s), want %d", len(got), r.reached)
	}
	for i, d := range got[:2] {
		if d.Verdict != nil {
			t.Errorf("relayed request %d: the partner refused its signature: %v", i+1, d.Verdict)
		}
	}
	if strings.Contains(got[1].Header.Get("Webhook-Signature"), "Zm9yZ2Vk") {
		t.Errorf("the caller's signature header reached the partner: %q", got[1].Header.Get("Webhook-Signature"))
	}
	if got[2].Verdict == nil {
		t.Errorf("the partner accepted the unsigned request")
	}
}

// mustReplace replaces every old in s with new, failing the test if s has
// no old: the README and this test must agree on what stands for what.
func mustReplace(t *testing.T, s, old, new string) string {
	t.Helper()
	if !strings.Contains(s, old) {
		t.Fatalf("%q is not in:\n%s", old, s)
	}
	return strings.ReplaceAll(s, old, new)
}

// runRecipeScript runs script with bash -euo pipefail in dir, with env
// added to a minimal environment, and returns its standard output.
func runRecipeScript(t *testing.T, dir, script string, env []string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "-euo", "pipefail", "-c", script)
	cmd.Dir = dir
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir, "LC_ALL=C"}, env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("the script failed: %v\nstdout:\n%s\nstderr:\n%s\nscript:\n%s", err, stdout.String(), stderr.String(), script)
	}
	return stdout.String()
}

// recipePartnerCert is a partner's self-signed certificate as such
// certificates often are: a leaf, not a CA, for the partner's host name
// (and 127.0.0.1, where this test dials it).
func recipePartnerCert(t *testing.T) tls.Certificate {
	return selfSignedCert(t, "hooks.partner.example", false)
}

// readPEMCert reads the one certificate of a PEM file.
func readPEMCert(t *testing.T, path string) *x509.Certificate {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(b)
	if block == nil || block.Type != "CERTIFICATE" {
		t.Fatalf("%s holds no PEM certificate:\n%s", path, b)
	}
	c, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

var envPlaceholder = regexp.MustCompile(`\{env\.([A-Za-z0-9_]+)\}`)

// TestReadmeJSONExampleValidates: the README's complete JSON config
// passes caddy.Validate, which provisions every module as a load does,
// with the environment variables it names set (to strong secrets) and
// its /etc/caddy/ files in a temporary directory.
func TestReadmeJSONExampleValidates(t *testing.T) {
	skipShort(t)
	b := markedBlock(t, readmeBlocks(t), "json example")
	if b.lang != "json" {
		t.Fatalf("%s is a %q block, want json", b, b.lang)
	}
	dir := t.TempDir()
	text := mustReplace(t, b.text, "/etc/caddy/", dir+"/")
	pemPath := filepath.Join(dir, "partner.pem")
	var buf bytes.Buffer
	if err := pem.Encode(&buf, &pem.Block{Type: "CERTIFICATE", Bytes: recipePartnerCert(t).Certificate[0]}); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(pemPath, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	vars := envPlaceholder.FindAllStringSubmatch(text, -1)
	if len(vars) == 0 {
		t.Fatalf("%s takes no secret from {env.X}", b)
	}
	for _, m := range vars {
		t.Setenv(m[1], signSecret(t, "standard"))
	}
	var cfg caddy.Config
	dec := json.NewDecoder(strings.NewReader(text))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&cfg); err != nil {
		t.Fatalf("%s is not a Caddy config: %v", b, err)
	}
	for _, h := range []string{`"handler": "webhook_verify"`, `"handler": "webhook_sign"`} {
		if !strings.Contains(text, h) {
			t.Errorf("%s has no %s", b, h)
		}
	}
	if err := caddy.Validate(&cfg); err != nil {
		t.Fatalf("%s does not validate: %v", b, err)
	}
}

// TestReadmeJSONReference: the JSON reference documents every field of
// the modules (their json tags, embedded structs included) in the table of
// its module, and nothing that is not a field.
func TestReadmeJSONReference(t *testing.T) {
	text := readme(t)
	for _, c := range []struct {
		heading string
		typ     reflect.Type
	}{
		{"### `http.handlers.webhook_verify`", reflect.TypeFor[caddymodule.WebhookVerify]()},
		{"### `http.handlers.webhook_sign`", reflect.TypeFor[caddymodule.WebhookSign]()},
		{"### Secret objects", reflect.TypeFor[caddymodule.Secret]()},
		{"### Replay object", reflect.TypeFor[caddymodule.Replay]()},
		{"### `http.handlers.webhook_relay`", reflect.TypeFor[caddymodule.WebhookRelay]()},
		{"### Relay sign object", reflect.TypeFor[caddymodule.RelaySign]()},
		{"### Relay store object", reflect.TypeFor[caddymodule.RelayStore]()},
	} {
		_, section, ok := strings.Cut(text, "\n"+c.heading+"\n")
		if !ok {
			t.Errorf("README.md has no section %q", c.heading)
			continue
		}
		section, _, _ = strings.Cut(section, "\n#")
		documented := map[string]bool{}
		for _, line := range strings.Split(section, "\n") {
			if !strings.HasPrefix(line, "| `") {
				continue
			}
			first := strings.Split(line, "|")[1]
			for _, m := range regexp.MustCompile("`([a-z0-9_]+)`").FindAllStringSubmatch(first, -1) {
				documented[m[1]] = true
			}
		}
		fields := jsonFields(c.typ)
		for _, f := range fields {
			if !documented[f] {
				t.Errorf("%s: field %q is not in the table", c.heading, f)
			}
		}
		for f := range documented {
			if !slices.Contains(fields, f) {
				t.Errorf("%s: the table documents %q, which is no field of %s", c.heading, f, c.typ)
			}
		}
	}
}

// jsonFields are the JSON names of typ's exported fields, those of
// embedded structs included.
func jsonFields(typ reflect.Type) []string {
	var names []string
	for i := range typ.NumField() {
		f := typ.Field(i)
		if f.Anonymous && f.Type.Kind() == reflect.Struct {
			names = append(names, jsonFields(f.Type)...)
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if !f.IsExported() || name == "" || name == "-" {
			continue
		}
		names = append(names, name)
	}
	return names
}

// TestReadmeLinks: every link to a section of the README (#anchor) finds
// a heading, with GitHub's rule for anchors.
func TestReadmeLinks(t *testing.T) {
	text := readme(t)
	anchors := map[string]bool{}
	inBlock := false
	for _, line := range strings.Split(text, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "```") {
			inBlock = !inBlock
		}
		if inBlock || !strings.HasPrefix(line, "#") {
			continue
		}
		heading := strings.TrimSpace(strings.TrimLeft(line, "#"))
		slug := githubAnchor(heading)
		for n := 1; anchors[slug]; n++ {
			slug = fmt.Sprintf("%s-%d", githubAnchor(heading), n)
		}
		anchors[slug] = true
	}
	links := regexp.MustCompile(`\]\(#([^)]+)\)`).FindAllStringSubmatch(text, -1)
	if len(links) < 10 {
		t.Fatalf("only %d section links found: is the pattern broken?", len(links))
	}
	for _, m := range links {
		if !anchors[m[1]] {
			t.Errorf("the link (#%s) finds no heading", m[1])
		}
	}
}

// githubAnchor is the anchor GitHub gives a heading: lower case, spaces as
// hyphens, punctuation other than hyphens and underscores dropped.
func githubAnchor(heading string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(heading) {
		switch {
		case r == ' ':
			b.WriteByte('-')
		case r == '-' || r == '_' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r > 127:
			b.WriteRune(r)
		}
	}
	return b.String()
}
