# One entry point for people and CI. `make demo` and `make test` are the README's two commands.
PYTHON ?= python3
BUILD ?= build/cpp
ASAN_BUILD ?= build/asan
CLANG_BUILD ?= build/clang
DIST ?= build/dist
FUZZ_BUILD ?= build/fuzz
FUZZ_SECONDS ?= 60
CMAKE_GEN := $(shell command -v ninja >/dev/null 2>&1 && echo "-G Ninja")

.PHONY: demo sysdeps deps install test test-python test-pythons test-freethreaded test-cpp test-clang test-asan test-dist fuzz lint bench bench-full clean

# System packages (Debian): a compiler, make, GoogleTest for the C++ tests, clang for the fuzzers,
# zlib for gzip input, yaz (yaz-marcdump) to check what we write against another tool; marc4j, a JDK
# to run it and MARC::File::XML so tests/python/test_foreign_output.py reads what they write.
# Installed with apt when missing and running as root; otherwise a message says what to install.
SYSTEM_PACKAGES ?= g++ make libgtest-dev clang zlib1g-dev libexpat1-dev yaz \
  libmarc4j-java default-jdk-headless libmarc-xml-perl
sysdeps:
	@missing=""; for pkg in $(SYSTEM_PACKAGES); do dpkg -s $$pkg >/dev/null 2>&1 || missing="$$missing $$pkg"; done; \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  echo "installing system packages:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	else \
	  echo "missing system packages:$$missing (as root: apt-get install$$missing)" >&2; exit 1; \
	fi

deps:
	$(PYTHON) -m pip install -q "scikit-build-core>=0.10" "nanobind>=2.4" cmake ninja "pytest>=7" "pymarc==5.4.0" pyarrow polars duckdb "dask[dataframe]" distributed fsspec ruff mypy "unicodedata2==15.1.0; python_version < '3.13'"

install: sysdeps deps
	$(PYTHON) -m pip install -q --no-build-isolation .

demo: install
	$(PYTHON) examples/titles.py examples/sample.mrc

test: sysdeps install lint test-cpp test-python

test-python:
	$(PYTHON) -m pytest tests/python -q

# Build and run the Python tests on each CPython of PYTHONS that is installed here (pythonX.Y on PATH
# or under pyenv), one venv each in PYTHON_VENVS; versions not found are skipped with a message.
# Not part of `make test` or CI (docs/compatibility.md). E.g. `make test-pythons PYTHONS="3.10 3.13"`.
PYTHONS ?= 3.10 3.11 3.12 3.13
PYTHON_VENVS ?= build/pythons
test-pythons: sysdeps
	PYTHONS="$(PYTHONS)" VENVS="$(PYTHON_VENVS)" bash tools/test_pythons.sh

# Free-threaded CPython (PEP 703): tools/build_freethreaded.sh builds CPython 3.13 with
# --disable-gil under FT_PREFIX from the Debian archive's source (about 12 minutes on 2 cores, once;
# reused afterwards). Then, in a venv in FT_VENVS, with PYTHON_GIL unset (the GIL stays off unless
# something turns it on): the whole Python suite (tools/test_pythons.sh, skip reasons shown), a check
# that importing rapidmarc leaves the GIL disabled, and the thread tests once more. docs/compatibility.md.
FT_PREFIX ?= /opt/rapidmarc/cpython-3.13t
FT_VENVS ?= build/freethreaded
FT_PYTHON = $(FT_VENVS)/venv-py313t/bin/python
test-freethreaded: sysdeps
	RAPIDMARC_FT_PREFIX=$(FT_PREFIX) bash tools/build_freethreaded.sh
	env -u PYTHON_GIL PYTHONS=$(FT_PREFIX)/bin/python3.13t VENVS=$(FT_VENVS) PYTEST_ARGS="-rs" bash tools/test_pythons.sh
	env -u PYTHON_GIL $(FT_PYTHON) -c "import sys, sysconfig, rapidmarc; \
	  assert sysconfig.get_config_var('Py_GIL_DISABLED'), 'not a free-threaded build'; \
	  assert not sys._is_gil_enabled(), 'importing rapidmarc turned the GIL on'; \
	  print('free-threaded', sys.version.split()[0], 'GIL disabled after import rapidmarc', rapidmarc.__version__)"
	env -u PYTHON_GIL $(FT_PYTHON) -m pytest -q -p no:cacheprovider tests/python/test_threads_stress.py tests/python/test_threads.py

test-cpp:
	cmake -S . -B $(BUILD) $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=Debug -DRAPIDMARC_BUILD_TESTS=ON -DRAPIDMARC_BUILD_EXAMPLES=ON -DRAPIDMARC_WERROR=ON
	cmake --build $(BUILD) -j2
	ctest --test-dir $(BUILD) --output-on-failure
	$(BUILD)/print_titles examples/sample.mrc > /dev/null
	$(BUILD)/marc_to_xml examples/sample.mrc > $(BUILD)/sample.xml
	$(PYTHON) -m rapidmarc convert examples/sample.mrc $(BUILD)/sample-python.xml --no-progress
	cmp $(BUILD)/sample.xml $(BUILD)/sample-python.xml

# The C++ tests built with clang++ as well (warnings are errors with both compilers).
test-clang: sysdeps
	cmake -S . -B $(CLANG_BUILD) $(CMAKE_GEN) -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=Debug -DRAPIDMARC_BUILD_TESTS=ON -DRAPIDMARC_BUILD_EXAMPLES=ON -DRAPIDMARC_WERROR=ON
	cmake --build $(CLANG_BUILD) -j2
	ctest --test-dir $(CLANG_BUILD) --output-on-failure

# Release hygiene: an sdist and a wheel built as `python -m build` builds them (isolated, from PyPI),
# then the sdist installed into a fresh virtual environment, alone, and tested there.
test-dist:
	rm -rf $(DIST)
	$(PYTHON) -m pip install -q build
	$(PYTHON) -m build --outdir $(DIST) .
	$(PYTHON) -m venv $(DIST)/venv
	$(DIST)/venv/bin/python -m pip install -q "pytest>=7" "pymarc==5.4.0" $(DIST)/rapidmarc-*.tar.gz
	cd $(DIST) && venv/bin/python -c "import rapidmarc, sys; assert rapidmarc.__file__.startswith(sys.prefix), rapidmarc.__file__"
	$(DIST)/venv/bin/python -m pytest -q -p no:cacheprovider tests/python/test_api.py tests/python/test_pymarc_api.py tests/python/test_cli.py

test-asan: sysdeps
	cmake -S . -B $(ASAN_BUILD) $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=Debug -DRAPIDMARC_BUILD_TESTS=ON -DRAPIDMARC_SANITIZE=ON
	cmake --build $(ASAN_BUILD) -j2
	ctest --test-dir $(ASAN_BUILD) --output-on-failure

# libFuzzer + ASan + UBSan on the core (needs clang: apt-get install clang). Each target runs for
# FUZZ_SECONDS on seeds cut from the sample and the shared data; findings land in $(FUZZ_BUILD).
# Then atheris (from PyPI) fuzzes the installed package's Python layer (tests/fuzz/fuzz_python.py)
# for FUZZ_SECONDS from tests/fuzz/seeds_python; its findings land in $(FUZZ_BUILD)/python-*.
fuzz: sysdeps
	cmake -S . -B $(FUZZ_BUILD) $(CMAKE_GEN) -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo -DRAPIDMARC_BUILD_FUZZERS=ON
	cmake --build $(FUZZ_BUILD) -j2 --target fuzz_reader fuzz_marc8 fuzz_marcspec fuzz_marcjson fuzz_marcxml fuzz_text_scan
	$(PYTHON) tools/fuzz_seeds.py $(FUZZ_BUILD)/seeds examples/sample.mrc $(wildcard ../shared/data/real/*.mrc) $(wildcard ../shared/data/edge/*.mrc)
	mkdir -p $(FUZZ_BUILD)/corpus/reader $(FUZZ_BUILD)/corpus/marc8 $(FUZZ_BUILD)/corpus/marcspec $(FUZZ_BUILD)/corpus/marcjson $(FUZZ_BUILD)/corpus/marcxml $(FUZZ_BUILD)/corpus/text_scan
	cd $(FUZZ_BUILD) && ./fuzz_reader -max_total_time=$(FUZZ_SECONDS) -max_len=20000 -timeout=10 -print_final_stats=1 corpus/reader seeds/reader
	cd $(FUZZ_BUILD) && ./fuzz_marc8 -max_total_time=$(FUZZ_SECONDS) -max_len=4096 -timeout=10 -print_final_stats=1 corpus/marc8 seeds/marc8
	cd $(FUZZ_BUILD) && ./fuzz_marcspec -max_total_time=$(FUZZ_SECONDS) -max_len=256 -timeout=10 -print_final_stats=1 corpus/marcspec $(CURDIR)/tests/fuzz/seeds_marcspec
	cd $(FUZZ_BUILD) && ./fuzz_marcjson -max_total_time=$(FUZZ_SECONDS) -max_len=20000 -timeout=10 -print_final_stats=1 \
	  -dict=$(CURDIR)/tests/fuzz/marcjson.dict corpus/marcjson seeds/marcjson
	cd $(FUZZ_BUILD) && ./fuzz_marcxml -max_total_time=$(FUZZ_SECONDS) -max_len=20000 -timeout=10 -print_final_stats=1 corpus/marcxml seeds/xml
	cd $(FUZZ_BUILD) && ./fuzz_text_scan -max_total_time=$(FUZZ_SECONDS) -max_len=4096 -timeout=10 -print_final_stats=1 corpus/text_scan seeds/reader
	$(PYTHON) -m pip install -q atheris
	mkdir -p $(FUZZ_BUILD)/corpus/python
	$(PYTHON) tests/fuzz/fuzz_python.py -max_total_time=$(FUZZ_SECONDS) -max_len=16384 -timeout=20 -print_final_stats=1 \
	  -artifact_prefix=$(FUZZ_BUILD)/python- $(FUZZ_BUILD)/corpus/python tests/fuzz/seeds_python

# stubtest checks python/rapidmarc/_core.pyi against the installed extension (run after install);
# tests/python/test_stub.py checks the nanobind signatures stubtest cannot read.
lint:
	$(PYTHON) -m ruff check python tests bench examples tools
	$(PYTHON) -m mypy python/rapidmarc
	cd /tmp && $(PYTHON) -m mypy.stubtest rapidmarc._core --allowlist $(CURDIR)/tools/stubtest_allowlist.txt

# The benchmark suite (bench/README.md): report, plots and JSON in bench/results/.
bench: install
	$(PYTHON) -m pip install -q "mrrc==0.9.2" "rmarc==5.4.0" matplotlib
	$(PYTHON) bench/run.py --plan quick

bench-full: install
	$(PYTHON) -m pip install -q "mrrc==0.9.2" "rmarc==5.4.0" matplotlib
	$(PYTHON) bench/run.py --plan full

clean:
	rm -rf build
