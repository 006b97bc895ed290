// Package stack composes the devstack: it reads template.yaml, starts the
// embedded AWS services and provisions them from the template's own
// resources, builds every function with the same make targets sam build uses,
// runs them under the devstack's Lambda Runtime API, and serves the APIs on
// 127.0.0.1. The WebSocket API, S3 triggers and schedules plug in as Modules.
package stack

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/vip-platform/backend/infra/devstack/awsemu"
	"github.com/vip-platform/backend/infra/devstack/lambdart"
	"github.com/vip-platform/backend/infra/devstack/restapi"
	"github.com/vip-platform/backend/infra/template"
)

// Ports are the local ports of every listener; 0 picks a free port.
type Ports struct {
	API            int
	Lambda         int
	DynamoDB       int
	S3             int
	KMS            int
	SecretsManager int
}

// DefaultPorts follow sam local (3000 API, 3001 Lambda) and keep the AWS
// services together from 4566 up.
var DefaultPorts = Ports{API: 3000, Lambda: 3001, DynamoDB: 4566, S3: 4567, KMS: 4568, SecretsManager: 4569}

// Options configure a devstack.
type Options struct {
	// TemplatePath is the SAM template (template.yaml).
	TemplatePath string
	// Host is the address every listener binds; only loopback is allowed.
	Host  string
	Ports Ports
	// WorkDir holds build artifacts and emulator data (.devstack).
	WorkDir string
	// Params overrides template parameters (Stage=dev ...).
	Params map[string]string
	// Functions limits which functions are built and registered (logical
	// IDs); empty means all. make invoke uses it to build just one.
	Functions []string
	Logger    *slog.Logger
	// FunctionOutput receives the functions' own stdout/stderr.
	FunctionOutput io.Writer
	// Modules are extra parts (WebSocket API, S3 triggers, schedules).
	Modules []Module
	// NoGateways skips the REST and Lambda listeners (make invoke).
	NoGateways bool
	// DisableThrottling turns off the stage throttling the template's
	// MethodSettings declare (load tests measure the functions, not it).
	DisableThrottling bool
}

// Module is an optional part of the devstack started after the functions
// are registered and closed before them.
type Module interface {
	// Name names the module in logs and errors.
	Name() string
	// Start starts the module; the returned lines join the banner.
	Start(ctx context.Context, s *Stack) (banner []string, err error)
	// Close stops the module.
	Close(ctx context.Context) error
}

// Region and AccountID are what the devstack reports as its AWS location.
const (
	Region    = "us-east-1"
	AccountID = "123456789012"
)

// Stack is a running devstack.
type Stack struct {
	opts      Options
	log       *slog.Logger
	Template  *template.Template
	Env       template.Env
	Emulators *awsemu.Emulators
	Runtime   *lambdart.Manager
	// names maps every accepted function name (logical ID, folder, deployed
	// function name) to its logical ID.
	names map[string]string
	// specs are the registered function specs, for benchmarks and modules.
	specsMu sync.Mutex
	specs   map[string]lambdart.FunctionSpec

	// APIURL and LambdaURL are the base URLs of the REST API and of the
	// Lambda Invoke API (aws lambda invoke --endpoint-url).
	APIURL    string
	LambdaURL string

	servers []*http.Server
	modules []Module
	banner  []string
	closeMu sync.Mutex
	closed  bool
}

// Start builds and starts a devstack. On error everything started is stopped.
func Start(ctx context.Context, opts Options) (_ *Stack, err error) {
	if opts.Host == "" {
		opts.Host = "127.0.0.1"
	}
	if ip := net.ParseIP(opts.Host); ip == nil || !ip.IsLoopback() {
		return nil, fmt.Errorf("devstack binds loopback only, not %q", opts.Host)
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if opts.FunctionOutput == nil {
		opts.FunctionOutput = io.Discard
	}
	if opts.WorkDir == "" {
		opts.WorkDir = ".devstack"
	}
	s := &Stack{opts: opts, log: opts.Logger, names: map[string]string{}, specs: map[string]lambdart.FunctionSpec{}}
	defer func() {
		if err != nil {
			s.Close(context.Background())
		}
	}()

	if s.Template, err = template.Load(opts.TemplatePath); err != nil {
		return nil, err
	}
	// Listeners first: a taken port is reported before minutes of building.
	var apiLn, lambdaLn net.Listener
	if !opts.NoGateways {
		if apiLn, err = listen(opts.Host, opts.Ports.API, "REST API", "-api-port"); err != nil {
			return nil, err
		}
		if lambdaLn, err = listen(opts.Host, opts.Ports.Lambda, "Lambda invoke API", "-lambda-port"); err != nil {
			apiLn.Close()
			return nil, err
		}
	}

	dataDir := filepath.Join(opts.WorkDir, "data", randomHex(4))
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, fmt.Errorf("devstack data dir: %w", err)
	}
	s.Emulators, err = awsemu.Start(ctx, awsemu.Options{
		Host:               opts.Host,
		DynamoDBPort:       opts.Ports.DynamoDB,
		S3Port:             opts.Ports.S3,
		KMSPort:            opts.Ports.KMS,
		SecretsManagerPort: opts.Ports.SecretsManager,
		DataDir:            dataDir,
		Logger:             opts.Logger,
		OnRotate:           s.rotate,
	})
	if err != nil {
		return nil, fmt.Errorf("start AWS emulators: %w", err)
	}
	if s.Env, err = awsemu.NewResourceEnv(s.Template, opts.Params, Region, AccountID); err != nil {
		return nil, fmt.Errorf("resolve template names: %w", err)
	}
	if err := s.Emulators.Provision(ctx, s.Template, s.Env, secretGenerators(s.Template)); err != nil {
		return nil, fmt.Errorf("provision from template: %w", err)
	}

	s.Runtime = lambdart.NewManager(lambdart.Options{
		Logger: opts.Logger, FunctionOutput: opts.FunctionOutput, Region: Region, AccountID: AccountID,
	})
	if err := s.buildAndRegister(ctx); err != nil {
		return nil, err
	}

	if !opts.NoGateways {
		gw, err := restapi.New(restapi.Config{
			Template: s.Template, Env: s.Env, Invoker: s.Runtime, Logger: opts.Logger,
			Stage: s.param("Stage", "dev"), Region: Region, AccountID: AccountID,
			DisableThrottling: opts.DisableThrottling,
		})
		if err != nil {
			return nil, fmt.Errorf("REST API: %w", err)
		}
		s.APIURL = "http://" + apiLn.Addr().String()
		s.LambdaURL = "http://" + lambdaLn.Addr().String()
		s.serve(apiLn, gw)
		s.serve(lambdaLn, &invokeAPI{stack: s})
		s.banner = append(s.banner,
			"REST API        "+s.APIURL+"   (e.g. curl "+s.APIURL+"/v1/health)",
			"Lambda invoke   "+s.LambdaURL+"   (aws lambda invoke --endpoint-url "+s.LambdaURL+" --function-name <LogicalId> ...)",
		)
	}
	ep := s.Emulators.Endpoints()
	s.banner = append(s.banner,
		"DynamoDB        "+ep.DynamoDB,
		"S3              "+ep.S3,
		"KMS             "+ep.KMS,
		"Secrets Manager "+ep.SecretsManager,
	)
	for _, m := range opts.Modules {
		lines, err := m.Start(ctx, s)
		if err != nil {
			return nil, fmt.Errorf("module %s: %w", m.Name(), err)
		}
		s.modules = append(s.modules, m)
		s.banner = append(s.banner, lines...)
	}
	return s, nil
}

// Banner lists the URLs a developer needs.
func (s *Stack) Banner() []string { return s.banner }

func (s *Stack) param(name, def string) string {
	if v, ok := s.opts.Params[name]; ok {
		return v
	}
	if p, ok := s.Template.Parameters[name]; ok && p.Default != nil {
		if v, ok := p.Default.(string); ok {
			return v
		}
	}
	return def
}

// buildAndRegister builds the selected functions, two at a time (the
// machines have two cores), and registers them with the runtime.
func (s *Stack) buildAndRegister(ctx context.Context) error {
	fns, err := s.Template.Functions()
	if err != nil {
		return err
	}
	want := map[string]bool{}
	for _, id := range s.opts.Functions {
		want[id] = true
	}
	var selected []template.Function
	for _, f := range fns {
		s.names[f.LogicalID] = f.LogicalID
		s.names[template.DirName(f.LogicalID)] = f.LogicalID
		if name, err := s.Template.ResolveString(template.Intrinsic{Fn: "Ref", Arg: f.LogicalID}, s.Env); err == nil {
			s.names[name] = f.LogicalID
		}
		if len(want) == 0 || want[f.LogicalID] {
			selected = append(selected, f)
		}
	}
	for id := range want {
		if _, ok := s.Template.Resources[id]; !ok {
			return fmt.Errorf("no function %q in %s", id, s.opts.TemplatePath)
		}
	}
	endpoints := s.Emulators.Endpoints()
	creds := newCredentials()
	start := time.Now()
	sem := make(chan struct{}, 2)
	errs := make([]error, len(selected))
	var wg sync.WaitGroup
	for i, f := range selected {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			errs[i] = s.buildOne(ctx, f, endpoints, creds)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	s.log.Info("functions built", "count", len(selected), "duration", time.Since(start).Round(time.Millisecond).String())
	return nil
}

func (s *Stack) buildOne(ctx context.Context, f template.Function, ep awsemu.Endpoints, creds credentials) error {
	artifacts, err := filepath.Abs(filepath.Join(s.opts.WorkDir, "build", f.LogicalID))
	if err != nil {
		return err
	}
	bootstrap, err := lambdart.Build(ctx, lambdart.BuildSpec{
		LogicalID: f.LogicalID, CodeDir: s.Template.CodeDir(f), ArtifactsDir: artifacts,
	})
	if err != nil {
		return fmt.Errorf("build %s: %w", f.LogicalID, err)
	}
	env, err := s.functionEnv(f, ep, creds)
	if err != nil {
		return err
	}
	spec := lambdart.FunctionSpec{
		Name: f.LogicalID, Bootstrap: bootstrap, Env: env,
		Timeout: f.Timeout, MemoryMB: f.MemoryMB, Dir: artifacts,
	}
	if err := s.Runtime.Register(spec); err != nil {
		return fmt.Errorf("register %s: %w", f.LogicalID, err)
	}
	s.specsMu.Lock()
	s.specs[f.LogicalID] = spec
	s.specsMu.Unlock()
	return nil
}

// FunctionSpec returns the spec a function was registered with.
func (s *Stack) FunctionSpec(logicalID string) (lambdart.FunctionSpec, bool) {
	s.specsMu.Lock()
	defer s.specsMu.Unlock()
	spec, ok := s.specs[logicalID]
	return spec, ok
}

// functionEnv is the function's Environment from the template, resolved to
// local names, plus what Lambda and the SDK need to reach the emulators. The
// SDK reads AWS_ENDPOINT_URL_<SERVICE> itself, so handler code has one path.
func (s *Stack) functionEnv(f template.Function, ep awsemu.Endpoints, creds credentials) ([]string, error) {
	var env []string
	keys := make([]string, 0, len(f.Environment))
	for k := range f.Environment {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v, err := s.Template.ResolveString(f.Environment[k], s.Env)
		if err != nil {
			return nil, fmt.Errorf("function %s env %s: %w", f.LogicalID, k, err)
		}
		env = append(env, k+"="+v)
	}
	return append(env,
		"AWS_ACCESS_KEY_ID="+creds.AccessKeyID,
		"AWS_SECRET_ACCESS_KEY="+creds.SecretAccessKey,
		"AWS_SESSION_TOKEN="+creds.SessionToken,
		"AWS_ENDPOINT_URL_DYNAMODB="+ep.DynamoDB,
		"AWS_ENDPOINT_URL_S3="+ep.S3,
		"AWS_ENDPOINT_URL_KMS="+ep.KMS,
		"AWS_ENDPOINT_URL_SECRETS_MANAGER="+ep.SecretsManager,
		"AWS_EC2_METADATA_DISABLED=true",
	), nil
}

// Resolve maps a name a developer might use (logical ID, folder, deployed
// function name) to the function's logical ID.
func (s *Stack) Resolve(name string) (string, bool) {
	id, ok := s.names[name]
	return id, ok
}

// Invoke runs one function by any of its names.
func (s *Stack) Invoke(ctx context.Context, name string, payload []byte) (*lambdart.Result, error) {
	id, ok := s.Resolve(name)
	if !ok {
		return nil, fmt.Errorf("%w: %q", lambdart.ErrUnknownFunction, name)
	}
	return s.Runtime.Invoke(ctx, id, payload)
}

func (s *Stack) serve(ln net.Listener, h http.Handler) {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	s.servers = append(s.servers, srv)
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("listener stopped", "addr", ln.Addr().String(), "error", err)
		}
	}()
}

// Close stops modules, listeners, function processes and emulators.
func (s *Stack) Close(ctx context.Context) error {
	s.closeMu.Lock()
	defer s.closeMu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	var errs []error
	for i := len(s.modules) - 1; i >= 0; i-- {
		errs = append(errs, s.modules[i].Close(ctx))
	}
	for _, srv := range s.servers {
		errs = append(errs, srv.Shutdown(ctx))
	}
	if s.Runtime != nil {
		errs = append(errs, s.Runtime.Close(ctx))
	}
	if s.Emulators != nil {
		errs = append(errs, s.Emulators.Close())
	}
	return errors.Join(errs...)
}

func listen(host string, port int, what, flag string) (net.Listener, error) {
	addr := net.JoinHostPort(host, fmt.Sprint(port))
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		if strings.Contains(err.Error(), "address already in use") {
			return nil, fmt.Errorf("port %d for the %s is already in use (another make dev running?): stop it or pick another port with %s", port, what, flag)
		}
		return nil, fmt.Errorf("listen %s for the %s: %w", addr, what, err)
	}
	return ln, nil
}

// credentials are the per-start fake AWS credentials handed to functions, as
// Lambda hands an execution role's. The emulators accept any signature; the
// values only make every request look like a signed AWS request.
type credentials struct{ AccessKeyID, SecretAccessKey, SessionToken string }

func newCredentials() credentials {
	return credentials{
		AccessKeyID:     "DEVSTACK" + strings.ToUpper(randomHex(6)),
		SecretAccessKey: randomHex(20),
		SessionToken:    randomHex(16),
	}
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
