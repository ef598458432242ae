package docker

import (
	"context"
	"fmt"
	"slices"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/image"
	"github.com/moby/moby/client"
)

// PrunedImage is one image Prune removed (or would remove).
type PrunedImage struct {
	ID   string   `json:"id"`
	Tags []string `json:"tags"`
	Size int64    `json:"size"`
}

// PruneImages removes the images olops built (deploy's images of its own
// binary, baked configs, the controller's images: all carry LabelBuiltBy)
// that no container uses, running or stopped. Images a user built by
// other means, such as make image, are never touched. With dryRun it only
// says what it would remove.
func (r *Runtime) PruneImages(ctx context.Context, dryRun bool) ([]PrunedImage, error) {
	return r.pruneImages(ctx, client.Filters{}.Add("label", LabelBuiltBy), dryRun)
}

func (r *Runtime) pruneImages(ctx context.Context, filter client.Filters, dryRun bool) ([]PrunedImage, error) {
	imgs, err := r.cli.ImageList(ctx, client.ImageListOptions{Filters: filter})
	if err != nil {
		return nil, r.wrap(err)
	}
	// The whole graph, intermediate images included, for the parent links.
	all, err := r.cli.ImageList(ctx, client.ImageListOptions{All: true})
	if err != nil {
		return nil, r.wrap(err)
	}
	ctrs, err := r.cli.ContainerList(ctx, client.ContainerListOptions{All: true})
	if err != nil {
		return nil, r.wrap(err)
	}
	used := map[string]bool{}
	for _, c := range ctrs.Items {
		used[c.ImageID] = true
	}
	// An image used by a container keeps its parents too.
	parent := map[string]string{}
	for _, img := range all.Items {
		parent[img.ID] = img.ParentID
	}
	for id := range used {
		for p := parent[id]; p != "" && !used[p]; p = parent[p] {
			used[p] = true
		}
	}
	var todo []image.Summary
	for _, img := range imgs.Items {
		if !used[img.ID] {
			todo = append(todo, img)
		}
	}
	// Children first: the Engine refuses to remove an image another one is
	// built on.
	depth := func(id string) int {
		n := 0
		for p := parent[id]; p != ""; p = parent[p] {
			n++
		}
		return n
	}
	slices.SortStableFunc(todo, func(a, b image.Summary) int { return depth(b.ID) - depth(a.ID) })

	var out []PrunedImage
	for _, img := range todo {
		p := PrunedImage{ID: img.ID, Tags: img.RepoTags, Size: img.Size}
		if !dryRun {
			if err := r.removeUnused(ctx, img); err != nil {
				return out, err
			}
		}
		out = append(out, p)
	}
	return out, nil
}

// removeUnused removes an image by each of its tags (the last removes the
// image), or by ID when it has none, without force: the Engine itself
// refuses if a container started from it meanwhile.
func (r *Runtime) removeUnused(ctx context.Context, img image.Summary) error {
	refs := img.RepoTags
	if len(refs) == 0 {
		refs = []string{img.ID}
	}
	for _, ref := range refs {
		_, err := r.cli.ImageRemove(ctx, ref, client.ImageRemoveOptions{PruneChildren: true})
		switch {
		case err == nil, isNotFound(err):
		case cerrdefs.IsConflict(err):
			return fmt.Errorf("image %s came into use while pruning: %w", ref, r.wrap(err))
		default:
			return fmt.Errorf("removing image %s: %w", ref, r.wrap(err))
		}
	}
	return nil
}
