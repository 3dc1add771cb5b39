package main

// Request validation of the reference proxy: a pure function that returns the status and
// Proxy-Status error type to answer with (RFC 9298 §3.4, RFC 9209 §2.3), and the target dial.

import (
	"fmt"
	"net"
	"strconv"
	"strings"

	"github.com/marten-seemann/qpack"
)

// requestRefusal is a validation failure with the status and Proxy-Status to answer with.
type requestRefusal struct {
	status      int
	errorType   string // RFC 9209 §2.3 error type
	description string
}

func (r *requestRefusal) Error() string {
	return fmt.Sprintf("%d %s: %s", r.status, r.errorType, r.description)
}

func refuse(status int, errorType, format string, args ...interface{}) *requestRefusal {
	return &requestRefusal{status: status, errorType: errorType, description: fmt.Sprintf(format, args...)}
}

// validateRequest checks an Extended CONNECT request for connect-udp (RFC 9298 §3.4,
// RFC 9220 §3, RFC 9114 §4.3.1, §4.4) and returns the target from the default template.
func validateRequest(fields []qpack.HeaderField, forbidPorts []int) (connectUDPTarget, *requestRefusal) {
	pseudo := map[string]string{}
	regular := false
	for _, f := range fields {
		if f.Name != strings.ToLower(f.Name) {
			return connectUDPTarget{}, refuse(400, "http_request_error", "uppercase field name %q", f.Name)
		}
		if !strings.HasPrefix(f.Name, ":") {
			regular = true
			continue
		}
		// RFC 9114 §4.3: pseudo-headers come first, once each, from the defined set.
		if _, dup := pseudo[f.Name]; dup || regular {
			return connectUDPTarget{}, refuse(400, "http_request_error", "duplicate or misplaced %s", f.Name)
		}
		switch f.Name {
		case ":method", ":protocol", ":scheme", ":authority", ":path":
		default:
			return connectUDPTarget{}, refuse(400, "http_request_error", "unknown pseudo-header %s", f.Name)
		}
		pseudo[f.Name] = f.Value
	}
	if pseudo[":method"] != "CONNECT" {
		return connectUDPTarget{}, refuse(405, "http_request_denied", "method %q: only CONNECT", pseudo[":method"])
	}
	if pseudo[":protocol"] != connectUDPProtocol {
		// RFC 9220 §3: an unsupported :protocol "SHOULD" get 501 (Not Implemented).
		return connectUDPTarget{}, refuse(501, "http_request_denied", "protocol %q: only connect-udp", pseudo[":protocol"])
	}
	// RFC 9298 §3.4: ":path and :scheme pseudo-header fields SHALL NOT be empty"; the
	// :authority carries the proxy's authority.
	if pseudo[":scheme"] == "" || pseudo[":path"] == "" || pseudo[":authority"] == "" {
		return connectUDPTarget{}, refuse(400, "http_request_error", "empty :scheme, :path or :authority")
	}
	target, err := parseDefaultTemplatePath(pseudo[":path"])
	if err != nil {
		return connectUDPTarget{}, refuse(400, "http_request_error", "%v", err)
	}
	for _, port := range forbidPorts {
		if port == target.port {
			return connectUDPTarget{}, refuse(403, "destination_ip_prohibited", "target port %d is forbidden", port)
		}
	}
	return target, nil
}

// dialTarget resolves and connects a UDP socket to the target; a connected socket only
// accepts datagrams from that address, as RFC 9298 §3.2 requires ("it MUST validate the IP
// source address and UDP source port on received packets").
func dialTarget(t connectUDPTarget) (*net.UDPConn, *requestRefusal) {
	addr, err := net.ResolveUDPAddr("udp", net.JoinHostPort(t.host, strconv.Itoa(t.port)))
	if err != nil {
		return nil, refuse(502, "dns_error", "%v", err)
	}
	udp, err := net.DialUDP("udp", nil, addr)
	if err != nil {
		return nil, refuse(502, "destination_ip_unroutable", "%v", err)
	}
	_ = udp.SetReadBuffer(4 << 20)
	_ = udp.SetWriteBuffer(4 << 20)
	return udp, nil
}
