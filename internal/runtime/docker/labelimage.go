package docker

import (
	"archive/tar"
	"bytes"
	"context"
	"time"
)

// LabelImage builds tag FROM base with extra labels and nothing else.
// Containers inherit their image's labels, so a caller that cannot pass
// labels to Deploy (the controller marks what it manages this way) can
// still find its own containers with List.
func (r *Runtime) LabelImage(ctx context.Context, base, tag string, labels map[string]string) error {
	df := []byte("FROM " + base + "\n")
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	if err := tw.WriteHeader(&tar.Header{Name: "Dockerfile", Mode: 0o644, Size: int64(len(df)), ModTime: time.Now()}); err != nil {
		return err
	}
	if _, err := tw.Write(df); err != nil {
		return err
	}
	if err := tw.Close(); err != nil {
		return err
	}
	return r.build(ctx, &buf, tag, nil, labels, nil)
}
