{{/* The name of every object of the release. */}}
{{- define "olops.fullname" -}}
{{- .Release.Name | trunc 53 | trimSuffix "-" -}}
{{- end -}}

{{/* Labels on every object. */}}
{{- define "olops.labels" -}}
app.kubernetes.io/name: olops
app.kubernetes.io/instance: {{ .Release.Name | quote }}
app.kubernetes.io/version: {{ .Values.image.tag | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service | quote }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | quote }}
dev.olops.model: {{ .Values.model.name | quote }}
{{- end -}}

{{/* The labels a Service selects pods by. */}}
{{- define "olops.selector" -}}
app.kubernetes.io/name: olops
app.kubernetes.io/instance: {{ .Release.Name | quote }}
{{- end -}}

{{/* The Secret with the tokens, when there is one. */}}
{{- define "olops.secretName" -}}
{{- if .Values.tokens.existingSecret -}}
{{- .Values.tokens.existingSecret -}}
{{- else if or .Values.tokens.public .Values.tokens.management -}}
{{- include "olops.fullname" . }}-tokens
{{- end -}}
{{- end -}}
