package guard

import (
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestParse_Messages(t *testing.T) {
	tests := []struct {
		name string
		line string
		want message
	}{
		{"hello", "hello 4242", message{kind: "hello", pid: 4242}},
		{"add", `add 1234 98765 15 300ms "serve"`,
			message{kind: "add", g: group{name: "serve", pgid: 1234, start: 98765, sig: syscall.SIGTERM, timeout: 300 * time.Millisecond}}},
		{"add name with spaces and quotes", `add 7 1 2 5s "a \"b\" c"`,
			message{kind: "add", g: group{name: `a "b" c`, pgid: 7, start: 1, sig: syscall.SIGINT, timeout: 5 * time.Second}}},
		{"add zero timeout", `add 7 1 9 0s ""`,
			message{kind: "add", g: group{pgid: 7, start: 1, sig: syscall.SIGKILL}}},
		{"del", "del 1234", message{kind: "del", g: group{pgid: 1234}}},
		{"bye", "bye", message{kind: "bye"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parse(tt.line)
			if err != nil {
				t.Fatalf("parse(%q): %v", tt.line, err)
			}
			if got != tt.want {
				t.Errorf("parse(%q) = %+v, want %+v", tt.line, got, tt.want)
			}
		})
	}
}

func TestParse_Errors(t *testing.T) {
	tests := []struct {
		name string
		line string
		want string
	}{
		{"empty", "", "empty message"},
		{"unknown", "stop 12", `unknown message "stop"`},
		{"hello without pid", "hello", `hello: bad pid ""`},
		{"hello bad pid", "hello x", `hello: bad pid "x"`},
		{"add too few", "add 12 1 15 1s", "add: want 5 arguments, got 4"},
		{"add bad pgid", `add x 1 15 1s "a"`, `add: bad pgid "x"`},
		{"add pgid 1", `add 1 1 15 1s "a"`, "add: process group must be > 1"},
		{"add negative pgid", `add -5 1 15 1s "a"`, "add: process group must be > 1"},
		{"add bad start", `add 12 -1 15 1s "a"`, `add: bad leader start time "-1"`},
		{"add bad signal", `add 12 1 TERM 1s "a"`, `add: bad signal "TERM"`},
		{"add unknown signal", `add 12 1 999 1s "a"`, "add: unknown signal 999"},
		{"add bad timeout", `add 12 1 15 5 "a"`, `add: bad stop timeout "5"`},
		{"add negative timeout", `add 12 1 15 -1s "a"`, "add: negative stop timeout -1s"},
		{"add unquoted name", "add 12 1 15 1s serve", "add: bad task name serve"},
		{"del without pgid", "del", `del: bad pgid ""`},
		{"del two pgids", "del 12 13", `del: bad pgid "12 13"`},
		{"del pgid 0", "del 0", "del: process group must be > 1"},
		{"bye with argument", "bye now", "bye: takes no arguments"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parse(tt.line)
			if err == nil || err.Error() != tt.want {
				t.Errorf("parse(%q) error = %v, want %q", tt.line, err, tt.want)
			}
		})
	}
}

func TestEncode_RoundTrips(t *testing.T) {
	tests := []struct {
		name string
		line string
		want message
	}{
		{"hello", encodeHello(99), message{kind: "hello", pid: 99}},
		{"add", encodeAdd(group{name: "web\nserver ✓", pgid: 300, start: 1 << 40, sig: syscall.SIGHUP, timeout: 1500 * time.Microsecond}),
			message{kind: "add", g: group{name: "web\nserver ✓", pgid: 300, start: 1 << 40, sig: syscall.SIGHUP, timeout: 1500 * time.Microsecond}}},
		{"del", encodeDel(300), message{kind: "del", g: group{pgid: 300}}},
		{"bye", encodeBye(), message{kind: "bye"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			line := tt.line[:len(tt.line)-1]
			if tt.line[len(tt.line)-1] != '\n' || strings.Contains(line, "\n") {
				t.Fatalf("encoded %q is not one line", tt.line)
			}
			got, err := parse(line)
			if err != nil {
				t.Fatalf("parse(%q): %v", line, err)
			}
			if got != tt.want {
				t.Errorf("parse(%q) = %+v, want %+v", line, got, tt.want)
			}
		})
	}
}
