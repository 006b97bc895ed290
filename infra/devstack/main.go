// Command devstack runs the whole platform offline on 127.0.0.1: the REST API
// with its Lambda authorizer, the Lambda Invoke API, and embedded DynamoDB, S3,
// KMS and Secrets Manager, all created from template.yaml. `make dev` starts
// it; `make invoke` uses its invoke subcommand.
//
//	devstack [flags]                      serve until Ctrl-C
//	devstack invoke -fn NAME [-event F]   invoke one function, print its response
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/vip-platform/backend/infra/devstack/stack"
	"github.com/vip-platform/backend/infra/template"
)

func main() {
	if err := realMain(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "devstack:", err)
		os.Exit(1)
	}
}

type paramFlag map[string]string

func (p paramFlag) String() string { return fmt.Sprint(map[string]string(p)) }
func (p paramFlag) Set(v string) error {
	k, val, ok := strings.Cut(v, "=")
	if !ok || k == "" {
		return fmt.Errorf("want Name=Value, got %q", v)
	}
	p[k] = val
	return nil
}

func realMain(args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "invoke" {
		return invokeMain(args[1:], stdout, stderr)
	}
	fs := flag.NewFlagSet("devstack", flag.ContinueOnError)
	opts := commonFlags(fs)
	quiet := fs.Bool("quiet-functions", false, "do not echo the functions' own log output")
	if err := fs.Parse(args); err != nil {
		return err
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	opts.Logger = logger
	opts.FunctionOutput = stderr
	if *quiet {
		opts.FunctionOutput = io.Discard
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	started := time.Now()
	logger.Info("devstack starting: building functions and provisioning from template", "template", opts.TemplatePath)
	s, err := stack.Start(ctx, *opts)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "\nVirtual Internship Platform devstack is up (%s)\n\n", time.Since(started).Round(time.Millisecond))
	for _, line := range s.Banner() {
		fmt.Fprintln(stdout, "  "+line)
	}
	fmt.Fprintln(stdout, "\nPress Ctrl-C to stop.")
	<-ctx.Done()
	logger.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return s.Close(shutdownCtx)
}

func commonFlags(fs *flag.FlagSet) *stack.Options {
	o := &stack.Options{Params: map[string]string{}}
	fs.StringVar(&o.TemplatePath, "template", "template.yaml", "SAM template")
	fs.StringVar(&o.Host, "host", "127.0.0.1", "loopback address to bind")
	fs.StringVar(&o.WorkDir, "workdir", ".devstack", "build artifacts and emulator data")
	d := stack.DefaultPorts
	fs.IntVar(&o.Ports.API, "api-port", d.API, "REST API port")
	fs.IntVar(&o.Ports.Lambda, "lambda-port", d.Lambda, "Lambda invoke API port")
	fs.IntVar(&o.Ports.DynamoDB, "dynamodb-port", d.DynamoDB, "DynamoDB port")
	fs.IntVar(&o.Ports.S3, "s3-port", d.S3, "S3 port")
	fs.IntVar(&o.Ports.KMS, "kms-port", d.KMS, "KMS port")
	fs.IntVar(&o.Ports.SecretsManager, "secretsmanager-port", d.SecretsManager, "Secrets Manager port")
	fs.Var(paramFlag(o.Params), "param", "template parameter override Name=Value (repeatable)")
	return o
}

// invokeMain invokes one function like `sam local invoke`: through a running
// devstack's Lambda invoke API when one is up (so admin functions act on the
// state `make dev` serves), otherwise in a throw-away stack of its own.
func invokeMain(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("devstack invoke", flag.ContinueOnError)
	opts := commonFlags(fs)
	fn := fs.String("fn", "", "function: logical ID (HealthFunction) or folder (health)")
	eventPath := fs.String("event", "", "event JSON file (default {})")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *fn == "" {
		return errors.New("-fn is required")
	}
	payload := []byte("{}")
	if *eventPath != "" {
		b, err := os.ReadFile(*eventPath)
		if err != nil {
			return fmt.Errorf("read event: %w", err)
		}
		payload = b
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	lambdaURL := fmt.Sprintf("http://%s:%d", opts.Host, opts.Ports.Lambda)
	if running(ctx, lambdaURL) {
		fmt.Fprintln(stderr, "devstack: invoking through the running devstack at", lambdaURL)
		return invokeRemote(ctx, lambdaURL, *fn, payload, stdout)
	}
	fmt.Fprintln(stderr, "devstack: no devstack running; starting a throw-away one for this invocation")
	opts.NoGateways = true
	opts.Ports = stack.Ports{}
	opts.Logger = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	opts.FunctionOutput = stderr
	probe, err := stackFunctionID(opts.TemplatePath, *fn)
	if err != nil {
		return err
	}
	opts.Functions = []string{probe}
	s, err := stack.Start(ctx, *opts)
	if err != nil {
		return err
	}
	defer s.Close(context.Background())
	res, err := s.Invoke(ctx, *fn, payload)
	if err != nil {
		return err
	}
	if res.FunctionError != nil {
		b, _ := json.MarshalIndent(res.FunctionError, "", "  ")
		fmt.Fprintln(stdout, string(b))
		return fmt.Errorf("function returned an error (%s)", res.FunctionError.ErrorType)
	}
	return printJSON(stdout, res.Payload)
}

func running(ctx context.Context, base string) bool {
	ctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/", nil)
	if err != nil {
		return false
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return true
}

func invokeRemote(ctx context.Context, base, fn string, payload []byte, stdout io.Writer) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/2015-03-31/functions/"+fn+"/invocations", bytes.NewReader(payload))
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("invoke: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("invoke: read response: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("invoke %s: HTTP %d: %s", fn, resp.StatusCode, strings.TrimSpace(string(body)))
	}
	if fe := resp.Header.Get("X-Amz-Function-Error"); fe != "" {
		_ = printJSON(stdout, body)
		return fmt.Errorf("function returned an error (%s)", fe)
	}
	return printJSON(stdout, body)
}

func printJSON(w io.Writer, b []byte) error {
	var buf bytes.Buffer
	if err := json.Indent(&buf, b, "", "  "); err != nil {
		_, err = w.Write(append(b, '\n'))
		return err
	}
	buf.WriteByte('\n')
	_, err := w.Write(buf.Bytes())
	return err
}

// stackFunctionID maps a folder name or logical ID to the logical ID, so a
// throw-away stack builds only that function.
func stackFunctionID(templatePath, name string) (string, error) {
	t, err := template.Load(templatePath)
	if err != nil {
		return "", err
	}
	for _, id := range []string{name, template.LogicalIDFor(name)} {
		if r, ok := t.Resources[id]; ok && r.Type == template.TypeFunction {
			return id, nil
		}
	}
	return "", fmt.Errorf("no function %q in %s (use a logical ID such as HealthFunction or a folder such as health)", name, templatePath)
}
