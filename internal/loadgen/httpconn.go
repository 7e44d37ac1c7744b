package loadgen

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"slices"
	"strconv"
	"time"
)

// target is where connections go: a host:port, with TLS or not.
type target struct {
	host string      // host:port, also sent as the Host header
	tls  *tls.Config // nil for plain HTTP
}

// parseTarget turns a base URL (http://host:port or https://host:port) into
// a target. tlsConfig is used for https (nil: the system roots).
func parseTarget(addr string, tlsConfig *tls.Config) (target, error) {
	u, err := url.Parse(addr)
	if err != nil || u.Host == "" {
		return target{}, fmt.Errorf("address %q: want http://host:port or https://host:port", addr)
	}
	if u.Path != "" && u.Path != "/" {
		return target{}, fmt.Errorf("address %q: a base URL has no path", addr)
	}
	t := target{host: u.Host}
	switch u.Scheme {
	case "http":
		if u.Port() == "" {
			t.host = net.JoinHostPort(u.Hostname(), "80")
		}
	case "https":
		if u.Port() == "" {
			t.host = net.JoinHostPort(u.Hostname(), "443")
		}
		t.tls = &tls.Config{}
		if tlsConfig != nil {
			t.tls = tlsConfig.Clone()
		}
		if t.tls.ServerName == "" {
			t.tls.ServerName = u.Hostname()
		}
		// HTTP/1.1 over TLS: this client does not speak HTTP/2.
		t.tls.NextProtos = []string{"http/1.1"}
	default:
		return target{}, fmt.Errorf("address %q: the scheme must be http or https", addr)
	}
	return t, nil
}

// response is what conn.do returns. body and cursor point into the
// connection's buffers and are valid until its next request.
type response struct {
	status int
	body   []byte
	cursor []byte // X-Pagination-Cursor-Next, if any
}

// conn is one keep-alive HTTP/1.1 connection. It is not safe for
// concurrent use: each load connection owns one.
type conn struct {
	t     target
	c     net.Conn
	br    *bufio.Reader
	wbuf  []byte // the request being sent
	body  []byte // the last response body
	close bool   // the server asked to close after the response
}

func newConn(t target) *conn { return &conn{t: t} }

// dial connects (and completes the TLS handshake) if not connected.
func (c *conn) dial(ctx context.Context) error {
	if c.c != nil {
		return nil
	}
	d := net.Dialer{Timeout: 10 * time.Second, KeepAlive: -1}
	nc, err := d.DialContext(ctx, "tcp", c.t.host)
	if err != nil {
		return err
	}
	if tc, ok := nc.(*net.TCPConn); ok {
		_ = tc.SetNoDelay(true)
	}
	if c.t.tls != nil {
		tc := tls.Client(nc, c.t.tls)
		if err := tc.HandshakeContext(ctx); err != nil {
			nc.Close()
			return err
		}
		nc = tc
	}
	c.c = nc
	if c.br == nil {
		c.br = bufio.NewReaderSize(nc, 32<<10)
	} else {
		c.br.Reset(nc)
	}
	return nil
}

// Close closes the network connection, if any.
func (c *conn) Close() error {
	if c.c == nil {
		return nil
	}
	err := c.c.Close()
	c.c = nil
	return err
}

// request is one HTTP request to send.
type request struct {
	method string
	path   string // escaped, with the query
	header [][2]string
	body   []byte
}

// build writes r in HTTP/1.1 wire form into c.wbuf.
func (c *conn) build(r *request) {
	b := c.wbuf[:0]
	b = append(b, r.method...)
	b = append(b, ' ')
	b = append(b, r.path...)
	b = append(b, " HTTP/1.1\r\nHost: "...)
	b = append(b, c.t.host...)
	b = append(b, "\r\nUser-Agent: coffer-bench\r\n"...)
	for _, h := range r.header {
		b = append(b, h[0]...)
		b = append(b, ": "...)
		b = append(b, h[1]...)
		b = append(b, "\r\n"...)
	}
	if r.body != nil || r.method == "POST" || r.method == "PUT" {
		b = append(b, "Content-Type: application/json\r\nContent-Length: "...)
		b = strconv.AppendInt(b, int64(len(r.body)), 10)
		b = append(b, "\r\n"...)
	}
	b = append(b, "\r\n"...)
	b = append(b, r.body...)
	c.wbuf = b
}

// do sends r and reads the whole response. On any error the connection is
// closed; the next do dials again.
func (c *conn) do(ctx context.Context, r *request) (response, error) {
	if err := c.dial(ctx); err != nil {
		return response{}, err
	}
	c.build(r)
	if _, err := c.c.Write(c.wbuf); err != nil {
		c.Close()
		return response{}, err
	}
	resp, err := c.read(r.method == "HEAD")
	if err != nil || c.close {
		c.Close()
	}
	return resp, err
}

var errMalformed = errors.New("malformed HTTP response")

// read reads one response: the status line, the headers it needs
// (Content-Length, Transfer-Encoding, Connection, X-Pagination-Cursor-Next)
// and the body.
func (c *conn) read(head bool) (response, error) {
	var resp response
	line, err := c.line()
	if err != nil {
		return resp, err
	}
	// "HTTP/1.1 200 OK"
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) || line[8] != ' ' {
		return resp, errMalformed
	}
	status, err := strconv.Atoi(string(line[9:12]))
	if err != nil {
		return resp, errMalformed
	}
	resp.status = status
	length, chunked := int64(-1), false
	c.close = bytes.HasPrefix(line, []byte("HTTP/1.0"))
	var cursor []byte
	for {
		line, err := c.line()
		if err != nil {
			return resp, err
		}
		if len(line) == 0 {
			break
		}
		name, value, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			return resp, errMalformed
		}
		value = bytes.TrimSpace(value)
		switch {
		case asciiEqualFold(name, "Content-Length"):
			if length, err = strconv.ParseInt(string(value), 10, 64); err != nil || length < 0 {
				return resp, errMalformed
			}
		case asciiEqualFold(name, "Transfer-Encoding"):
			chunked = asciiEqualFold(value, "chunked")
		case asciiEqualFold(name, "Connection"):
			if asciiEqualFold(value, "close") {
				c.close = true
			}
		case asciiEqualFold(name, "X-Pagination-Cursor-Next"):
			cursor = append(cursor[:0], value...)
		}
	}
	resp.cursor = cursor
	c.body = c.body[:0]
	switch {
	case head || status == 204 || status == 304 || status/100 == 1:
	case chunked:
		if err := c.readChunked(); err != nil {
			return resp, err
		}
	case length >= 0:
		if err := c.readN(length); err != nil {
			return resp, err
		}
	default:
		// No length: the body runs to the end of the connection.
		b, err := io.ReadAll(c.br)
		if err != nil {
			return resp, err
		}
		c.body = append(c.body, b...)
		c.close = true
	}
	resp.body = c.body
	return resp, nil
}

// line reads one header line without its CRLF. The slice is valid until
// the next read.
func (c *conn) line() ([]byte, error) {
	l, err := c.br.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		return nil, errors.New("HTTP response header line too long")
	}
	if err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	return bytes.TrimRight(l, "\r\n"), nil
}

// readN appends n body bytes to c.body.
func (c *conn) readN(n int64) error {
	start := len(c.body)
	c.body = slices.Grow(c.body, int(n))[:start+int(n)]
	_, err := io.ReadFull(c.br, c.body[start:])
	return err
}

// readChunked reads a chunked body into c.body.
func (c *conn) readChunked() error {
	for {
		line, err := c.line()
		if err != nil {
			return err
		}
		if i := bytes.IndexByte(line, ';'); i >= 0 {
			line = line[:i]
		}
		n, err := strconv.ParseInt(string(bytes.TrimSpace(line)), 16, 64)
		if err != nil || n < 0 {
			return errMalformed
		}
		if n == 0 {
			// Trailers, then the empty line.
			for {
				l, err := c.line()
				if err != nil {
					return err
				}
				if len(l) == 0 {
					return nil
				}
			}
		}
		if err := c.readN(n); err != nil {
			return err
		}
		if l, err := c.line(); err != nil || len(l) != 0 {
			return errMalformed
		}
	}
}

// asciiEqualFold reports whether b equals s ignoring ASCII case.
func asciiEqualFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range len(b) {
		x, y := b[i], s[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}
