// Command connect-udp is an independent CONNECT-UDP (RFC 9298) client written directly on
// Debian's quic-go 0.29 transport, with hand-written HTTP/3 framing and marten-seemann/qpack
// for header blocks. It also carries a deliberately tiny reference proxy and a UDP echo server
// so that the client can be validated on its own before it is pointed at the masque proxy.
//
// Subcommands: client, proxy, udp-echo, expand (see README.md next to this file).
// Servers print exactly one line "READY host:port" on stdout; client and expand print exactly
// one JSON line on stdout. Everything else goes to stderr.
package main

import (
	"encoding/json"
	"fmt"
	"io"
	"log"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

const usage = `usage: connect-udp <client|proxy|udp-echo|expand> [flags]
  connect-udp client   --proxy https://127.0.0.1:PORT --target 127.0.0.1:9999
                       [--template '/.well-known/masque/udp/{target_host}/{target_port}/']
                       [--count N --size S] [--insecure | --ca F] [--keylog F]
                       [--legacy-datagram-setting] [--expect-status 403] [--use-capsules]
  connect-udp proxy    --listen 127.0.0.1:0 [--cert C --key K | --write-cert F] [--keylog F]
  connect-udp udp-echo --listen 127.0.0.1:0
  connect-udp expand   --template T --target H:P
run "connect-udp <subcommand> -h" for all flags`

func main() {
	log.SetFlags(log.Ltime | log.Lmicroseconds)
	log.SetOutput(os.Stderr)
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, usage)
		os.Exit(2)
	}
	sub, args := os.Args[1], os.Args[2:]
	log.SetPrefix("connect-udp " + sub + ": ")
	var code int
	switch sub {
	case "client":
		code = runClient(args)
	case "proxy":
		code = runProxy(args)
	case "udp-echo":
		code = runUDPEcho(args)
	case "expand":
		code = runExpand(args)
	case "-h", "--help", "help":
		fmt.Fprintln(os.Stderr, usage)
	default:
		fmt.Fprintf(os.Stderr, "unknown subcommand %q\n%s\n", sub, usage)
		code = 2
	}
	os.Exit(code)
}

// printReady announces a bound address; the TypeScript helper waits for this line.
func printReady(addr string) {
	fmt.Fprintf(os.Stdout, "READY %s\n", addr)
	_ = os.Stdout.Sync()
}

// printJSON writes one JSON object as a single line on stdout.
func printJSON(v interface{}) {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false) // keep "&" of query templates readable
	if err := enc.Encode(v); err != nil {
		b.Reset()
		fmt.Fprintf(&b, "{\"ok\":false,\"error\":%q}\n", err.Error())
	}
	fmt.Fprint(os.Stdout, b.String())
	_ = os.Stdout.Sync()
}

// waitForShutdown blocks until SIGTERM/SIGINT, or until stdin reaches EOF when watchStdin is
// set, so that a parent that dies while holding our stdin pipe never leaves a server behind.
func waitForShutdown(watchStdin bool) string {
	done := make(chan string, 2)
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		s := <-sigs
		done <- "signal " + s.String()
	}()
	if watchStdin {
		go func() {
			_, _ = io.Copy(io.Discard, os.Stdin)
			done <- "stdin closed"
		}()
	}
	return <-done
}
