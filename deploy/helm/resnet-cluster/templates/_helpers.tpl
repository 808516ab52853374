{{/* The chart's name, for app.kubernetes.io/name. */}}
{{- define "resnet-cluster.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The release's resource name prefix; Kubernetes names are at most 63 characters. */}}
{{- define "resnet-cluster.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}

{{- define "resnet-cluster.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Helm's recommended labels; each manifest adds app.kubernetes.io/component. */}}
{{- define "resnet-cluster.labels" -}}
helm.sh/chart: {{ include "resnet-cluster.chart" . }}
{{ include "resnet-cluster.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "resnet-cluster.selectorLabels" -}}
app.kubernetes.io/name: {{ include "resnet-cluster.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "resnet-cluster.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end }}

{{/* What coordinators and workers alike need: the shared Redis and the data root. */}}
{{- define "resnet-cluster.commonEnv" -}}
- name: REDIS_URL
  value: {{ required "set redis.url to your Redis, e.g. --set redis.url=redis://redis:6379" .Values.redis.url | quote }}
- name: REDIS_PREFIX
  value: {{ .Values.redis.prefix | quote }}
- name: DATA_ROOT
  value: /data
{{- end }}

{{/* The datasets, read-only; an emptyDir (synthetic datasets only) without a claim. */}}
{{- define "resnet-cluster.dataVolume" -}}
- name: data
{{- if .Values.data.persistentVolumeClaim }}
  persistentVolumeClaim:
    claimName: {{ .Values.data.persistentVolumeClaim }}
    readOnly: true
{{- else }}
  emptyDir: {}
{{- end }}
{{- end }}
