// Command bench measures every function of template.yaml against a
// hello-world floor built the same way: linux/arm64 binary size, cold start
// (process start to first response) and warm invoke p50/p99 through the
// devstack's runtime, plus the REST gateway's own overhead. It prints ratios
// to the floor measured in the same run, never absolute pass/fail limits.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/vip-platform/backend/infra/devstack/lambdart"
	"github.com/vip-platform/backend/infra/devstack/stack"
	"github.com/vip-platform/backend/infra/template"
)

const floorName = "HelloFloor"

func main() {
	if err := realMain(os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

type config struct {
	template string
	colds    int
	warms    int
	only     string
}

func realMain(out io.Writer) error {
	var cfg config
	flag.StringVar(&cfg.template, "template", "template.yaml", "SAM template")
	flag.IntVar(&cfg.colds, "cold", 5, "cold starts per function")
	flag.IntVar(&cfg.warms, "warm", 200, "warm invocations per function")
	flag.StringVar(&cfg.only, "only", "", "comma-separated logical IDs to measure (default all)")
	flag.Parse()

	ctx := context.Background()
	work, err := os.MkdirTemp("", "vip-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)

	tpl, err := template.Load(cfg.template)
	if err != nil {
		return err
	}
	fns, err := tpl.Functions()
	if err != nil {
		return err
	}
	if cfg.only != "" {
		keep := strings.Split(cfg.only, ",")
		fns = slices.DeleteFunc(fns, func(f template.Function) bool { return !slices.Contains(keep, f.LogicalID) })
	}

	fmt.Fprintln(out, "building linux/arm64 binaries for size ...")
	sizes := map[string]int64{}
	for _, f := range fns {
		if sizes[f.LogicalID], err = armSize(ctx, work, "build-"+f.LogicalID); err != nil {
			return err
		}
	}
	if sizes[floorName], err = armSize(ctx, work, "build-function", "FN_DIR=infra/bench/testdata/hello"); err != nil {
		return err
	}

	fmt.Fprintln(out, "starting the devstack ...")
	s, err := stack.Start(ctx, stack.Options{
		TemplatePath: cfg.template, WorkDir: filepath.Join(work, "devstack"),
		Logger:            slog.New(slog.NewTextHandler(io.Discard, nil)),
		DisableThrottling: true,
	})
	if err != nil {
		return err
	}
	defer s.Close(context.Background())

	// The floor has no template entry, so it is built with build-function.
	floorBin, err := hostBuild(ctx, filepath.Join(work, "floor"), "infra/bench/testdata/hello")
	if err != nil {
		return err
	}
	floorSpec := lambdart.FunctionSpec{Name: floorName, Bootstrap: floorBin, Timeout: 10 * time.Second}
	if err := s.Runtime.Register(floorSpec); err != nil {
		return err
	}

	rows := []row{}
	floor, err := measure(ctx, s, floorSpec, []byte(`{}`), cfg)
	if err != nil {
		return fmt.Errorf("floor: %w", err)
	}
	floor.name, floor.size = floorName+" (floor)", sizes[floorName]
	rows = append(rows, floor)
	for _, f := range fns {
		spec, ok := s.FunctionSpec(f.LogicalID)
		if !ok {
			return fmt.Errorf("%s not registered", f.LogicalID)
		}
		event, err := sampleEvent(f.LogicalID)
		if err != nil {
			return err
		}
		r, err := measure(ctx, s, spec, event, cfg)
		if err != nil {
			return fmt.Errorf("%s: %w", f.LogicalID, err)
		}
		r.name, r.size = f.LogicalID, sizes[f.LogicalID]
		rows = append(rows, r)
	}

	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(out)
	fmt.Fprintln(tw, "function\tsize MiB\tx floor\tcold p50 ms\tx floor\twarm p50 ms\twarm p99 ms\tx floor (p50)\t")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%.2f\t%.2f\t%.1f\t%.2f\t%.2f\t%.2f\t%.2f\t\n",
			r.name, float64(r.size)/(1<<20), float64(r.size)/float64(floor.size),
			ms(r.coldP50), ratio(r.coldP50, floor.coldP50),
			ms(r.warmP50), ms(r.warmP99), ratio(r.warmP50, floor.warmP50))
	}
	tw.Flush()

	if err := gatewayOverhead(ctx, out, s, tpl, cfg); err != nil {
		return err
	}
	if _, ok := s.Resolve("AuthLoginFunction"); ok && (cfg.only == "" || strings.Contains(cfg.only, "Auth")) {
		return identityBench(ctx, out, s, 30)
	}
	return nil
}

type row struct {
	name                      string
	size                      int64
	coldP50, warmP50, warmP99 time.Duration
}

// measure re-registers the function before each cold sample (which stops its
// processes, so the next call starts a fresh one), then times warm calls.
func measure(ctx context.Context, s *stack.Stack, spec lambdart.FunctionSpec, event []byte, cfg config) (row, error) {
	var colds, warms []time.Duration
	for range cfg.colds {
		if err := s.Runtime.Register(spec); err != nil {
			return row{}, err
		}
		start := time.Now()
		res, err := s.Runtime.Invoke(ctx, spec.Name, event)
		if err != nil {
			return row{}, err
		}
		if !res.Cold {
			return row{}, errors.New("expected a cold start after re-registering")
		}
		colds = append(colds, time.Since(start))
	}
	for range cfg.warms {
		start := time.Now()
		if _, err := s.Runtime.Invoke(ctx, spec.Name, event); err != nil {
			return row{}, err
		}
		warms = append(warms, time.Since(start))
	}
	return row{coldP50: pct(colds, 50), warmP50: pct(warms, 50), warmP99: pct(warms, 99)}, nil
}

// gatewayOverhead compares the same warm call through the REST gateway over
// HTTP and straight to the runtime: the difference is what the devstack's
// API Gateway emulation costs.
func gatewayOverhead(ctx context.Context, out io.Writer, s *stack.Stack, tpl *template.Template, cfg config) error {
	routes, err := tpl.Routes()
	if err != nil {
		return err
	}
	var route *template.Route
	for i, r := range routes {
		if r.Method == http.MethodGet && !strings.Contains(r.Path, "{") {
			route = &routes[i]
			break
		}
	}
	if route == nil {
		return nil
	}
	event, err := sampleEvent(route.Function)
	if err != nil {
		return err
	}
	client := &http.Client{}
	var viaGateway, direct []time.Duration
	for i := range cfg.warms * 2 {
		start := time.Now()
		resp, err := client.Get(s.APIURL + route.Path)
		if err != nil {
			return err
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if i >= cfg.warms/4 { // skip warm-up
			viaGateway = append(viaGateway, time.Since(start))
		}
		start = time.Now()
		if _, err := s.Runtime.Invoke(ctx, route.Function, event); err != nil {
			return err
		}
		if i >= cfg.warms/4 {
			direct = append(direct, time.Since(start))
		}
	}
	g, d := pct(viaGateway, 50), pct(direct, 50)
	fmt.Fprintf(out, "\nREST gateway overhead, %s %s warm: via HTTP p50 %.3f ms, direct p50 %.3f ms -> gateway adds %.3f ms p50 (x%.2f)\n",
		route.Method, route.Path, ms(g), ms(d), ms(g-d), ratio(g, d))
	return nil
}

func sampleEvent(logicalID string) ([]byte, error) {
	matches, _ := filepath.Glob(filepath.Join("events", template.DirName(logicalID), "*.json"))
	if len(matches) == 0 {
		return []byte(`{}`), nil
	}
	slices.Sort(matches)
	return os.ReadFile(matches[0])
}

func armSize(ctx context.Context, work string, target string, vars ...string) (int64, error) {
	dir := filepath.Join(work, "arm64", strings.TrimPrefix(target, "build-")+strings.Join(vars, ""))
	args := append([]string{"--no-print-directory", target, "ARTIFACTS_DIR=" + dir}, vars...)
	cmd := exec.CommandContext(ctx, "make", args...)
	if outp, err := cmd.CombinedOutput(); err != nil {
		return 0, fmt.Errorf("make %s: %w\n%s", target, err, outp)
	}
	st, err := os.Stat(filepath.Join(dir, "bootstrap"))
	if err != nil {
		return 0, err
	}
	return st.Size(), nil
}

func hostBuild(ctx context.Context, dir, pkg string) (string, error) {
	cmd := exec.CommandContext(ctx, "make", "--no-print-directory", "build-function",
		"FN_DIR="+pkg, "ARTIFACTS_DIR="+dir, "LAMBDA_GOOS="+goenv("GOOS"), "LAMBDA_GOARCH="+goenv("GOARCH"))
	if outp, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build floor: %w\n%s", err, outp)
	}
	return filepath.Join(dir, "bootstrap"), nil
}

func goenv(k string) string {
	b, err := exec.Command("go", "env", k).Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

func pct(d []time.Duration, p int) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	i := (len(s)*p + 99) / 100
	if i > 0 {
		i--
	}
	return s[i]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func ratio(a, b time.Duration) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}
