#!/usr/bin/env bash
# make demo: start the OneFS simulator (two clusters, demo scenario, TLS with its own CA),
# run playbooks/demo.yml against it, print what changed, and always stop the simulator.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=${VENV:-.venv}
BIN="$PWD/$VENV/bin"
DEMO_DIR="$PWD/build/demo"
CERT_DIR="$DEMO_DIR/certs"
SEED=${DEMO_SEED:-tests/mock_api/scenarios/demo.yml}
READY_TIMEOUT=${DEMO_READY_TIMEOUT:-60}
PLAYBOOK=${DEMO_PLAYBOOK:-playbooks/demo.yml}

export ANSIBLE_COLLECTIONS_PATH="$PWD/build/collections"
export ANSIBLE_NOCOLOR=1
export ANSIBLE_STDOUT_CALLBACK=default
export ANSIBLE_LOCALHOST_WARNING=false
export ANSIBLE_INVENTORY_UNPARSED_WARNING=false
export PATH="$BIN:$PATH"

mkdir -p "$DEMO_DIR"
rm -rf "$DEMO_DIR/mock.out" "$DEMO_DIR/mock.err" "$DEMO_DIR/records"   # the simulator starts fresh every time
export DEMO_DIR

if ! command -v onefs-mock >/dev/null 2>&1; then
  echo "demo: onefs-mock is not installed in $VENV (tests/mock_api/pyproject.toml missing?)" >&2
  exit 1
fi
[ -f "$SEED" ] || { echo "demo: scenario $SEED not found" >&2; exit 1; }

# Two free ports on 127.0.0.1 (the simulator binds nothing else).
read -r SRC_PORT TGT_PORT < <("$BIN/python" - <<'EOF'
import socket
socks = [socket.socket() for _ in range(2)]
for s in socks:
    s.bind(("127.0.0.1", 0))
print(*[s.getsockname()[1] for s in socks])
for s in socks:
    s.close()
EOF
)

MOCK_PID=""
stop_mock() {
  local rc=$?
  if [ -n "$MOCK_PID" ] && kill -0 "$MOCK_PID" 2>/dev/null; then
    kill -TERM "$MOCK_PID" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$MOCK_PID" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$MOCK_PID" 2>/dev/null; then kill -KILL "$MOCK_PID" 2>/dev/null || true; fi
    wait "$MOCK_PID" 2>/dev/null || true
    echo "demo: simulator stopped (pid $MOCK_PID)"
  fi
  exit "$rc"
}
trap stop_mock EXIT
trap 'exit 130' INT TERM

echo "demo: starting the OneFS simulator (source=127.0.0.1:$SRC_PORT, target=127.0.0.1:$TGT_PORT, seed $SEED)"
onefs-mock --cluster "source=127.0.0.1:$SRC_PORT" --cluster "target=127.0.0.1:$TGT_PORT" \
  --seed "$SEED" --cert-dir "$CERT_DIR" --time-scale "${DEMO_TIME_SCALE:-10}" >"$DEMO_DIR/mock.out" 2>"$DEMO_DIR/mock.err" &
MOCK_PID=$!

# Wait for one "ready NAME URL" line per cluster.
deadline=$((SECONDS + READY_TIMEOUT))
while :; do
  n=$(grep -c '^ready ' "$DEMO_DIR/mock.out" 2>/dev/null || true)
  [ "${n:-0}" -ge 2 ] && break
  if ! kill -0 "$MOCK_PID" 2>/dev/null; then
    echo "demo: the simulator exited before it was ready:" >&2
    cat "$DEMO_DIR/mock.err" >&2
    exit 1
  fi
  if [ $SECONDS -ge $deadline ]; then
    echo "demo: the simulator was not ready after ${READY_TIMEOUT}s" >&2
    cat "$DEMO_DIR/mock.err" >&2
    exit 1
  fi
  sleep 0.2
done
SRC_URL=$(awk '$1 == "ready" && $2 == "source" {print $3; exit}' "$DEMO_DIR/mock.out")
TGT_URL=$(awk '$1 == "ready" && $2 == "target" {print $3; exit}' "$DEMO_DIR/mock.out")
echo "demo: simulator ready: source $SRC_URL, target $TGT_URL"

# TLS verification stays on: trust the simulator's own CA.
CA_PATH=""
for f in ca.pem ca.crt ca-cert.pem cacert.pem; do
  if [ -f "$CERT_DIR/$f" ]; then CA_PATH="$CERT_DIR/$f"; break; fi
done
if [ -z "$CA_PATH" ]; then
  echo "demo: no CA certificate found in $CERT_DIR" >&2
  ls -l "$CERT_DIR" >&2 || true
  exit 1
fi

host_of() { local hp=${1#*://}; echo "${hp%:*}"; }
port_of() { local hp=${1#*://}; echo "${hp##*:}"; }

# Connection settings through the same environment variables an AWX/AAP credential injects.
export ONEFS_USERNAME=${ONEFS_USERNAME:-admin}
export ONEFS_PASSWORD=${ONEFS_PASSWORD:-admin}
export ONEFS_CA_PATH="$CA_PATH"
export ONEFS_VALIDATE_CERTS=true
export ONEFS_PEER_USERNAME="$ONEFS_USERNAME" ONEFS_PEER_PASSWORD="$ONEFS_PASSWORD" ONEFS_PEER_CA_PATH="$CA_PATH"
export DEMO_SOURCE_HOST; DEMO_SOURCE_HOST=$(host_of "$SRC_URL")
export DEMO_SOURCE_PORT; DEMO_SOURCE_PORT=$(port_of "$SRC_URL")
export DEMO_TARGET_HOST; DEMO_TARGET_HOST=$(host_of "$TGT_URL")
export DEMO_TARGET_PORT; DEMO_TARGET_PORT=$(port_of "$TGT_URL")
export DEMO_SOURCE_URL="$SRC_URL" DEMO_TARGET_URL="$TGT_URL"

echo "demo: ansible-playbook $PLAYBOOK"
# Implicit localhost: modules run with the venv's Python (ansible_playbook_python).
"$BIN/ansible-playbook" "$PLAYBOOK" "$@"

echo
echo "demo: what changed on the simulated clusters (from the simulator's request log)"
"$BIN/python" tools/demo_summary.py "$SRC_URL" "$CA_PATH"
