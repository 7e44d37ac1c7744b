package loadgen

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"math/big"
	"net"
	"net/http"
	"time"
)

// baseline is the in-process reference server: net/http with a handler
// that reads the request body and answers 200 with the body recorded for
// the request's method. It does nothing else, so its rate is what this
// machine allows for the request shape, HTTP and the load tool included.
type baseline struct {
	srv    *http.Server
	ln     net.Listener
	target target
	done   chan struct{}
}

// startBaseline serves bodies (by method; GET's for methods without one)
// on 127.0.0.1:0, over TLS with a throw-away certificate if useTLS.
func startBaseline(bodies map[string][]byte, useTLS bool) (*baseline, error) {
	def := bodies["GET"]
	if def == nil {
		for _, b := range bodies {
			def = b
			break
		}
	}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		b, ok := bodies[r.Method]
		if !ok {
			b = def
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(b)
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	b := &baseline{
		srv:    &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second},
		ln:     ln,
		target: target{host: ln.Addr().String()},
		done:   make(chan struct{}),
	}
	if useTLS {
		srvConf, cliConf, err := selfSigned()
		if err != nil {
			ln.Close()
			return nil, err
		}
		b.ln = tls.NewListener(ln, srvConf)
		b.target.tls = cliConf
	}
	go func() {
		defer close(b.done)
		if err := b.srv.Serve(b.ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			_ = err // the measurement reports the connection errors
		}
	}()
	return b, nil
}

// Close stops the baseline server.
func (b *baseline) Close() error {
	err := b.srv.Close()
	<-b.done
	return err
}

// selfSigned returns a server TLS configuration with a fresh certificate
// for 127.0.0.1 and a client configuration that trusts it.
func selfSigned() (srv, cli *tls.Config, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "coffer bench baseline"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, nil, err
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	srv = &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key, Leaf: cert}}, MinVersion: tls.VersionTLS12}
	cli = &tls.Config{RootCAs: pool, ServerName: "127.0.0.1", NextProtos: []string{"http/1.1"}}
	return srv, cli, nil
}
