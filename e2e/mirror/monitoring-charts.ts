/**
 * Stand-ins for the monitoring charts: kube-prometheus-stack (prometheus-community/helm-charts),
 * the ECK operator (elastic/cloud-on-k8s `deploy/eck-operator`), Fluent Bit (fluent/helm-charts)
 * and Kiali's server (kiali/helm-charts).
 */
import { VERSIONS } from "../../components/platform/versions.ts";
import { type StandInChart, serviceTemplate, workloadTemplate, yamlDocs } from "./chart-templates.ts";
import { crd } from "./objects.ts";

/** One of the chart's admission-certificate Jobs, a Helm hook (`create` makes the Secret, `patch` the webhook's CA). */
function certgenHookJob(step: "create" | "patch", hook: string, target: string): string {
    return `apiVersion: batch/v1
kind: Job
metadata:
  name: {{ include "fullname" . }}-admission-${step}
  namespace: {{ .Release.Namespace }}
  annotations:
    "helm.sh/hook": ${hook}
    "helm.sh/hook-delete-policy": before-hook-creation,hook-succeeded
spec:
  template:
    spec:
      restartPolicy: OnFailure
      containers:
        - name: ${step}
          image: registry.k8s.io/ingress-nginx/kube-webhook-certgen:v1.5.0
          args: [${step}, --namespace={{ .Release.Namespace }}, ${target}]
`;
}

const PROMETHEUS_FULLNAME =
    '{{ .Values.fullnameOverride | default (printf "%s-kube-prometheus-stack" .Release.Name) }}';

const KUBE_PROMETHEUS_STACK: StandInChart = {
    repository: "prometheus",
    name: "kube-prometheus-stack",
    version: VERSIONS.kubePrometheusStack,
    values: {
        fullnameOverride: "",
        prometheusOperator: {
            resources: {},
            tls: { enabled: true },
            admissionWebhooks: { enabled: true, failurePolicy: "", patch: { enabled: true } },
        },
        prometheus: { prometheusSpec: {} },
        grafana: {
            fullnameOverride: "",
            resources: {},
            admin: { existingSecret: "", userKey: "admin-user", passwordKey: "admin-password" },
            sidecar: { dashboards: {}, datasources: {} },
        },
        "kube-state-metrics": { resources: {} },
        "prometheus-node-exporter": { resources: {} },
    },
    crds: [
        crd("monitoring.coreos.com", "Prometheus", "prometheuses", ["v1"]),
        crd("monitoring.coreos.com", "Alertmanager", "alertmanagers", ["v1"]),
        crd("monitoring.coreos.com", "ServiceMonitor", "servicemonitors", ["v1"]),
        crd("monitoring.coreos.com", "PodMonitor", "podmonitors", ["v1"]),
        crd("monitoring.coreos.com", "PrometheusRule", "prometheusrules", ["v1"]),
    ],
    templates: {
        "_helpers.tpl": `{{- define "fullname" -}}${PROMETHEUS_FULLNAME}{{- end -}}\n`,
        "operator.yaml": workloadTemplate(
            "Deployment",
            '{{ include "fullname" . }}-operator',
            '{ app: {{ include "fullname" . }}-operator }',
            "quay.io/prometheus-operator/prometheus-operator:v0.79.2",
            ".Values.prometheusOperator.resources",
            {
                // The operator's TLS certificate is the Secret the admission hook Job creates.
                podExtra: `{{- if .Values.prometheusOperator.tls.enabled }}
      volumes:
        - name: tls-secret
          secret: { secretName: {{ include "fullname" . }}-admission, defaultMode: 420 }
{{- end }}`,
            },
        ),
        "operator-service.yaml": serviceTemplate(
            '{{ include "fullname" . }}-operator',
            '{ app: {{ include "fullname" . }}-operator }',
            "[{ name: https, port: 443, targetPort: 10250 }]",
        ),
        "admission-webhooks.yaml": `{{- if .Values.prometheusOperator.admissionWebhooks.enabled }}
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingWebhookConfiguration
metadata: { name: {{ include "fullname" . }}-admission }
webhooks:
  - name: prometheusrulemutate.monitoring.coreos.com
    failurePolicy: {{ .Values.prometheusOperator.admissionWebhooks.failurePolicy | default (ternary "Ignore" "Fail" .Values.prometheusOperator.admissionWebhooks.patch.enabled) }}
    rules: [{ apiGroups: [monitoring.coreos.com], apiVersions: ["*"], resources: [prometheusrules], operations: [CREATE, UPDATE] }]
    clientConfig:
      service: { namespace: {{ .Release.Namespace }}, name: {{ include "fullname" . }}-operator, path: /admission-prometheusrules/validate }
    admissionReviewVersions: [v1, v1beta1]
    sideEffects: None
{{- if .Values.prometheusOperator.admissionWebhooks.patch.enabled }}
---
${certgenHookJob("create", "pre-install,pre-upgrade", '--secret-name={{ include "fullname" . }}-admission')}---
${certgenHookJob("patch", "post-install,post-upgrade", '--webhook-name={{ include "fullname" . }}-admission')}{{- end }}
{{- end }}
`,
        "prometheus.yaml": `apiVersion: monitoring.coreos.com/v1
kind: Prometheus
metadata: { name: {{ include "fullname" . }}-prometheus, namespace: {{ .Release.Namespace }} }
spec: {{- toYaml .Values.prometheus.prometheusSpec | nindent 2 }}
---
${serviceTemplate('{{ include "fullname" . }}-prometheus', "{ app.kubernetes.io/name: prometheus }", "[{ name: http-web, port: 9090 }]")}`,
        "rules.yaml": `apiVersion: monitoring.coreos.com/v1
kind: PrometheusRule
metadata: { name: {{ include "fullname" . }}-general.rules, namespace: {{ .Release.Namespace }} }
spec:
  groups: [{ name: general.rules, rules: [{ alert: Watchdog, expr: vector(1) }] }]
`,
        // Grafana is a subchart upstream; its values sit under "grafana" either way.
        "grafana.yaml": `{{- $name := .Values.grafana.fullnameOverride | default (printf "%s-grafana" .Release.Name) }}
${workloadTemplate(
    "Deployment",
    "{{ $name }}",
    "{ app.kubernetes.io/name: grafana }",
    "docker.io/grafana/grafana:11.4.0",
    ".Values.grafana.resources",
    {
        containerExtra: `{{- with .Values.grafana.admin }}
          env:
            - name: GF_SECURITY_ADMIN_USER
              valueFrom: { secretKeyRef: { name: {{ .existingSecret | default $name }}, key: {{ .userKey }} } }
            - name: GF_SECURITY_ADMIN_PASSWORD
              valueFrom: { secretKeyRef: { name: {{ .existingSecret | default $name }}, key: {{ .passwordKey }} } }
{{- end }}`,
    },
)}---
${serviceTemplate("{{ $name }}", "{ app.kubernetes.io/name: grafana }", "[{ name: http-web, port: 80, targetPort: 3000 }]")}`,
        "kube-state-metrics.yaml": workloadTemplate(
            "Deployment",
            '{{ include "fullname" . }}-kube-state-metrics',
            "{ app.kubernetes.io/name: kube-state-metrics }",
            "registry.k8s.io/kube-state-metrics/kube-state-metrics:v2.14.0",
            '(index .Values "kube-state-metrics" "resources")',
        ),
        "node-exporter.yaml": workloadTemplate(
            "DaemonSet",
            '{{ include "fullname" . }}-prometheus-node-exporter',
            "{ app.kubernetes.io/name: prometheus-node-exporter }",
            "quay.io/prometheus/node-exporter:v1.8.2",
            '(index .Values "prometheus-node-exporter" "resources")',
            { podExtra: "      hostNetwork: true\n      hostPID: true" },
        ),
    },
};

const ECK_OPERATOR: StandInChart = {
    repository: "elastic",
    name: "eck-operator",
    version: VERSIONS.eckOperator,
    values: {
        installCRDs: true,
        resources: { limits: { cpu: 1, memory: "1Gi" }, requests: { cpu: "100m", memory: "150Mi" } },
    },
    templates: {
        "crds.yaml": `{{- if .Values.installCRDs }}
${yamlDocs([
    crd("elasticsearch.k8s.elastic.co", "Elasticsearch", "elasticsearches", ["v1"]),
    crd("kibana.k8s.elastic.co", "Kibana", "kibanas", ["v1"]),
])}{{- end }}
`,
        "statefulset.yaml": workloadTemplate(
            "StatefulSet",
            "elastic-operator",
            "{ control-plane: elastic-operator }",
            `"docker.elastic.co/eck/eck-operator:${VERSIONS.eckOperator}"`,
            ".Values.resources",
            { replicas: "  replicas: 1" },
        ),
        "webhook.yaml": `apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingWebhookConfiguration
metadata: { name: elastic-operator.{{ .Release.Namespace }}.k8s.elastic.co }
webhooks:
  - name: elastic-es-validation-v1.k8s.elastic.co
    failurePolicy: Ignore
    rules: [{ apiGroups: [elasticsearch.k8s.elastic.co], apiVersions: [v1], resources: [elasticsearches], operations: [CREATE, UPDATE] }]
    clientConfig: { service: { namespace: {{ .Release.Namespace }}, name: elastic-operator-webhook, path: /validate-elasticsearch-k8s-elastic-co-v1-elasticsearch } }
    admissionReviewVersions: [v1]
    sideEffects: None
---
${serviceTemplate("elastic-operator-webhook", "{ control-plane: elastic-operator }", "[{ name: https, port: 443, targetPort: 9443 }]")}`,
    },
};

const FLUENT_BIT: StandInChart = {
    repository: "fluent",
    name: "fluent-bit",
    version: VERSIONS.fluentBit,
    values: {
        resources: {},
        env: [],
        extraVolumes: [],
        extraVolumeMounts: [],
        config: { inputs: "", filters: "", outputs: "" },
    },
    templates: {
        "configmap.yaml": `apiVersion: v1
kind: ConfigMap
metadata: { name: {{ .Release.Name }}, namespace: {{ .Release.Namespace }} }
data:
  fluent-bit.conf: |
    {{- .Values.config.inputs | nindent 4 }}
    {{- .Values.config.filters | nindent 4 }}
    {{- .Values.config.outputs | nindent 4 }}
`,
        // Upstream sets no security context: it reads the node's log files as root.
        "daemonset.yaml": workloadTemplate(
            "DaemonSet",
            "{{ .Release.Name }}",
            "{ app.kubernetes.io/name: fluent-bit }",
            "cr.fluentbit.io/fluent/fluent-bit:3.1.9",
            ".Values.resources",
            {
                securityContext: "",
                containerExtra: `          env: {{- toYaml .Values.env | nindent 12 }}
          volumeMounts:
            - { name: varlog, mountPath: /var/log }
            - { name: config, mountPath: /fluent-bit/etc/conf }
{{- with .Values.extraVolumeMounts }}
            {{- toYaml . | nindent 12 }}
{{- end }}`,
                podExtra: `      volumes:
        - { name: varlog, hostPath: { path: /var/log } }
        - { name: config, configMap: { name: {{ .Release.Name }} } }
{{- with .Values.extraVolumes }}
        {{- toYaml . | nindent 8 }}
{{- end }}`,
            },
        ),
    },
};

const KIALI: StandInChart = {
    repository: "kiali",
    name: "kiali-server",
    version: VERSIONS.kiali,
    values: {
        istio_namespace: "",
        auth: { strategy: "" },
        deployment: {
            cluster_wide_access: true,
            resources: { requests: { cpu: "10m", memory: "64Mi" }, limits: { memory: "1Gi" } },
        },
        external_services: {},
    },
    templates: {
        "configmap.yaml": `apiVersion: v1
kind: ConfigMap
metadata: { name: kiali, namespace: {{ .Release.Namespace }} }
data:
  config.yaml: |
    {{- toYaml (dict "auth" .Values.auth "external_services" .Values.external_services "istio_namespace" .Values.istio_namespace) | nindent 4 }}
`,
        "deployment.yaml": workloadTemplate(
            "Deployment",
            "kiali",
            "{ app: kiali }",
            `"quay.io/kiali/kiali:v${VERSIONS.kiali}"`,
            ".Values.deployment.resources",
        ),
        "service.yaml": serviceTemplate("kiali", "{ app: kiali }", "[{ name: http, port: 20001 }]"),
    },
};

export const MONITORING_CHARTS: StandInChart[] = [KUBE_PROMETHEUS_STACK, ECK_OPERATOR, FLUENT_BIT, KIALI];
