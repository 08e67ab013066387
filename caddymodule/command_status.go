package caddymodule

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	caddycmd "github.com/caddyserver/caddy/v2/cmd"
	"github.com/dustin/go-humanize"
	"github.com/spf13/cobra"
)

func statusCommand() *cobra.Command {
	var address, config, adapter string
	var asJSON bool
	c := &cobra.Command{
		Use:   "status [--address <admin address>] [--config <path> [--adapter <name>]] [--json]",
		Short: "Shows the running Caddy's webhook routes: secrets, counts, replay stores",
		Long: `Asks the running Caddy's admin API (GET /webhooks/) for its webhook_verify and
webhook_sign routes and prints, per route: its handler and scheme, its
requests by outcome since Caddy started, its secrets by label with the last
time each matched or signed and when it expires, and its replay store.
Secrets are shown by label only.

The admin address is --address if given, else the one in the config file
given with --config (and --adapter), else localhost:2019, as for caddy stop.
--json prints the admin API's answer as it is.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			addr, err := caddycmd.DetermineAdminAPIAddress(address, nil, config, adapter)
			if err != nil {
				return fmt.Errorf("finding the admin API's address: %w", err)
			}
			raw, err := fetchStatus(addr)
			if err != nil {
				return err
			}
			if asJSON {
				_, err := cmd.OutOrStdout().Write(raw)
				return err
			}
			var st webhooksStatus
			if err := json.Unmarshal(raw, &st); err != nil {
				return fmt.Errorf("the admin API at %s answered GET %s with something other than hookguard's status: %w", addr, adminWebhooksPath, err)
			}
			printStatus(cmd.OutOrStdout(), st, time.Now())
			return nil
		},
	}
	c.Flags().StringVar(&address, "address", "", "address of Caddy's admin API, if not the config's")
	c.Flags().StringVarP(&config, "config", "c", "", "config file to read the admin address from")
	c.Flags().StringVarP(&adapter, "adapter", "a", "", "name of the config adapter of --config")
	c.Flags().BoolVar(&asJSON, "json", false, "print the admin API's JSON answer")
	return c
}

// fetchStatus gets GET /webhooks/ from the admin API at addr, and says
// plainly when Caddy is not there or has no such endpoint.
func fetchStatus(addr string) ([]byte, error) {
	return adminCall(addr, http.MethodGet, adminWebhooksPath)
}

// adminCall asks the admin API at addr for path and returns its answer.
func adminCall(addr, method, path string) ([]byte, error) {
	resp, err := caddycmd.AdminAPIRequest(addr, method, path, nil, nil)
	if err != nil {
		msg := err.Error()
		switch {
		case strings.HasPrefix(msg, "performing request"):
			return nil, fmt.Errorf("cannot reach Caddy's admin API at %s (is Caddy running, with its admin API there? give --address, or --config with its config file): %w", addr, err)
		case strings.Contains(msg, "HTTP 404") && path == adminWebhooksPath:
			return nil, fmt.Errorf("the admin API at %s has no %s endpoint: is hookguard's plugin in this Caddy? %s list-modules shows admin.api.webhooks if it is",
				addr, adminWebhooksPath, commandName)
		}
		return nil, fmt.Errorf("asking the admin API at %s: %w", addr, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, fmt.Errorf("reading the admin API's answer: %w", err)
	}
	return raw, nil
}

// printStatus writes st as three tables: routes with their outcomes,
// secrets with their last use and expiry, replay stores.
func printStatus(out io.Writer, st webhooksStatus, now time.Time) {
	if len(st.Routes) == 0 {
		fmt.Fprintln(out, "no webhook_verify or webhook_sign route is loaded")
		return
	}
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ROUTE\tHANDLER\tSCHEME\tOUTCOMES")
	for _, r := range st.Routes {
		scheme := r.Scheme
		if r.Unsigned {
			scheme += " (insecure_unsigned)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", r.Name, r.Handler, scheme, outcomeList(r.Outcomes))
	}
	_ = tw.Flush()

	fmt.Fprintln(out)
	tw = tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ROUTE\tSECRET\tLAST USED\tEXPIRES")
	for _, r := range st.Routes {
		if len(r.Secrets) == 0 {
			fmt.Fprintf(tw, "%s\t(none)\t-\t-\n", r.Name)
		}
		for _, s := range r.Secrets {
			used := "never"
			if s.LastUsed != nil {
				used = s.LastUsed.UTC().Format(time.RFC3339) + " (" + humanize.RelTime(*s.LastUsed, now, "ago", "from now") + ")"
			}
			expires := "-"
			if s.NotAfter != nil {
				expires = s.NotAfter.UTC().Format(time.RFC3339)
			}
			if s.Expired {
				expires += " (expired)"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", r.Name, s.Label, used, expires)
		}
	}
	_ = tw.Flush()

	header := false
	for _, r := range st.Routes {
		rs := r.Replay
		if rs == nil {
			continue
		}
		if !header {
			fmt.Fprintln(out)
			tw = tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "ROUTE\tREPLAY\tWINDOW\tENTRIES\tSIZE\tEVICTED")
			header = true
		}
		store := rs.Store
		if rs.FailOpen {
			store += " (fail_open)"
		}
		size := "unknown"
		if rs.Bytes != nil && *rs.Bytes >= 0 {
			size = humanize.IBytes(uint64(*rs.Bytes))
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", r.Name, store, rs.Window, count(rs.Entries), size, count(rs.Evicted))
	}
	if header {
		_ = tw.Flush()
	}
}

// outcomeList is "duplicate=1 verified=3", by outcome name.
func outcomeList(m map[string]uint64) string {
	if len(m) == 0 {
		return "-"
	}
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	sort.Strings(names)
	parts := make([]string, len(names))
	for i, k := range names {
		parts[i] = k + "=" + strconv.FormatUint(m[k], 10)
	}
	return strings.Join(parts, " ")
}

// count is n, or "unknown" when the store does not say.
func count(n *int64) string {
	if n == nil {
		return "unknown"
	}
	return strconv.FormatInt(*n, 10)
}
