package deploy

import (
	"fmt"
	"io"
	"strings"

	"github.com/olops/olops/internal/cli/cmdutil"
	"github.com/olops/olops/internal/runtime/docker"
	"github.com/spf13/cobra"
)

// NewCmdPrune returns `olops prune`.
func NewCmdPrune(f *cmdutil.Factory) *cobra.Command {
	var dryRun bool
	var output string
	cmd := &cobra.Command{
		Use:   "prune",
		Short: "Remove the images olops built that no container uses",
		Long: `Prune removes the images that olops deploy and olops controller built (the
image of each olops binary that deployed, baked configs, the controller's
images) once no container, running or stopped, uses them. Images built by
other means, such as 'make image', are left alone, and so are volumes.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := cmdutil.CheckFormat(output); err != nil {
				return err
			}
			rt, err := docker.New(cmd.Context())
			if err != nil {
				return err
			}
			defer rt.Close()
			imgs, err := rt.PruneImages(cmd.Context(), dryRun)
			if err != nil {
				return err
			}
			if imgs == nil {
				imgs = []docker.PrunedImage{}
			}
			return cmdutil.Print(f.IO.Out, output, imgs, func(w io.Writer) error {
				return printPruned(w, imgs, dryRun)
			})
		},
	}
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "only list what would be removed")
	cmd.Flags().StringVarP(&output, "output", "o", cmdutil.Table, "output format: table, json or yaml")
	return cmd
}

func printPruned(w io.Writer, imgs []docker.PrunedImage, dryRun bool) error {
	verb := "removed"
	if dryRun {
		verb = "would remove"
	}
	if len(imgs) == 0 {
		_, err := fmt.Fprintln(w, "no unused olops images")
		return err
	}
	tw := newTab(w)
	fmt.Fprintln(tw, "IMAGE\tID\tSIZE")
	for _, img := range imgs {
		name := "<none>"
		if len(img.Tags) > 0 {
			name = strings.Join(img.Tags, ",")
		}
		fmt.Fprintf(tw, "%s\t%s\t%.1f MB\n", name, shortID(img.ID), float64(img.Size)/1e6)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "%s %d images\n", verb, len(imgs))
	return err
}

func shortID(id string) string {
	id = strings.TrimPrefix(id, "sha256:")
	if len(id) > 12 {
		id = id[:12]
	}
	return id
}
