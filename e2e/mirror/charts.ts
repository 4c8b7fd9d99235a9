/**
 * Stand-ins for the Helm charts the platform installs, at the pinned versions, rendered by the
 * Kubernetes provider's own Helm code like the real ones. Each carries the upstream facts the
 * platform's code depends on: the values keys it sets (and their upstream defaults), the names
 * and labels the rest of the platform refers to (Services, `istio: ingressgateway`), the CRDs its
 * custom resources need, the hooks Helm would run (kube-prometheus-stack's admission-webhook
 * certificate Jobs are `pre-install` hooks, and its operator mounts the Secret they create), and
 * what the policy pack reads (Istio's CNI agent runs privileged; the gateway's image is `auto`,
 * filled in by istiod's injector; charts that ship `resources: {}`). Sources: each chart's
 * `values.yaml` and `templates/` at the pinned version (istio/istio `manifests/charts`,
 * prometheus-community/helm-charts, elastic/cloud-on-k8s `deploy/eck-operator`,
 * fluent/helm-charts, kiali/helm-charts).
 */
import type { StandInChart } from "./chart-templates.ts";
import { ISTIO_CHARTS } from "./istio-charts.ts";
import { MONITORING_CHARTS } from "./monitoring-charts.ts";

export type { StandInChart } from "./chart-templates.ts";

export const STAND_IN_CHARTS: StandInChart[] = [...ISTIO_CHARTS, ...MONITORING_CHARTS];
