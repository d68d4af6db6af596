#!/usr/bin/env bash
# make docs: a static HTML site of the collection's documentation in build/docs/html, offline.
#   1. ansible-doc must render every role (ansible-doc -t role onefs.dr.<role>);
#   2. antsibull-docs writes RST for every module, plugin and role of the collection as
#      installed (build/collections, ANSIBLE_COLLECTIONS_PATH), failing on a doc it cannot parse;
#   3. Sphinx turns it into HTML with the Ansible theme, warnings as errors.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=build/docs
SRC=build/docsite/rst

roles=()
for d in roles/*/; do [ -f "$d/meta/argument_specs.yml" ] && roles+=("onefs.dr.$(basename "$d")"); done
if [ ${#roles[@]} -gt 0 ]; then
  echo "== ansible-doc -t role ${roles[*]}"
  ansible-doc -t role --json "${roles[@]}" > build/docs-roles.json
  python - build/docs-roles.json "${roles[@]}" <<'PY'
import json, sys
docs = json.load(open(sys.argv[1]))
missing = [r for r in sys.argv[2:] if r.split(".")[-1] not in docs and r not in docs]
if missing:
    sys.exit("ansible-doc could not render: %s" % ", ".join(missing))
PY
fi

rm -rf build/docsite "$OUT/html"
mkdir -p "$SRC" "$OUT"
cp docs/sphinx/rst/*.rst "$SRC/"
chmod og-w "$SRC"  # antsibull-docs wants its destination writable by its owner only
echo "== antsibull-docs collection onefs.dr -> $SRC"
antsibull-docs --config-file docs/sphinx/antsibull-docs.cfg collection --use-current --fail-on-error \
  --dest-dir "$SRC" onefs.dr
echo "== sphinx-build -> $OUT/html"
sphinx-build -q -b html -c docs/sphinx -W --keep-going "$SRC" "$OUT/html"
echo "docs: $OUT/html/index.html"
