# Two commands for a fresh machine with Python >= 3.10 and pip:
#   make demo   installs into .venv, then runs the main job on the synthetic demo set
#   make test   installs into .venv (with test extras), then runs the test suite
VENV ?= .venv
PYTHON ?= python3
PY := $(VENV)/bin/python
# Installs come from requirements/lock.txt, a complete lock of every transitive dependency (torch and
# torchvision included: PyPI's CUDA-enabled builds, which also run on CPU) made by `make lock`.
# uv is pinned here and bootstrapped with pip into $(VENV)/.uv, outside the venv's site-packages,
# so the venv holds exactly the lock plus this project.
UV_VERSION := 0.13.8
UV := $(VENV)/.uv/bin/uv
LOCK := requirements/lock.txt
# Bytecode is compiled at install (uv does not by default): without .pyc files every process compiles
# the sources of what it imports, seconds per command for torch, transformers, lmms-eval and nltk, on
# every run where PYTHONDONTWRITEBYTECODE is set (CI images, some shells), which leaves no cache behind.
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml $(LOCK) Makefile | cksum | cut -d' ' -f1)

.PHONY: install lock check-latest demo test bench check-real clean
install: $(STAMP)
$(STAMP): pyproject.toml $(LOCK)
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	test -x $(UV) || $(PY) -m pip install -q --target $(VENV)/.uv uv==$(UV_VERSION)
	$(UV) pip sync -q --compile-bytecode --python $(PY) --require-hashes $(LOCK)
	# The project itself: no dependencies (the lock has them all) and no build isolation (the lock's
	# setuptools builds it, so no unpinned build backend is fetched).
	$(UV) pip install -q --python $(PY) --no-deps --no-build-isolation -e .
	$(PY) -m compileall -q src tasks metrics perturbations baselines leaderboard reports
	$(PY) -m pip check
	rm -f $(VENV)/.installed-* && touch $@

# Regenerate the lock after changing pyproject.toml, in the same commit (tests/test_lock.py checks that
# they agree). Versions already in the lock are kept unless pyproject.toml excludes them; `make lock
# UPGRADE=1` moves every package to the newest allowed. Linux x86_64, CPython 3.10-3.13 (markers per version).
lock: $(UV)
	$(UV) pip compile -q pyproject.toml --extra test --universal --python-version 3.10 $(if $(UPGRADE),--upgrade) \
	  --generate-hashes --custom-compile-command "make lock" -o $(LOCK)
$(UV):
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --target $(VENV)/.uv uv==$(UV_VERSION)

# Drift report, outside the gate (.ci/run does not call it): a throwaway venv with the newest versions
# pyproject.toml allows, then the demo and the fast tests there. Red here means a user who runs
# `pip install comic-emotion-bench` today gets a broken set: add a bound to pyproject.toml (with a
# comment saying why), then `make lock`.
LATEST_VENV ?= $(or $(TMPDIR),/tmp)/comic-emotion-check-latest
check-latest: install
	rm -rf $(LATEST_VENV) && $(PYTHON) -m venv $(LATEST_VENV)
	$(UV) pip install -q --python $(LATEST_VENV)/bin/python --upgrade -e ".[test]"
	@echo "== bounds in pyproject.toml that keep a newer release out"
	$(PY) requirements/held_back.py $(UV)
	@echo "== lock -> newest allowed (packages that differ)"
	@$(UV) pip freeze -q --python $(PY) --exclude-editable | sort > $(LATEST_VENV)/lock.txt
	@$(UV) pip freeze -q --python $(LATEST_VENV)/bin/python --exclude-editable | sort > $(LATEST_VENV)/latest.txt
	@diff $(LATEST_VENV)/lock.txt $(LATEST_VENV)/latest.txt | sed -n 's/^> /  /p' || true
	@echo "== demo and fast tests on the newest versions"
	cd $(LATEST_VENV) && PATH="$(LATEST_VENV)/bin:$$PATH" $(LATEST_VENV)/bin/comic-emotion demo --output demo --limit 20
	PATH="$(LATEST_VENV)/bin:$$PATH" COMIC_EMOTION_CHECK_LATEST=1 HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 TRANSFORMERS_OFFLINE=1 \
	  $(LATEST_VENV)/bin/python -m pytest -q -p no:cacheprovider -m "not integration" $(PYTEST_ARGS)

demo: install
	$(VENV)/bin/comic-emotion demo

# pytest exits 5 when it collected no test: that is a failure of the suite, not a pass.
# The venv's bin/ goes first on PATH, as after `source .venv/bin/activate`: tests run the console scripts.
test: install
	PATH="$(abspath $(VENV))/bin:$$PATH" HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 TRANSFORMERS_OFFLINE=1 $(PY) -m pytest -q -p no:cacheprovider $(PYTEST_ARGS); \
	  rc=$$?; if [ $$rc -eq 5 ]; then echo "pytest collected no tests"; exit 1; fi; exit $$rc

bench: install
	$(PY) -m benchmarks --quick

# Not part of `make test`: the scoring protocol's oracle invariant (a perfect answer scores the best
# value on every metric) on the real release files in ../shared/fixtures, when that folder exists.
check-real: install
	HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 $(PY) -m benchmarks.check_real

clean:
	rm -rf $(VENV) results site test-artifacts
