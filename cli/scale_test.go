package cli

import (
	"maps"
	"strings"
	"testing"
)

func TestParseCounts(t *testing.T) {
	services := []string{"web", "worker", "clock"}
	tests := []struct {
		spec     string
		services []string
		want     map[string]int
		err      string
	}{
		{"web=2,worker=0", services, map[string]int{"web": 2, "worker": 0}, ""},
		{"all=3,web=1", services, map[string]int{"web": 1, "worker": 3, "clock": 3}, ""},
		{" web = 2 ", services, map[string]int{"web": 2}, ""},
		{"web=2,db=1", services, nil, `"db=1": no service "db" (services: web, worker, clock)`},
		{"web", services, nil, `"web": want NAME=N with N a count of 0 or more, like web=2`},
		{"web=-1", services, nil, `"web=-1": want NAME=N`},
		{"", services, nil, `"": want NAME=N, like web=2`},
		{"web=5,api=1", nil, map[string]int{"web": 5, "api": 1}, ""}, // procman scale: the supervisor checks names
	}
	for _, tt := range tests {
		got, err := parseCounts(tt.spec, tt.services)
		switch {
		case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
			t.Errorf("parseCounts(%q) error = %v, want %q", tt.spec, err, tt.err)
		case tt.err == "" && (err != nil || !maps.Equal(got, tt.want)):
			t.Errorf("parseCounts(%q) = %v, %v; want %v", tt.spec, got, err, tt.want)
		}
	}
}
