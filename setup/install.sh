#!/usr/bin/env bash
# Installs a released gait for the runner's OS and architecture: download the
# archive and checksums.txt, check the archive's SHA-256 (and the keyless
# signature of checksums.txt when asked or when cosign is present), unpack
# into the tool cache and add it to PATH. Nothing is installed unless every
# check passed.
set -euo pipefail

die() { echo "::error title=gait setup::$*" >&2; exit 1; }

version=${GAIT_VERSION:?set GAIT_VERSION to a release tag such as v1.0.0}
base=${GAIT_BASE_URL:-https://github.com/gait-dev/gait/releases/download}
verify=${GAIT_VERIFY_SIGNATURE:-auto}
[[ $version =~ ^v[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?$ ]] || die "version '$version' is not a release tag; use one such as v1.0.0"
case $verify in auto|true|false) ;; *) die "verify-signature '$verify' must be auto, true or false" ;; esac

case "${RUNNER_OS:-$(uname -s)}" in
  Linux) os=linux ;;
  macOS|Darwin) os=darwin ;;
  Windows|MINGW*|MSYS*|CYGWIN*) os=windows ;;
  *) die "unsupported OS ${RUNNER_OS:-$(uname -s)}" ;;
esac
case "${RUNNER_ARCH:-$(uname -m)}" in
  X64|x86_64|amd64) arch=amd64 ;;
  ARM64|arm64|aarch64) arch=arm64 ;;
  *) die "unsupported architecture ${RUNNER_ARCH:-$(uname -m)}" ;;
esac

bin=gait ext=tar.gz
if [ "$os" = windows ]; then bin=gait.exe ext=zip; fi
archive="gait_${version#v}_${os}_${arch}.${ext}"
dest="${RUNNER_TOOL_CACHE:-${HOME}/.cache}/gait/${version}/${os}_${arch}"

sha256() {
  if command -v sha256sum >/dev/null; then sha256sum "$1" | cut -d' ' -f1; else shasum -a 256 "$1" | cut -d' ' -f1; fi
}

if [ -x "$dest/$bin" ] && [ -f "$dest/.verified" ]; then
  echo "gait $version already installed in $dest"
else
  tmp=$(mktemp -d "${RUNNER_TEMP:-${TMPDIR:-/tmp}}/gait-setup.XXXXXX")
  trap 'rm -rf "$tmp"' EXIT
  fetch() { curl -fsSL --retry 3 --retry-delay 2 --max-time 120 -o "$tmp/$1" "$base/$version/$1" || die "cannot download $base/$version/$1"; }
  fetch "$archive"
  fetch checksums.txt

  if [ "$verify" = true ] || { [ "$verify" = auto ] && command -v cosign >/dev/null; }; then
    command -v cosign >/dev/null || die "verify-signature is true but cosign is not on PATH; add sigstore/cosign-installer before this step"
    fetch checksums.txt.sigstore.json
    cosign verify-blob --bundle "$tmp/checksums.txt.sigstore.json" \
      --certificate-identity "https://github.com/gait-dev/gait/.github/workflows/release.yml@refs/tags/$version" \
      --certificate-oidc-issuer https://token.actions.githubusercontent.com \
      "$tmp/checksums.txt" >/dev/null || die "the signature of checksums.txt for $version does not verify"
    echo "signature of checksums.txt verified"
  fi

  want=$(awk -v f="$archive" '$2 == f || $2 == "*" f { print $1 }' "$tmp/checksums.txt")
  [ -n "$want" ] || die "checksums.txt of $version has no entry for $archive"
  got=$(sha256 "$tmp/$archive")
  [ "$got" = "$want" ] || die "checksum mismatch for $archive: got $got, checksums.txt says $want; not installing"

  mkdir -p "$tmp/unpack"
  if [ "$ext" = zip ]; then
    unzip -q "$tmp/$archive" "$bin" -d "$tmp/unpack"
  else
    tar -xzf "$tmp/$archive" -C "$tmp/unpack" "$bin"
  fi
  [ -f "$tmp/unpack/$bin" ] || die "$archive holds no $bin"
  chmod 0755 "$tmp/unpack/$bin"
  : >"$tmp/unpack/.verified"
  mkdir -p "$(dirname "$dest")"
  rm -rf "$dest"
  mv "$tmp/unpack" "$dest"
  echo "gait $version installed in $dest"
fi

if [ -n "${GITHUB_PATH:-}" ]; then echo "$dest" >>"$GITHUB_PATH"; fi
if [ -n "${GITHUB_OUTPUT:-}" ]; then
  { echo "version=$version"; echo "path=$dest"; } >>"$GITHUB_OUTPUT"
fi
