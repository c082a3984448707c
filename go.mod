module github.com/procman/procman

go 1.26.0

require golang.org/x/sys v0.50.0

require (
	github.com/alecthomas/kong v1.17.0 // indirect
	github.com/fatih/color v1.19.0 // indirect
	github.com/google/shlex v0.0.0-20191202100458-e7afc7fbc510 // indirect
	github.com/mattn/go-colorable v0.1.14 // indirect
	github.com/mattn/go-isatty v0.0.20 // indirect
	github.com/rjeczalik/notify v0.9.3 // indirect
	github.com/rogpeppe/go-internal v1.16.0 // indirect
	go.yaml.in/yaml/v3 v3.0.6 // indirect
	golang.org/x/tools v0.26.0 // indirect
)
