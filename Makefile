# The README's two commands: `make run` and `make test`. Everything else they need is installed here.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
# Debian packages the project needs: a C++ toolchain and cmake compile llama-cpp-python once (binutils' objdump
# checks what it compiled to); espeak-ng is the
# light voice and gives speech recognition the pronunciation of new words; libportaudio2 is the microphone and
# speaker of live `os1 talk`; chromium (driven by Playwright, never a downloaded browser) and its DejaVu fonts run
# the web page's tests and draw docs/screenshot.png.
DEB_PACKAGES := g++ cmake binutils espeak-ng libportaudio2 chromium fonts-dejavu-core
export PIP_DISABLE_PIP_VERSION_CHECK := 1

# llama.cpp, built for every x86-64 CPU with AVX2, never for the machine that compiles it. Its default build
# (GGML_NATIVE) takes whatever the build machine's CPU flags advertise: on an Intel Xeon VM that advertises AMX
# but refuses it to processes, every completion died with SIGILL (`tilezero` in ggml_backend_amx_mul_mat), and
# the same wheel, cached by pip under its version alone, was reused by every later install on that machine.
# So: explicit flags (AVX2/FMA/F16C/BMI2; AVX-512 and AMX off, since a VM may advertise what it refuses), the
# wheel built with pip's cache off into a folder of ours named after the version and the flags, and reinstalled
# whenever the flags change. tests/test_native_build.py checks the built library for instructions that a CPU
# may refuse and runs a real decode in a child process.
LLAMA_CPP_VERSION := 0.3.36
# LLAMA_CPU=avx2 (the default: x86-64 from 2013-15 on, Intel Haswell / AMD Excavator and newer) or
# LLAMA_CPU=baseline (older x86-64: SSE4.2 only, slower). Other architectures (ARM) get llama.cpp's generic build.
LLAMA_CPU ?= avx2
LLAMA_COMMON_ARGS := -DGGML_NATIVE=OFF -DGGML_BACKEND_DL=OFF -DGGML_CPU_ALL_VARIANTS=OFF -DGGML_AVX_VNNI=OFF \
	-DGGML_AVX512=OFF -DGGML_AVX512_VBMI=OFF -DGGML_AVX512_VNNI=OFF -DGGML_AVX512_BF16=OFF \
	-DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF
ifeq ($(LLAMA_CPU),baseline)
LLAMA_CMAKE_ARGS := $(LLAMA_COMMON_ARGS) -DGGML_SSE42=ON -DGGML_AVX=OFF -DGGML_F16C=OFF -DGGML_FMA=OFF \
	-DGGML_AVX2=OFF -DGGML_BMI2=OFF
else
LLAMA_CMAKE_ARGS := $(LLAMA_COMMON_ARGS) -DGGML_SSE42=ON -DGGML_AVX=ON -DGGML_F16C=ON -DGGML_FMA=ON \
	-DGGML_AVX2=ON -DGGML_BMI2=ON
endif
LLAMA_TAG := $(shell printf '%s %s' '$(LLAMA_CPP_VERSION)' '$(sort $(LLAMA_CMAKE_ARGS))' | sha256sum | cut -c1-12)
# Built wheels are kept per user, keyed by version and flags, so a second clone does not compile again.
OS1_WHEELS ?= $(HOME)/.cache/os1/wheels
LLAMA_WHEEL_DIR := $(OS1_WHEELS)/llama-cpp-python-$(LLAMA_CPP_VERSION)-$(LLAMA_TAG)

.PHONY: run test lint bench deb llama llama-rebuild llama-args clean

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

# The portable llama-cpp-python wheel (see LLAMA_CMAKE_ARGS), built once per version and flags.
$(LLAMA_WHEEL_DIR)/.built: | $(PY)
	$(MAKE) deb
	@echo "Building llama-cpp-python $(LLAMA_CPP_VERSION) for any x86-64 CPU with AVX2 (about 8 minutes on two cores)"
	rm -rf $(LLAMA_WHEEL_DIR) && mkdir -p $(LLAMA_WHEEL_DIR)
	CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" CMAKE_BUILD_PARALLEL_LEVEL=$$(nproc) $(PIP) wheel -q --no-cache-dir --no-deps \
		--no-binary llama-cpp-python -w $(LLAMA_WHEEL_DIR) 'llama-cpp-python==$(LLAMA_CPP_VERSION)'
	printf '%s\n' '$(LLAMA_CMAKE_ARGS)' > $(LLAMA_WHEEL_DIR)/cmake-args.txt
	touch $@

$(VENV)/.llama-$(LLAMA_TAG): $(LLAMA_WHEEL_DIR)/.built
	rm -f $(VENV)/.llama-*
	$(PIP) install -q --no-cache-dir --force-reinstall --no-deps $(LLAMA_WHEEL_DIR)/*.whl
	cp $(LLAMA_WHEEL_DIR)/cmake-args.txt $(VENV)/llama-cmake-args.txt
	touch $@

llama: $(VENV)/.llama-$(LLAMA_TAG)

# Build llama.cpp again (after `os1 doctor` or a crash says so): this version and flags, from source.
llama-rebuild:
	rm -rf $(LLAMA_WHEEL_DIR) $(VENV)/.llama-*
	$(MAKE) llama

# The flags of this checkout's build, for tests/test_native_build.py.
llama-args:
	@printf '%s\n' '$(LLAMA_CMAKE_ARGS)'

# The default brain (Qwen2.5-Coder-1.5B, `brain`) comes from the registry in 22 parts of 50 MB, about
# 1.1 GB; `os1 models --prepare` joins them into ~/.cache/os1/models (OS1_MODELS) and checks the file's sha256,
# so the first reply does not wait for it. `make test` also installs the 0.5B pack (`all`), for the benchmarks.
$(VENV)/.installed: pyproject.toml $(VENV)/.llama-$(LLAMA_TAG) | $(PY)
	$(MAKE) deb
	$(PIP) install -q -e '.[embedded,brain,openai,voice,server,mcp]'
	$(VENV)/bin/os1 models --prepare >/dev/null
	touch $@

$(VENV)/.dev-installed: pyproject.toml $(VENV)/.llama-$(LLAMA_TAG) | $(PY)
	$(MAKE) deb
	$(PIP) install -q -e '.[all,dev]'
	$(VENV)/bin/os1 models --prepare >/dev/null
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
