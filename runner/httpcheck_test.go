package runner

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestHTTPCheck_Statuses(t *testing.T) {
	var hits atomic.Int32
	var got atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		user, pw, _ := r.BasicAuth()
		got.Store(r.Method + " " + r.URL.RequestURI() + " host=" + r.Host + " auth=" + user + ":" + pw)
		switch r.URL.Path {
		case "/down":
			w.WriteHeader(http.StatusServiceUnavailable)
		case "/moved":
			http.Redirect(w, r, "/down", http.StatusFound)
		default:
			_, _ = w.Write([]byte(strings.Repeat("ok\n", 10000)))
		}
	}))
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")

	for _, tc := range []struct {
		url, wantErr, wantReq string
	}{
		{srv.URL + "/health?x=1", "", "GET /health?x=1 host=" + host + " auth=:"},
		{"http://me:secret@" + host + "/", "", "GET / host=" + host + " auth=me:secret"},
		{srv.URL + "/down", "503 Service Unavailable", "GET /down host=" + host + " auth=:"},
		{srv.URL + "/moved", "", "GET /moved host=" + host + " auth=:"}, // a redirect means up; not followed
	} {
		hits.Store(0)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err := httpCheck(ctx, tc.url)
		cancel()
		switch {
		case tc.wantErr == "" && err != nil:
			t.Errorf("%s: %v", tc.url, err)
		case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
			t.Errorf("%s: error %v, want %q", tc.url, err, tc.wantErr)
		}
		if req, _ := got.Load().(string); req != tc.wantReq || hits.Load() != 1 {
			t.Errorf("%s: server saw %d request(s), last %q; want 1, %q", tc.url, hits.Load(), req, tc.wantReq)
		}
	}
}

func TestHTTPCheck_Failures(t *testing.T) {
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refused := closed.Addr().String()
	closed.Close()

	silent, err := net.Listen("tcp", "127.0.0.1:0") // accepts, never answers
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	ssh, err := net.Listen("tcp", "127.0.0.1:0") // answers, but not in HTTP
	if err != nil {
		t.Fatal(err)
	}
	defer ssh.Close()
	go func() {
		for {
			c, err := ssh.Accept()
			if err != nil {
				return
			}
			_, _ = c.Write([]byte("SSH-2.0-OpenSSH_9.6\r\n"))
			c.Close()
		}
	}()

	for _, tc := range []struct{ url, wantErr string }{
		{"http://" + refused + "/", "connection refused"},
		{"http://" + silent.Addr().String() + "/", "no answer: context deadline exceeded"},
		{"http://" + ssh.Addr().String() + "/", `not an HTTP answer: "SSH-2.0-OpenSSH_9.6"`},
		{"https://" + ssh.Addr().String() + "/", "only http:// is supported"},
	} {
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		err := httpCheck(ctx, tc.url)
		cancel()
		if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
			t.Errorf("%s: error %v, want %q", tc.url, err, tc.wantErr)
		}
	}
}

func TestParseStatusLine(t *testing.T) {
	for line, want := range map[string]int{
		"HTTP/1.1 200 OK": 200, "HTTP/1.0 404 Not Found": 404, "HTTP/1.1 204": 204,
		"HTTP/1.1 20 OK": 0, "HTTP/1.1 abc": 0, "ICY 200 OK": 0, "": 0, "HTTP/1.1 099 x": 0,
	} {
		code, _, ok := parseStatusLine(line)
		if code != want || ok != (want != 0) {
			t.Errorf("%q: %d %v, want %d", line, code, ok, want)
		}
	}
}
