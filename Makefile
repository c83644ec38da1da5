# One entry point for people and CI. `make demo` and `make test` are the README's two commands.
PYTHON ?= python3
BUILD ?= build/cpp
ASAN_BUILD ?= build/asan
CMAKE_GEN := $(shell command -v ninja >/dev/null 2>&1 && echo "-G Ninja")

.PHONY: demo deps install test test-python test-cpp test-asan lint bench bench-full clean

deps:
	$(PYTHON) -m pip install -q "scikit-build-core>=0.10" "nanobind>=2.4" cmake ninja "pytest>=7" "pymarc==5.4.0" pyarrow ruff mypy

install: deps
	$(PYTHON) -m pip install -q --no-build-isolation .

demo: install
	$(PYTHON) examples/titles.py examples/sample.mrc

test: install lint test-cpp test-python

test-python:
	$(PYTHON) -m pytest tests/python -q

test-cpp:
	cmake -S . -B $(BUILD) $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=Debug -DRAPIDMARC_BUILD_TESTS=ON -DRAPIDMARC_BUILD_EXAMPLES=ON
	cmake --build $(BUILD) -j2
	ctest --test-dir $(BUILD) --output-on-failure
	$(BUILD)/print_titles examples/sample.mrc > /dev/null
	$(BUILD)/marc_to_xml examples/sample.mrc > $(BUILD)/sample.xml
	$(PYTHON) -m rapidmarc convert examples/sample.mrc $(BUILD)/sample-python.xml --no-progress
	cmp $(BUILD)/sample.xml $(BUILD)/sample-python.xml

test-asan:
	cmake -S . -B $(ASAN_BUILD) $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=Debug -DRAPIDMARC_BUILD_TESTS=ON -DRAPIDMARC_SANITIZE=ON
	cmake --build $(ASAN_BUILD) -j2
	ctest --test-dir $(ASAN_BUILD) --output-on-failure

lint:
	$(PYTHON) -m ruff check python tests bench examples tools
	$(PYTHON) -m mypy python/rapidmarc

# The benchmark suite (bench/README.md): report, plots and JSON in bench/results/.
bench: install
	$(PYTHON) -m pip install -q "mrrc==0.9.2" "rmarc==5.4.0" matplotlib
	$(PYTHON) bench/run.py --plan quick

bench-full: install
	$(PYTHON) -m pip install -q "mrrc==0.9.2" "rmarc==5.4.0" matplotlib
	$(PYTHON) bench/run.py --plan full

clean:
	rm -rf build
