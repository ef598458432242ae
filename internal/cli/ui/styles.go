// Package ui is how olops commands look: the lipgloss styles (all in this
// file), tables, and number formatting. Colour is used only when the
// IOStreams say so (a terminal, and no NO_COLOR).
package ui

import (
	"charm.land/lipgloss/v2"
	"github.com/olops/olops/internal/cli/cmdutil"
)

// Styles are the colours of olops' human output. The zero-colour set
// renders text unchanged.
type Styles struct {
	Title   lipgloss.Style
	Good    lipgloss.Style
	Bad     lipgloss.Style
	Warn    lipgloss.Style
	Muted   lipgloss.Style
	Key     lipgloss.Style
	Bar     lipgloss.Style
	BarRest lipgloss.Style
}

// StylesFor returns coloured styles on a colour terminal, plain ones
// otherwise.
func StylesFor(io *cmdutil.IOStreams) Styles {
	if io == nil || !io.Color {
		plain := lipgloss.NewStyle()
		return Styles{plain, plain, plain, plain, plain, plain, plain, plain}
	}
	return Styles{
		Title:   lipgloss.NewStyle().Bold(true),
		Good:    lipgloss.NewStyle().Foreground(lipgloss.Color("2")),
		Bad:     lipgloss.NewStyle().Foreground(lipgloss.Color("1")).Bold(true),
		Warn:    lipgloss.NewStyle().Foreground(lipgloss.Color("3")),
		Muted:   lipgloss.NewStyle().Foreground(lipgloss.Color("8")),
		Key:     lipgloss.NewStyle().Foreground(lipgloss.Color("6")),
		Bar:     lipgloss.NewStyle().Foreground(lipgloss.Color("6")),
		BarRest: lipgloss.NewStyle().Foreground(lipgloss.Color("8")),
	}
}
