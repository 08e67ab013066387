package caddymodule

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"

	"github.com/caddyserver/caddy/v2"
	caddycmd "github.com/caddyserver/caddy/v2/cmd"
	"github.com/caddyserver/certmagic"
	"github.com/spf13/cobra"

	"github.com/hookguard/hookguard/signer"
)

func fingerprintCommand() *cobra.Command {
	var scheme string
	var st storageFlags
	c := &cobra.Command{
		Use:   "fingerprint --scheme <scheme> [--config <file> [--adapter <name>]] < secret",
		Short: "Prints the label (fp-...) that logs and metrics show for a secret",
		Long: `Reads a secret from standard input and prints the label webhook_verify and
webhook_sign give it when the config gives it none: fp- and 8 hex digits,
keyed with this installation's fingerprint key (hookguard/fingerprint.key in
Caddy's storage). So an fp-... in a log line, a metric or the admin API can
be mapped back to the secret it names. A secret with a label in the config
is shown by that label instead.

The key is read from Caddy's default storage, or from the storage of the
config given with --config (and --adapter); run this as the user Caddy runs
as. It is never created here: a key made by this command would not be the
one Caddy uses, and its labels would match nothing.

--scheme is the route's: standard and svix read a whsec_ secret as the
bytes its base64 decodes to, the other schemes as it is written.
A weak secret gets no fingerprint: it is named by its position among the
route's secrets (secret-1, secret-2, ...), which says nothing about it.
Exits 1 for a weak secret, or when there is no key.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if scheme == "" {
				return errors.New("give --scheme, the route's: standard and svix read a whsec_ secret as the bytes its base64 decodes to, the others as it is written, so the label depends on it")
			}
			stdinHint(cmd, "the secret")
			ctx := cmd.Context()
			if ctx == nil {
				ctx = context.Background()
			}
			return runFingerprint(ctx, cmd.InOrStdin(), cmd.OutOrStdout(), scheme, st)
		},
	}
	c.Flags().StringVar(&scheme, "scheme", "", "the route's scheme (required)")
	st.register(c)
	return c
}

func runFingerprint(ctx context.Context, in io.Reader, out io.Writer, scheme string, st storageFlags) error {
	s, err := secretScheme(scheme)
	if err != nil {
		return err
	}
	secret, err := readSecret(in)
	if err != nil {
		return err
	}
	key, err := s.DecodeSecret(secret)
	if err != nil {
		return err
	}
	if rep := signer.CheckSchemeKey(s, secret); !rep.OK() {
		// As at load (see resolveKeys): nothing shown of a weak secret
		// may help a guesser, a fingerprint least of all.
		fmt.Fprintf(out, "secret-N: a weak secret (this one breaks rule %s) gets no fingerprint: the gateway names it by its position among the route's secrets (secret-1, secret-2, ...), which says nothing about it; %s says why it is weak\n",
			ruleList(rep.Broken()), subcommand("check-secret --scheme "+scheme))
		return errWeak
	}
	stor, done, err := st.storage(ctx)
	if err != nil {
		return err
	}
	defer done()
	installKey, err := cliFingerprintKey(ctx, stor)
	if err != nil {
		return err
	}
	fmt.Fprintln(out, Fingerprint(installKey, key))
	return nil
}

// storageFlags name the config whose storage holds the fingerprint key.
type storageFlags struct {
	config, adapter string
}

func (f *storageFlags) register(c *cobra.Command) {
	c.Flags().StringVarP(&f.config, "config", "c", "", "read the fingerprint key from this config's storage (default: Caddy's default storage)")
	c.Flags().StringVarP(&f.adapter, "adapter", "a", "", "name of the config adapter of --config")
}

// configStorageModule is the part of a config that names its storage.
type configStorageModule struct {
	StorageRaw json.RawMessage `json:"storage,omitempty" caddy:"namespace=caddy.storage inline_key=module"`
}

// storage returns the storage Caddy keeps the fingerprint key in, as the
// gateway finds it: the config's storage module if --config names a
// config that has one, else Caddy's default storage (see cliStorage). done
// releases what loading a storage module set up.
func (f storageFlags) storage(ctx context.Context) (certmagic.Storage, func(), error) {
	none := func() {}
	if f.config == "" {
		if f.adapter != "" {
			return nil, none, errors.New("--adapter is for --config: give the config file too")
		}
		return cliStorage(), none, nil
	}
	cfg, _, _, err := caddycmd.LoadConfig(f.config, f.adapter)
	if err != nil {
		return nil, none, fmt.Errorf("loading --config %s: %w", f.config, err)
	}
	var sm configStorageModule
	if err := json.Unmarshal(cfg, &sm); err != nil {
		return nil, none, fmt.Errorf("--config %s: %w", f.config, err)
	}
	if len(sm.StorageRaw) == 0 {
		return cliStorage(), none, nil
	}
	cctx, cancel := caddy.NewContext(caddy.Context{Context: ctx})
	val, err := cctx.LoadModule(&sm, "StorageRaw")
	if err != nil {
		cancel()
		return nil, none, fmt.Errorf("--config %s: loading its storage: %w", f.config, err)
	}
	stor, err := val.(caddy.StorageConverter).CertMagicStorage()
	if err != nil {
		cancel()
		return nil, none, fmt.Errorf("--config %s: its storage: %w", f.config, err)
	}
	return stor, cancel, nil
}

// cliStorage is Caddy's default storage, the one a config without a
// storage block uses (under $XDG_DATA_HOME/caddy, else
// ~/.local/share/caddy, of the user running the command). A var so tests
// can point it elsewhere.
var cliStorage = func() certmagic.Storage { return caddy.DefaultStorage }

// cliFingerprintKey returns the fingerprint key the server keeps in stor,
// so the CLI's fingerprints match the logs. It only reads: a key made here
// would be this user's, not the server's (Caddy usually runs as its own
// user), and its fingerprints would silently disagree with the logs.
// Without one the CLI shows no fingerprints at all rather than different
// ones.
func cliFingerprintKey(ctx context.Context, stor certmagic.Storage) ([]byte, error) {
	key, err := ReadFingerprintKey(ctx, stor)
	if errors.Is(err, fs.ErrNotExist) {
		where := "Caddy's storage"
		if fst, ok := stor.(*certmagic.FileStorage); ok {
			// A path, never a storage module's fields: they may
			// hold credentials.
			where = fst.Path
		}
		return nil, &noKeyError{where: where}
	}
	return key, err
}

// noKeyError says there is no fingerprint key where the CLI looked, and
// what that means.
type noKeyError struct{ where string }

func (e *noKeyError) Error() string {
	return fmt.Sprintf("no fingerprint key (%s) in %s: Caddy makes it the first time a config with an unlabeled strong secret loads, so it has not yet, or it runs as another user or with another storage: run this as Caddy's user (with its XDG_DATA_HOME), or give --config with Caddy's config. This command never makes one: its labels would match nothing Caddy shows",
		FingerprintKeyName, e.where)
}

func (e *noKeyError) Unwrap() error { return fs.ErrNotExist }
