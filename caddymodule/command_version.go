package caddymodule

import (
	"fmt"
	"runtime/debug"

	"github.com/caddyserver/caddy/v2"
	"github.com/spf13/cobra"
)

// modulePath is hookguard's Go module.
const modulePath = "github.com/hookguard/hookguard"

func versionCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Prints hookguard's version and Caddy's",
		Long: `Prints the version of the hookguard module built into this binary, then
Caddy's (what caddy version prints). A build from a local checkout says
(devel), with the commit when Go recorded one; an xcaddy build with
--with github.com/hookguard/hookguard=<dir> also names the directory.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			bi, _ := debug.ReadBuildInfo()
			_, full := caddy.Version()
			fmt.Fprintf(cmd.OutOrStdout(), "hookguard %s\ncaddy %s\n", hookguardVersion(bi), full)
			return nil
		},
	}
}

// hookguardVersion finds hookguard's module in the build information:
// the main module in a build of cmd/hookguard, a dependency in an xcaddy
// build. "(devel)" is a build from a local checkout.
func hookguardVersion(bi *debug.BuildInfo) string {
	if bi == nil {
		return "unknown (no build information in this binary)"
	}
	if bi.Main.Path == modulePath {
		v := bi.Main.Version
		if v == "" || v == "(devel)" {
			v = "(devel)"
			var rev, modified string
			for _, s := range bi.Settings {
				switch s.Key {
				case "vcs.revision":
					rev = s.Value
				case "vcs.modified":
					modified = s.Value
				}
			}
			if rev != "" {
				v += " " + rev
				if modified == "true" {
					v += " (modified)"
				}
			}
		}
		return v
	}
	for _, dep := range bi.Deps {
		if dep.Path != modulePath {
			continue
		}
		switch {
		case dep.Replace == nil:
			return dep.Version
		case dep.Replace.Version == "":
			// A directory (xcaddy --with ...=<dir>): the version
			// required is a placeholder.
			return "(devel) => " + dep.Replace.Path
		default:
			return dep.Replace.Version + " => " + dep.Replace.Path
		}
	}
	return "unknown (" + modulePath + " is not in this binary's build information)"
}
