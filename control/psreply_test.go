package control

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"
)

// viaJSON decodes line as Do does.
func viaJSON(t testing.TB, line []byte) *PS {
	t.Helper()
	var rep Reply
	if err := json.Unmarshal(line, &rep); err != nil {
		t.Fatalf("encoding/json: %v", err)
	}
	return rep.PS
}

// same reports whether a and b encode alike.
func same(t testing.TB, a, b *PS) bool {
	t.Helper()
	ja, err1 := json.Marshal(a)
	jb, err2 := json.Marshal(b)
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	return string(ja) == string(jb)
}

// psLine is a ps reply as the server writes it.
func psLine(t testing.TB, ps *PS) []byte {
	t.Helper()
	ok := true
	b, err := json.Marshal(Reply{V: Version, ID: 1, OK: &ok, PS: ps})
	if err != nil {
		t.Fatal(err)
	}
	return append(b, '\n')
}

func samplePS() *PS {
	pid, code, cpu, rss := 42, 1, 12.5, uint64(3<<20)
	at := time.Date(2026, 11, 30, 18, 0, 0, 123456789, time.FixedZone("", 2*3600))
	return &PS{PID: 7, Tasks: []Task{
		{Name: "web.1", Task: "web", Kind: "service", Status: "ready", PID: &pid, Started: &at, Restarts: 3,
			LastExit: &code, CPU: &cpu, RSS: &rss, Reason: "3 files changed", Since: at},
		{Name: "build", Task: "build", Kind: "once", Status: "pending"},
	}}
}

func TestDecodePS_AsEncodingJSON(t *testing.T) {
	odd := samplePS()
	odd.Tasks[0].Name = "é\u2028\"quoted\"\t<&>\x01"
	odd.Tasks[0].Reason = "invalid \xff utf-8 and \U0001F600"
	tests := []struct {
		name string
		line string
	}{
		{"as the server writes it", string(psLine(t, samplePS()))},
		{"escapes and wide runes", string(psLine(t, odd))},
		{"no tasks", string(psLine(t, &PS{PID: 1, Tasks: []Task{}}))},
		{"fields it does not know, spaces", ` { "v":1, "ok" : true, "new": {"a":[1,2.5e3,"x",null,true]}, "ps": {"pid": 3, "x": [], "tasks": [ {"name":"a","more":{}, "pid": null} ] } } ` + "\n"},
		{"escaped surrogates", `{"ok":true,"ps":{"pid":1,"tasks":[{"name":"\ud83d\ude00 \ud83d \ude00 \ud83d\u0041 \/"}]}}`},
		{"null since", `{"ok":true,"ps":{"pid":1,"tasks":[{"name":"a","since":null}]}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := decodePS([]byte(tt.line))
			if !ok {
				t.Fatalf("decodePS refused %s", tt.line)
			}
			if want := viaJSON(t, []byte(tt.line)); !same(t, got, want) {
				t.Errorf("decodePS:\n%+v\nencoding/json:\n%+v", got, want)
			}
		})
	}
}

func TestDecodePS_LeavesTheRestToEncodingJSON(t *testing.T) {
	for _, line := range []string{
		`{"v":1,"id":1,"ok":false,"error":{"code":"stopping","message":"procman is stopping"}}`,
		`{"v":1,"id":1,"ok":true}`,
		`{"v":1,"id":1,"ps":{"pid":1,"tasks":[]}}`,
		`{"ok":true,"ps":{"pid":1,"tasks":[]}} trailing`,
		`{"ok":true,"ps":{"pid":1.5,"tasks":[]}}`,
		`{"ok":true,"ps":{"pid":1,"tasks":[{"name":"a\x01"}]}}`,
		`{"ok":true,"ps":{"pid":1,"tasks":[{"since":"yesterday"}]}}`,
		`{"ok":true,"ps":{"pid":1,"tasks":[`,
		`{"ok":true,"ps":{"pid":1,"tasks":[]},}`,
		``,
	} {
		if ps, ok := decodePS([]byte(line)); ok {
			t.Errorf("decodePS(%q) = %+v, want it left to encoding/json", line, ps)
		}
	}
}

func FuzzDecodePS(f *testing.F) {
	f.Add("web", "3 files changed", 42, 12.5, uint64(1<<20), uint8(0))
	f.Add("é\"\\\x00\xff", "\u2028", -1, math.MaxFloat64, uint64(math.MaxInt64), uint8(0xff))
	f.Fuzz(func(t *testing.T, name, reason string, pid int, cpu float64, rss uint64, nils uint8) {
		if math.IsNaN(cpu) || math.IsInf(cpu, 0) || rss > math.MaxInt64 {
			return // encoding/json writes neither
		}
		ps := samplePS()
		task := &ps.Tasks[0]
		task.Name, task.Reason, task.PID, task.CPU, task.RSS = name, reason, &pid, &cpu, &rss
		if nils&1 != 0 {
			task.PID, task.Started = nil, nil
		}
		if nils&2 != 0 {
			task.CPU, task.RSS, task.LastExit = nil, nil, nil
		}
		line := psLine(t, ps)
		got, ok := decodePS(line)
		if !ok {
			t.Fatalf("decodePS refused %s", line)
		}
		if want := viaJSON(t, line); !same(t, got, want) {
			t.Errorf("line %s:\ndecodePS %+v\nencoding/json %+v", line, got, want)
		}
	})
}

// BenchmarkDecodePS measures a reply of 200 tasks, by hand and by
// encoding/json (warm: a new process pays more for the latter, once).
func BenchmarkDecodePS(b *testing.B) {
	ps := &PS{PID: 1}
	for i := range 200 {
		t := samplePS().Tasks[0]
		t.Name = fmt.Sprintf("s%03d", i)
		ps.Tasks = append(ps.Tasks, t)
	}
	line := psLine(b, ps)
	b.Run("by-hand", func(b *testing.B) {
		b.SetBytes(int64(len(line)))
		for b.Loop() {
			if _, ok := decodePS(line); !ok {
				b.Fatal("refused")
			}
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		b.SetBytes(int64(len(line)))
		for b.Loop() {
			var rep Reply
			if err := json.Unmarshal(line, &rep); err != nil || !strings.HasPrefix(rep.PS.Tasks[0].Name, "s") {
				b.Fatal(err)
			}
		}
	})
}
