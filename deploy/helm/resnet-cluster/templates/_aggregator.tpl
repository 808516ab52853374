{{/* The summation service's pod, shared by the per-node DaemonSet and the CPU-only Deployment. */}}
{{- define "resnet-cluster.aggregatorContainer" -}}
- name: aggregator
  image: {{ include "resnet-cluster.image" . }}
  imagePullPolicy: {{ .Values.image.pullPolicy }}
  # Kubernetes expands $(POD_IP) and $(NODE_NAME) from the env below.
  command:
    - node
    - dist/apps/aggregator/src/main.js
    - --port
    - {{ .Values.aggregator.port | quote }}
    - --advertise
    - $(POD_IP)
    - --machine
    - $(NODE_NAME)
    - --lease-ms
    - {{ .Values.aggregator.leaseMs | quote }}
  env:
    {{- include "resnet-cluster.commonEnv" . | nindent 4 }}
    - name: POD_IP
      valueFrom:
        fieldRef:
          fieldPath: status.podIP
    - name: NODE_NAME
      valueFrom:
        fieldRef:
          fieldPath: spec.nodeName
  ports:
    - name: units
      containerPort: {{ .Values.aggregator.port }}
      protocol: TCP
  # Plain TCP (RNT2 frames): ready once it accepts connections.
  readinessProbe:
    tcpSocket:
      port: units
    periodSeconds: 5
  livenessProbe:
    tcpSocket:
      port: units
    periodSeconds: 10
    failureThreshold: 6
{{- end }}
