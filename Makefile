# onefs.dr — self-installing developer pipeline.
# Needs only python3 (3.11) and make; everything else goes into $(VENV).
#
#   make demo    start the OneFS simulator, run playbooks/demo.yml against it, stop it
#   make test    every check CI runs (.ci/run calls exactly this)
#   make help    list the targets

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-print-directory

PYTHON  ?= python3
VENV    ?= .venv
BIN     := $(CURDIR)/$(VENV)/bin
STAMP   := $(VENV)/.onefs-dr-installed
PYTEST_WORKERS ?= 2
PYTEST_ARGS ?=
ANSIBLE_TEST_PYTHON ?= 3.11

# Collection trees. ansible-playbook/ansible-doc follow the symlink; ansible-test resolves
# real paths, so it gets a copy (tools/sync_tree.py) that keeps its tests/output warm.
COLL_ROOT   := $(CURDIR)/build/collections
COLL_LINK   := $(COLL_ROOT)/ansible_collections/onefs/dr
SANITY_TREE := $(CURDIR)/build/ansible_collections/onefs/dr
DIST        := build/dist
VERSION     := $(shell sed -n 's/^version: *//p' galaxy.yml | tr -d "\"'")
TARBALL     := $(DIST)/onefs-dr-$(VERSION).tar.gz

# ansible-test downloads get-pip-<pip version>.py unless it finds it in this cache
# (pip 24.2 for ansible-core 2.19; 25.2 for 2.21). Our offline stand-in is installed there.
GET_PIP_VERSIONS ?= 24_2 25_2
GET_PIP_CACHE    := $(HOME)/.ansible/test/cache

SANITY_LOCK := $(shell command -v flock >/dev/null 2>&1 && echo "flock build/.sanity.lock")

MOCK_PYPROJECT := $(wildcard tests/mock_api/pyproject.toml)

export PATH := $(BIN):$(PATH)
export ANSIBLE_COLLECTIONS_PATH := $(COLL_ROOT)
export ANSIBLE_NOCOLOR := 1
export PIP_DISABLE_PIP_VERSION_CHECK := 1
export PYTHONDONTWRITEBYTECODE := 1

# This machine's pip.conf names an extra index folder that may not exist; drop pip's
# per-package complaint about it so real output stays readable (sed keeps the exit code).
QUIET_PIP := sed -u "/^WARNING: Location '.*' is ignored: it is neither a file nor a directory/d"

.PHONY: help venv tree unit mocktest integration sanity lint build importer install-check changelog-lint \
        molecule test package-checks background-checks demo docs ee ee-image bench bench-failover clean distclean

help:
	@echo "onefs.dr targets:"
	@echo "  make demo            start the OneFS simulator, run playbooks/demo.yml, stop it"
	@echo "  make test            everything below, fast failures first"
	@echo "  make venv            $(VENV) with pinned dev deps + the simulator (onefs-mock)"
	@echo "  make changelog-lint  antsibull-changelog lint"
	@echo "  make unit            pytest tests/unit"
	@echo "  make mocktest        pytest tests/mock_api/tests (the simulator's own tests)"
	@echo "  make sanity          ansible-test sanity --venv (copy in build/ansible_collections)"
	@echo "  make lint            ansible-lint --profile production"
	@echo "  make build           ansible-galaxy collection build -> $(DIST)"
	@echo "  make importer        galaxy-importer on the tarball (fails on ERROR/WARNING)"
	@echo "  make install-check   the README's try-it steps in a clean venv: tarball install, simulator, readiness playbook"
	@echo "  make package-checks  sanity, importer, install-check, docs, one after another"
	@echo "  make background-checks  chaos-quick + package-checks (make test runs them beside the integration tests)"
	@echo "  make integration     pytest tests/integration (ansible-playbook against the mock)"
	@echo "  make chaos-quick     pytest tests/chaos, CHAOS_MODE=quick: seeded subset of the chaos suite (a make test step)"
	@echo "  make chaos           the whole chaos suite: 3-minute outages, CHAOS_TRIALS (20) kill trials per role (long)"
	@echo "  make molecule        molecule test --all (extensions/molecule), if scenarios exist"
	@echo "  make demo            (also the last step of make test)"
	@echo "  make docs            static HTML docs site (antsibull-docs + Sphinx) in build/docs/html"
	@echo "  make ee              execution-environment build context in build/ee (ansible-builder create)"
	@echo "  make ee-image        the execution-environment image with podman (EE_BASE_IMAGE=...)"
	@echo "  make bench           run every benchmarks/*.py (prints figures); BENCH=failover runs one"
	@echo "  make bench-failover  failover + failback, roles vs loop baseline vs lower bound -> benchmarks/RESULTS.md"
	@echo "  make clean / distclean"

# ---------------------------------------------------------------- environment
$(STAMP): requirements-dev.txt requirements.txt $(MOCK_PYPROJECT)
	@test -x $(VENV)/bin/python || { echo "== creating $(VENV) with $$($(PYTHON) -V)"; $(PYTHON) -m venv $(VENV); }
	@echo "== installing pinned dev requirements into $(VENV)"
	$(VENV)/bin/python -m pip install --quiet --upgrade pip 2>&1 | $(QUIET_PIP)
	$(VENV)/bin/python -m pip install --quiet -r requirements-dev.txt -r requirements.txt 2>&1 | $(QUIET_PIP)
	@if [ -f tests/mock_api/pyproject.toml ]; then \
	  echo "== installing the simulator (pip install -e tests/mock_api)"; \
	  $(VENV)/bin/python -m pip install --quiet -e tests/mock_api 2>&1 | $(QUIET_PIP); \
	fi
	@touch $@

venv: $(STAMP)

# build/collections/ansible_collections/onefs/dr -> the checkout
tree:
	@mkdir -p $(dir $(COLL_LINK))
	@if [ "$$(readlink $(COLL_LINK) 2>/dev/null)" != "$(CURDIR)" ]; then rm -rf $(COLL_LINK); ln -s $(CURDIR) $(COLL_LINK); fi

# pytest exit code 5 = "no tests collected": fine while a test directory is still empty.
define run_pytest
	@echo "== pytest $(1)"
	@rc=0; $(BIN)/python -m pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS) $(1) || rc=$$?; \
	  if [ $$rc -eq 5 ]; then echo "(no tests in $(1) yet)"; rc=0; fi; exit $$rc
endef

# ---------------------------------------------------------------- tests
unit: venv tree
	$(call run_pytest,tests/unit)

mocktest: venv
	@if [ -d tests/mock_api/tests ]; then :; else echo "(no tests/mock_api/tests)"; exit 0; fi
	$(call run_pytest,tests/mock_api/tests)

# Longest tests start first (tests/integration/slow_tests.txt) and an idle worker takes work
# queued for the other (worksteal), so the run does not end on one long test alone.
integration: venv tree
	@if [ -d tests/integration ]; then :; else echo "(no tests/integration)"; exit 0; fi
	$(call run_pytest,--dist worksteal tests/integration)

# Chaos suite (tests/chaos, README "Reliability"): transient errors, management outages, session
# expiry, a failed final sync, killed controllers, a lost site, secrets. chaos-quick (a make test
# step) runs a seeded subset with scaled-down outages; chaos runs everything (about an hour on 2 cores).
.PHONY: chaos chaos-quick
CHAOS_TRIALS ?= 20
chaos-quick: export CHAOS_MODE = quick
chaos-quick: venv tree
	$(call run_pytest,tests/chaos)

chaos: export CHAOS_MODE = full
chaos: export CHAOS_TRIALS := $(CHAOS_TRIALS)
chaos: venv tree
	$(call run_pytest,tests/chaos)

$(GET_PIP_CACHE)/get_pip_%.py: tools/get_pip_standin.py
	@mkdir -p $(GET_PIP_CACHE)
	@cp $< $@

sanity: venv $(foreach v,$(GET_PIP_VERSIONS),$(GET_PIP_CACHE)/get_pip_$(v).py)
	@echo "== ansible-test sanity (tree: build/ansible_collections/onefs/dr)"
	@mkdir -p build
	@# one sanity run at a time per checkout (the copy and its tests/output are shared)
	$(SANITY_LOCK) sh -c '$(BIN)/python tools/sync_tree.py $(SANITY_TREE) && cd $(SANITY_TREE) && \
	  $(BIN)/ansible-test sanity --venv --python $(ANSIBLE_TEST_PYTHON) --color no $(SANITY_ARGS)' 2>&1 | $(QUIET_PIP)

lint: venv tree
	@echo "== ansible-lint --profile production"
	$(BIN)/ansible-lint --profile production --offline --nocolor

build: venv
	@echo "== ansible-galaxy collection build"
	@mkdir -p $(DIST)
	$(BIN)/ansible-galaxy collection build --output-path $(DIST) --force

# The README's "Try it against the simulator" in a clean virtualenv: the collection installed from
# the built tarball, the simulator from tests/mock_api, the readiness playbook run against it.
install-check: build
	@bash tools/readme_install_check.sh $(TARBALL)

importer: build
	@echo "== galaxy-importer $(TARBALL)"
	@mkdir -p build
	@# run from build/: the importer writes importer_result.json into the current directory.
	@# Its own ansible-lint pass is off: make lint runs ansible-lint on the same files with the
	@# stricter production profile (about 30 CPU-s saved beside the integration tests).
	@rc=0; (cd build && GALAXY_IMPORTER_RUN_ANSIBLE_LINT=false $(BIN)/python -m galaxy_importer.main $(CURDIR)/$(TARBALL)) > build/importer.log 2>&1 || rc=$$?; \
	  cat build/importer.log; \
	  if [ $$rc -ne 0 ]; then echo "galaxy-importer failed (rc=$$rc)"; exit 1; fi; \
	  if grep -Eq 'ERROR|WARNING' build/importer.log; then \
	    echo "galaxy-importer reported problems:"; grep -E 'ERROR|WARNING' build/importer.log; exit 1; fi; \
	  echo "galaxy-importer: clean"

changelog-lint: venv
	@echo "== antsibull-changelog lint"
	$(BIN)/antsibull-changelog lint

# Every scenario under extensions/molecule/ (tools/molecule.sh): one with a prerequisites.sh
# runs on its own, or is skipped with the reason that script gives; the others run together.
molecule: venv tree
	@bash tools/molecule.sh

# .ci/run installs chromium and podman (and builds the simulator's base image) in the background
# while the first steps run; this step waits for that (at most 15 min) before the tests that use
# them. Outside CI (ONEFS_DR_CI_EXTRAS_DONE unset) it does nothing.
.PHONY: ci-extras-wait
ci-extras-wait:
	@if [ -n "$${ONEFS_DR_CI_EXTRAS_DONE:-}" ]; then \
	  echo "== waiting for the background installs of .ci/run"; \
	  for i in $$(seq 1 900); do [ -e "$$ONEFS_DR_CI_EXTRAS_DONE" ] && break; sleep 1; done; \
	  tail -20 "$${ONEFS_DR_CI_EXTRAS_LOG:-/dev/null}" 2>/dev/null || true; \
	fi

# Fast failures first; the slow, cold-cache steps last. Stops at the first failing step;
# `make test KEEP_GOING=1` runs every step and lists the failed ones at the end.
# bg:STEP starts STEP in the background (its output in build/test-STEP.log) and wait:STEP waits
# for it and prints that output. The background chain is chaos-quick (much of it waits out
# simulated outages) and then the package checks (sanity, importer, install-check, docs: one
# core); the integration tests use about one and a half of the two cores, so side by side the
# two fill the machine. A step left running in the background when the loop stops early is
# waited for, never orphaned.
TEST_STEPS := changelog-lint unit mocktest build ee lint bg:background-checks ci-extras-wait \
  integration wait:background-checks molecule demo
PACKAGE_CHECKS := sanity importer install-check docs
BACKGROUND_CHECKS := chaos-quick $(PACKAGE_CHECKS)

# The single-core checks of the built collection, one after another; stops at the first failure.
# background-checks: chaos-quick first, then the same checks (make test's background chain).
package-checks background-checks: venv tree
	@for t in $(if $(filter background-checks,$@),$(BACKGROUND_CHECKS),$(PACKAGE_CHECKS)); do \
	  t0=$$(date +%s); \
	  if $(MAKE) $$t; then echo "== $$t ok ($$(( $$(date +%s) - t0 )) s)"; \
	  else echo "== $$t FAILED ($$(( $$(date +%s) - t0 )) s)"; exit 1; fi; \
	done
KEEP_GOING ?=
test: venv tree
	@start=$$(date +%s); failed=""; bg=""; bg_pid=""; mkdir -p build; \
	bg_result() { wait $$bg_pid; cat build/test-$$bg.log; st=$$(cat build/test-$$bg.status); \
	  echo "== $$bg $$st"; bg_pid=""; case "$$st" in ok*) return 0;; *) return 1;; esac; }; \
	for t in $(TEST_STEPS); do \
	  case "$$t" in \
	  bg:*) bg=$${t#bg:}; echo "== $$bg started in the background (output: build/test-$$bg.log)"; \
	    ( t0=$$(date +%s); if $(MAKE) $$bg > build/test-$$bg.log 2>&1; then r=ok; else r=FAILED; fi; \
	      echo "$$r ($$(( $$(date +%s) - t0 )) s, in the background)" > build/test-$$bg.status ) & bg_pid=$$!; \
	    continue;; \
	  wait:*) if ! bg_result; then failed="$$failed $$bg"; [ -n "$(KEEP_GOING)" ] || break; fi; continue;; \
	  esac; \
	  t0=$$(date +%s); \
	  if $(MAKE) $$t; then echo "== $$t ok ($$(( $$(date +%s) - t0 )) s)"; \
	  else \
	    echo "== $$t FAILED ($$(( $$(date +%s) - t0 )) s)"; failed="$$failed $$t"; \
	    [ -n "$(KEEP_GOING)" ] || break; \
	  fi; \
	done; \
	if [ -n "$$bg_pid" ]; then bg_result || failed="$$failed $$bg"; fi; \
	if [ -n "$$failed" ]; then echo "== make test: FAILED:$$failed ($$(( $$(date +%s) - start )) s)"; exit 1; fi; \
	echo "== make test: all passed in $$(( $$(date +%s) - start )) s"

# ---------------------------------------------------------------- demo, docs, bench
demo: venv tree
	@bash tools/demo.sh

# Static HTML docs site in build/docs/html (tools/build_docs.sh: ansible-doc for every role,
# antsibull-docs RST, Sphinx with warnings as errors; offline).
docs: venv tree
	@bash tools/build_docs.sh

# Execution environment (execution-environment.yml): the build context in build/ee is part of
# make test (about a second); the image needs podman and a base image (EE_BASE_IMAGE, a build
# argument: tools/container_base.sh ee makes a local one from Debian packages).
EE_BASE_IMAGE ?=
EE_BUILD_ARGS ?=
EE_TAG ?= localhost/onefs-dr-ee:$(VERSION)
# Sandboxed machines need runc and lower ulimits (tools/containers.conf) unless CONTAINERS_CONF is set.
PODMAN_ENV := $(if $(CONTAINERS_CONF),,$(if $(shell command -v runc 2>/dev/null),CONTAINERS_CONF=$(CURDIR)/tools/containers.conf))

ee: build tree
	@echo "== ansible-builder create -> build/ee"
	@rm -rf build/ee build/ee-input && mkdir -p build/ee-input
	@cp $(TARBALL) build/ee-input/onefs-dr.tar.gz
	@# --output-filename: with docker on the PATH ansible-builder would write a Dockerfile instead
	$(BIN)/ansible-builder create -f execution-environment.yml --context build/ee --output-filename Containerfile
	@test -s build/ee/_build/collections/onefs-dr.tar.gz || { echo "ee: the collection tarball is not in the build context"; exit 1; }
	@grep -q '^ARG EE_BASE_IMAGE=' build/ee/Containerfile || { echo "ee: EE_BASE_IMAGE is not a build argument"; exit 1; }
	@$(BIN)/ansible-builder introspect --sanitize build/collections > build/ee-introspect.txt
	@for req in requests jmespath; do \
	  grep -q "$$req" build/ee-introspect.txt || { echo "ee: $$req missing from the introspected requirements"; cat build/ee-introspect.txt; exit 1; }; \
	done
	@echo "ee: build context ok; the image: make ee-image [EE_BASE_IMAGE=...]"

ee-image: ee
	@command -v podman >/dev/null || { echo "ee-image: podman is not installed"; exit 1; }
	$(PODMAN_ENV) podman build $(if $(EE_BASE_IMAGE),--build-arg EE_BASE_IMAGE=$(EE_BASE_IMAGE)) $(EE_BUILD_ARGS) -t $(EE_TAG) build/ee
	@$(PODMAN_ENV) podman run --rm $(EE_TAG) ansible-doc -t role onefs.dr.failback >/dev/null
	@echo "ee-image: $(EE_TAG) built; ansible-doc finds onefs.dr in it"

# `make bench BENCH=failover` runs only benchmarks/failover_bench.py; BENCH_ARGS go to each script
# (_*.py are shared helpers, not benchmarks).
BENCH ?=
BENCH_ARGS ?=
bench: venv tree
	@for f in benchmarks/$(if $(BENCH),$(BENCH)_bench,*).py; do \
	  case "$$(basename $$f)" in _*) continue;; esac; \
	  test -f "$$f" || { echo "no benchmark $$f"; exit 1; }; \
	  echo "== $$f"; $(BIN)/python $$f $(BENCH_ARGS) || exit 1; done

# Failover + failback through the roles vs a loop-per-policy baseline, N = 1..500 (30-40 min):
# writes benchmarks/RESULTS.md and benchmarks/failover_bench.svg. BENCH_ARGS="--quick" for a smoke run,
# BENCH_ARGS="--ref HEAD" to measure the last commit instead of the working tree.
bench-failover: venv tree
	$(BIN)/python benchmarks/failover_bench.py $(BENCH_ARGS)

clean:
	rm -rf build tests/output .pytest_cache .hypothesis
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV)
