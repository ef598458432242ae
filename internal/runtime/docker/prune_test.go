package docker

import (
	"archive/tar"
	"bytes"
	"context"
	"slices"
	"testing"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
)

// tinyImage builds tag FROM from with one small file and the test's label.
func tinyImage(t *testing.T, rt *Runtime, from, tag string, labels map[string]string) {
	t.Helper()
	df := []byte("FROM " + from + "\nCOPY f /f-" + tag[len(tag)-4:] + "\n")
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for name, body := range map[string][]byte{"Dockerfile": df, "f": []byte(tag)} {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(body)), ModTime: time.Now()}); err != nil {
			t.Fatal(err)
		}
		tw.Write(body)
	}
	tw.Close()
	if err := rt.build(context.Background(), &buf, tag, nil, labels, nil); err != nil {
		t.Fatalf("building %s: %v", tag, err)
	}
}

// Prune removes exactly the unused images it built: an image a container
// uses stays, and so does an image outside the selection.
func TestPruneRemovesOnlyUnusedImages(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	rt, err := New(ctx)
	if err != nil {
		t.Fatalf("this test needs a running Docker Engine: %v", err)
	}
	defer rt.Close()
	run := randHex(4)
	mine := map[string]string{"dev.olops.test": run}
	unused, used, child := "olops-prune-a:"+run, "olops-prune-b:"+run, "olops-prune-c:"+run
	tinyImage(t, rt, "scratch", unused, mine)
	tinyImage(t, rt, "scratch", used, mine)
	tinyImage(t, rt, used, child, mine)
	other := "olops-prune-other:" + run
	tinyImage(t, rt, "scratch", other, map[string]string{"dev.olops.test": run + "-other"})
	t.Cleanup(func() {
		for _, ref := range []string{unused, used, child, other} {
			rt.RemoveImage(context.Background(), ref)
		}
	})
	ctr, err := rt.cli.ContainerCreate(ctx, client.ContainerCreateOptions{
		Config: &container.Config{Image: used, Cmd: []string{"/nothing"}}, Name: "olops-prune-" + run})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		rt.cli.ContainerRemove(context.Background(), ctr.ID, client.ContainerRemoveOptions{Force: true})
	})
	filter := client.Filters{}.Add("label", "dev.olops.test="+run)

	tags := func(imgs []PrunedImage) []string {
		var out []string
		for _, img := range imgs {
			out = append(out, img.Tags...)
		}
		slices.Sort(out)
		return out
	}
	want := []string{unused, child}
	slices.Sort(want)

	dry, err := rt.pruneImages(ctx, filter, true)
	if err != nil {
		t.Fatal(err)
	}
	if got := tags(dry); !slices.Equal(got, want) {
		t.Fatalf("dry run would remove %v, want %v", got, want)
	}
	for _, ref := range []string{unused, used, child} {
		if ok, _ := rt.ImageExists(ctx, ref); !ok {
			t.Fatalf("the dry run removed %s", ref)
		}
	}

	done, err := rt.pruneImages(ctx, filter, false)
	if err != nil {
		t.Fatal(err)
	}
	if got := tags(done); !slices.Equal(got, want) {
		t.Fatalf("removed %v, want %v", got, want)
	}
	for ref, keep := range map[string]bool{unused: false, child: false, used: true, other: true} {
		if ok, err := rt.ImageExists(ctx, ref); err != nil || ok != keep {
			t.Errorf("%s exists = %v (err %v), want %v", ref, ok, err, keep)
		}
	}
	// Every image olops builds carries the label PruneImages selects by.
	img, err := rt.cli.ImageInspect(ctx, used)
	if err != nil {
		t.Fatal(err)
	}
	if img.Config.Labels[LabelBuiltBy] != "olops" {
		t.Errorf("labels of a built image: %v, want %s=olops", img.Config.Labels, LabelBuiltBy)
	}
}
