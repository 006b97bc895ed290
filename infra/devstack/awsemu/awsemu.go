// Package awsemu embeds the AWS services the devstack needs — DynamoDB
// (truora/minidyn), S3 (johannesboyne/gofakes3), KMS (nsmithuk/local-kms) and
// a Secrets Manager of its own — each on its own loopback listener, and
// creates their tables, buckets, keys and secrets from template.yaml's own
// definitions (Provision), named as NewResourceEnv names them.
//
// The emulators check no signatures and no IAM: they bind loopback only, and
// the policy the devstack wants enforced (presigned POST conditions) goes in
// front of S3 through Options.S3Middleware.
package awsemu

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/nsmithuk/local-kms/src/data"
)

// shutdownGrace is how long Close lets in-flight requests finish.
const shutdownGrace = time.Second

// Defaults for Options.Region and Options.AccountID; they match what the
// devstack reports as its AWS location.
const (
	DefaultRegion    = "us-east-1"
	DefaultAccountID = "123456789012"
)

// Options configures Start. The zero value serves every emulator on a free
// loopback port with a temporary KMS data dir.
type Options struct {
	// Host is the address to bind, "127.0.0.1" by default. It must be a
	// loopback address: nothing here authenticates its callers.
	Host string
	// Ports for each service; 0 picks a free port.
	DynamoDBPort, S3Port, KMSPort, SecretsManagerPort int
	// Region and AccountID appear in every ARN the emulators hand out; they
	// must match what NewResourceEnv was given.
	Region, AccountID string
	// DataDir holds KMS's LevelDB (in DataDir/kms). Empty: a temporary
	// directory that Close removes. DynamoDB, S3 and Secrets Manager keep
	// their state in memory.
	DataDir string
	// Logger receives debug logs of every request (operation and status,
	// never bodies, query strings or values). Nil discards.
	Logger *slog.Logger
	// OnObjectEvent receives S3 object events (see ObjectEvent). It runs on
	// one goroutine of its own, in event order, after the object is stored,
	// so it may call S3 itself and never holds up the S3 caller.
	OnObjectEvent func(ObjectEvent)
	// OnRotate drives a rotation when RotateSecret is called: the devstack
	// runs the secret's rotation Lambda through its four steps here. It is
	// called with the secret's ARN and the new version's token after the
	// AWSPENDING version exists, outside any lock, so it may call Secrets
	// Manager. Nil makes RotateSecret with immediate rotation fail.
	OnRotate func(ctx context.Context, secretARN, clientRequestToken string) error
	// S3Middleware wraps the S3 endpoint, first element outermost, in front
	// of everything else (e.g. a presigned POST policy verifier).
	S3Middleware []func(http.Handler) http.Handler
}

// Endpoints are the emulators' base URLs, e.g. "http://127.0.0.1:41234".
type Endpoints struct {
	DynamoDB       string
	S3             string
	KMS            string
	SecretsManager string
}

// Emulators is a running set of emulated AWS services.
type Emulators struct {
	opts Options
	// dynamoCalls counts DynamoDB operations served, for the benchmarks'
	// calls-per-request report.
	dynamoCalls *opCounter
	log         *slog.Logger
	endpoints   Endpoints
	servers     []*service
	kms         *kmsService
	s3          *eventBackend
	events      *dispatcher
	secrets     *secretsManager
	tmpDir      string
	accessKey   string
	secretKey   string

	closeOnce sync.Once
	closeErr  error
}

// service is one listener and the server on it.
type service struct {
	name string
	ln   net.Listener
	srv  *http.Server
	done chan struct{}
}

// Start starts the four emulators. On error nothing is left running.
func Start(ctx context.Context, opts Options) (_ *Emulators, err error) {
	if opts.Host == "" {
		opts.Host = "127.0.0.1"
	}
	if ip := net.ParseIP(opts.Host); ip == nil || !ip.IsLoopback() {
		return nil, fmt.Errorf("awsemu: host %q is not a loopback address; the emulators authenticate nobody", opts.Host)
	}
	if opts.Region == "" {
		opts.Region = DefaultRegion
	}
	if opts.AccountID == "" {
		opts.AccountID = DefaultAccountID
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	e := &Emulators{opts: opts, log: opts.Logger.With("component", "awsemu"), dynamoCalls: newOpCounter()}
	defer func() {
		if err != nil {
			_ = e.Close()
		}
	}()
	e.accessKey, e.secretKey = "AKIA"+randomHex(8), randomHex(20)

	dataDir := opts.DataDir
	if dataDir == "" {
		if e.tmpDir, err = os.MkdirTemp("", "awsemu-"); err != nil {
			return nil, fmt.Errorf("awsemu: data dir: %w", err)
		}
		dataDir = e.tmpDir
	}
	kmsDir := filepath.Join(dataDir, "kms")
	if err := os.MkdirAll(kmsDir, 0o700); err != nil {
		return nil, fmt.Errorf("awsemu: KMS data dir: %w", err)
	}
	if e.kms, err = newKMSService(kmsDir, opts.Region, opts.AccountID, e.log.With("service", "kms")); err != nil {
		return nil, fmt.Errorf("awsemu: %w", err)
	}

	if opts.OnObjectEvent != nil {
		e.events = newDispatcher(opts.OnObjectEvent, e.log.With("service", "s3"))
	}
	var s3Handler http.Handler
	e.s3, s3Handler = newS3(e.events)
	for i := len(opts.S3Middleware) - 1; i >= 0; i-- {
		s3Handler = opts.S3Middleware[i](s3Handler)
	}
	e.secrets = newSecretsManager(opts.Region, opts.AccountID, opts.OnRotate, e.log.With("service", "secretsmanager"))

	specs := []struct {
		name string
		port int
		h    http.Handler
		url  *string
	}{
		{"DynamoDB", opts.DynamoDBPort, newDynamoDB(e.dynamoCalls), &e.endpoints.DynamoDB},
		{"S3", opts.S3Port, s3Handler, &e.endpoints.S3},
		{"KMS", opts.KMSPort, e.kms, &e.endpoints.KMS},
		{"Secrets Manager", opts.SecretsManagerPort, e.secrets, &e.endpoints.SecretsManager},
	}
	// Bind every port before serving any, so a taken port fails Start
	// before anything answers.
	for _, s := range specs {
		ln, err := listen(ctx, opts.Host, s.port, s.name)
		if err != nil {
			return nil, err
		}
		e.servers = append(e.servers, &service{name: s.name, ln: ln, done: make(chan struct{})})
		*s.url = "http://" + ln.Addr().String()
	}
	for i, s := range specs {
		svc := e.servers[i]
		log := e.log.With("service", s.name)
		svc.srv = &http.Server{
			Handler:           logRequests(log, s.h),
			ReadHeaderTimeout: 10 * time.Second,
			ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelDebug),
		}
		go func() {
			defer close(svc.done)
			if err := svc.srv.Serve(svc.ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				log.Error("emulator listener stopped", "error", err)
			}
		}()
	}
	e.log.Debug("AWS emulators started", "dynamodb", e.endpoints.DynamoDB, "s3", e.endpoints.S3,
		"kms", e.endpoints.KMS, "secretsmanager", e.endpoints.SecretsManager)
	return e, nil
}

// listen binds one service's port, naming the service and port when taken.
func listen(ctx context.Context, host string, port int, name string) (net.Listener, error) {
	addr := net.JoinHostPort(host, strconv.Itoa(port))
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if errors.Is(err, syscall.EADDRINUSE) {
		return nil, fmt.Errorf("awsemu: %s port %d on %s is already in use: %w", name, port, host, err)
	}
	if err != nil {
		return nil, fmt.Errorf("awsemu: %s listen on %s: %w", name, addr, err)
	}
	return ln, nil
}

// Endpoints returns the base URLs of the emulators.
func (e *Emulators) Endpoints() Endpoints { return e.endpoints }

// Region returns the region the emulators put in ARNs.
func (e *Emulators) Region() string { return e.opts.Region }

// AccountID returns the account the emulators put in ARNs.
func (e *Emulators) AccountID() string { return e.opts.AccountID }

// Close stops the listeners (in-flight requests get shutdownGrace to
// finish), then the event dispatcher (events not yet
// delivered are dropped), closes KMS's database and removes a temporary data
// dir. It is safe to call more than once.
func (e *Emulators) Close() error {
	e.closeOnce.Do(func() {
		var errs []error
		ctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
		defer cancel()
		for _, s := range e.servers {
			if s.srv == nil {
				errs = append(errs, s.ln.Close())
				continue
			}
			// Shutdown also waits out connections a client dialed but never
			// used (net/http counts them busy for 5 s); past the grace period
			// whatever is left is cut.
			if err := s.srv.Shutdown(ctx); err != nil {
				e.log.Debug("closing emulator connections after the grace period", "service", s.name, "error", err)
				if err := s.srv.Close(); err != nil {
					errs = append(errs, fmt.Errorf("awsemu: stop %s: %w", s.name, err))
				}
			}
			<-s.done
		}
		if e.events != nil {
			e.events.close()
		}
		if e.kms != nil {
			e.kms.close()
		}
		if e.tmpDir != "" {
			if err := os.RemoveAll(e.tmpDir); err != nil {
				errs = append(errs, fmt.Errorf("awsemu: remove data dir: %w", err))
			}
		}
		e.closeErr = errors.Join(errs...)
	})
	return e.closeErr
}

// logRequests logs each request's method, path, AWS operation and status at
// debug level. Query strings are left out: presigned URLs carry signatures.
func logRequests(log *slog.Logger, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !log.Enabled(r.Context(), slog.LevelDebug) {
			h.ServeHTTP(w, r)
			return
		}
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		start := time.Now()
		h.ServeHTTP(sw, r)
		attrs := []any{"method", r.Method, "path", r.URL.Path, "status", sw.status, "duration", time.Since(start).Round(time.Microsecond).String()}
		if target := r.Header.Get("X-Amz-Target"); target != "" {
			attrs = append(attrs, "target", target)
		}
		log.Debug("request", attrs...)
	})
}

// statusWriter remembers the status code for logRequests.
type statusWriter struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (w *statusWriter) WriteHeader(code int) {
	if !w.wrote {
		w.status, w.wrote = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	w.wrote = true
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+).
	return hex.EncodeToString(b)
}

// newUUID returns a random version-4 UUID, the shape of Secrets Manager
// version IDs.
func newUUID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// kmsDatabaseOpen opens local-kms's LevelDB, turning its panic on failure
// (e.g. the directory is locked by another process) into an error.
func kmsDatabaseOpen(dir string) (db *data.Database, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("open KMS database %s: %v", dir, p)
		}
	}()
	return data.NewDatabase(dir), nil
}
