package cli

import (
	"context"
	"fmt"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/procman/procman/control"
	"github.com/procman/procman/tasks"
)

// ScaleCmd is `procman scale NAME=N...`.
type ScaleCmd struct {
	Counts []string `arg:"" placeholder:"NAME=N" help:"Services and their new replica counts (web=5 worker=2)."`
}

// Run changes the replicas of services of the running supervisor, until
// it stops: new replicas start (after the service's deps), surplus ones
// stop from the highest number down; back once the new ones are ready.
func (c *ScaleCmd) Run(ctx context.Context, g *Globals) error {
	counts, err := parseCounts(strings.Join(c.Counts, ","), nil)
	if err != nil {
		return &usageError{fmt.Errorf("scale: %w", err)}
	}
	if _, err := ask(ctx, g, control.Request{Op: control.OpScale, Counts: counts}); err != nil {
		return err
	}
	var said []string
	for _, name := range slices.Sorted(maps.Keys(counts)) {
		said = append(said, fmt.Sprintf("%s=%d", name, counts[name]))
	}
	fmt.Fprintf(os.Stderr, "procman | scaled %s\n", strings.Join(said, ", "))
	return nil
}

// parseCounts reads NAME=N,NAME=N, foreman's formation syntax. With
// services, all=N sets every service not named, and a name that is no
// service is an error naming those that are.
func parseCounts(spec string, services []string) (map[string]int, error) {
	out := map[string]int{}
	all := -1
	for _, item := range strings.Split(spec, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		name, num, ok := strings.Cut(item, "=")
		n, err := strconv.Atoi(strings.TrimSpace(num))
		if !ok || err != nil || n < 0 || strings.TrimSpace(name) == "" {
			return nil, fmt.Errorf("%q: want NAME=N with N a count of 0 or more, like web=2", item)
		}
		name = strings.TrimSpace(name)
		if name == "all" && services != nil {
			all = n
			continue
		}
		if services != nil && !slices.Contains(services, name) {
			return nil, fmt.Errorf("%q: no service %q (services: %s)", item, name, strings.Join(services, ", "))
		}
		out[name] = n
	}
	if len(out) == 0 && all < 0 {
		return nil, fmt.Errorf("%q: want NAME=N, like web=2", spec)
	}
	if all >= 0 {
		for _, s := range services {
			if _, set := out[s]; !set {
				out[s] = all
			}
		}
	}
	return out, nil
}

// formation parses up's -m for cfg.
func formation(spec string, cfg *tasks.Config) (map[string]int, error) {
	if spec == "" {
		return nil, nil
	}
	counts, err := parseCounts(spec, cfg.Services())
	if err != nil {
		return nil, &usageError{fmt.Errorf("-m: %w", err)}
	}
	return counts, nil
}
