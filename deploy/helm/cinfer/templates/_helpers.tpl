{{/* Names and labels of the Cinfer chart. */}}

{{- define "cinfer.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "cinfer.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "cinfer.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "cinfer.selectorLabels" -}}
app.kubernetes.io/name: {{ include "cinfer.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "cinfer.labels" -}}
helm.sh/chart: {{ include "cinfer.chart" . }}
{{ include "cinfer.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{- define "cinfer.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}

{{/* The port the server listens on inside the pod: config.server.port. */}}
{{- define "cinfer.containerPort" -}}
{{- dig "server" "port" 8000 .Values.config | int -}}
{{- end -}}

{{/* The port of config.metrics.listen ("HOST:PORT"); empty when /metrics is on the
main listener. */}}
{{- define "cinfer.metricsPort" -}}
{{- with dig "metrics" "listen" "" .Values.config -}}
{{- regexFind "[0-9]+$" . -}}
{{- end -}}
{{- end -}}

{{- define "cinfer.dataDir" -}}
{{- dig "server" "data_dir" "/data" .Values.config -}}
{{- end -}}

{{- define "cinfer.jwtSecretName" -}}
{{- default (printf "%s-jwt" (include "cinfer.fullname" .)) .Values.jwtSecret.existingSecret -}}
{{- end -}}

{{- define "cinfer.jwtSecretKey" -}}
{{- if .Values.jwtSecret.existingSecret -}}
{{- .Values.jwtSecret.existingSecretKey -}}
{{- else -}}
jwt-secret
{{- end -}}
{{- end -}}

{{/* Empty when no metrics token is configured. */}}
{{- define "cinfer.metricsTokenSecretName" -}}
{{- if .Values.metricsToken.existingSecret -}}
{{- .Values.metricsToken.existingSecret -}}
{{- else if .Values.metricsToken.value -}}
{{- printf "%s-metrics" (include "cinfer.fullname" .) -}}
{{- end -}}
{{- end -}}

{{- define "cinfer.metricsTokenSecretKey" -}}
{{- if .Values.metricsToken.existingSecret -}}
{{- .Values.metricsToken.existingSecretKey -}}
{{- else -}}
token
{{- end -}}
{{- end -}}

{{/* Stops the render on settings the chart cannot run. */}}
{{- define "cinfer.validate" -}}
{{- if gt (int .Values.replicaCount) 1 -}}
{{- fail (printf "replicaCount=%d: Cinfer stores its state in SQLite under %s, which has a single writer; run one replica (replicaCount: 1, strategy Recreate)" (int .Values.replicaCount) (include "cinfer.dataDir" .)) -}}
{{- end -}}
{{- if ne (include "cinfer.dataDir" .) "/data" -}}
{{- fail "config.server.data_dir must stay /data: the chart mounts the data volume there" -}}
{{- end -}}
{{- if dig "auth" "jwt_secret" "" .Values.config -}}
{{- fail "config.auth.jwt_secret would land in a ConfigMap: set jwtSecret.value or jwtSecret.existingSecret instead" -}}
{{- end -}}
{{- if dig "metrics" "token" "" .Values.config -}}
{{- fail "config.metrics.token would land in a ConfigMap: set metricsToken.value or metricsToken.existingSecret instead" -}}
{{- end -}}
{{- if and .Values.jwtSecret.value (lt (len .Values.jwtSecret.value) 32) -}}
{{- fail "jwtSecret.value must be at least 32 characters (auth.jwt_secret)" -}}
{{- end -}}
{{- with dig "metrics" "listen" "" .Values.config -}}
{{- if not (regexMatch "^(0\\.0\\.0\\.0|\\[::\\]):[1-9][0-9]*$" .) -}}
{{- fail (printf "config.metrics.listen=%q: in the pod it must be 0.0.0.0:PORT or [::]:PORT with a fixed port, so that the Service and Prometheus reach it" .) -}}
{{- end -}}
{{- end -}}
{{- if dig "server" "tls" "enabled" false .Values.config -}}
{{- fail "config.server.tls.enabled: the chart's probes speak plain HTTP; terminate TLS at the Ingress (ingress.tls)" -}}
{{- end -}}
{{- end -}}
