package state

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"
)

func TestAddError_KeepsTheLastHundredOldestFirst(t *testing.T) {
	for _, tc := range []struct {
		name        string
		add         int
		len         int
		first, last string
	}{
		{"none", 0, 0, "", ""},
		{"one", 1, 1, "e0", "e0"},
		{"exactly full", 100, 100, "e0", "e99"},
		{"one over", 101, 100, "e1", "e100"},
		{"far over", 250, 100, "e150", "e249"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := New()
			for i := range tc.add {
				st.AddError(fixedNow.Add(time.Duration(i)*time.Second), "web", fmt.Sprintf("e%d", i))
			}
			if len(st.Errors) != tc.len {
				t.Fatalf("%d errors, want %d", len(st.Errors), tc.len)
			}
			if tc.len == 0 {
				return
			}
			if first, last := st.Errors[0].Message, st.Errors[tc.len-1].Message; first != tc.first || last != tc.last {
				t.Errorf("errors %s..%s, want %s..%s", first, last, tc.first, tc.last)
			}
			if !st.Errors[0].Time.Before(st.Errors[tc.len-1].Time) && tc.len > 1 {
				t.Error("errors not oldest first")
			}
		})
	}
}

// TestState_JSONNames pins the names `procman status --json` relies on.
func TestState_JSONNames(t *testing.T) {
	st := New()
	st.Active, st.PID, st.RunID, st.BootID = true, 4242, "r1", "b1"
	st.LastUpdated, st.EventCounter = fixedNow, 7
	code, pgid := 1, 4300
	end := fixedNow.Add(time.Second)
	build := st.Task("build")
	build.Runs, build.LastExit, build.LastStart, build.LastEnd, build.Status = 1, &code, &fixedNow, &end, "failed"
	serve := st.Task("serve")
	serve.Runs, serve.Restarts, serve.Running, serve.PGID, serve.LeaderStart = 3, 2, true, &pgid, 99
	st.AddError(fixedNow, "build", "exit status 1")
	b, err := json.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"version":1,"active":true,"pid":4242,"run_id":"r1","boot_id":"b1",` +
		`"last_updated":"2023-11-14T22:13:20Z","event_counter":7,"tasks":{` +
		`"build":{"runs":1,"restarts":0,"last_exit":1,"last_start":"2023-11-14T22:13:20Z","last_end":"2023-11-14T22:13:21Z","running":false,"pgid":null,"status":"failed"},` +
		`"serve":{"runs":3,"restarts":2,"last_exit":null,"last_start":null,"last_end":null,"running":true,"pgid":4300,"leader_start":99}},` +
		`"errors":[{"time":"2023-11-14T22:13:20Z","task":"build","message":"exit status 1"}]}`
	if string(b) != want {
		t.Errorf("JSON:\n got %s\nwant %s", b, want)
	}
}
