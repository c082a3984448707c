package runner

import (
	"bufio"
	"context"
	"encoding/base64"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// httpCheck sends one GET to rawURL (http only) and wants a 2xx or 3xx
// answer; a redirect is not followed, since a server that redirects is up.
// It speaks just enough HTTP/1.1 for that: net/http would bring TLS, HTTP/2
// and their init into every start of procman, `run` included.
func httpCheck(ctx context.Context, rawURL string) error {
	u, err := url.Parse(rawURL)
	if err != nil {
		return err
	}
	if u.Scheme != "http" {
		return fmt.Errorf("GET %s: only http:// is supported", rawURL)
	}
	addr := u.Host
	if u.Port() == "" {
		addr = net.JoinHostPort(u.Hostname(), "80")
	}
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	defer c.Close()
	// The connection times out only once ctx is done, so that a timeout
	// reads as ctx's error.
	stop := context.AfterFunc(ctx, func() { _ = c.SetDeadline(time.Unix(1, 0)) })
	defer stop()

	req := "GET " + u.RequestURI() + " HTTP/1.1\r\nHost: " + u.Host + "\r\nUser-Agent: procman\r\nAccept: */*\r\nConnection: close\r\n"
	if u.User != nil {
		pw, _ := u.User.Password()
		req += "Authorization: Basic " + base64.StdEncoding.EncodeToString([]byte(u.User.Username()+":"+pw)) + "\r\n"
	}
	if _, err := c.Write([]byte(req + "\r\n")); err != nil {
		return fmt.Errorf("GET %s: %w", rawURL, err)
	}
	raw, err := bufio.NewReaderSize(c, 512).ReadSlice('\n')
	line := strings.TrimRight(string(raw), "\r\n")
	if err != nil && err != bufio.ErrBufferFull {
		if ctx.Err() != nil {
			err = ctx.Err()
		}
		return fmt.Errorf("GET %s: no answer: %w", rawURL, err)
	}
	code, status, ok := parseStatusLine(line)
	if !ok {
		return fmt.Errorf("GET %s: not an HTTP answer: %.60q", rawURL, line)
	}
	if code >= 400 {
		return fmt.Errorf("GET %s: %s", rawURL, status)
	}
	return nil
}

// parseStatusLine reads "HTTP/1.1 200 OK" into 200 and "200 OK".
func parseStatusLine(line string) (code int, status string, ok bool) {
	proto, status, found := strings.Cut(line, " ")
	if !found || !strings.HasPrefix(proto, "HTTP/") {
		return 0, "", false
	}
	num, _, _ := strings.Cut(status, " ")
	code, err := strconv.Atoi(num)
	if err != nil || len(num) != 3 || code < 100 {
		return 0, "", false
	}
	return code, status, true
}
