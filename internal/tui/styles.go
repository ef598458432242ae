package tui

import (
	"charm.land/bubbles/v2/help"
	"charm.land/lipgloss/v2"
)

// styles holds every style of the monitor. The colours are the terminal's
// own 16 ANSI colours, so they follow its theme (light or dark); bubbletea
// downsamples or drops them for the terminal's colour profile, which
// honours NO_COLOR.
type styles struct {
	title    lipgloss.Style // model name
	label    lipgloss.Style // quiet text: field names, axes
	value    lipgloss.Style // numbers
	good     lipgloss.Style // learning, live
	warn     lipgloss.Style // paused, reconnecting
	bad      lipgloss.Style // down, errors
	heading  lipgloss.Style // pane titles
	line     lipgloss.Style // the chart's line
	marker   lipgloss.Style // drift markers on the chart
	spark    lipgloss.Style // sparklines
	selected lipgloss.Style // the picked version
	prompt   lipgloss.Style // the rollback question
	help     help.Styles
}

func newStyles() styles {
	var (
		red     = lipgloss.Color("1")
		green   = lipgloss.Color("2")
		yellow  = lipgloss.Color("3")
		blue    = lipgloss.Color("4")
		magenta = lipgloss.Color("5")
		cyan    = lipgloss.Color("6")
	)
	h := help.Styles{
		ShortKey:       lipgloss.NewStyle().Bold(true),
		ShortDesc:      lipgloss.NewStyle().Faint(true),
		ShortSeparator: lipgloss.NewStyle().Faint(true),
		Ellipsis:       lipgloss.NewStyle().Faint(true),
		FullKey:        lipgloss.NewStyle().Bold(true),
		FullDesc:       lipgloss.NewStyle().Faint(true),
		FullSeparator:  lipgloss.NewStyle().Faint(true),
	}
	return styles{
		title:    lipgloss.NewStyle().Bold(true).Foreground(cyan),
		label:    lipgloss.NewStyle().Faint(true),
		value:    lipgloss.NewStyle().Bold(true),
		good:     lipgloss.NewStyle().Foreground(green),
		warn:     lipgloss.NewStyle().Foreground(yellow),
		bad:      lipgloss.NewStyle().Bold(true).Foreground(red),
		heading:  lipgloss.NewStyle().Bold(true).Foreground(blue),
		line:     lipgloss.NewStyle().Foreground(cyan),
		marker:   lipgloss.NewStyle().Bold(true).Foreground(magenta),
		spark:    lipgloss.NewStyle().Foreground(green),
		selected: lipgloss.NewStyle().Reverse(true),
		prompt:   lipgloss.NewStyle().Bold(true).Foreground(yellow),
		help:     h,
	}
}
