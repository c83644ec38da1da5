#!/usr/bin/env bash
# Build a free-threaded CPython 3.13 (PEP 703, `./configure --disable-gil`) for
# `make test-freethreaded` (docs/compatibility.md), or reuse the one already built.
#
# The source is the upstream tarball as the Debian archive serves it for trixie's python3.13
# package (deb.debian.org only: no other download site). The pinned tarball and its sha256 are
# tried first; if the archive no longer has that file (a newer point release replaced it), the
# script reads trixie's InRelease (signature checked with gpgv against Debian's archive keyring),
# then Sources.xz (its sha256 checked against InRelease) to find the current orig tarball and its
# sha256. Any mismatch or missing piece stops the script with a message.
#
# Built without tests or PGO (about 12 minutes on 2 cores, unloaded), `make -j2`, installed under
# $RAPIDMARC_FT_PREFIX (default /opt/rapidmarc/cpython-3.13t). A prefix that already holds a
# working free-threaded interpreter (marker file, `sys._is_gil_enabled` present, the modules pip
# needs importable) is reused and nothing is downloaded. Download and build output go to a log
# whose path is printed; the last line of stdout is the interpreter's path.
#
# Environment: RAPIDMARC_FT_PREFIX (install prefix), RAPIDMARC_FT_CACHE (downloads and build
# tree; default <prefix>.cache), RAPIDMARC_FT_JOBS (default 2).
set -euo pipefail

PREFIX=${RAPIDMARC_FT_PREFIX:-/opt/rapidmarc/cpython-3.13t}
CACHE=${RAPIDMARC_FT_CACHE:-$PREFIX.cache}
JOBS=${RAPIDMARC_FT_JOBS:-2}
ARCHIVE=http://deb.debian.org/debian
SUITE=trixie
PACKAGE=python3.13
# trixie's python3.13 3.13.5-2+deb13u5: the upstream 3.13.5 source as Debian ships it.
PINNED_TARBALL=python3.13_3.13.5.orig.tar.xz
PINNED_SHA256=93e583f243454e6e9e4588ca2c2662206ad961659863277afcdb96801647d640
POOL_DIR=pool/main/p/python3.13
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
# Debian packages the build needs (headers for the standard-library modules pip and the tests use).
BUILD_PACKAGES="build-essential pkg-config xz-utils curl libssl-dev zlib1g-dev libffi-dev libbz2-dev
  liblzma-dev libsqlite3-dev libreadline-dev libncurses-dev uuid-dev libexpat1-dev"
MARKER=.rapidmarc-freethreaded

PY=$PREFIX/bin/python3.13t
LOG=$CACHE/build.log

die() {
  echo "build_freethreaded: $*" >&2
  exit 1
}

# Is $PY a working free-threaded 3.13 that pip can use?
usable() {
  [ -x "$PY" ] && [ -f "$PREFIX/$MARKER" ] || return 1
  "$PY" - <<'EOF' >/dev/null 2>&1
import sys, sysconfig
assert sys.version_info[:2] == (3, 13), sys.version
assert sysconfig.get_config_var("Py_GIL_DISABLED") == 1
assert hasattr(sys, "_is_gil_enabled")
import ssl, zlib, bz2, lzma, ctypes, sqlite3, venv, ensurepip  # noqa: F401  (pip and the suite)
EOF
}

if usable; then
  echo "free-threaded CPython: reusing $PY ($("$PY" -VV | head -1))" >&2
  echo "$PY"
  exit 0
fi

mkdir -p "$CACHE" 2>/dev/null && [ -w "$CACHE" ] || die "cannot write $CACHE (set RAPIDMARC_FT_PREFIX to a writable place, e.g. \$HOME/cpython-3.13t, or run as root)"
mkdir -p "$(dirname "$PREFIX")" 2>/dev/null && [ -w "$(dirname "$PREFIX")" ] || die "cannot write $(dirname "$PREFIX") (set RAPIDMARC_FT_PREFIX to a writable place, or run as root)"

# One build at a time per cache (two `make test-freethreaded` at once wait for each other).
exec 9>"$CACHE/lock"
if ! flock -n 9; then
  echo "free-threaded CPython: another build holds $CACHE/lock; waiting" >&2
  flock 9
fi
if usable; then # built by the one we waited for
  echo "$PY"
  exit 0
fi

# Build dependencies: installed with apt when missing and running as root, else named.
if command -v dpkg >/dev/null 2>&1; then
  missing=""
  for pkg in $BUILD_PACKAGES; do dpkg -s "$pkg" >/dev/null 2>&1 || missing="$missing $pkg"; done
  if [ -n "$missing" ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
      echo "installing build packages:$missing" >&2
      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >&2
    else
      die "missing build packages:$missing (as root: apt-get install$missing)"
    fi
  fi
fi

: >"$LOG"
echo "free-threaded CPython: building into $PREFIX (log: $LOG)" >&2

sha256_of() { sha256sum "$1" | cut -d' ' -f1; }

# Download $1 (a path under the archive) to $2; 0 on success, 1 when the archive says 404.
fetch() {
  local code
  code=$(curl -sS -L --retry 3 -o "$2.part" -w '%{http_code}' "$ARCHIVE/$1" 2>>"$LOG") || die "download of $ARCHIVE/$1 failed (see $LOG)"
  if [ "$code" = 404 ]; then
    rm -f "$2.part"
    return 1
  fi
  [ "$code" = 200 ] || die "download of $ARCHIVE/$1: HTTP $code"
  mv "$2.part" "$2"
}

# Find the current orig tarball of $PACKAGE in trixie (signed InRelease -> Sources.xz -> entry);
# sets TARBALL, SHA256, POOL_DIR.
find_current_tarball() {
  [ -r "$KEYRING" ] && command -v gpgv >/dev/null 2>&1 ||
    die "the pinned $PINNED_TARBALL is gone from the archive; finding its successor needs gpgv and $KEYRING (apt-get install gpgv debian-archive-keyring), or update PINNED_TARBALL/PINNED_SHA256 in $0"
  fetch "dists/$SUITE/InRelease" "$CACHE/InRelease" || die "$ARCHIVE/dists/$SUITE/InRelease: 404"
  gpgv --keyring "$KEYRING" --output "$CACHE/Release" "$CACHE/InRelease" >>"$LOG" 2>&1 ||
    die "the signature of $SUITE's InRelease does not verify against $KEYRING (see $LOG)"
  local want
  want=$(awk '/^SHA256:/{s=1; next} /^[^ ]/{s=0} s && $3 == "main/source/Sources.xz" {print $1}' "$CACHE/Release")
  [ -n "$want" ] || die "$SUITE's Release lists no main/source/Sources.xz"
  fetch "dists/$SUITE/main/source/Sources.xz" "$CACHE/Sources.xz" || die "$SUITE's Sources.xz: 404"
  [ "$(sha256_of "$CACHE/Sources.xz")" = "$want" ] || die "Sources.xz does not match the sha256 in the signed Release"
  local entry
  # awk reads to the end (an early exit would kill xz with SIGPIPE, a failure under pipefail).
  entry=$(xz -dc "$CACHE/Sources.xz" | awk -v pkg="$PACKAGE" '$0 == "Package: " pkg && !done {p=1} p && /^$/ {p=0; done=1} p')
  [ -n "$entry" ] || die "$SUITE's Sources lists no $PACKAGE"
  POOL_DIR=$(printf '%s\n' "$entry" | awk '/^Directory:/{print $2}')
  TARBALL=""
  read -r SHA256 TARBALL < <(printf '%s\n' "$entry" |
    awk '/^Checksums-Sha256:/{s=1; next} /^[^ ]/{s=0} s && $3 ~ /\.orig\.tar\.(xz|gz)$/ {print $1, $3; exit}') || true
  [ -n "${TARBALL:-}" ] && [ -n "$POOL_DIR" ] || die "no orig tarball in $SUITE's $PACKAGE entry"
  case $TARBALL in
    python3.13_3.13.*) ;;
    *) die "$SUITE's $PACKAGE tarball is $TARBALL, not a 3.13 release" ;;
  esac
  echo "free-threaded CPython: pinned $PINNED_TARBALL is gone; using $TARBALL from $SUITE's signed Sources" >&2
}

TARBALL=$PINNED_TARBALL
SHA256=$PINNED_SHA256
if ! { [ -f "$CACHE/$TARBALL" ] && [ "$(sha256_of "$CACHE/$TARBALL")" = "$SHA256" ]; }; then
  if ! fetch "$POOL_DIR/$TARBALL" "$CACHE/$TARBALL"; then
    find_current_tarball
    [ -f "$CACHE/$TARBALL" ] && [ "$(sha256_of "$CACHE/$TARBALL")" = "$SHA256" ] ||
      fetch "$POOL_DIR/$TARBALL" "$CACHE/$TARBALL" || die "$ARCHIVE/$POOL_DIR/$TARBALL: 404"
  fi
fi
got=$(sha256_of "$CACHE/$TARBALL")
if [ "$got" != "$SHA256" ]; then
  rm -f "$CACHE/$TARBALL"
  die "$TARBALL: sha256 $got, expected $SHA256 (file removed)"
fi

SRC=$CACHE/src
rm -rf "$SRC" "$PREFIX"
mkdir -p "$SRC"
tar -xJf "$CACHE/$TARBALL" -C "$SRC" --strip-components=1
echo "free-threaded CPython: configure, make -j$JOBS, install ($(date -u +%H:%M:%S) UTC)" >&2
(
  cd "$SRC"
  ./configure --prefix="$PREFIX" --disable-gil --with-ensurepip=install --disable-test-modules
  make -j"$JOBS"
  make install
) >>"$LOG" 2>&1 || {
  tail -n 30 "$LOG" >&2
  die "the CPython build failed (full log: $LOG)"
}
echo "$TARBALL $SHA256" >"$PREFIX/$MARKER"
usable || die "$PY was built but is not a usable free-threaded 3.13 (missing modules? see $LOG)"
rm -rf "$SRC"
echo "free-threaded CPython: built $PY ($("$PY" -VV | head -1), $(date -u +%H:%M:%S) UTC)" >&2
echo "$PY"
