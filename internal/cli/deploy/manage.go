package deploy

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/olops/olops/internal/cli/cmdutil"
	"github.com/olops/olops/internal/client"
	"github.com/olops/olops/internal/runtime/docker"
	"github.com/spf13/cobra"
)

func newTab(w io.Writer) *tabwriter.Writer { return tabwriter.NewWriter(w, 0, 4, 3, ' ', 0) }

// NewCmdPs returns `olops ps`.
func NewCmdPs(f *cmdutil.Factory) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "ps [MODEL]",
		Short: "List the containers olops deployed",
		Long: `Ps lists exactly the containers olops started on the Docker Engine (those
labelled dev.olops.model), running or not, with their published APIs.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := cmdutil.CheckFormat(output); err != nil {
				return err
			}
			model := ""
			if len(args) == 1 {
				model = args[0]
			}
			rt, err := docker.New(cmd.Context())
			if err != nil {
				return err
			}
			defer rt.Close()
			insts, err := rt.List(cmd.Context(), model)
			if err != nil {
				return err
			}
			return cmdutil.Print(f.IO.Out, output, insts, func(w io.Writer) error {
				return printInstances(w, insts)
			})
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", cmdutil.Table, "output format: table, json or yaml")
	return cmd
}

// NewCmdLogs returns `olops logs`.
func NewCmdLogs(f *cmdutil.Factory) *cobra.Command {
	var o docker.LogOptions
	cmd := &cobra.Command{
		Use:   "logs NAME",
		Short: "Print a deployed model's logs (its first replica, or a container by name)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			rt, err := docker.New(cmd.Context())
			if err != nil {
				return err
			}
			defer rt.Close()
			name, err := rt.Resolve(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			return rt.Logs(cmd.Context(), name, o, f.IO.Out, f.IO.ErrOut)
		},
	}
	cmd.Flags().BoolVarP(&o.Follow, "follow", "f", false, "keep printing new lines until interrupted")
	cmd.Flags().IntVar(&o.Tail, "tail", 0, "only the last N lines (0: all)")
	return cmd
}

// NewCmdStop returns `olops stop`.
func NewCmdStop(f *cmdutil.Factory) *cobra.Command {
	var rm bool
	cmd := &cobra.Command{
		Use:   "stop NAME",
		Short: "Stop a deployed model's containers (the learned state stays on its volume)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			rt, err := docker.New(cmd.Context())
			if err != nil {
				return err
			}
			defer rt.Close()
			insts, err := rt.Stop(cmd.Context(), args[0], rm)
			if err != nil {
				return err
			}
			verb := "stopped"
			if rm {
				verb = "stopped and removed"
			}
			for _, in := range insts {
				fmt.Fprintf(f.IO.Out, "%s %s\n", verb, in.Container)
			}
			f.IO.Printf("the learned state stays on its volume: 'olops deploy' starts it again, 'olops undeploy %s' removes it\n", args[0])
			return nil
		},
	}
	cmd.Flags().BoolVar(&rm, "rm", false, "remove the containers too")
	return cmd
}

// NewCmdUndeploy returns `olops undeploy`.
func NewCmdUndeploy(f *cmdutil.Factory) *cobra.Command {
	var keep bool
	var output string
	cmd := &cobra.Command{
		Use:   "undeploy NAME",
		Short: "Remove a deployed model: its containers, baked images and (unless --keep-data) its learned state",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := cmdutil.CheckFormat(output); err != nil {
				return err
			}
			rt, err := docker.New(cmd.Context())
			if err != nil {
				return err
			}
			defer rt.Close()
			// The URLs are only known while the containers exist: read them
			// first, to drop the context that points at them afterwards.
			insts, err := rt.List(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			u, err := rt.Undeploy(cmd.Context(), args[0], keep)
			if err != nil {
				return err
			}
			if !keep {
				forgetContext(f, args[0], insts)
			}
			return cmdutil.Print(f.IO.Out, output, u, func(w io.Writer) error {
				fmt.Fprintf(w, "removed containers: %s\n", list(u.Containers))
				if len(u.Images) > 0 {
					fmt.Fprintf(w, "removed images: %s\n", list(u.Images))
				}
				if keep {
					fmt.Fprintf(w, "kept the volumes (learned state): 'olops deploy' continues from it\n")
				} else {
					fmt.Fprintf(w, "removed volumes: %s\n", list(u.Volumes))
				}
				return nil
			})
		},
	}
	cmd.Flags().BoolVar(&keep, "keep-data", false, "keep the volumes with the learned state")
	cmd.Flags().StringVarP(&output, "output", "o", cmdutil.Table, "output format: table, json or yaml")
	return cmd
}

// forgetContext removes the context that 'olops deploy' saved for model
// when it still points at one of its removed containers: its tokens died
// with the volume, and a stale context only leads to "cannot reach". A
// context re-pointed elsewhere (or one of a stopped deployment, whose
// ports are unknown) is left alone.
func forgetContext(f *cmdutil.Factory, model string, insts []docker.Instance) {
	path, err := client.ContextPath(f.Getenv)
	if err != nil {
		return
	}
	for _, in := range insts {
		if in.ManagementURL == "" {
			continue
		}
		removed, err := client.RemoveContext(path, model, in.ManagementURL)
		if err != nil {
			f.IO.Printf("warning: could not remove the context %q from %s: %v\n", model, path, err)
			return
		}
		if removed {
			f.IO.Printf("removed context %q from %s\n", model, path)
			return
		}
	}
}

func list(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, ", ")
}
