package caddymodule

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"text/tabwriter"
	"time"

	caddycmd "github.com/caddyserver/caddy/v2/cmd"
	"github.com/spf13/cobra"
)

// relayCommand is `webhook relay show|dead|replay`, a client of the admin
// API's /webhooks/relay/.
func relayCommand() *cobra.Command {
	var address, config, adapter, route string
	var asJSON bool
	c := &cobra.Command{
		Use:   "relay show|dead|replay <id> [--route <name>] [--address <admin address>] [--json]",
		Short: "Shows webhook_relay queues and dead letters, and replays a dead letter",
		Long: `Asks the running Caddy's admin API about its webhook_relay routes:
  show            each relay's queue: depth, bytes, in flight, oldest message's age, dead letters
  dead            the dead letters (id, route, URL without its query, method, size, attempts,
                  first and last attempt, last status or error), oldest first; --route filters
  replay <id>     queues a dead letter again, due now
Nothing shown holds a body or a header value. The admin address is --address, else the one
of --config, else localhost:2019.`,
		Args: cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			addr, err := caddycmd.DetermineAdminAPIAddress(address, nil, config, adapter)
			if err != nil {
				return fmt.Errorf("finding the admin API's address: %w", err)
			}
			out := cmd.OutOrStdout()
			switch args[0] {
			case "show":
				raw, err := adminCall(addr, http.MethodGet, adminRelayPath)
				if err != nil {
					return err
				}
				if asJSON {
					_, err := out.Write(raw)
					return err
				}
				var st struct {
					Relays []routeStatus `json:"relays"`
				}
				if err := json.Unmarshal(raw, &st); err != nil {
					return fmt.Errorf("unexpected answer from the admin API: %w", err)
				}
				return printRelays(out, st.Relays)
			case "dead":
				path := adminRelayPath + "dead"
				if route != "" {
					path += "?route=" + url.QueryEscape(route)
				}
				raw, err := adminCall(addr, http.MethodGet, path)
				if err != nil {
					return err
				}
				if asJSON {
					_, err := out.Write(raw)
					return err
				}
				var d struct {
					Dead []relayMessage `json:"dead"`
				}
				if err := json.Unmarshal(raw, &d); err != nil {
					return fmt.Errorf("unexpected answer from the admin API: %w", err)
				}
				return printDead(out, d.Dead)
			case "replay":
				if len(args) != 2 {
					return fmt.Errorf("replay needs the id of a dead letter: %s", subcommand("relay dead")+" lists them")
				}
				if _, err := adminCall(addr, http.MethodPost, adminRelayPath+"dead/"+url.PathEscape(args[1])+"/replay"); err != nil {
					return err
				}
				fmt.Fprintf(out, "%s queued again\n", args[1])
				return nil
			}
			return fmt.Errorf("unknown relay subcommand %q: use show, dead or replay <id>", args[0])
		},
	}
	c.Flags().StringVar(&address, "address", "", "address of Caddy's admin API, if not the config's")
	c.Flags().StringVarP(&config, "config", "c", "", "config file to read the admin address from")
	c.Flags().StringVarP(&adapter, "adapter", "a", "", "name of the config adapter of --config")
	c.Flags().StringVar(&route, "route", "", "dead: only this relay route's")
	c.Flags().BoolVar(&asJSON, "json", false, "print the admin API's JSON answer")
	return c
}

func printRelays(out io.Writer, relays []routeStatus) error {
	if len(relays) == 0 {
		fmt.Fprintln(out, "no webhook_relay route is loaded")
		return nil
	}
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ROUTE\tURL\tSTORE\tQUEUED\tBYTES\tIN FLIGHT\tOLDEST\tDEAD")
	for _, r := range relays {
		st := r.Relay
		if st == nil {
			continue
		}
		oldest := "-"
		if st.OldestAge > 0 {
			oldest = (time.Duration(st.OldestAge) * time.Second).String()
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%d\t%s\t%d\n", r.Name, st.URL, st.Store, st.Queued, st.Bytes, st.InFlight, oldest, st.Stats.Dead)
	}
	return tw.Flush()
}

func printDead(out io.Writer, dead []relayMessage) error {
	if len(dead) == 0 {
		fmt.Fprintln(out, "no dead letters")
		return nil
	}
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tROUTE\tMETHOD\tURL\tSIZE\tATTEMPTS\tFIRST\tLAST\tLAST STATUS")
	for _, m := range dead {
		last := m.LastError
		if m.LastStatus != 0 {
			last = fmt.Sprintf("%d %s", m.LastStatus, m.LastError)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%d\t%s\t%s\t%s\n", m.ID, m.Route, m.Method, m.URL, m.Size, m.Attempts,
			m.Created.UTC().Format(time.RFC3339), m.LastAttempt.UTC().Format(time.RFC3339), last)
	}
	return tw.Flush()
}
