package tasks

import (
	"path/filepath"
	"reflect"
	"syscall"
	"testing"
)

const plainProcfile = `# foreman style
web: bundle exec rails s -p $PORT

worker: bundle exec sidekiq
clock:   ruby clock.rb
`

func TestProcfilePorts(t *testing.T) {
	tests := []struct {
		name    string
		environ []string
		dotenv  string // .env content, "" for none
		port    int
		want    []string // PORT of web, worker, clock
	}{
		{"default base 5000", nil, "", 0, []string{"5000", "5100", "5200"}},
		{"--port wins", []string{"PORT=7000"}, "PORT=8000\n", 3000, []string{"3000", "3100", "3200"}},
		{"PORT from the environment", []string{"PORT=7000"}, "", 0, []string{"7000", "7100", "7200"}},
		{".env beats the environment", []string{"PORT=7000"}, "PORT=8000\n", 0, []string{"8000", "8100", "8200"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			files := map[string]string{"Procfile": plainProcfile}
			if tt.dotenv != "" {
				files[".env"] = tt.dotenv
			}
			dir := writeTree(t, files)
			c, err := Load(filepath.Join(dir, "Procfile"), LoadOptions{Environ: tt.environ, Port: tt.port})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, n := range []string{"web", "worker", "clock"} {
				got = append(got, c.Tasks[n].Env["PORT"])
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("PORTs %q, want %q", got, tt.want)
			}
		})
	}
}

func TestProcfileTasks(t *testing.T) {
	dir := writeTree(t, map[string]string{"Procfile": plainProcfile})
	c, err := Load(filepath.Join(dir, "Procfile"), LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(c.Names, []string{"clock", "web", "worker"}) {
		t.Errorf("Names = %q", c.Names)
	}
	want := &Task{
		Name: "web", Cmd: shellCommand("bundle exec rails s -p $PORT"), Kind: Service,
		Dir: dir, Env: map[string]string{"PORT": "5000", "PS": "web.1"}, Restart: RestartAlways, Replicas: 1,
		Backoff: DefaultBackoff, StopSignal: syscall.SIGTERM, StopTimeout: DefaultStopTimeout,
		Pos: Pos{Line: 2, Col: 1},
	}
	if got := c.Tasks["web"]; !reflect.DeepEqual(got, want) {
		t.Errorf("web =\n%+v\nwant\n%+v", got, want)
	}
	if got := c.Tasks["clock"].Cmd; !reflect.DeepEqual(got.Argv, []string{"ruby", "clock.rb"}) || got.Shell {
		t.Errorf("clock cmd = %#v, want argv ruby clock.rb", got)
	}
	if c.Name != filepath.Base(dir) || c.Interval != DefaultInterval {
		t.Errorf("Name %q, Interval %v", c.Name, c.Interval)
	}
}

func TestProcfileErrors(t *testing.T) {
	tests := []struct {
		name    string
		text    string
		environ []string
		want    string
	}{
		{
			name: "bad lines",
			text: "web: run\nnot a line\nweb: again\nbad name: x\napi:\nq: echo 'x\n",
			want: "Procfile:2: want `name: command`\n" +
				"Procfile:3: duplicate name \"web\" (first on line 1)\n" +
				"Procfile:4: want `name: command`\n" +
				"Procfile:5: task \"api\": empty cmd\n" +
				"Procfile:6: task \"q\": cmd: unterminated ' quote",
		},
		{
			name: "no entries",
			text: "# nothing\n\n",
			want: "Procfile: no tasks defined",
		},
		{
			name: "procman is reserved",
			text: "web: run\nprocman: run\n",
			want: `Procfile:2: task name "procman" is reserved for procman's own messages: rename the task`,
		},
		{
			name:    "bad PORT",
			text:    "web: run\n",
			environ: []string{"PORT=http"},
			want:    `Procfile: bad PORT "http" in the environment: want a port number`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeTree(t, map[string]string{"Procfile": tt.text})
			_, err := Load(filepath.Join(dir, "Procfile"), LoadOptions{Environ: tt.environ})
			if got := errText(t, err, dir); got != tt.want {
				t.Errorf("errors:\n%s\nwant:\n%s", got, tt.want)
			}
		})
	}
}

// TestProcfileBOM reads a Procfile that a Windows editor saved with a
// byte order mark as it reads one without.
func TestProcfileBOM(t *testing.T) {
	dir := writeTree(t, map[string]string{"Procfile": "\uFEFF" + plainProcfile})
	c, err := Load(filepath.Join(dir, "Procfile"), LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(c.Names, []string{"clock", "web", "worker"}) {
		t.Errorf("Names = %q", c.Names)
	}
	dir = writeTree(t, map[string]string{"Procfile": "\uFEFFweb: run\n"})
	c, err = Load(filepath.Join(dir, "Procfile"), LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if web := c.Tasks["web"]; web == nil || web.Pos != (Pos{Line: 1, Col: 1}) || web.Env["PORT"] != "5000" {
		t.Errorf("web = %+v, want the entry of line 1 with PORT 5000", web)
	}
}
