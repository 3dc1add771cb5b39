#!/usr/bin/env bash
# Builds the independent CONNECT-UDP client, reference proxy and UDP echo offline from Debian's Go sources: see ../go-build.sh.
exec "$(dirname "${BASH_SOURCE[0]}")/../go-build.sh" "$(dirname "${BASH_SOURCE[0]}")" connect-udp
