package docker

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"debug/buildinfo"
	"debug/elf"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"strings"
	"time"

	"github.com/moby/moby/api/types/build"
	"github.com/moby/moby/client"
)

// ReleasedImage is the published image, used when the running binary
// cannot go into an image (not a static linux build).
const ReleasedImage = "ghcr.io/olops/olops"

// Dockerfile is the repository's top-level Dockerfile; a test keeps the
// two identical so `make image`, goreleaser and `olops deploy` build the
// same image. The build context olops deploy sends puts the binary at its
// root (BINARY=olops).
const Dockerfile = `# olops: one static binary in an otherwise empty image. Nothing is pulled:
# FROM scratch builds with no registry. Build the binary first (make build,
# CGO_ENABLED=0), then: make image.
FROM scratch

ARG VERSION=dev
ARG REVISION=unknown
ARG CREATED=unknown
ARG SOURCE=https://github.com/olops/olops
# The binary's path in the build context: bin/olops for make image, the
# context root for goreleaser and olops deploy.
ARG BINARY=bin/olops

LABEL org.opencontainers.image.title="olops" \
      org.opencontainers.image.description="Online machine-learning model server" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}" \
      org.opencontainers.image.source="${SOURCE}"

# A passwd and group entry so the non-root user has a name and a home.
COPY build/passwd /etc/passwd
COPY build/group /etc/group
# /data must exist and belong to the user: a new named volume takes its
# owner from the image's directory.
COPY --chown=65532:65532 build/data/ /data/
COPY ${BINARY} /olops

USER 65532:65532
EXPOSE 8080 9090
VOLUME /data
ENTRYPOINT ["/olops", "serve"]
CMD ["--data-dir", "/data", "--public-addr", ":8080", "--management-addr", ":9090", "--no-context"]
`

// The small files beside the binary; build/ in the repository holds the
// same bytes (a test checks).
const (
	Passwd     = "root:x:0:0:root:/:/sbin/nologin\nolops:x:65532:65532:olops:/data:/sbin/nologin\n"
	Group      = "root:x:0:\nolops:x:65532:\n"
	DataReadme = "The olops data directory: the image copies it so /data belongs to the olops user.\n"
)

// BinaryInfo says whether a binary can be the whole image.
type BinaryInfo struct {
	Path   string
	Static bool   // linux ELF, no dynamic loader, built with CGO_ENABLED=0
	GOARCH string // from the build info
	Why    string // why not, when !Static
}

// InspectBinary reads a Go binary's build info and ELF headers.
func InspectBinary(path string) BinaryInfo {
	bi := BinaryInfo{Path: path}
	info, err := buildinfo.ReadFile(path)
	if err != nil {
		bi.Why = fmt.Sprintf("cannot read its Go build info: %v", err)
		return bi
	}
	settings := map[string]string{}
	for _, s := range info.Settings {
		settings[s.Key] = s.Value
	}
	bi.GOARCH = settings["GOARCH"]
	if settings["GOOS"] != "linux" {
		bi.Why = fmt.Sprintf("it is a %s build, not linux", settings["GOOS"])
		return bi
	}
	if settings["CGO_ENABLED"] != "0" {
		bi.Why = "it was built with cgo (CGO_ENABLED=1): build with CGO_ENABLED=0 (make build)"
		return bi
	}
	f, err := elf.Open(path)
	if err != nil {
		bi.Why = fmt.Sprintf("it is not an ELF file: %v", err)
		return bi
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			bi.Why = "it is dynamically linked"
			return bi
		}
	}
	bi.Static = true
	return bi
}

// BuildArgs are the image's OCI label values.
type BuildArgs struct {
	Version  string
	Revision string
}

// BuildContext writes the tar build context of the image: the Dockerfile,
// the binary at the root, and the user files.
func BuildContext(w io.Writer, binary string) error {
	bin, err := os.Open(binary)
	if err != nil {
		return err
	}
	defer bin.Close()
	st, err := bin.Stat()
	if err != nil {
		return err
	}
	tw := tar.NewWriter(w)
	now := time.Now()
	add := func(name string, mode int64, size int64, r io.Reader) error {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: mode, Size: size, ModTime: now, Typeflag: tar.TypeReg}); err != nil {
			return err
		}
		_, err := io.Copy(tw, r)
		return err
	}
	for _, f := range []struct{ name, body string }{
		{"Dockerfile", Dockerfile},
		{"build/passwd", Passwd},
		{"build/group", Group},
		{"build/data/README", DataReadme},
	} {
		if err := add(f.name, 0o644, int64(len(f.body)), strings.NewReader(f.body)); err != nil {
			return err
		}
	}
	if err := add("olops", 0o755, st.Size(), bin); err != nil {
		return err
	}
	return tw.Close()
}

// fileHash is the first 12 hex digits of a file's sha256.
func fileHash(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil))[:12], nil
}

// tagSafe makes a version usable in an image tag.
func tagSafe(v string) string {
	var b strings.Builder
	for _, c := range v {
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == '_' {
			b.WriteRune(c)
		} else {
			b.WriteByte('-')
		}
	}
	s := strings.TrimLeft(b.String(), ".-")
	if s == "" {
		s = "dev"
	}
	if len(s) > 100 {
		s = s[:100]
	}
	return s
}

// ImageExists reports whether the Engine has ref.
func (r *Runtime) ImageExists(ctx context.Context, ref string) (bool, error) {
	_, err := r.cli.ImageInspect(ctx, ref)
	if err == nil {
		return true, nil
	}
	if isNotFound(err) {
		return false, nil
	}
	return false, r.wrap(err)
}

// BuildImage builds the olops image from binary, tagged tag. Progress
// lines go to log (may be nil).
func (r *Runtime) BuildImage(ctx context.Context, binary, tag string, args BuildArgs, log io.Writer) error {
	bi := InspectBinary(binary)
	if !bi.Static {
		return fmt.Errorf("cannot put %s in an image: %s", binary, bi.Why)
	}
	var ctxTar bytes.Buffer
	if err := BuildContext(&ctxTar, binary); err != nil {
		return fmt.Errorf("build context: %w", err)
	}
	return r.build(ctx, &ctxTar, tag, map[string]string{
		"VERSION":  args.Version,
		"REVISION": args.Revision,
		"CREATED":  time.Now().UTC().Format(time.RFC3339),
		"BINARY":   "olops",
	}, nil, log)
}

func (r *Runtime) build(ctx context.Context, tarCtx io.Reader, tag string, args, labels map[string]string, log io.Writer) error {
	buildArgs := map[string]*string{}
	for k, v := range args {
		buildArgs[k] = &v
	}
	labels = maps.Clone(labels)
	if labels == nil {
		labels = map[string]string{}
	}
	labels[LabelBuiltBy] = "olops"
	res, err := r.cli.ImageBuild(ctx, tarCtx, client.ImageBuildOptions{
		Tags:        []string{tag},
		Remove:      true,
		ForceRemove: true,
		BuildArgs:   buildArgs,
		Labels:      labels,
		// The classic builder needs no session and no base image: FROM
		// scratch builds with no registry.
		Version: build.BuilderV1,
	})
	if err != nil {
		return fmt.Errorf("building image %s: %w", tag, r.wrap(err))
	}
	defer res.Body.Close()
	return readBuildStream(res.Body, log)
}

// readBuildStream follows the Engine's JSON build messages and returns the
// first error it reports.
func readBuildStream(body io.Reader, log io.Writer) error {
	dec := json.NewDecoder(body)
	for {
		var m struct {
			Stream      string `json:"stream"`
			Error       string `json:"error"`
			ErrorDetail struct {
				Message string `json:"message"`
			} `json:"errorDetail"`
		}
		if err := dec.Decode(&m); err == io.EOF {
			return nil
		} else if err != nil {
			return fmt.Errorf("reading the build output: %w", err)
		}
		if m.Error != "" || m.ErrorDetail.Message != "" {
			msg := m.ErrorDetail.Message
			if msg == "" {
				msg = m.Error
			}
			return fmt.Errorf("image build failed: %s", strings.TrimSpace(msg))
		}
		if log != nil && m.Stream != "" {
			io.WriteString(log, m.Stream)
		}
	}
}

// EnsureImage returns the image to run. With ref set it is used, built
// from the running binary first when the Engine lacks it. With ref empty
// the running binary becomes olops:VERSION-HASH when it is a static linux
// build for the Engine's architecture; otherwise the released image.
func (r *Runtime) EnsureImage(ctx context.Context, ref string, args BuildArgs, log io.Writer) (string, error) {
	exe, err := os.Executable()
	if err != nil {
		return "", fmt.Errorf("cannot find the running binary: %w", err)
	}
	bi := InspectBinary(exe)
	if bi.Static && bi.GOARCH != "" {
		if v, err := r.cli.ServerVersion(ctx, client.ServerVersionOptions{}); err == nil && v.Arch != "" && v.Arch != bi.GOARCH {
			bi.Static, bi.Why = false, fmt.Sprintf("it is built for %s, the Engine runs %s", bi.GOARCH, v.Arch)
		}
	}
	if ref == "" {
		if bi.Static {
			h, err := fileHash(exe)
			if err != nil {
				return "", err
			}
			ref = "olops:" + tagSafe(args.Version) + "-" + h
		} else {
			v := tagSafe(args.Version)
			if v == "dev" || v == "none" {
				v = "latest"
			}
			ref = ReleasedImage + ":" + v
		}
	}
	ok, err := r.ImageExists(ctx, ref)
	if err != nil || ok {
		return ref, err
	}
	if bi.Static {
		if log != nil {
			fmt.Fprintf(log, "building image %s from %s\n", ref, exe)
		}
		return ref, r.BuildImage(ctx, exe, ref, args, nil)
	}
	if log != nil {
		fmt.Fprintf(log, "this olops binary cannot go into an image (%s): pulling %s\n", bi.Why, ref)
	}
	if err := r.pull(ctx, ref); err != nil {
		return "", fmt.Errorf("no image to run: this olops binary cannot go into an image (%s) and pulling %s failed (%v); "+
			"build one on linux with 'make image' and pass --image olops:latest", bi.Why, ref, err)
	}
	return ref, nil
}

func (r *Runtime) pull(ctx context.Context, ref string) error {
	resp, err := r.cli.ImagePull(ctx, ref, client.ImagePullOptions{})
	if err != nil {
		return r.wrap(err)
	}
	defer resp.Close()
	return readBuildStream(resp, nil)
}

// Bake builds a derived image with the config inside, so the container
// needs nothing from the host: FROM base, the config at ConfigPath.
func (r *Runtime) Bake(ctx context.Context, base, tag string, config []byte, model string) error {
	df := "FROM " + base + "\nCOPY olops.yaml " + ConfigPath + "\n"
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	now := time.Now()
	for _, f := range []struct {
		name string
		body []byte
	}{{"Dockerfile", []byte(df)}, {"olops.yaml", config}} {
		if err := tw.WriteHeader(&tar.Header{Name: f.name, Mode: 0o644, Size: int64(len(f.body)), ModTime: now}); err != nil {
			return err
		}
		if _, err := tw.Write(f.body); err != nil {
			return err
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	return r.build(ctx, &buf, tag, nil, map[string]string{LabelBakedFor: model}, nil)
}

// ImageSize is an image's size in bytes.
func (r *Runtime) ImageSize(ctx context.Context, ref string) (int64, error) {
	img, err := r.cli.ImageInspect(ctx, ref)
	if err != nil {
		return 0, r.wrap(err)
	}
	return img.Size, nil
}

// RemoveImage removes an image (force: also when tagged twice).
func (r *Runtime) RemoveImage(ctx context.Context, ref string) error {
	_, err := r.cli.ImageRemove(ctx, ref, client.ImageRemoveOptions{Force: true, PruneChildren: true})
	if isNotFound(err) {
		return nil
	}
	return r.wrap(err)
}
