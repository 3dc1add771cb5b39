package main

import (
	"context"
	"errors"
	"flag"
	"io"
	"log"
	"net"
	"strings"

	"github.com/lucas-clemente/quic-go"
)

// Application error codes the echo server uses when it gives up on a stream.
const (
	errCodeTooLarge quic.StreamErrorCode = 0x101
	errCodeRead     quic.StreamErrorCode = 0x102
)

type serverOptions struct {
	listen     string
	alpn       string
	maxStream  int64
	qlogDir    string
	versions   string
	watchStdin bool
	tls        tlsFlags
}

func runServer(args []string) int {
	var o serverOptions
	fs := flag.NewFlagSet("server", flag.ContinueOnError)
	fs.StringVar(&o.listen, "listen", "127.0.0.1:0", "UDP address to listen on")
	fs.StringVar(&o.alpn, "alpn", "masque-interop", "comma-separated ALPN protocols to accept")
	fs.Int64Var(&o.maxStream, "max-stream-bytes", 64<<20, "largest stream the echo buffers (larger ones are reset)")
	fs.StringVar(&o.qlogDir, "qlog-dir", "", "write one qlog file per connection into this directory")
	fs.StringVar(&o.versions, "quic-version", "", "comma-separated versions to offer: v1, draft29, v2draft (default: all)")
	fs.BoolVar(&o.watchStdin, "exit-on-stdin-eof", true, "exit when stdin reaches EOF")
	addServerTLSFlags(fs, &o.tls)
	if err := fs.Parse(args); err != nil {
		return 2
	}
	versions, err := parseVersions(o.versions)
	if err != nil {
		log.Print(err)
		return 2
	}
	tlsConf, keylog, err := serverTLS(o.tls, splitList(o.alpn))
	if err != nil {
		log.Print(err)
		return 1
	}
	if keylog != nil {
		defer keylog.Close()
	}
	udp, err := net.ListenPacket("udp", o.listen)
	if err != nil {
		log.Print(err)
		return 1
	}
	defer udp.Close()
	ln, err := quic.Listen(udp, tlsConf, quicConfig(versions, qlogTracer(o.qlogDir)))
	if err != nil {
		log.Print(err)
		return 1
	}
	defer ln.Close()

	go func() {
		for {
			conn, err := ln.Accept(context.Background())
			if err != nil {
				log.Printf("accept stopped: %v", err)
				return
			}
			go serveEchoConn(conn, o.maxStream)
		}
	}()
	printReady(udp.LocalAddr().String())
	log.Printf("listening on %s, ALPN %v", udp.LocalAddr(), tlsConf.NextProtos)
	log.Printf("shutting down: %s", waitForShutdown(o.watchStdin))
	return 0
}

func addServerTLSFlags(fs *flag.FlagSet, t *tlsFlags) {
	fs.StringVar(&t.cert, "cert", "", "PEM certificate (default: ephemeral self-signed for localhost/127.0.0.1)")
	fs.StringVar(&t.key, "key", "", "PEM private key for --cert")
	fs.StringVar(&t.writeCert, "write-cert", "", "write the generated self-signed certificate (PEM) here")
	fs.StringVar(&t.keylog, "keylog", "", "append TLS secrets in NSS key log format to this file")
}

func addClientTLSFlags(fs *flag.FlagSet, t *tlsFlags) {
	fs.BoolVar(&t.insecure, "insecure", false, "do not verify the server certificate")
	fs.StringVar(&t.ca, "ca", "", "PEM file of trusted root certificates")
	fs.StringVar(&t.sni, "sni", "", "TLS server name (default: host of the address)")
	fs.StringVar(&t.keylog, "keylog", "", "append TLS secrets in NSS key log format to this file")
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// serveEchoConn echoes every bidirectional stream, every unidirectional stream (on a new
// unidirectional stream) and every datagram of one connection until it closes.
func serveEchoConn(conn quic.Connection, maxStream int64) {
	state := conn.ConnectionState()
	log.Printf("connection from %s: ALPN %q, datagrams %v",
		conn.RemoteAddr(), state.TLS.NegotiatedProtocol, state.SupportsDatagrams)

	go func() {
		for {
			msg, err := conn.ReceiveMessage()
			if err != nil {
				return
			}
			if err := conn.SendMessage(msg); err != nil {
				log.Printf("datagram echo (%d bytes) failed: %v", len(msg), err)
			}
		}
	}()
	go func() {
		for {
			rs, err := conn.AcceptUniStream(context.Background())
			if err != nil {
				return
			}
			go echoUniStream(conn, rs, maxStream)
		}
	}()
	for {
		str, err := conn.AcceptStream(context.Background())
		if err != nil {
			log.Printf("connection from %s ended: %v", conn.RemoteAddr(), err)
			return
		}
		go echoBidiStream(str, maxStream)
	}
}

var errTooLarge = errors.New("stream exceeds --max-stream-bytes")

// readAllLimited reads a stream to its FIN, failing when it exceeds limit bytes.
func readAllLimited(r io.Reader, limit int64) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, errTooLarge
	}
	return data, nil
}

func echoBidiStream(str quic.Stream, limit int64) {
	data, err := readAllLimited(str, limit)
	if err != nil {
		log.Printf("stream %d: %v", str.StreamID(), err)
		code := errCodeRead
		if errors.Is(err, errTooLarge) {
			code = errCodeTooLarge
		}
		str.CancelRead(code)
		str.CancelWrite(code)
		return
	}
	if _, err := str.Write(data); err != nil {
		log.Printf("stream %d: write: %v", str.StreamID(), err)
		return
	}
	_ = str.Close()
}

func echoUniStream(conn quic.Connection, rs quic.ReceiveStream, limit int64) {
	data, err := readAllLimited(rs, limit)
	if err != nil {
		log.Printf("uni stream %d: %v", rs.StreamID(), err)
		rs.CancelRead(errCodeRead)
		return
	}
	ss, err := conn.OpenUniStreamSync(context.Background())
	if err != nil {
		return
	}
	if _, err := ss.Write(data); err != nil {
		return
	}
	_ = ss.Close()
}
