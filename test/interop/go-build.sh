#!/usr/bin/env bash
# Builds one of the Go interop peers offline from Debian's packaged sources (quic-go 0.29,
# marten-seemann/qpack, Go 1.19), as GOPATH=/usr/share/gocode GO111MODULE=off go build.
#   usage: go-build.sh <program directory> <binary name>
# Output: ${MASQUE_INTEROP_BIN:-<repo>/node_modules/.cache/masque-interop}/<binary name>
# Rebuilds only when the .go sources, the Go toolchain or the Debian packages changed.
# Prints the binary path on stdout; progress and errors go to stderr. Exit 0 only on success.
set -euo pipefail

[[ $# -eq 2 ]] || { echo "usage: $0 <program directory> <binary name>" >&2; exit 2; }
here="$(cd "$1" && pwd)"
name="$2"
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
out_dir="${MASQUE_INTEROP_BIN:-${repo}/node_modules/.cache/masque-interop}"
bin="${out_dir}/${name}"
gopath="${QUIC_GO_GOPATH:-/usr/share/gocode}"
quicgo_src="${gopath}/src/github.com/lucas-clemente/quic-go"
qpack_src="${gopath}/src/github.com/marten-seemann/qpack"

fail() {
  echo "${name} build FAILED: $*" >&2
  exit 1
}

if ! command -v go >/dev/null 2>&1; then
  fail "the 'go' toolchain is not installed. Install the Debian packages:
  apt-get install -y golang-go golang-github-lucas-clemente-quic-go-dev"
fi
if [[ ! -f "${quicgo_src}/interface.go" || ! -f "${qpack_src}/encoder.go" ]]; then
  fail "quic-go / qpack sources not found under ${gopath}. Install the Debian package:
  apt-get install -y golang-github-lucas-clemente-quic-go-dev
(it pulls golang-github-marten-seemann-qpack-dev; or point QUIC_GO_GOPATH at a GOPATH that
holds github.com/lucas-clemente/quic-go 0.29 and github.com/marten-seemann/qpack)"
fi

pkg_version="$(dpkg-query -W -f='${Version}' golang-github-lucas-clemente-quic-go-dev 2>/dev/null || echo unknown)"
qpack_version="$(dpkg-query -W -f='${Version}' golang-github-marten-seemann-qpack-dev 2>/dev/null || echo unknown)"
hash="$(
  {
    go version
    echo "quic-go ${pkg_version} qpack ${qpack_version} ${gopath}"
    cd "${here}" && LC_ALL=C sha256sum ./*.go
  } | sha256sum | cut -d' ' -f1
)"

mkdir -p "${out_dir}"
exec 9>"${out_dir}/${name}.lock"
if command -v flock >/dev/null 2>&1; then
  flock 9 # concurrent test workers: one builds, the others wait and then reuse it
fi

if [[ -x "${bin}" && -f "${bin}.hash" && "$(cat "${bin}.hash")" == "${hash}" ]]; then
  echo "${bin}"
  exit 0
fi

echo "building ${name} (quic-go ${pkg_version}, $(go version | cut -d' ' -f3)) ..." >&2
tmp="${bin}.tmp.$$"
# Without a C compiler, build a pure-Go binary (slower first build: std is recompiled).
cgo=1
command -v "${CC:-cc}" >/dev/null 2>&1 || cgo=0
# GOPATH mode cannot build an absolute directory path: build "." from inside it. The peers share
# one build cache (Go's cache is safe for concurrent use).
if ! (cd "${here}" && GOPATH="${gopath}" GO111MODULE=off GOFLAGS= GOPROXY=off GOTOOLCHAIN=local \
  GOCACHE="${out_dir}/go-build-cache" CGO_ENABLED="${cgo}" \
  go build -o "${tmp}" . >&2); then
  rm -f "${tmp}"
  fail "'go build' of ${here} failed (see the compiler output above)"
fi
mv -f "${tmp}" "${bin}"
echo "${hash}" >"${bin}.hash"
echo "built ${bin}" >&2
echo "${bin}"
