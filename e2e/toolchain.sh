#!/usr/bin/env bash
# Builds the pieces of a real Kubernetes API for the end-to-end tests, from the Go module
# proxy, into a cache that later runs reuse: etcd and kube-apiserver. Prints where they are.
#   e2e/toolchain.sh            build what is missing, print the bin directory
# Versions live in e2e/versions.env. Minutes of work on 2 cores the first time.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=e2e/versions.env
source "$here/versions.env"
cache="${XDG_CACHE_HOME:-$HOME/.cache}/serverless-platform/toolchain"
bin="$cache/bin"
mkdir -p "$bin"

need() {
  command -v "$1" >/dev/null 2>&1 || { echo "toolchain: $1 is required ($2)" >&2; exit 1; }
}
need go "the Go toolchain builds etcd and kube-apiserver"
need openssl "the test cluster's certificates are made with it"

# build NAME VERSION MODULE PACKAGE [replace lines]: a throwaway wrapper module pins MODULE@VERSION.
build() {
  local name="$1" version="$2" module="$3" package="$4" replaces="${5:-}"
  local target="$bin/$name-$version"
  if [ -x "$target" ]; then
    echo "toolchain: $name $version is built" >&2
    return
  fi
  echo "toolchain: building $name $version (a few minutes)" >&2
  local work
  work="$(mktemp -d)"
  trap 'rm -rf "$work"' RETURN
  {
    echo "module toolchain/$name"
    echo
    echo "go 1.24"
    echo
    echo "require $module $version"
    [ -n "$replaces" ] && printf '%s\n' "$replaces"
  } > "$work/go.mod"
  printf '//go:build tools\n\npackage tools\n\nimport _ "%s"\n' "$package" > "$work/tools.go"
  if ! (cd "$work" && GOFLAGS=-mod=mod go mod tidy >&2 && CGO_ENABLED=0 go build -o "$target.partial" "$package" >&2); then
    echo "toolchain: could not build $name $version from $module (see above)" >&2
    exit 1
  fi
  mv "$target.partial" "$target"
}

build etcd "$ETCD_VERSION" go.etcd.io/etcd/server/v3 go.etcd.io/etcd/server/v3

# kube-apiserver's module refers to its staging modules by path; pin each to the matching release.
kubernetes_mod="$(go mod download -json "k8s.io/kubernetes@$KUBERNETES_VERSION" | sed -n 's/.*"GoMod": "\(.*\)",*/\1/p')"
staging_version="v0.${KUBERNETES_VERSION#v1.}"
replaces="$(grep -E '^\s+k8s.io/[a-z-]+ => ./staging' "$kubernetes_mod" | awk -v v="$staging_version" '{print "replace " $1 " => " $1 " " v}')"
build kube-apiserver "$KUBERNETES_VERSION" k8s.io/kubernetes k8s.io/kubernetes/cmd/kube-apiserver "$replaces"

echo "$bin"
