#!/usr/bin/env bash
# Builds the local toolchain from the Go module proxy into a cache that later runs reuse, and prints
# where each piece is as `name=path` lines:
#   engine   the Pulumi CLI, the YAML language host, our Node plugin host (policy packs, component
#            packages), and the Kubernetes provider
#   cluster  etcd, kube-apiserver, kube-controller-manager, kube-scheduler and kwok, and the upstream
#            programs the cluster's host runs as pods (Knative Serving's control plane, ECK's operator,
#            the Prometheus Operator)
#   judge    Knative Serving's own validation code, and Prometheus's own discovery and relabelling, as commands
#   toolchain/build.sh [engine|cluster|judge]...   (no argument: all of them)
# Versions live in toolchain/versions.env. The first build from empty Go caches takes most of CI's time
# (docs/time.md measures it).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=toolchain/versions.env
source "$here/versions.env"
cache="${SERVERLESS_PLATFORM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/serverless-platform}/toolchain"
mkdir -p "$cache/bin"

# Each line says when, in seconds since the build started, so that a cold build shows where its time goes.
say() { echo "toolchain: [${SECONDS}s] $*" >&2; }
fail() { say "$*"; exit 1; }
need() { command -v "$1" >/dev/null 2>&1 || fail "$1 is required ($2)"; }
need go "Go 1.26.6 or newer builds every piece from the Go module proxy"
# The compiler spends much of a cold build collecting garbage; with 24 GiB, collecting less often built
# kwok 11% faster from empty caches here (180 s against 202 s; GOGC=off was no faster).
export GOGC="${GOGC:-400}"

# wrapper_module DIR MODULE VERSION [go.mod lines]: a throwaway module that pins MODULE@VERSION.
wrapper_module() {
  local dir="$1" module="$2" version="$3" extra="${4:-}"
  printf 'module toolchain/wrapper\n\ngo 1.24\n\nrequire %s %s\n%s\n' "$module" "$version" "$extra" > "$dir/go.mod"
}

# go_build NAME TARGET DIR PACKAGE... [-- ldflags]: builds each PACKAGE inside module DIR, atomically: into
# TARGET for one package, into directory TARGET (each under its command's name) for several.
go_build() {
  local name="$1" target="$2" dir="$3"
  shift 3
  local packages=() ldflags=""
  while [ $# -gt 0 ] && [ "$1" != "--" ]; do packages+=("$1"); shift; done
  [ $# -gt 0 ] && ldflags="$2"
  local output="$target.partial"
  [ ${#packages[@]} -gt 1 ] && output="$target.partial/"
  rm -rf "$target.partial"
  if ! (cd "$dir" && GOFLAGS=-mod=mod go mod tidy -e >&2 \
      && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w $ldflags" -o "$output" "${packages[@]}" >&2); then
    fail "could not build $name (the Go output above says why; the module proxy must be reachable)"
  fi
  rm -rf "$target"
  mv "$target.partial" "$target"
  say "built $name"
}

# upstream NAME VERSION MODULE PACKAGES TARGET [go.mod lines] [ldflags]: builds upstream commands once:
# one package into file TARGET, or several (space-separated) into directory TARGET, in one go build
# (their shared packages compile once, their links run side by side).
upstream() {
  local name="$1" version="$2" module="$3" packages="$4" target="$5" extra="${6:-}" ldflags="${7:-}"
  local work package built=true
  if [ "${packages// /}" = "$packages" ]; then
    [ -x "$target" ] || built=false
  else
    for package in $packages; do [ -x "$target/${package##*/}" ] || built=false; done
  fi
  if $built; then return; fi
  say "building $name $version from $module (minutes on first use)"
  work="$(mktemp -d)"
  wrapper_module "$work" "$module" "$version" "$extra"
  # The wrapper imports the commands so that `go mod tidy` records their dependencies.
  { printf '//go:build tools\n\npackage tools\n\nimport (\n'
    for package in $packages; do printf '\t_ "%s"\n' "$package"; done
    printf ')\n'; } > "$work/tools.go"
  # shellcheck disable=SC2086 # the package list splits into words
  go_build "$name" "$target" "$work" $packages -- "$ldflags"
  rm -rf "$work"
}

# own NAME SOURCE TARGET_DIR: builds one of this repository's Go commands, again when its source changes.
own() {
  local name="$1" source="$2" target_dir="$3"
  local stamp
  stamp="$(cat "$source"/go.mod "$source"/go.sum "$source"/*.go | sha256sum | cut -c1-16)"
  if [ -x "$target_dir/$name" ] && [ "$(cat "$target_dir/.$name.stamp" 2>/dev/null)" = "$stamp" ]; then return; fi
  say "building $name from $source"
  (cd "$source" && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$target_dir/$name.partial" . >&2) \
    || fail "could not build $name from $source (the Go output above says why)"
  mv "$target_dir/$name.partial" "$target_dir/$name"
  echo "$stamp" > "$target_dir/.$name.stamp"
  say "built $name"
}

engine() {
  local root="$cache/pulumi-$PULUMI_VERSION"
  mkdir -p "$root/bin"
  # pkg/v3's go.mod replaces the clipboard module; replace directives only count in the main module.
  upstream pulumi "$PULUMI_VERSION" github.com/pulumi/pulumi/pkg/v3 github.com/pulumi/pulumi/pkg/v3/cmd/pulumi \
    "$root/bin/pulumi" \
    "require github.com/pulumi/pulumi/sdk/v3 $PULUMI_VERSION
replace github.com/atotto/clipboard => github.com/tgummerer/clipboard v0.0.0-20241001131231-d02d263e614e" \
    "-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$PULUMI_VERSION"
  # With ambient plugins ignored the CLI finds language hosts next to itself only.
  own pulumi-language-nodejs "$here/policy-host" "$root/bin"
  # Dynamic providers (the platform's CrdSet) run in the Node SDK's host, which the CLI starts as the plugin
  # pulumi-resource-pulumi-nodejs: upstream's launcher, which the @pulumi/pulumi package ships too.
  local launcher="$here/../node_modules/@pulumi/pulumi/pulumi-resource-pulumi-nodejs"
  [ -f "$launcher" ] || fail "no $launcher: run npm ci first"
  cmp -s "$launcher" "$root/bin/pulumi-resource-pulumi-nodejs" || install -m 755 "$launcher" "$root/bin/"
  # The YAML language host, on the Pulumi modules it was released with (the CLI's are API-incompatible with it).
  upstream pulumi-language-yaml "$PULUMI_YAML_VERSION" github.com/pulumi/pulumi-yaml \
    github.com/pulumi/pulumi-yaml/cmd/pulumi-language-yaml "$root/bin/pulumi-language-yaml" \
    "replace github.com/atotto/clipboard => github.com/tgummerer/clipboard v0.0.0-20241001131231-d02d263e614e" \
    "-X github.com/pulumi/pulumi-yaml/pkg/version.Version=${PULUMI_YAML_VERSION#v}"

  local provider="$cache/pulumi-resource-kubernetes-$PULUMI_KUBERNETES_VERSION"
  if [ ! -x "$provider" ]; then
    say "building the Kubernetes provider $PULUMI_KUBERNETES_VERSION (about 10 minutes on first use)"
    local work module="github.com/pulumi/pulumi-kubernetes/provider/v4"
    work="$(mktemp -d)"
    wrapper_module "$work" "$module" "$PULUMI_KUBERNETES_MODULE_VERSION"
    local upstream_cmd
    upstream_cmd="$(cd "$work" && go mod download -json "$module@$PULUMI_KUBERNETES_MODULE_VERSION" \
      | sed -n 's/.*"Dir": "\(.*\)",*/\1/p')/cmd/pulumi-resource-kubernetes"
    [ -f "$upstream_cmd/schema.json" ] || fail "the provider module has no schema.json at $upstream_cmd"
    # Upstream generates these embedded files at release time (go generate); we do the same here.
    need node "node writes the provider's versioned schema"
    node -e '
      const fs = require("fs");
      const [from, to, version] = process.argv.slice(1);
      const schema = JSON.parse(fs.readFileSync(`${from}/schema.json`, "utf8"));
      fs.writeFileSync(`${to}/schema-embed.json`, JSON.stringify({ ...schema, version }));
      fs.writeFileSync(`${to}/terraform-mapping-embed.json`,
        JSON.stringify(JSON.parse(fs.readFileSync(`${from}/terraform-mapping.json`, "utf8"))));
    ' "$upstream_cmd" "$work" "$PULUMI_KUBERNETES_VERSION"
    cp "$here/kubernetes-provider/main.go" "$work/main.go"
    go_build pulumi-resource-kubernetes "$provider" "$work" . -- \
      "-X $module/pkg/version.Version=$PULUMI_KUBERNETES_VERSION"
    rm -rf "$work"
  fi
  echo "pulumi=$root/bin/pulumi"
  echo "pulumiRoot=$root"
  echo "kubernetesProvider=$provider"
  echo "kubernetesProviderVersion=$PULUMI_KUBERNETES_VERSION"
}

cluster() {
  local bin="$cache/bin"
  upstream etcd "$ETCD_VERSION" go.etcd.io/etcd/server/v3 go.etcd.io/etcd/server/v3 "$bin/etcd-$ETCD_VERSION"
  # k8s.io/kubernetes refers to its staging modules by path; pin each to the matching release.
  local kubernetes_mod staging_version replaces
  kubernetes_mod="$(go mod download -json "k8s.io/kubernetes@$KUBERNETES_VERSION" | sed -n 's/.*"GoMod": "\(.*\)",*/\1/p')"
  [ -f "$kubernetes_mod" ] || fail "could not download k8s.io/kubernetes@$KUBERNETES_VERSION from the module proxy"
  staging_version="v0.${KUBERNETES_VERSION#v1.}"
  replaces="$(grep -E '^\s+k8s.io/[a-z-]+ => ./staging' "$kubernetes_mod" | awk -v v="$staging_version" '{print "replace " $1 " => " $1 " " v}')"
  # The version stamped as upstream's release build does (hack/lib/version.sh): the API server's /version
  # then reports the release, which the platform's compatibility check reads as on a real cluster.
  local minor="${KUBERNETES_VERSION#v1.}" stamp="" package
  minor="${minor%%.*}"
  for package in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    stamp+=" -X $package.gitVersion=$KUBERNETES_VERSION -X $package.gitMajor=1 -X $package.gitMinor=$minor"
    stamp+=" -X $package.gitTreeState=clean"
  done
  local component
  for component in kube-apiserver kube-controller-manager kube-scheduler; do
    upstream "$component" "$KUBERNETES_VERSION" k8s.io/kubernetes "k8s.io/kubernetes/cmd/$component" \
      "$bin/$component-$KUBERNETES_VERSION-stamped" "$replaces" "$stamp"
    echo "${component}=$bin/$component-$KUBERNETES_VERSION-stamped"
  done
  # kwok, ECK's operator and the Prometheus Operator (with its config reloader, which expands the generated
  # configuration in Prometheus's pod) require Kubernetes' libraries at one minor (0.36) and the same
  # controller-runtime: built from one module graph, at the newest patch of each, they compile those once
  # instead of three times. The wrapper repeats ECK's two replaces and requires the Prometheus Operator's API
  # and client modules at its version (replaces and their subdirectory paths count only in a main module).
  local controllers="$bin/controllers-kwok-$KWOK_VERSION-eck-$ECK_MODULE_VERSION-prometheus-operator-$PROMETHEUS_OPERATOR_MODULE_VERSION"
  local prometheus_operator=github.com/prometheus-operator/prometheus-operator
  upstream "kwok $KWOK_VERSION, ECK's operator $ECK_MODULE_VERSION and the Prometheus Operator" \
    "$PROMETHEUS_OPERATOR_MODULE_VERSION" "$prometheus_operator" \
    "sigs.k8s.io/kwok/cmd/kwok github.com/elastic/cloud-on-k8s/v3/cmd $prometheus_operator/cmd/operator $prometheus_operator/cmd/prometheus-config-reloader" \
    "$controllers" \
    "require sigs.k8s.io/kwok $KWOK_VERSION
require github.com/elastic/cloud-on-k8s/v3 $ECK_MODULE_VERSION
require $prometheus_operator/pkg/apis/monitoring $PROMETHEUS_OPERATOR_MODULE_VERSION
require $prometheus_operator/pkg/client $PROMETHEUS_OPERATOR_MODULE_VERSION
replace github.com/dgryski/go-gk => github.com/dgryski/go-gk v0.0.0-20200319235926-a69029f61654
replace github.com/dgryski/go-lttb => github.com/dgryski/go-lttb v0.0.0-20230207170358-f8fc36cdbff1"
  # ECK's command package is named cmd; its image runs it as elastic-operator, the name its client reports.
  ln -f "$controllers/cmd" "$controllers/elastic-operator"
  # The kwok command takes its stages from a config file; kwokctl's defaults are these five, which make
  # a node Ready and keep it so, make pods Running and Ready, complete Jobs' pods, and finish deletes.
  local stages="$cache/kwok-stages-$KWOK_VERSION.yaml"
  if [ ! -s "$stages" ]; then
    local kwok_dir
    kwok_dir="$(go mod download -json "sigs.k8s.io/kwok@$KWOK_VERSION" | sed -n 's/.*"Dir": "\(.*\)",*/\1/p')"
    local stage
    for stage in node/fast/node-initialize node/heartbeat/node-heartbeat pod/fast/pod-ready \
      pod/fast/pod-complete pod/fast/pod-delete; do
      [ -f "$kwok_dir/kustomize/stage/$stage.yaml" ] || fail "kwok $KWOK_VERSION has no stage $stage"
      printf -- '---\n' && cat "$kwok_dir/kustomize/stage/$stage.yaml"
    done > "$stages.partial"
    mv "$stages.partial" "$stages"
  fi
  # Knative Serving's control plane (controller, autoscaler, activator, webhook) runs on the cluster's host as
  # its pods would (toolchain/cluster-host.ts), each under its image's command name, which its client
  # reports as its field manager.
  local knative="$bin/knative-serving-$KNATIVE_SERVING_MODULE_VERSION" command
  upstream knative-serving "$KNATIVE_SERVING_MODULE_VERSION" knative.dev/serving \
    "$(for command in $KNATIVE_SERVING_COMMANDS; do printf 'knative.dev/serving/cmd/%s ' "$command"; done)" "$knative"
  for command in $KNATIVE_SERVING_COMMANDS; do
    echo "knativeServing${command^}=$knative/$command"
  done
  # istiod's sidecar injection, from the installed chart's own templates (sidecar-injection.ts).
  own istio-injector "$here/istio-injector" "$bin"
  echo "istioInjector=$bin/istio-injector"
  echo "eckOperator=$controllers/elastic-operator"
  echo "prometheusOperator=$controllers/operator"
  echo "prometheusConfigReloader=$controllers/prometheus-config-reloader"
  echo "etcd=$bin/etcd-$ETCD_VERSION"
  echo "kwok=$controllers/kwok"
  echo "kwokStages=$stages"
  echo "kubernetesVersion=$KUBERNETES_VERSION"
}

judge() {
  own knative-judge "$here/knative-judge" "$cache/bin"
  echo "knativeJudge=$cache/bin/knative-judge"
  own prometheus-targets "$here/prometheus-targets" "$cache/bin"
  echo "prometheusTargets=$cache/bin/prometheus-targets"
}

pieces=("$@")
if [ ${#pieces[@]} -eq 0 ]; then
  # Everything: the engine builds beside the cluster and the judge, so that one side's downloads and
  # single-threaded links overlap the other's compiles.
  engine &
  engine_pid=$!
  cluster
  judge
  wait "$engine_pid"
  exit
fi
for piece in "${pieces[@]}"; do
  case "$piece" in
    engine | cluster | judge) "$piece" ;;
    *) fail "unknown piece '$piece' (allowed: engine, cluster, judge)" ;;
  esac
done
