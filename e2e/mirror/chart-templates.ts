/** What a stand-in chart is, and the template pieces the stand-ins share. */
import { stringify } from "yaml";
import type { Obj } from "./objects.ts";

export interface StandInChart {
    /** The repository the platform's `sources` key names for it. */
    repository: "istio" | "prometheus" | "elastic" | "fluent" | "kiali";
    name: string;
    version: string;
    /** The chart's `values.yaml` (upstream defaults of the keys the platform sets). */
    values: Obj;
    templates: Record<string, string>;
    /** Files of the chart's `crds/` directory. */
    crds?: Obj[];
}

const HARDENED = `
          securityContext:
            allowPrivilegeEscalation: false
            readOnlyRootFilesystem: true
            runAsNonRoot: true
            capabilities: { drop: [ALL] }
            seccompProfile: { type: RuntimeDefault }`;

/** A Deployment (or DaemonSet, StatefulSet) template with one container; `extra` is inserted under the container. */
export function workloadTemplate(
    kind: string,
    name: string,
    labels: string,
    image: string,
    resources: string,
    options: {
        replicas?: string;
        podExtra?: string;
        container?: string;
        containerExtra?: string;
        securityContext?: string;
    } = {},
): string {
    return `apiVersion: apps/v1
kind: ${kind}
metadata:
  name: ${name}
  namespace: {{ .Release.Namespace }}
  labels: ${labels}
spec:
${options.replicas ?? ""}
${kind === "StatefulSet" ? `  serviceName: ${name}\n` : ""}  selector:
    matchLabels: ${labels}
  template:
    metadata:
      labels: ${labels}
    spec:
${options.podExtra ?? ""}
      containers:
        - name: ${options.container ?? "main"}
          image: ${image}
          resources: {{- toYaml ${resources} | nindent 12 }}${options.securityContext ?? HARDENED}
${options.containerExtra ?? ""}
`;
}

export function serviceTemplate(name: string, selector: string, ports: string, type = "ClusterIP"): string {
    return `apiVersion: v1
kind: Service
metadata:
  name: ${name}
  namespace: {{ .Release.Namespace }}
spec:
  type: ${type}
  selector: ${selector}
  ports: ${ports}
`;
}

export const yamlDocs = (objects: Obj[]) => objects.map((object) => stringify(object)).join("---\n");
