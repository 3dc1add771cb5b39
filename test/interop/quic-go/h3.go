package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/lucas-clemente/quic-go/http3"
)

// helloBody is the body of GET /hello.
const helloBody = "hello from quic-go"

// settingsFlag collects repeated --setting ID=VALUE (decimal or 0x-hex) into a map.
type settingsFlag map[uint64]uint64

func (s settingsFlag) String() string { return fmt.Sprint(map[uint64]uint64(s)) }

func (s settingsFlag) Set(v string) error {
	id, val, ok := strings.Cut(v, "=")
	if !ok {
		return fmt.Errorf("want ID=VALUE, got %q", v)
	}
	i, err := strconv.ParseUint(strings.TrimSpace(id), 0, 62)
	if err != nil {
		return err
	}
	n, err := strconv.ParseUint(strings.TrimSpace(val), 0, 62)
	if err != nil {
		return err
	}
	s[i] = n
	return nil
}

type h3ServerOptions struct {
	listen     string
	maxBody    int64
	datagrams  bool
	settings   settingsFlag
	qlogDir    string
	versions   string
	watchStdin bool
	tls        tlsFlags
}

func runH3Server(args []string) int {
	o := h3ServerOptions{settings: settingsFlag{}}
	fs := flag.NewFlagSet("h3server", flag.ContinueOnError)
	fs.StringVar(&o.listen, "listen", "127.0.0.1:0", "UDP address to listen on")
	fs.Int64Var(&o.maxBody, "max-body-bytes", 64<<20, "largest POST /echo body and GET /bytes/N")
	fs.BoolVar(&o.datagrams, "h3-datagrams", true, "enable QUIC datagrams and send quic-go's H3_DATAGRAM setting (0xffd277=1)")
	fs.Var(o.settings, "setting", "extra SETTINGS entry ID=VALUE (repeatable), e.g. 0x33=1 or 0x8=1")
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
	// http3.Server replaces NextProtos by "h3" (v1 and v2draft) or "h3-29" (draft-29).
	tlsConf, keylog, err := serverTLS(o.tls, nil)
	if err != nil {
		log.Print(err)
		return 1
	}
	if keylog != nil {
		defer keylog.Close()
	}
	qconf := quicConfig(versions, qlogTracer(o.qlogDir))
	qconf.EnableDatagrams = o.datagrams
	srv := &http3.Server{
		Handler:         h3Handler(o.maxBody),
		TLSConfig:       tlsConf,
		QuicConfig:      qconf,
		EnableDatagrams: o.datagrams,
	}
	if len(o.settings) > 0 {
		srv.AdditionalSettings = o.settings
	}
	udp, err := net.ListenPacket("udp", o.listen)
	if err != nil {
		log.Print(err)
		return 1
	}
	defer udp.Close()
	served := make(chan error, 1)
	go func() { served <- srv.Serve(udp) }()
	printReady(udp.LocalAddr().String())
	log.Printf("HTTP/3 on %s", udp.LocalAddr())
	stopped := make(chan string, 1)
	go func() { stopped <- waitForShutdown(o.watchStdin) }()
	select {
	case reason := <-stopped:
		log.Printf("shutting down: %s", reason)
		_ = srv.Close()
		return 0
	case err := <-served:
		log.Printf("serve failed: %v", err)
		return 1
	}
}

// h3Handler serves GET /hello, POST /echo and GET /bytes/N (patternBytes(0, N)).
func h3Handler(maxBody int64) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/hello", func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet {
			http.Error(w, "GET only", http.StatusMethodNotAllowed)
			return
		}
		w.Header().Set("Content-Type", "text/plain")
		w.Header().Set("Content-Length", strconv.Itoa(len(helloBody)))
		_, _ = io.WriteString(w, helloBody)
	})
	mux.HandleFunc("/echo", func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			http.Error(w, "POST only", http.StatusMethodNotAllowed)
			return
		}
		body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		if int64(len(body)) > maxBody {
			http.Error(w, "body too large", http.StatusRequestEntityTooLarge)
			return
		}
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		_, _ = w.Write(body)
	})
	mux.HandleFunc("/bytes/", func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet {
			http.Error(w, "GET only", http.StatusMethodNotAllowed)
			return
		}
		n, err := strconv.ParseInt(strings.TrimPrefix(r.URL.Path, "/bytes/"), 10, 64)
		if err != nil || n < 0 || n > maxBody {
			http.Error(w, "bad length", http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Header().Set("Content-Length", strconv.FormatInt(n, 10))
		_, _ = w.Write(patternBytes(0, int(n)))
	})
	return mux
}

// h3Result is the JSON line h3client prints.
type h3Result struct {
	OK            bool    `json:"ok"`
	Error         string  `json:"error,omitempty"`
	Status        int     `json:"status"`
	BodyBytes     int     `json:"body_bytes"`
	SHA256        string  `json:"sha256"`
	RequestBytes  int     `json:"request_bytes"`
	RequestSHA256 string  `json:"request_sha256,omitempty"`
	ContentType   string  `json:"content_type,omitempty"`
	Proto         string  `json:"proto"`
	ALPN          string  `json:"alpn"`
	Version       string  `json:"version"`
	ElapsedMs     float64 `json:"elapsed_ms"`
}

func runH3Client(args []string) int {
	var (
		rawURL, method, versions, qlogDir string
		bodyBytes                         int
		timeout                           time.Duration
		datagrams                         bool
		tf                                tlsFlags
	)
	settings := settingsFlag{}
	fs := flag.NewFlagSet("h3client", flag.ContinueOnError)
	fs.StringVar(&rawURL, "url", "", "https URL to request")
	fs.StringVar(&method, "method", "GET", "GET or POST")
	fs.IntVar(&bodyBytes, "body-bytes", 0, "POST body size; the body is patternBytes(1, N)")
	fs.DurationVar(&timeout, "timeout", 30*time.Second, "overall deadline")
	fs.BoolVar(&datagrams, "h3-datagrams", false, "enable QUIC datagrams and quic-go's H3_DATAGRAM setting")
	fs.Var(settings, "setting", "extra SETTINGS entry ID=VALUE (repeatable)")
	fs.StringVar(&versions, "quic-version", "v1", "QUIC version: v1, draft29, v2draft (exactly one)")
	fs.StringVar(&qlogDir, "qlog-dir", "", "write a qlog file into this directory")
	addClientTLSFlags(fs, &tf)
	if err := fs.Parse(args); err != nil {
		return 2
	}
	res := h3Result{}
	start := time.Now()
	err := doH3Request(rawURL, method, bodyBytes, timeout, datagrams, settings, versions, qlogDir, tf, &res)
	res.ElapsedMs = msSince(start)
	if err == nil && (res.Status < 200 || res.Status > 299) {
		err = fmt.Errorf("HTTP status %d", res.Status)
	}
	if err != nil {
		res.Error = err.Error()
		printJSON(res)
		return 1
	}
	res.OK = true
	printJSON(res)
	return 0
}

func doH3Request(rawURL, method string, bodyBytes int, timeout time.Duration, datagrams bool,
	settings settingsFlag, versions, qlogDir string, tf tlsFlags, res *h3Result) error {
	u, err := url.Parse(rawURL)
	if err != nil || u.Scheme != "https" || u.Host == "" {
		return fmt.Errorf("need --url https://host:port/path, got %q", rawURL)
	}
	vers, err := parseVersions(versions)
	if err != nil {
		return err
	}
	tlsConf, keylog, err := clientTLS(tf, u.Hostname(), nil)
	if err != nil {
		return err
	}
	if keylog != nil {
		defer keylog.Close()
	}
	info := &connInfo{}
	qconf := quicConfig(vers, combineTracers(infoTracer{info: info}, qlogTracer(qlogDir)))
	rt := &http3.RoundTripper{TLSClientConfig: tlsConf, QuicConfig: qconf, EnableDatagrams: datagrams}
	if len(settings) > 0 {
		rt.AdditionalSettings = settings
	}
	defer rt.Close()

	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var body io.Reader
	if bodyBytes > 0 {
		payload := patternBytes(1, bodyBytes)
		res.RequestBytes, res.RequestSHA256 = len(payload), sha256Hex(payload)
		body = bytes.NewReader(payload)
	}
	req, err := http.NewRequestWithContext(ctx, method, rawURL, body)
	if err != nil {
		return err
	}
	resp, err := rt.RoundTrip(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	got, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("read body: %w", err)
	}
	res.Status, res.BodyBytes, res.SHA256 = resp.StatusCode, len(got), sha256Hex(got)
	res.ContentType, res.Proto = resp.Header.Get("Content-Type"), resp.Proto
	if resp.TLS != nil {
		res.ALPN = resp.TLS.NegotiatedProtocol
	}
	v, _, _ := info.snapshot()
	res.Version = v.String()
	return nil
}
