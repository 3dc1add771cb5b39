package main

// URI Template expansion for CONNECT-UDP (RFC 9298 §3, RFC 6570 levels 1-3 without the "+"
// and "#" operators, which RFC 9298 §3 forbids) and the proxy's parsing of the default
// template.

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
)

// pctEncodeUnreserved percent-encodes everything but RFC 3986 unreserved characters
// (ALPHA / DIGIT / "-" / "." / "_" / "~"), as RFC 6570 §3.2.1 does for every operator we
// support. This is what turns the colons of an IPv6 literal into "%3A" (RFC 9298 §3).
func pctEncodeUnreserved(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' ||
			c == '-' || c == '.' || c == '_' || c == '~' {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// expandTemplate expands {target_host} and {target_port} (and any other variables in vars).
// Supported expressions: {v}, {/v}, {.v}, {;v}, {?v,w}, {&v,w}; undefined variables expand
// to nothing, as RFC 6570 §3.2.1 says.
func expandTemplate(tmpl string, vars map[string]string) (string, error) {
	var out strings.Builder
	for {
		open := strings.IndexByte(tmpl, '{')
		if open < 0 {
			out.WriteString(tmpl)
			break
		}
		closing := strings.IndexByte(tmpl[open:], '}')
		if closing < 0 {
			return "", fmt.Errorf("template: unterminated expression in %q", tmpl)
		}
		out.WriteString(tmpl[:open])
		expr := tmpl[open+1 : open+closing]
		tmpl = tmpl[open+closing+1:]
		if expr == "" {
			return "", errors.New("template: empty expression")
		}
		op := byte(0)
		if strings.IndexByte("/.;?&+#", expr[0]) >= 0 {
			op, expr = expr[0], expr[1:]
		}
		if op == '+' || op == '#' {
			// RFC 9298 §3: "The URI Template MUST NOT use Reserved Expansion ("+" operator),
			// Fragment Expansion ("#" operator)..."
			return "", fmt.Errorf("template: operator %q is not allowed by RFC 9298", op)
		}
		first, sep, named, ifEmpty := "", ",", false, ""
		switch op {
		case '/':
			first, sep = "/", "/"
		case '.':
			first, sep = ".", "."
		case ';':
			first, sep, named = ";", ";", true
		case '?':
			first, sep, named, ifEmpty = "?", "&", true, "="
		case '&':
			first, sep, named, ifEmpty = "&", "&", true, "="
		}
		wrote := false
		for _, name := range strings.Split(expr, ",") {
			if name == "" || strings.ContainsAny(name, ":*") {
				return "", fmt.Errorf("template: unsupported variable %q (no modifiers)", name)
			}
			value, ok := vars[name]
			if !ok {
				continue
			}
			if wrote {
				out.WriteString(sep)
			} else {
				out.WriteString(first)
				wrote = true
			}
			if named {
				out.WriteString(name)
				if value == "" {
					out.WriteString(ifEmpty)
					continue
				}
				out.WriteByte('=')
			}
			out.WriteString(pctEncodeUnreserved(value))
		}
	}
	return out.String(), nil
}

// requestTarget is what an expanded template contributes to the request pseudo-headers.
type requestTarget struct {
	scheme, authority, path string
}

// resolveTemplate expands tmpl for host:port. A template that is a path ("/...") takes scheme
// and authority from the proxy URL; an absolute template ("https://...") supplies its own.
func resolveTemplate(tmpl, proxyScheme, proxyAuthority, host, port string) (requestTarget, error) {
	// RFC 9298 §3: both variables MUST be present in the template.
	if !strings.Contains(tmpl, "target_host") || !strings.Contains(tmpl, "target_port") {
		return requestTarget{}, errors.New("template must contain target_host and target_port")
	}
	expanded, err := expandTemplate(tmpl, map[string]string{"target_host": host, "target_port": port})
	if err != nil {
		return requestTarget{}, err
	}
	if strings.HasPrefix(expanded, "/") {
		return requestTarget{scheme: proxyScheme, authority: proxyAuthority, path: expanded}, nil
	}
	scheme, rest, ok := strings.Cut(expanded, "://")
	if !ok || scheme == "" {
		return requestTarget{}, fmt.Errorf("template %q is neither a path nor absolute", tmpl)
	}
	slash := strings.IndexAny(rest, "/?")
	if slash <= 0 || rest[slash] != '/' {
		// RFC 9298 §3: "The path component of the URI Template MUST start with a slash".
		return requestTarget{}, fmt.Errorf("template %q has no authority or no path", tmpl)
	}
	return requestTarget{scheme: scheme, authority: rest[:slash], path: rest[slash:]}, nil
}

// connectUDPTarget is a parsed target of the default template.
type connectUDPTarget struct {
	host string
	port int
}

// parseDefaultTemplatePath extracts target_host and target_port from a :path built from
// "/.well-known/masque/udp/{target_host}/{target_port}/", decoding their percent-encoding
// (RFC 9298 §3.4) and checking the formats of RFC 9298 §3.
func parseDefaultTemplatePath(path string) (connectUDPTarget, error) {
	const prefix = "/.well-known/masque/udp/"
	if !strings.HasPrefix(path, prefix) {
		return connectUDPTarget{}, fmt.Errorf("path %q does not match the default template", path)
	}
	parts := strings.Split(strings.TrimPrefix(path, prefix), "/")
	if len(parts) != 3 || parts[2] != "" {
		return connectUDPTarget{}, fmt.Errorf("path %q does not match the default template", path)
	}
	host, err := url.PathUnescape(parts[0])
	if err != nil {
		return connectUDPTarget{}, fmt.Errorf("target_host: %v", err)
	}
	portText, err := url.PathUnescape(parts[1])
	if err != nil {
		return connectUDPTarget{}, fmt.Errorf("target_port: %v", err)
	}
	// RFC 9298 §3: variables "MUST NOT be empty"; target_port "MUST represent an integer
	// between 1 and 65535 inclusive".
	if host == "" || portText == "" {
		return connectUDPTarget{}, errors.New("empty target_host or target_port")
	}
	port, err := strconv.Atoi(portText)
	if err != nil || port < 1 || port > 65535 || strings.TrimLeft(portText, "0123456789") != "" {
		return connectUDPTarget{}, fmt.Errorf("target_port %q is not 1..65535", portText)
	}
	if strings.Contains(host, ":") {
		ip := net.ParseIP(host)
		if ip == nil || ip.To4() != nil || strings.Contains(host, "%") {
			return connectUDPTarget{}, fmt.Errorf("target_host %q is not an IPv6 literal (no zone ids)", host)
		}
	}
	return connectUDPTarget{host: host, port: port}, nil
}

// runExpand implements "connect-udp expand": prints the pseudo-headers the client would send.
func runExpand(args []string) int {
	fs := flag.NewFlagSet("expand", flag.ContinueOnError)
	tmpl := fs.String("template", defaultConnectUDPTemplate, "URI template (path or absolute https URI)")
	target := fs.String("target", "", "target host:port ([v6]:port for IPv6)")
	proxy := fs.String("proxy", "https://localhost:443", "proxy URL supplying scheme and authority for a path template")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	type result struct {
		OK        bool   `json:"ok"`
		Error     string `json:"error,omitempty"`
		Scheme    string `json:"scheme,omitempty"`
		Authority string `json:"authority,omitempty"`
		Path      string `json:"path,omitempty"`
	}
	scheme, authority, err := splitProxyURL(*proxy)
	var rt requestTarget
	if err == nil {
		var host, port string
		host, port, err = net.SplitHostPort(*target)
		if err == nil {
			rt, err = resolveTemplate(*tmpl, scheme, authority, host, port)
		}
	}
	if err != nil {
		printJSON(result{Error: err.Error()})
		return 1
	}
	printJSON(result{OK: true, Scheme: rt.scheme, Authority: rt.authority, Path: rt.path})
	return 0
}

// splitProxyURL returns scheme and authority of https://host:port[/...].
func splitProxyURL(raw string) (scheme, authority string, err error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", "", err
	}
	if u.Scheme != "https" || u.Host == "" {
		return "", "", fmt.Errorf("proxy URL %q must be https://host:port", raw)
	}
	return u.Scheme, u.Host, nil
}
