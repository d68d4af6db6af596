#!/usr/bin/env bash
# Build a local base image from Debian packages alone, for machines that reach a Debian mirror
# but no container registry (nothing is pulled):
#
#   tools/container_base.sh mock [IMAGE]   default localhost/onefs-mock-base:bookworm
#       python3 with PyYAML and cryptography from Debian: what tests/mock_api/Containerfile
#       needs to run the simulator in place (--build-arg BASE=IMAGE).
#   tools/container_base.sh ee [IMAGE]     default localhost/onefs-dr-ee-base:bookworm
#       python3 plus a virtualenv at /opt/ee-python (first on PATH) where ansible-builder's
#       scripts may run ensurepip and pip, and this machine's CA bundle so that pip inside the
#       build trusts what this machine trusts. Build the execution environment with
#         make ee-image EE_BASE_IMAGE=IMAGE
#
# Needs root, debootstrap and podman (apt-get install -y debootstrap podman runc). Takes about
# a minute; an existing IMAGE is kept unless FORCE=1.
set -euo pipefail

KIND=${1:-}
case "$KIND" in
  mock) IMAGE=${2:-localhost/onefs-mock-base:bookworm}
        PACKAGES=python3,python3-yaml,python3-cffi-backend,python3-cryptography ;;
  ee)   IMAGE=${2:-localhost/onefs-dr-ee-base:bookworm}
        PACKAGES=python3,python3-venv,ca-certificates ;;
  *)    echo "usage: $0 mock|ee [IMAGE]" >&2; exit 2 ;;
esac
SUITE=${DEBIAN_SUITE:-bookworm}
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}

if [ -z "${FORCE:-}" ] && podman image exists "$IMAGE"; then
  echo "container_base: $IMAGE exists (FORCE=1 rebuilds it)"
  exit 0
fi
for tool in debootstrap podman; do
  command -v "$tool" >/dev/null || { echo "container_base: $tool is not installed" >&2; exit 1; }
done
[ "$(id -u)" = 0 ] || { echo "container_base: debootstrap needs root" >&2; exit 1; }

ROOTFS=$(mktemp -d "${TMPDIR:-/tmp}/onefs-base.XXXXXX")
trap 'rm -rf "$ROOTFS"' EXIT
echo "container_base: debootstrap $SUITE ($PACKAGES) into $ROOTFS"
# python3-cffi-backend is named explicitly: debootstrap does not resolve the virtual package
# python3-cryptography depends on.
debootstrap --variant=minbase --include="$PACKAGES" "$SUITE" "$ROOTFS" "$MIRROR" >"$ROOTFS.log" 2>&1 \
  || { tail -20 "$ROOTFS.log" >&2; rm -f "$ROOTFS.log"; exit 1; }
rm -f "$ROOTFS.log"

CHANGES=()
if [ "$KIND" = ee ]; then
  # Debian disables ensurepip for the system python; a virtualenv keeps it.
  chroot "$ROOTFS" python3 -m venv /opt/ee-python
  if [ -f /etc/ssl/certs/ca-certificates.crt ]; then
    cp /etc/ssl/certs/ca-certificates.crt "$ROOTFS/etc/ssl/certs/ca-certificates.crt"
  fi
  printf '[global]\ncert = /etc/ssl/certs/ca-certificates.crt\n' >"$ROOTFS/etc/pip.conf"
  CHANGES=(--change "ENV PATH=/opt/ee-python/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
fi
rm -rf "$ROOTFS"/var/cache/apt/archives/*.deb "$ROOTFS"/var/lib/apt/lists/*

echo "container_base: podman import -> $IMAGE"
tar -C "$ROOTFS" -c . | podman import "${CHANGES[@]}" - "$IMAGE" >/dev/null
echo "container_base: $IMAGE ready"
