# Two commands for a fresh machine with Python >= 3.10 and pip:
#   make demo   installs into .venv, then runs the main job on the synthetic demo set
#   make test   installs into .venv (with test extras), then runs the test suite
VENV ?= .venv
PYTHON ?= python3
# torchvision pins one torch release, and lmms-eval's Qwen model classes need a working torchvision
# (qwen_vl_utils imports it). PyPI's torch/torchvision builds are CUDA-enabled and also run on CPU;
# `===` (exact string match) keeps pip from taking a local `+cpu` torch wheel, which no PyPI
# torchvision can load. Override for another CUDA/torch: make install TORCH="torch==X torchvision==Y"
TORCH ?= torch===2.13.0 torchvision==0.28.0
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: install demo test bench clean
install: $(STAMP)
$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q $(TORCH) -e ".[test]"
	rm -f $(VENV)/.installed-* && touch $@

demo: install
	$(VENV)/bin/comic-emotion demo

# pytest exits 5 when it collected no test: that is a failure of the suite, not a pass.
# The venv's bin/ goes first on PATH, as after `source .venv/bin/activate`: tests run the console scripts.
test: install
	PATH="$(abspath $(VENV))/bin:$$PATH" HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 TRANSFORMERS_OFFLINE=1 $(PY) -m pytest -q -p no:cacheprovider $(PYTEST_ARGS); \
	  rc=$$?; if [ $$rc -eq 5 ]; then echo "pytest collected no tests"; exit 1; fi; exit $$rc

bench: install
	$(PY) -m benchmarks --quick

clean:
	rm -rf $(VENV) results site test-artifacts
