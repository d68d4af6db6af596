#!/usr/bin/env bash
# make molecule: run the Molecule scenarios under extensions/molecule/.
#
# A scenario directory may hold an executable prerequisites.sh: it exits 0 when this machine
# can run the scenario and otherwise prints why. Such a scenario is skipped with that reason
# when its check fails.
#
# Every scenario that runs gets its own `molecule test -s NAME` process with its own ephemeral
# directory (MOLECULE_EPHEMERAL_DIRECTORY under a fresh temporary directory, so runs of the
# same scenario from another checkout or another make never share pid files), at most
# MOLECULE_JOBS (default 2) at a time. Each run's output goes to build/molecule/NAME.log; when
# the run ends its duration and recap are printed (the whole log when it failed).
# MOLECULE_SCENARIOS="a b" runs only those scenarios.
#
# When extensions/molecule/config.yml exists (a shared base config, possibly shared state),
# scenarios without prerequisites.sh run together in one `molecule test --all --exclude ...`
# instead, which honours it; those with prerequisites.sh still run on their own.
# Exits non-zero when any run failed.
set -uo pipefail
cd "$(dirname "$0")/.."

JOBS=${MOLECULE_JOBS:-2}
export NO_COLOR=${NO_COLOR:-1}   # the logs are files
LOG_DIR=build/molecule

mapfile -t names < <(find extensions/molecule -name molecule.yml -not -path '*/.*' 2>/dev/null \
  | sed -e 's#^extensions/molecule/##' -e 's#/molecule.yml$##' | sort)
if [ -n "${MOLECULE_SCENARIOS:-}" ]; then
  read -r -a names <<<"$MOLECULE_SCENARIOS"
fi
if [ ${#names[@]} -eq 0 ]; then
  echo "== molecule: no scenarios under extensions/molecule yet, skipped"
  exit 0
fi

failed=()
excluded=()   # --exclude arguments for the --all run (scenarios with prerequisites.sh)
own=()        # scenarios run with molecule test -s
together=()   # scenarios for the --all run (only with a config.yml)
for name in "${names[@]}"; do
  check="extensions/molecule/$name/prerequisites.sh"
  if [ -x "$check" ]; then
    excluded+=(--exclude "$name")
    if reason=$("$check" 2>&1); then
      own+=("$name")
    else
      echo "== molecule: scenario $name SKIPPED: ${reason:-prerequisites.sh failed}"
    fi
  elif [ -f extensions/molecule/config.yml ]; then
    together+=("$name")
  else
    own+=("$name")
  fi
done

run_dir=$(mktemp -d "${TMPDIR:-/tmp}/onefs-dr-molecule.XXXXXX")
trap 'rm -rf "$run_dir"' EXIT
mkdir -p "$LOG_DIR"

# pid -> scenario, and when it started
declare -A running=() started=()

finish() {  # report the run of pid $1 that has ended with status $2
  local pid=$1 rc=$2 name=${running[$1]}
  local took=$(( SECONDS - ${started[$1]} ))
  echo "== molecule test -s $name: $([ "$rc" -eq 0 ] && echo ok || echo "FAILED (rc $rc)") in $took s"
  echo "$took" >"$LOG_DIR/$name.seconds"
  if [ "$rc" -eq 0 ]; then   # known role bugs the scenario reports (XFAIL), and the recap
    { grep -o 'XFAIL.*' "$LOG_DIR/$name.log" | sed 's/"$//'; sed -n '/^DETAILS/,$p' "$LOG_DIR/$name.log"; } | sed "s/^/[$name] /"
  else
    sed "s/^/[$name] /" "$LOG_DIR/$name.log"
  fi
  [ "$rc" -eq 0 ] || failed+=("$name")
  unset "running[$pid]" "started[$pid]"
}

wait_one() {  # wait for any run to end and report it
  local pid rc
  wait -n -p pid "${!running[@]}"; rc=$?
  finish "$pid" "$rc"
}

# Longest first (as the last run measured them; unmeasured ones first), to finish sooner.
if [ ${#own[@]} -gt 0 ]; then
  mapfile -t own < <(for name in "${own[@]}"; do
    echo "$(cat "$LOG_DIR/$name.seconds" 2>/dev/null || echo 99999) $name"; done | sort -k1,1nr -k2 | cut -d' ' -f2)
  echo "== molecule test -s for ${own[*]} ($JOBS at a time; logs in $LOG_DIR/)"
fi
for name in "${own[@]}"; do
  while [ ${#running[@]} -ge "$JOBS" ]; do wait_one; done
  mkdir -p "$run_dir/$name"
  MOLECULE_EPHEMERAL_DIRECTORY="$run_dir/$name" molecule test -s "$name" >"$LOG_DIR/$name.log" 2>&1 &
  running[$!]=$name
  started[$!]=$SECONDS
done
while [ ${#running[@]} -gt 0 ]; do wait_one; done

if [ ${#together[@]} -gt 0 ]; then
  echo "== molecule test --all ${excluded[*]}"
  molecule test --all "${excluded[@]}" || failed+=("--all")
fi

if [ ${#failed[@]} -gt 0 ]; then
  echo "== molecule: FAILED: ${failed[*]}"
  exit 1
fi
echo "== molecule: ok"
