package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// conn is one keep-alive HTTP/1.1 connection that posts callbacks one at
// a time, written and read by its caller's goroutine. It is the soak's
// generator: net/http's client hands each request to a connection's
// reading and writing goroutines, and at a fixed rate on 2 cores those
// wake-ups cost the generator about as much CPU as imbridge spends
// (findRunnable, futex and netpoll were 70% of its profile), which the
// machine's latency then pays for. wrk2 is built the same way.
type conn struct {
	addr    string
	head    []byte // the request up to the Content-Length value
	timeout time.Duration

	nc  net.Conn
	br  *bufio.Reader
	buf []byte
}

func newConn(target string, timeout time.Duration) (*conn, error) {
	u, err := url.Parse(target)
	if err != nil {
		return nil, err
	}
	if u.Scheme != "http" {
		return nil, fmt.Errorf("%s: only http:// targets", target)
	}
	head := fmt.Appendf(nil, "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: ", u.RequestURI(), u.Host)
	return &conn{addr: u.Host, head: head, timeout: timeout}, nil
}

// post sends body and reads the answer to its end. An error closes the
// connection; the next post dials again.
func (c *conn) post(body []byte) (int, error) {
	if c.nc == nil {
		nc, err := net.DialTimeout("tcp", c.addr, c.timeout)
		if err != nil {
			return 0, err
		}
		c.nc, c.br = nc, bufio.NewReader(nc)
	}
	if err := c.nc.SetDeadline(time.Now().Add(c.timeout)); err != nil {
		return 0, c.fail(err)
	}
	c.buf = append(append(strconv.AppendInt(append(c.buf[:0], c.head...), int64(len(body)), 10), "\r\n\r\n"...), body...)
	if _, err := c.nc.Write(c.buf); err != nil {
		return 0, c.fail(err)
	}
	resp, err := http.ReadResponse(c.br, nil)
	if err != nil {
		return 0, c.fail(err)
	}
	_, err = io.Copy(io.Discard, resp.Body)
	if cerr := resp.Body.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return 0, c.fail(err)
	}
	if resp.Close {
		c.close()
	}
	return resp.StatusCode, nil
}

func (c *conn) fail(err error) error {
	c.close()
	return err
}

func (c *conn) close() {
	if c.nc != nil {
		_ = c.nc.Close()
		c.nc, c.br = nil, nil
	}
}
