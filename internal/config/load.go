package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Error is one problem in a config file, located by line and field path
// (for example spec.pipeline.model).
type Error struct {
	File  string
	Line  int
	Field string
	Msg   string
}

func (e *Error) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		if e.Line > 0 {
			b.WriteString(":" + strconv.Itoa(e.Line))
		}
		b.WriteString(": ")
	}
	if e.Field != "" {
		b.WriteString(e.Field + ": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Default values applied on load.
const (
	DefaultWindow         = 1000
	DefaultSnapshotEvery  = 10000
	DefaultSnapshotKeep   = 5
	DefaultDurability     = "batch"
	DefaultMaxBodyBytes   = 1 << 20
	DefaultDriftDetector  = "adwin"
	DefaultDriftWatches   = "error"
	DefaultPublicAddr     = ":8080"
	DefaultManagementAddr = ":9090"
)

// Load reads, defaults and validates the config file at path.
func Load(path string) (*Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	return Parse(b, path)
}

// Parse decodes one olops.yaml document (JSON is YAML too), applies the
// defaults and validates it. name is the file name used in errors.
func Parse(b []byte, name string) (*Config, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(b, &root); err != nil {
		return nil, yamlError(name, err)
	}
	if root.Kind == 0 || len(root.Content) == 0 {
		return nil, &Error{File: name, Line: 1, Msg: "the file is empty: start from 'olops init' or see the README for an olops.yaml"}
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	c := &Config{}
	if err := dec.Decode(c); err != nil && !errors.Is(err, io.EOF) {
		return nil, yamlError(name, err)
	}
	c.file = name
	c.node = &root
	c.ApplyDefaults()
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return c, nil
}

var lineRE = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)

// yamlError turns a yaml.v3 error into *Error (or several, joined) with
// the line it names.
func yamlError(name string, err error) error {
	var te *yaml.TypeError
	msgs := []string{err.Error()}
	if errors.As(err, &te) {
		msgs = te.Errors
	}
	var errs []error
	for _, m := range msgs {
		e := &Error{File: name, Msg: strings.TrimPrefix(m, "yaml: ")}
		if g := lineRE.FindStringSubmatch(m); g != nil {
			e.Line, _ = strconv.Atoi(g[1])
			e.Msg = g[2]
			if strings.HasPrefix(e.Msg, "field ") && strings.Contains(e.Msg, " not found in type ") {
				f := strings.TrimPrefix(e.Msg, "field ")
				f = f[:strings.Index(f, " not found")]
				e.Msg = fmt.Sprintf("unknown field %q: check its spelling and indentation", f)
			}
		}
		errs = append(errs, e)
	}
	if len(errs) == 1 {
		return errs[0]
	}
	return errors.Join(errs...)
}

// Marshal renders the config as YAML (what versions store).
func (c *Config) Marshal() ([]byte, error) {
	return yaml.Marshal(c)
}

// File is the name the config was parsed from ("" for Default).
func (c *Config) File() string { return c.file }

// lineOf finds the line of a dotted field path ("spec.features[2].type")
// in the parsed document: the deepest node that exists, or 0.
func (c *Config) lineOf(path string) int {
	if c.node == nil || len(c.node.Content) == 0 {
		return 0
	}
	n := c.node.Content[0]
	line := n.Line
	for _, part := range splitPath(path) {
		next := child(n, part)
		if next == nil {
			break
		}
		n = next
		line = n.Line
	}
	return line
}

func splitPath(path string) []string {
	var parts []string
	for _, p := range strings.Split(path, ".") {
		for {
			i := strings.IndexByte(p, '[')
			if i < 0 {
				break
			}
			if i > 0 {
				parts = append(parts, p[:i])
			}
			j := strings.IndexByte(p, ']')
			if j < i {
				break
			}
			parts = append(parts, p[i:j+1])
			p = p[j+1:]
		}
		if p != "" {
			parts = append(parts, p)
		}
	}
	return parts
}

func child(n *yaml.Node, part string) *yaml.Node {
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	if n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if strings.HasPrefix(part, "[") {
		i, err := strconv.Atoi(strings.Trim(part, "[]"))
		if err != nil || n.Kind != yaml.SequenceNode || i < 0 || i >= len(n.Content) {
			return nil
		}
		return n.Content[i]
	}
	if n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == part {
			// The value's line, unless it is a block (then the key's).
			v := n.Content[i+1]
			if v.Kind == yaml.MappingNode || v.Kind == yaml.SequenceNode {
				if v.Line != n.Content[i].Line {
					cp := *v
					cp.Line = n.Content[i].Line
					return &cp
				}
			}
			return v
		}
	}
	return nil
}
