package main

import (
	"flag"
	"log"
	"net"
)

// runUDPEcho implements "connect-udp udp-echo": every datagram goes back to its sender.
func runUDPEcho(args []string) int {
	fs := flag.NewFlagSet("udp-echo", flag.ContinueOnError)
	listen := fs.String("listen", "127.0.0.1:0", "UDP address to listen on")
	watchStdin := fs.Bool("exit-on-stdin-eof", true, "exit when stdin reaches EOF")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	conn, err := net.ListenPacket("udp", *listen)
	if err != nil {
		log.Print(err)
		return 1
	}
	defer conn.Close()
	if uc, ok := conn.(*net.UDPConn); ok {
		_ = uc.SetReadBuffer(4 << 20) // best effort; bursts of 1000 datagrams on loopback
		_ = uc.SetWriteBuffer(4 << 20)
	}
	go func() {
		buf := make([]byte, 65536)
		for {
			n, from, err := conn.ReadFrom(buf)
			if err != nil {
				return
			}
			if _, err := conn.WriteTo(buf[:n], from); err != nil {
				log.Printf("echo to %s: %v", from, err)
			}
		}
	}()
	printReady(conn.LocalAddr().String())
	log.Printf("shutting down: %s", waitForShutdown(*watchStdin))
	return 0
}
