# The README's two commands: `make run` and `make test`. Everything else they need is installed here.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
# Debian packages the project needs: a C++ toolchain and cmake compile llama-cpp-python once; espeak-ng is the
# light voice and gives speech recognition the pronunciation of new words; libportaudio2 is the microphone and
# speaker of live `os1 talk`; chromium (driven by Playwright, never a downloaded browser) and its DejaVu fonts run
# the web page's tests and draw docs/screenshot.png.
DEB_PACKAGES := g++ cmake espeak-ng libportaudio2 chromium fonts-dejavu-core
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: run test lint bench deb clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip

deb:
	@missing=""; for p in $(DEB_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "Installing Debian packages:$$missing"; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -q && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q --no-install-recommends $$missing; \
	fi

$(VENV)/.installed: pyproject.toml | $(PY)
	$(MAKE) deb
	$(PIP) install -q -e '.[embedded,openai,voice,server]'
	touch $@

$(VENV)/.dev-installed: pyproject.toml | $(PY)
	$(MAKE) deb
	$(PIP) install -q -e '.[all,dev]'
	touch $@ $(VENV)/.installed

run: $(VENV)/.installed
	$(VENV)/bin/os1

lint: $(VENV)/.dev-installed
	$(VENV)/bin/ruff check src tests benchmarks
	$(VENV)/bin/mypy

test: $(VENV)/.dev-installed
	$(VENV)/bin/ruff check src tests benchmarks
	$(VENV)/bin/mypy
	$(VENV)/bin/pytest -q

bench: $(VENV)/.dev-installed
	$(PY) benchmarks/first_token.py
	$(PY) benchmarks/memory_recall.py
	$(PY) benchmarks/memory_scale.py
	$(PY) benchmarks/stt_wer.py
	$(PY) benchmarks/tts_rtf.py

clean:
	rm -rf $(VENV) build src/*.egg-info .pytest_cache .mypy_cache .ruff_cache
