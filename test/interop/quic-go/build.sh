#!/usr/bin/env bash
# Builds the quic-go interop peer offline from Debian's packaged sources (quic-go 0.29, Go 1.19):
#   GOPATH=/usr/share/gocode GO111MODULE=off go build
# Output: ${MASQUE_INTEROP_BIN:-<repo>/node_modules/.cache/masque-interop}/quic-go-peer
# Rebuilds only when the .go sources, the Go toolchain or the quic-go package changed.
# Prints the binary path on stdout; progress and errors go to stderr. Exit 0 only on success.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "${here}/../../.." && pwd)"
out_dir="${MASQUE_INTEROP_BIN:-${repo}/node_modules/.cache/masque-interop}"
bin="${out_dir}/quic-go-peer"
gopath="${QUIC_GO_GOPATH:-/usr/share/gocode}"
quicgo_src="${gopath}/src/github.com/lucas-clemente/quic-go"

fail() {
  echo "quic-go-peer build FAILED: $*" >&2
  exit 1
}

if ! command -v go >/dev/null 2>&1; then
  fail "the 'go' toolchain is not installed. Install the Debian packages:
  apt-get install -y golang-go golang-github-lucas-clemente-quic-go-dev"
fi
if [[ ! -f "${quicgo_src}/http3/server.go" || ! -d "${gopath}/src/github.com/marten-seemann/qpack" ]]; then
  fail "quic-go sources not found under ${quicgo_src}. Install the Debian package:
  apt-get install -y golang-github-lucas-clemente-quic-go-dev
(or point QUIC_GO_GOPATH at a GOPATH that holds github.com/lucas-clemente/quic-go 0.29)"
fi

pkg_version="$(dpkg-query -W -f='${Version}' golang-github-lucas-clemente-quic-go-dev 2>/dev/null || echo unknown)"
hash="$(
  {
    go version
    echo "quic-go ${pkg_version} ${gopath}"
    cd "${here}" && LC_ALL=C sha256sum ./*.go
  } | sha256sum | cut -d' ' -f1
)"

mkdir -p "${out_dir}"
exec 9>"${out_dir}/quic-go-peer.lock"
if command -v flock >/dev/null 2>&1; then
  flock 9 # concurrent test workers: one builds, the others wait and then reuse it
fi

if [[ -x "${bin}" && -f "${bin}.hash" && "$(cat "${bin}.hash")" == "${hash}" ]]; then
  echo "${bin}"
  exit 0
fi

echo "building quic-go-peer (quic-go ${pkg_version}, $(go version | cut -d' ' -f3)) ..." >&2
tmp="${bin}.tmp.$$"
# Without a C compiler, build a pure-Go binary (slower first build: std is recompiled).
cgo=1
command -v "${CC:-cc}" >/dev/null 2>&1 || cgo=0
# GOPATH mode cannot build an absolute directory path: build "." from inside it.
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
