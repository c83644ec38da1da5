#!/usr/bin/env bash
# Build rapidmarc and run its Python tests on every CPython of PYTHONS that this machine has
# (`make test-pythons`; docs/compatibility.md). Not part of `make test` or CI, which run one Python.
#
# For each version: find an interpreter (pythonX.Y on PATH, else the newest X.Y.* under pyenv's root:
# `pyenv root`, $PYENV_ROOT or ~/.pyenv), make or reuse the venv $VENVS/venv-pyXY, install the build
# and test dependencies (as `make deps`), build and install rapidmarc from this checkout with
# --no-build-isolation, run `pytest tests/python -q`. Each venv keeps its log in test-pythons.log.
# A version with no interpreter is skipped with a message; one whose build, install or tests fail
# makes the script exit 1 after the rest have run. A test dependency that pip cannot install for a
# version as a wheel (pyarrow, polars, duckdb: never built from source) is reported and left out:
# the tests that need it skip, saying so.
#
# Environment: PYTHONS (default "3.10 3.11 3.12 3.13"; a "t" suffix, as in 3.13t, asks for a
# free-threaded build; a path, as in /opt/rapidmarc/cpython-3.13t/bin/python3.13t, is that
# interpreter, named by the version it reports), VENVS (default build/pythons), PYTEST_ARGS (extra
# pytest arguments).
set -u

PYTHONS=${PYTHONS:-"3.10 3.11 3.12 3.13"}
VENVS=${VENVS:-build/pythons}
PYTEST_ARGS=${PYTEST_ARGS:-}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT" || exit 1
mkdir -p "$VENVS"

REQUIRED=("scikit-build-core>=0.10" "nanobind>=2.4" cmake ninja "pytest>=7" "pymarc==5.4.0"
  "unicodedata2==15.1.0; python_version < '3.13'")
OPTIONAL=(pyarrow polars duckdb)
# rapidmarc.dask's tests (a distributed.LocalCluster of two worker processes) on the GIL builds;
# not tried on a free-threaded build, where Dask's stack is not known to work yet.
OPTIONAL_GIL=("dask[dataframe]" distributed fsspec)

# The version interpreter $1 reports: X.Y, or X.Yt for a free-threaded build; nothing if it does not run.
version_of() {
  "$1" -c 'import sys, sysconfig
print("%d.%d%s" % (sys.version_info[0], sys.version_info[1], "t" if sysconfig.get_config_var("Py_GIL_DISABLED") else ""))' \
    2>/dev/null
}

# Does interpreter $1 run and report version $2?
is_version() {
  local got
  got=$(version_of "$1") || return 1
  [ "$got" = "$2" ]
}

# Print an interpreter for version $1, or nothing.
find_python() {
  local version=$1 base=${1%t} candidate root
  candidate=$(command -v "python$version" 2>/dev/null) && is_version "$candidate" "$version" && {
    echo "$candidate"
    return
  }
  root=$(pyenv root 2>/dev/null) || root=${PYENV_ROOT:-$HOME/.pyenv}
  # pyenv names free-threaded builds X.Y.Zt; newest patch release first.
  while IFS= read -r dir; do
    candidate="$dir/bin/python$version"
    if [ -x "$candidate" ] && is_version "$candidate" "$version"; then
      echo "$candidate"
      return
    fi
  done < <(printf '%s\n' "$root/versions/$base".* | sort -V -r)
}

declare -a SUMMARY
failed=0
for version in $PYTHONS; do
  if [[ $version == */* ]]; then # an interpreter's path
    python=$version
    version=$(version_of "$python") || version=""
    if [ -z "$version" ]; then
      echo "== Python $python: does not run"
      SUMMARY+=("$python: FAILED (does not run)")
      failed=1
      continue
    fi
  else
    python=$(find_python "$version")
  fi
  if [ -z "$python" ]; then
    echo "== Python $version: not found (neither python$version on PATH nor under pyenv); skipped"
    SUMMARY+=("$version: not installed here, skipped")
    continue
  fi
  venv="$VENVS/venv-py${version//./}"
  log="$venv/test-pythons.log"
  echo "== Python $version: $python ($("$python" -VV 2>&1 | head -1)), venv $venv (pip and pytest output in $log)"
  if [ ! -x "$venv/bin/python" ] && ! "$python" -m venv "$venv"; then
    echo "   could not create the venv"
    SUMMARY+=("$version: FAILED (venv)")
    failed=1
    continue
  fi
  py="$venv/bin/python"
  : >"$log"
  if ! "$py" -m pip install -q "${REQUIRED[@]}" >>"$log" 2>&1; then
    echo "   could not install the build/test dependencies: see $log"
    SUMMARY+=("$version: FAILED (dependencies)")
    failed=1
    continue
  fi
  missing=""
  optional=("${OPTIONAL[@]}")
  [[ "$version" == *t ]] || optional+=("${OPTIONAL_GIL[@]}")
  for pkg in "${optional[@]}"; do
    # Wheels only: where a version has none (free-threaded 3.13t for some), pip would otherwise
    # spend many minutes compiling the package and its build dependencies from source, or fail.
    "$py" -m pip install -q --only-binary :all: "$pkg" >>"$log" 2>&1 || missing="$missing $pkg"
  done
  [ -n "$missing" ] && echo "   no wheel for Python $version:$missing (the tests that need them skip)"
  if ! "$py" -m pip install -q --no-build-isolation . >>"$log" 2>&1; then
    echo "   build/install of rapidmarc failed: see $log"
    SUMMARY+=("$version: FAILED (build)")
    failed=1
    continue
  fi
  # shellcheck disable=SC2086  # PYTEST_ARGS is a list of words
  "$py" -m pytest tests/python -q -p no:cacheprovider $PYTEST_ARGS 2>&1 | tee -a "$log"
  status=${PIPESTATUS[0]}
  result=$(grep -E '^=*( )?[0-9]+ (passed|failed|error)' "$log" | tail -1 | tr -d '=' | sed 's/^ *//;s/ *$//')
  if [ "$status" -ne 0 ]; then
    SUMMARY+=("$version: FAILED (tests: ${result:-pytest exited $status})")
    failed=1
  else
    SUMMARY+=("$version: ok (${result})${missing:+, without$missing}")
  fi
done

echo "== test-pythons summary"
for line in "${SUMMARY[@]}"; do echo "   $line"; done
exit $failed
