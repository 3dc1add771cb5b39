#!/usr/bin/env bash
# Builds the quic-go interop peer (QUIC echo, datagrams, HTTP/3) offline from Debian's Go sources: see ../go-build.sh.
exec "$(dirname "${BASH_SOURCE[0]}")/../go-build.sh" "$(dirname "${BASH_SOURCE[0]}")" quic-go-peer
