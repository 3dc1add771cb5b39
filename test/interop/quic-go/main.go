// Command peer is an independent QUIC v1 / HTTP/3 peer built from Debian's quic-go 0.29,
// used by the interop tests of the masque TypeScript stack.
//
// Subcommands: server, client, h3server, h3client (see README.md next to this file).
// Servers print exactly one line "READY host:port" on stdout; clients print exactly one JSON
// line on stdout. Everything else goes to stderr.
package main

import (
	"encoding/json"
	"fmt"
	"io"
	"log"
	"os"
	"os/signal"
	"syscall"
)

const usage = `usage: peer <server|client|h3server|h3client> [flags]
  peer server   --listen 127.0.0.1:0 [--cert C --key K] --alpn masque-interop [--keylog F]
  peer client   --connect 127.0.0.1:PORT --alpn masque-interop [--insecure | --ca C]
                --bytes N --streams S --datagrams D [--keylog F]
  peer h3server --listen 127.0.0.1:0 [--cert C --key K] [--keylog F]
  peer h3client --url https://127.0.0.1:PORT/path [--insecure | --ca C] [--method GET|POST]
                [--body-bytes N] [--keylog F]
run "peer <subcommand> -h" for all flags`

func main() {
	log.SetFlags(log.Ltime | log.Lmicroseconds)
	log.SetOutput(os.Stderr)
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, usage)
		os.Exit(2)
	}
	sub, args := os.Args[1], os.Args[2:]
	log.SetPrefix("quic-go-peer " + sub + ": ")
	var code int
	switch sub {
	case "server":
		code = runServer(args)
	case "client":
		code = runClient(args)
	case "h3server":
		code = runH3Server(args)
	case "h3client":
		code = runH3Client(args)
	case "-h", "--help", "help":
		fmt.Fprintln(os.Stderr, usage)
	default:
		fmt.Fprintf(os.Stderr, "unknown subcommand %q\n%s\n", sub, usage)
		code = 2
	}
	os.Exit(code)
}

// printReady announces the bound address; the TypeScript helper waits for this line.
func printReady(addr string) {
	fmt.Fprintf(os.Stdout, "READY %s\n", addr)
	_ = os.Stdout.Sync()
}

// printJSON writes one JSON object as a single line on stdout.
func printJSON(v interface{}) {
	b, err := json.Marshal(v)
	if err != nil {
		b = []byte(fmt.Sprintf(`{"ok":false,"error":%q}`, err.Error()))
	}
	fmt.Fprintln(os.Stdout, string(b))
	_ = os.Stdout.Sync()
}

// waitForShutdown blocks until SIGTERM/SIGINT, or until stdin reaches EOF when watchStdin is
// set (so a crashed parent that held our stdin pipe never leaves a server behind).
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
