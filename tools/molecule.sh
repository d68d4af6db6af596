#!/usr/bin/env bash
# make molecule: run the Molecule scenarios under extensions/molecule/.
#
# A scenario directory may hold an executable prerequisites.sh: it exits 0 when this machine
# can run the scenario and otherwise prints why. Such a scenario is skipped with that reason
# when its check fails, and otherwise runs on its own (molecule test -s NAME), so that its
# create/destroy are its own. Every other scenario runs together in one
# `molecule test --all --exclude ...`, which honours extensions/molecule/config.yml (shared
# state and all). Exits non-zero when any run failed.
set -uo pipefail
cd "$(dirname "$0")/.."

mapfile -t names < <(find extensions/molecule -name molecule.yml -not -path '*/.*' 2>/dev/null \
  | sed -e 's#^extensions/molecule/##' -e 's#/molecule.yml$##' | sort)
if [ ${#names[@]} -eq 0 ]; then
  echo "== molecule: no scenarios under extensions/molecule yet, skipped"
  exit 0
fi

failed=()
excluded=()
own=()
for name in "${names[@]}"; do
  check="extensions/molecule/$name/prerequisites.sh"
  [ -x "$check" ] || continue
  excluded+=(--exclude "$name")
  if reason=$("$check" 2>&1); then
    own+=("$name")
  else
    echo "== molecule: scenario $name SKIPPED: ${reason:-prerequisites.sh failed}"
  fi
done

for name in "${own[@]}"; do
  echo "== molecule test -s $name"
  molecule test -s "$name" || failed+=("$name")
done

if [ $(( ${#names[@]} - ${#excluded[@]} / 2 )) -gt 0 ]; then
  echo "== molecule test --all ${excluded[*]}"
  molecule test --all "${excluded[@]}" || failed+=("--all")
fi

if [ ${#failed[@]} -gt 0 ]; then
  echo "== molecule: FAILED: ${failed[*]}"
  exit 1
fi
echo "== molecule: ok"
