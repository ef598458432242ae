// Command bench is `make bench`: it runs each benchmark section and prints
// its table, olops' numbers side by side with a baseline and their ratio.
// To add a section, write a func(ctx, w) error in its own file here and
// add one entry to sections.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
)

// section is one benchmark table.
type section struct {
	name string
	run  func(ctx context.Context, w io.Writer) error
}

// sections run in this order; `go run ./internal/bench NAME...` runs only
// the named ones.
var sections = []section{
	{"engine", engineSection},
	{"server", serverSection},
	{"container", containerSection},
}

func main() {
	if runChild() {
		return // a server under test for the server section
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	want := map[string]bool{}
	for _, a := range os.Args[1:] {
		want[a] = true
	}
	failed := false
	for _, s := range sections {
		if len(want) > 0 && !want[s.name] {
			continue
		}
		fmt.Printf("== %s\n", s.name)
		if err := s.run(ctx, os.Stdout); err != nil {
			fmt.Fprintf(os.Stderr, "bench %s: %v\n", s.name, err)
			failed = true
		}
		fmt.Println()
	}
	if len(want) > 0 {
		var names []string
		for _, s := range sections {
			names = append(names, s.name)
		}
		for a := range want {
			found := false
			for _, n := range names {
				found = found || n == a
			}
			if !found {
				fmt.Fprintf(os.Stderr, "bench: no section %q (sections: %s)\n", a, strings.Join(names, ", "))
				failed = true
			}
		}
	}
	if failed {
		os.Exit(1)
	}
}
