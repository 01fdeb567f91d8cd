package pubsub

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
)

// ClientTLS is the TLS config of a client of a TLS-only broker: the system's trusted roots,
// plus the PEM certificates in caFile when it is not empty (a self-signed leader certificate,
// or the private CA that signed it). TLS 1.2 is the minimum, as on the broker.
func ClientTLS(caFile string) (*tls.Config, error) {
	roots, err := x509.SystemCertPool()
	if err != nil {
		// No system pool (some minimal systems): the CA file alone can still verify.
		roots = x509.NewCertPool()
	}
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return nil, fmt.Errorf("read mqtt ca file: %w", err)
		}
		if !roots.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("mqtt ca file %s: %w", caFile, ErrNoCertificate)
		}
	}
	return &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}, nil
}
