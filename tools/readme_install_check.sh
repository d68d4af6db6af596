#!/usr/bin/env bash
# make install-check: what a new user does from the README alone ("Try it against the
# simulator"), in a clean virtualenv outside the checkout's .venv: install ansible-core and the
# collection's requirements, the simulator package, the collection from the built tarball, start
# the simulator on the demo scenario and run the readiness playbook against it. Ports are free
# ones (the README uses 18080/18081) so that it never collides with a running simulator.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
TARBALL=${1:?usage: $0 build/dist/onefs-dr-VERSION.tar.gz}
ANSIBLE_CORE=$(grep -E '^ansible-core==' requirements-dev.txt)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/onefs-dr-install.XXXXXX")
MOCK_PID=
cleanup() {
  if [ -n "$MOCK_PID" ]; then kill "$MOCK_PID" 2>/dev/null || true; wait "$MOCK_PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

echo "== install-check: clean virtualenv, $ANSIBLE_CORE + requirements.txt + the simulator"
python3 -m venv "$WORK/venv"
# The simulator is built from a copy: setuptools leaves build/ in the directory it builds in. The sed
# drops pip's notes about this machine's offline index directories.
cp -r tests/mock_api "$WORK/mock_api"
rm -rf "$WORK/mock_api/build" "$WORK"/mock_api/*.egg-info
"$WORK/venv/bin/pip" install -q --disable-pip-version-check "$ANSIBLE_CORE" -r requirements.txt "$WORK/mock_api" 2>&1 \
  | sed "/^WARNING: Location '.*' is ignored: it is neither a file nor a directory/d"
echo "== install-check: ansible-galaxy collection install $TARBALL"
ANSIBLE_COLLECTIONS_PATH="$WORK/collections" "$WORK/venv/bin/ansible-galaxy" collection install -p "$WORK/collections" \
  "$TARBALL" >/dev/null

read -r SOURCE_PORT TARGET_PORT < <(python3 -c '
import socket
socks = [socket.socket() for _ in range(2)]
for s in socks: s.bind(("127.0.0.1", 0))
print(*[s.getsockname()[1] for s in socks])')
export ONEFS_MOCK_SOURCE_PORT=$SOURCE_PORT ONEFS_MOCK_TARGET_PORT=$TARGET_PORT
export ONEFS_MOCK_CERT_DIR=$WORK/certs ONEFS_DR_RECORD_DIR=$WORK/records
"$WORK/venv/bin/onefs-mock" --cluster "source=127.0.0.1:$SOURCE_PORT" --cluster "target=127.0.0.1:$TARGET_PORT" \
  --seed demo --cert-dir "$ONEFS_MOCK_CERT_DIR" >"$WORK/mock.log" 2>&1 &
MOCK_PID=$!
for _ in $(seq 1 100); do
  [ "$(grep -c '^ready ' "$WORK/mock.log" 2>/dev/null)" = 2 ] && break
  kill -0 "$MOCK_PID" 2>/dev/null || { cat "$WORK/mock.log"; echo "install-check: the simulator exited"; exit 1; }
  sleep 0.1
done
grep -q '^ready target' "$WORK/mock.log" || { cat "$WORK/mock.log"; echo "install-check: the simulator is not ready"; exit 1; }

echo "== install-check: ansible-playbook onefs.dr.readiness -i playbooks/inventory.simulator.yml"
# Only the installed collection: the checkout is not on any collections path.
cd "$WORK"
ANSIBLE_COLLECTIONS_PATH="$WORK/collections" "$WORK/venv/bin/ansible-playbook" onefs.dr.readiness \
  -i "$ROOT/playbooks/inventory.simulator.yml" >"$WORK/readiness.log" 2>&1 || { cat "$WORK/readiness.log"; exit 1; }
grep -q "simulator_finance *: ok=" "$WORK/readiness.log" || { cat "$WORK/readiness.log"; exit 1; }
test -s "$ONEFS_DR_RECORD_DIR/readiness-simulator-finance/readiness.json" \
  || { ls -R "$ONEFS_DR_RECORD_DIR" || true; echo "install-check: no readiness.json written"; exit 1; }
echo "== install-check: readiness ran from the installed collection: $(grep -c '"result"' "$ONEFS_DR_RECORD_DIR/readiness-simulator-finance/readiness.json") check results in readiness.json"
