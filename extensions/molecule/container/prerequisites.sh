#!/usr/bin/env bash
# Exit 0 when this machine can run the scenario; otherwise say why (make molecule skips it).
# Needs: podman that can run containers (on sandboxed hosts with runc: tools/containers.conf),
# and a base image for the simulator: ONEFS_MOCK_BASE present, or a localhost/ name that
# tools/container_base.sh can build (root + debootstrap + a Debian mirror), or a registry
# image podman can pull.
set -u
ROOT=$(cd "$(dirname "$0")/../../.." && pwd)
BASE=${ONEFS_MOCK_BASE:-localhost/onefs-mock-base:bookworm}
if [ -z "${CONTAINERS_CONF:-}" ] && command -v runc >/dev/null 2>&1; then
  export CONTAINERS_CONF="$ROOT/tools/containers.conf"
fi
command -v podman >/dev/null 2>&1 || { echo "podman is not installed (apt-get install -y podman runc)"; exit 1; }
podman info >/dev/null 2>&1 || { echo "podman info fails here: $(podman info 2>&1 | tail -1)"; exit 1; }
if podman image exists "$BASE"; then
  # a container must really start (crun fails on some sandboxes where podman info works)
  out=$(timeout 120 podman run --rm --network none "$BASE" true 2>&1) && exit 0
  echo "podman cannot start a container here: $(echo "$out" | tail -1)"
  exit 1
fi
case "$BASE" in
  localhost/*)
    if [ "$(id -u)" = 0 ] && command -v debootstrap >/dev/null 2>&1; then exit 0; fi
    echo "base image $BASE is missing and cannot be built here (tools/container_base.sh needs root and debootstrap)"
    exit 1 ;;
esac
exit 0  # a registry image: podman build pulls it
