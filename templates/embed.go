// Package templates holds the files `olops init` scaffolds, and the Helm
// chart `olops deploy --target kubernetes` renders, embedded in the binary.
package templates

import "embed"

// FS holds the templates: olops.yaml.tmpl, workflow.yml.tmpl,
// dockerignore.tmpl, and helm/olops (the Helm chart; its values.yaml, with
// the model's name and config filled in, is the values file `olops init`
// writes).
//
//go:embed olops.yaml.tmpl workflow.yml.tmpl dockerignore.tmpl all:helm
var FS embed.FS
