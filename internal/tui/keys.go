package tui

import "charm.land/bubbles/v2/key"

// keyMap is every key the monitor answers to; the help view is built from it.
type keyMap struct {
	Next     key.Binding
	List     key.Binding
	Snapshot key.Binding
	Rollback key.Binding
	Pause    key.Binding
	Help     key.Binding
	Quit     key.Binding

	// Only while the rollback picker is open.
	Up   key.Binding
	Down key.Binding
	Yes  key.Binding
	No   key.Binding

	// Only while the model list is open (Up and Down move in it too).
	Move  key.Binding // help only: Up and Down match the keys
	Show  key.Binding
	Close key.Binding
}

func newKeyMap() keyMap {
	return keyMap{
		Next:     key.NewBinding(key.WithKeys("tab"), key.WithHelp("tab", "next model")),
		List:     key.NewBinding(key.WithKeys("l"), key.WithHelp("l", "list models")),
		Snapshot: key.NewBinding(key.WithKeys("s"), key.WithHelp("s", "snapshot")),
		Rollback: key.NewBinding(key.WithKeys("r"), key.WithHelp("r", "roll back")),
		Pause:    key.NewBinding(key.WithKeys("p"), key.WithHelp("p", "pause/resume")),
		Help:     key.NewBinding(key.WithKeys("?"), key.WithHelp("?", "help")),
		Quit:     key.NewBinding(key.WithKeys("q", "ctrl+c"), key.WithHelp("q", "quit")),
		Up:       key.NewBinding(key.WithKeys("up", "k"), key.WithHelp("↑/k", "newer version")),
		Down:     key.NewBinding(key.WithKeys("down", "j"), key.WithHelp("↓/j", "older version")),
		Yes:      key.NewBinding(key.WithKeys("y"), key.WithHelp("y", "confirm")),
		No:       key.NewBinding(key.WithKeys("n", "esc"), key.WithHelp("n/esc", "cancel")),
		Move:     key.NewBinding(key.WithKeys("up", "down", "k", "j"), key.WithHelp("↑↓/jk", "move")),
		Show:     key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "show model")),
		Close:    key.NewBinding(key.WithKeys("esc", "l"), key.WithHelp("esc", "close")),
	}
}

// ShortHelp is the footer line.
func (k keyMap) ShortHelp() []key.Binding {
	return []key.Binding{k.Next, k.Snapshot, k.Rollback, k.Pause, k.Help, k.Quit}
}

// multiHelp is the footer line with several models: l opens their list.
// Shorter words keep it within 80 cells.
func (k keyMap) multiHelp() []key.Binding {
	next := key.NewBinding(key.WithKeys("tab"), key.WithHelp("tab", "next"))
	list := key.NewBinding(key.WithKeys("l"), key.WithHelp("l", "list"))
	return []key.Binding{next, list, k.Snapshot, k.Rollback, k.Pause, k.Help, k.Quit}
}

// FullHelp is the help view toggled by ?.
func (k keyMap) FullHelp() [][]key.Binding {
	return [][]key.Binding{
		{k.Next, k.Snapshot, k.Rollback, k.Pause},
		{k.Up, k.Down, k.Yes, k.No},
		{k.List, k.Show, k.Help, k.Quit},
	}
}

// pickerHelp is the footer while the rollback picker is open.
func (k keyMap) pickerHelp() []key.Binding {
	return []key.Binding{k.Yes, k.No, k.Up, k.Down}
}

// listHelp is the footer while the model list is open.
func (k keyMap) listHelp() []key.Binding {
	return []key.Binding{k.Show, k.Close, k.Move}
}
