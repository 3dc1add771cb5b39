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
	"fmt"
	"io"
	"math/big"
	"net"
	"os"
	"time"
)

// tlsFlags are the TLS-related flags shared by every subcommand.
type tlsFlags struct {
	cert      string // server: PEM certificate chain
	key       string // server: PEM private key
	writeCert string // server: where to write the generated certificate (PEM)
	ca        string // client: PEM file of trusted roots
	insecure  bool   // client: skip certificate verification
	sni       string // client: server name (SNI and verification)
	keylog    string // both: NSS key log file (SSLKEYLOGFILE format), appended
}

// openKeyLog opens the key log file for appending, or returns nil when no file is wanted.
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

// serverTLS builds the server's tls.Config: the given certificate, or an ephemeral self-signed
// ECDSA P-256 certificate for localhost / 127.0.0.1 / ::1 when no --cert is given.
func serverTLS(f tlsFlags, alpn []string) (*tls.Config, io.Closer, error) {
	var cert tls.Certificate
	var err error
	switch {
	case f.cert != "" && f.key != "":
		cert, err = tls.LoadX509KeyPair(f.cert, f.key)
		if err != nil {
			return nil, nil, fmt.Errorf("load certificate: %w", err)
		}
	case f.cert != "" || f.key != "":
		return nil, nil, errors.New("--cert and --key must be given together")
	default:
		var certPEM []byte
		cert, certPEM, err = selfSignedCert()
		if err != nil {
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
	conf := &tls.Config{
		Certificates: []tls.Certificate{cert},
		NextProtos:   alpn,
		MinVersion:   tls.VersionTLS13,
	}
	if kl != nil {
		conf.KeyLogWriter = kl
	}
	return conf, kl, nil
}

// clientTLS builds the client's tls.Config from --insecure / --ca / --sni.
func clientTLS(f tlsFlags, host string, alpn []string) (*tls.Config, io.Closer, error) {
	conf := &tls.Config{
		NextProtos: alpn,
		MinVersion: tls.VersionTLS13,
		ServerName: f.sni,
	}
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

// selfSignedCert generates a short-lived self-signed certificate usable for loopback tests.
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
		Subject:               pkix.Name{CommonName: "localhost", Organization: []string{"masque interop"}},
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
