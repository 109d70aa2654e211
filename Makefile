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
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml $(LOCK) | cksum | cut -d' ' -f1)

.PHONY: install lock check-latest demo test bench check-real clean
install: $(STAMP)
$(STAMP): pyproject.toml $(LOCK)
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	test -x $(UV) || $(PY) -m pip install -q --target $(VENV)/.uv uv==$(UV_VERSION)
	$(UV) pip sync -q --python $(PY) --require-hashes $(LOCK)
	# The project itself: no dependencies (the lock has them all) and no build isolation (the lock's
	# setuptools builds it, so no unpinned build backend is fetched).
	$(UV) pip install -q --python $(PY) --no-deps --no-build-isolation -e .
	$(PY) -m pip check
	rm -f $(VENV)/.installed-* && touch $@

# Regenerate the lock after changing pyproject.toml, in the same commit (tests/test_lock.py checks that
# they agree). Linux, CPython 3.10-3.13 (one resolution with markers per Python version).
lock: $(UV)
	$(UV) pip compile -q pyproject.toml --extra test --universal --python-version 3.10 \
	  --generate-hashes --custom-compile-command "make lock" -o $(LOCK)
$(UV):
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --target $(VENV)/.uv uv==$(UV_VERSION)

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
