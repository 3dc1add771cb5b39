#!/usr/bin/env bash
# Sets up what the test suite needs on a fresh Debian machine: the Debian packages that the interop
# tests use as independent peers, then the npm dependencies (exactly, from the lockfile; `npm ci`
# also builds dist/ through the `prepare` script). Running the proxy needs none of the Debian
# packages: `npm ci && npm start`. Safe to run again: packages already present are not reinstalled.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v go >/dev/null 2>&1 || need+=(golang-go)
[ -d /usr/share/gocode/src/github.com/lucas-clemente/quic-go ] || need+=(golang-github-lucas-clemente-quic-go-dev)
[ -x /usr/bin/chromium ] || need+=(chromium)
[ -x /usr/bin/gtlsclient ] || need+=(ngtcp2-client)
[ -x /usr/sbin/gtlsserver ] || need+=(ngtcp2-server)
[ -x /usr/bin/tshark ] || need+=(tshark)
# The optional native crypto addon (native/, built by `npm ci`): a compiler (node-gyp links with
# g++), make and python3 for node-gyp; test/crypto/native.test.ts fails if it is not built.
command -v g++ >/dev/null 2>&1 || need+=(g++)
command -v make >/dev/null 2>&1 || need+=(make)
command -v python3 >/dev/null 2>&1 || need+=(python3)
# systemd-analyze checks deploy/masque.service (test/deploy); installing it starts no init.
command -v systemd-analyze >/dev/null 2>&1 || need+=(systemd)

if [ "${#need[@]}" -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  echo "setup: installing Debian packages: ${need[*]}" >&2
  $sudo apt-get update -qq
  # tshark's postinst asks whether non-root users may capture; answer "no" up front.
  case " ${need[*]} " in
    *" tshark "*)
      echo "wireshark-common wireshark-common/install-setuid boolean false" | $sudo debconf-set-selections
      ;;
  esac
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}" >/dev/null
fi

npm ci --no-audit --no-fund
