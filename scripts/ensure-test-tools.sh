#!/usr/bin/env bash
# Installs what the integration tests run against, idempotently: a real registry (CNCF distribution 2.8,
# Debian package docker-registry), skopeo as an independent client, htpasswd (apache2-utils), openssl, and
# xmllint (libxml2-utils) to check JUnit reports against their XSD; setpriv (util-linux) starts the registries
# the test files of a worker share (killed with the worker) and runs the CLI without read-anything capabilities.
set -euo pipefail
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
