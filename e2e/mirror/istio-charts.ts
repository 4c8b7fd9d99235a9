/** Stand-ins for Istio's charts base, istiod, cni and gateway (istio/istio `manifests/charts`). */
import { VERSIONS } from "../../components/platform/versions.ts";
import { type StandInChart, serviceTemplate, workloadTemplate, yamlDocs } from "./chart-templates.ts";
import { crd } from "./objects.ts";

export const ISTIO_CHARTS: StandInChart[] = [
    {
        repository: "istio",
        name: "base",
        version: VERSIONS.istio,
        values: { defaultRevision: "" },
        // Upstream renders its CRDs from templates (files/crd-all.gen.yaml), so they are part of the release.
        templates: {
            "crds.yaml": yamlDocs([
                crd("security.istio.io", "PeerAuthentication", "peerauthentications", ["v1", "v1beta1"]),
                crd("security.istio.io", "AuthorizationPolicy", "authorizationpolicies", ["v1", "v1beta1"]),
                crd("networking.istio.io", "Gateway", "gateways", ["v1", "v1beta1"]),
                crd("networking.istio.io", "VirtualService", "virtualservices", ["v1", "v1beta1"]),
                crd("networking.istio.io", "DestinationRule", "destinationrules", ["v1", "v1beta1"]),
            ]),
        },
    },
    {
        repository: "istio",
        name: "istiod",
        version: VERSIONS.istio,
        values: {
            // Upstream keeps these under `_internal_defaults_do_not_set` and reads them at the top level.
            global: { hub: "docker.io/istio", tag: VERSIONS.istio, defaultPodDisruptionBudget: { enabled: true } },
            autoscaleEnabled: true,
            autoscaleMin: 1,
            autoscaleMax: 5,
            replicaCount: 1,
            affinity: {},
            cni: { enabled: false },
            // Upstream requests 500m / 2048Mi and sets no limit.
            resources: { requests: { cpu: "500m", memory: "2048Mi" } },
            meshConfig: {},
        },
        // The sidecar injector webhook is left out: nothing in the simulated cluster could answer it.
        templates: {
            "deployment.yaml": workloadTemplate(
                "Deployment",
                "istiod",
                "{ app: istiod, istio: pilot }",
                '"{{ .Values.global.hub }}/pilot:{{ .Values.global.tag }}"',
                ".Values.resources",
                {
                    container: "discovery",
                    replicas:
                        "{{- if not .Values.autoscaleEnabled }}\n  replicas: {{ .Values.replicaCount }}\n{{- end }}",
                    podExtra: "{{- with .Values.affinity }}\n      affinity: {{- toYaml . | nindent 8 }}\n{{- end }}",
                },
            ),
            "service.yaml": serviceTemplate(
                "istiod",
                "{ app: istiod }",
                "[{ name: grpc-xds, port: 15010 }, { name: https-webhook, port: 443, targetPort: 15017 }, { name: http-monitoring, port: 15014 }]",
            ),
            "autoscale.yaml": `{{- if .Values.autoscaleEnabled }}
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: { name: istiod, namespace: {{ .Release.Namespace }} }
spec:
  scaleTargetRef: { apiVersion: apps/v1, kind: Deployment, name: istiod }
  minReplicas: {{ .Values.autoscaleMin }}
  maxReplicas: {{ .Values.autoscaleMax }}
{{- end }}
`,
            "poddisruptionbudget.yaml": `{{- if .Values.global.defaultPodDisruptionBudget.enabled }}
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: { name: istiod, namespace: {{ .Release.Namespace }} }
spec:
  minAvailable: 1
  selector: { matchLabels: { app: istiod } }
{{- end }}
`,
            "configmap.yaml": `apiVersion: v1
kind: ConfigMap
metadata: { name: istio, namespace: {{ .Release.Namespace }} }
data:
  mesh: {{ toYaml .Values.meshConfig | quote }}
`,
        },
    },
    {
        repository: "istio",
        name: "cni",
        version: VERSIONS.istio,
        values: {
            global: { hub: "docker.io/istio", tag: VERSIONS.istio },
            // Upstream requests 100m / 100Mi and sets no limit.
            resources: { requests: { cpu: "100m", memory: "100Mi" } },
        },
        templates: {
            // The node agent installs the CNI plugin on the host: upstream runs it privileged.
            "daemonset.yaml": workloadTemplate(
                "DaemonSet",
                "istio-cni-node",
                "{ k8s-app: istio-cni-node }",
                '"{{ .Values.global.hub }}/install-cni:{{ .Values.global.tag }}"',
                ".Values.resources",
                {
                    container: "install-cni",
                    securityContext:
                        "\n          securityContext:\n            privileged: true\n            runAsNonRoot: false\n            runAsUser: 0",
                    podExtra: "      hostNetwork: true",
                },
            ),
        },
    },
    {
        repository: "istio",
        name: "gateway",
        version: VERSIONS.istio,
        values: {
            replicaCount: 1,
            service: { type: "LoadBalancer" },
            autoscaling: { enabled: true, minReplicas: 1, maxReplicas: 5 },
            podDisruptionBudget: {},
            affinity: {},
            resources: { requests: { cpu: "100m", memory: "128Mi" }, limits: { cpu: "2000m", memory: "1024Mi" } },
        },
        templates: {
            // `image: auto`: istiod's injector puts the pinned proxy image in when the pod is created.
            "deployment.yaml": workloadTemplate(
                "Deployment",
                "{{ .Release.Name }}",
                '{ app: {{ .Release.Name }}, istio: {{ .Release.Name | trimPrefix "istio-" }} }',
                "auto",
                ".Values.resources",
                {
                    container: "istio-proxy",
                    replicas:
                        "{{- if not .Values.autoscaling.enabled }}\n  replicas: {{ .Values.replicaCount }}\n{{- end }}",
                    podExtra: "{{- with .Values.affinity }}\n      affinity: {{- toYaml . | nindent 8 }}\n{{- end }}",
                },
            ),
            "service.yaml": serviceTemplate(
                "{{ .Release.Name }}",
                '{ app: {{ .Release.Name }}, istio: {{ .Release.Name | trimPrefix "istio-" }} }',
                "[{ name: http2, port: 80, targetPort: 80 }, { name: https, port: 443, targetPort: 443 }]",
                "{{ .Values.service.type }}",
            ),
            "hpa.yaml": `{{- if .Values.autoscaling.enabled }}
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: { name: {{ .Release.Name }}, namespace: {{ .Release.Namespace }} }
spec:
  scaleTargetRef: { apiVersion: apps/v1, kind: Deployment, name: {{ .Release.Name }} }
  minReplicas: {{ .Values.autoscaling.minReplicas }}
  maxReplicas: {{ .Values.autoscaling.maxReplicas }}
{{- end }}
`,
            "poddisruptionbudget.yaml": `{{- if .Values.podDisruptionBudget }}
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: { name: {{ .Release.Name }}, namespace: {{ .Release.Namespace }} }
spec:
  {{- toYaml .Values.podDisruptionBudget | nindent 2 }}
  selector: { matchLabels: { app: {{ .Release.Name }} } }
{{- end }}
`,
        },
    },
];
