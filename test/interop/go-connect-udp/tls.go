package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/big"
	"net"
	"os"
	"time"
)

// alpnH3 is the only ALPN the client offers and the proxy accepts (RFC 9114 §3.1).
const alpnH3 = "h3"

// tlsFlags are the TLS flags of the client and the proxy.
type tlsFlags struct {
	cert, key, writeCert string // proxy
	ca, sni              string // client
	insecure             bool   // client
	keylog               string // both: NSS key log (SSLKEYLOGFILE format), appended
}

func addServerTLSFlags(fs *flag.FlagSet, t *tlsFlags) {
	fs.StringVar(&t.cert, "cert", "", "PEM certificate chain (default: ephemeral self-signed for localhost/127.0.0.1/::1)")
	fs.StringVar(&t.key, "key", "", "PEM private key for --cert")
	fs.StringVar(&t.writeCert, "write-cert", "", "write the generated self-signed certificate (PEM) here")
	fs.StringVar(&t.keylog, "keylog", "", "append TLS secrets in NSS key log format to this file")
}

func addClientTLSFlags(fs *flag.FlagSet, t *tlsFlags) {
	fs.BoolVar(&t.insecure, "insecure", false, "do not verify the proxy certificate")
	fs.StringVar(&t.ca, "ca", "", "PEM file of trusted root certificates")
	fs.StringVar(&t.sni, "sni", "", "TLS server name (default: host of --proxy)")
	fs.StringVar(&t.keylog, "keylog", "", "append TLS secrets in NSS key log format to this file")
}

func openKeyLog(path string) (io.WriteCloser, error) {
	if path == "" {
		return nil, nil
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open keylog %s: %w", path, err)
	}
	return f, nil
}

// serverTLS returns the proxy's TLS configuration (ALPN h3 only).
func serverTLS(f tlsFlags) (*tls.Config, io.Closer, error) {
	var cert tls.Certificate
	var err error
	switch {
	case f.cert != "" && f.key != "":
		if cert, err = tls.LoadX509KeyPair(f.cert, f.key); err != nil {
			return nil, nil, fmt.Errorf("load certificate: %w", err)
		}
	case f.cert != "" || f.key != "":
		return nil, nil, errors.New("--cert and --key must be given together")
	default:
		var certPEM []byte
		if cert, certPEM, err = selfSignedCert(); err != nil {
			return nil, nil, err
		}
		if f.writeCert != "" {
			if err := os.WriteFile(f.writeCert, certPEM, 0o644); err != nil {
				return nil, nil, fmt.Errorf("write certificate: %w", err)
			}
		}
	}
	kl, err := openKeyLog(f.keylog)
	if err != nil {
		return nil, nil, err
	}
	conf := &tls.Config{Certificates: []tls.Certificate{cert}, NextProtos: []string{alpnH3}, MinVersion: tls.VersionTLS13}
	if kl != nil {
		conf.KeyLogWriter = kl
	}
	return conf, kl, nil
}

// clientTLS returns the client's TLS configuration (ALPN h3 only).
func clientTLS(f tlsFlags, host string) (*tls.Config, io.Closer, error) {
	conf := &tls.Config{NextProtos: []string{alpnH3}, MinVersion: tls.VersionTLS13, ServerName: f.sni}
	if conf.ServerName == "" {
		conf.ServerName = host
	}
	switch {
	case f.insecure:
		conf.InsecureSkipVerify = true
	case f.ca != "":
		pemBytes, err := os.ReadFile(f.ca)
		if err != nil {
			return nil, nil, fmt.Errorf("read CA: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pemBytes) {
			return nil, nil, fmt.Errorf("no PEM certificate in %s", f.ca)
		}
		conf.RootCAs = pool
	}
	kl, err := openKeyLog(f.keylog)
	if err != nil {
		return nil, nil, err
	}
	if kl != nil {
		conf.KeyLogWriter = kl
	}
	return conf, kl, nil
}

// selfSignedCert makes a short-lived self-signed ECDSA P-256 certificate for loopback use.
func selfSignedCert() (tls.Certificate, []byte, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "localhost", Organization: []string{"masque connect-udp interop"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		DNSNames:              []string{"localhost"},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	return cert, certPEM, err
}
