package lambdart

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"
)

// Runtime API names, as aws-lambda-go (lambda/runtime_api_client.go) and the
// AWS documentation spell them.
const (
	headerRequestID   = "Lambda-Runtime-Aws-Request-Id"
	headerDeadline    = "Lambda-Runtime-Deadline-Ms"
	headerFunctionARN = "Lambda-Runtime-Invoked-Function-Arn"
	headerTraceID     = "Lambda-Runtime-Trace-Id"
	// headerErrorType is a header on /error and /init/error for runtimes that
	// send it, and a trailer on /response when aws-lambda-go's response
	// reader failed mid-stream (then the body is cut short and the error is in
	// the Lambda-Runtime-Function-Error-Body trailer, base64 JSON).
	headerErrorType  = "Lambda-Runtime-Function-Error-Type"
	trailerErrorBody = "Lambda-Runtime-Function-Error-Body"
	// errorTypeExit is what a runtime reports when it is about to exit.
	errorTypeExit = "Runtime.ExitError"
	// maxErrorBytes bounds an /error or /init/error body.
	maxErrorBytes = 1 << 20
)

// routes is one process's Runtime API.
func (p *process) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /2018-06-01/runtime/invocation/next", p.handleNext)
	mux.HandleFunc("POST /2018-06-01/runtime/invocation/{id}/response", p.handleResponse)
	mux.HandleFunc("POST /2018-06-01/runtime/invocation/{id}/error", p.handleError)
	mux.HandleFunc("POST /2018-06-01/runtime/init/error", p.handleInitError)
	return mux
}

// handleNext is the runtime asking for an event. It is also how the runtime
// says the previous event is done: only then does the invocation complete,
// so the process is idle (and reused) by the time Invoke returns, and a
// runtime that reports a panic and exits is seen as crashed, not as a
// handler error.
func (p *process) handleNext(w http.ResponseWriter, r *http.Request) {
	f := p.fn
	f.mu.Lock()
	if p.killing || p.state == stateDead {
		f.mu.Unlock()
		writeAPIError(w, http.StatusInternalServerError, "Runtime.Reset", "the runtime is being stopped; exit")
		return
	}
	switch {
	case p.state == stateStarting:
		p.initDur = time.Since(p.started)
		p.initTimer.Stop()
		p.state = stateIdle
		p.readyClosed = true
		close(p.ready)
		f.m.log.Info("lambda cold start", "function", p.spec.Name, "pid", p.cmd.Process.Pid, "init_duration", p.initDur)
		if !p.reserved {
			f.broadcast()
		}
	case p.current != nil:
		inv := p.current
		p.current = nil
		p.invocations++
		if inv.posted == postedNone && !inv.finished {
			inv.complete(nil, p.failure(ErrCrashed, inv.id, "runtime asked for the next event without answering this one", nil))
			p.kill(errProtocol)
			f.mu.Unlock()
			writeAPIError(w, http.StatusInternalServerError, "Runtime.InvalidStateTransition", "event not answered")
			return
		}
		inv.complete(inv.result(), nil)
		f.m.log.Debug("lambda invoke", "function", p.spec.Name, "request_id", inv.id, "duration", inv.postedAt.Sub(inv.dispatched), "cold", inv.cold)
		p.state = stateIdle
		f.broadcast()
	}
	if p.gen != f.gen {
		p.kill(errReplaced)
		f.mu.Unlock()
		writeAPIError(w, http.StatusInternalServerError, "Runtime.Reset", "function replaced; exit")
		return
	}
	f.mu.Unlock()

	select {
	case inv := <-p.inbox:
		h := w.Header()
		h.Set(headerRequestID, inv.id)
		h.Set(headerDeadline, strconv.FormatInt(inv.deadline.UnixMilli(), 10))
		h.Set(headerFunctionARN, f.m.functionARN(p.spec.Name))
		h.Set(headerTraceID, inv.traceID)
		h.Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(inv.payload)
	case <-p.exited:
	case <-r.Context().Done():
	}
}

// pending returns the event id names if it is this process's current one
// and still unanswered.
func (p *process) pending(id string) *invocation {
	p.fn.mu.Lock()
	defer p.fn.mu.Unlock()
	if inv := p.current; inv != nil && inv.id == id && inv.posted == postedNone && !inv.finished {
		return inv
	}
	return nil
}

// post records the runtime's answer if the event is still waiting for one.
// Caller holds fn.mu.
func (p *process) post(inv *invocation, kind postKind, body []byte, ferr *FunctionError) bool {
	if p.current != inv || inv.posted != postedNone || inv.finished {
		return false
	}
	inv.posted = kind
	inv.postedAt = time.Now()
	inv.response = body
	inv.ferr = ferr
	return true
}

func (p *process) handleResponse(w http.ResponseWriter, r *http.Request) {
	inv := p.pending(r.PathValue("id"))
	if inv == nil {
		writeAPIError(w, http.StatusBadRequest, "InvalidRequestID", "no pending event with that request ID")
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxResponseBytes+1))
	if err != nil {
		writeAPIError(w, http.StatusBadRequest, "InvalidResponse", "reading the response body failed")
		return
	}
	tooLarge := len(body) > maxResponseBytes
	var ferr *FunctionError
	switch {
	case tooLarge:
		ferr = &FunctionError{
			ErrorType:    "Function.ResponseSizeTooLarge",
			ErrorMessage: fmt.Sprintf("Response payload size exceeded maximum allowed payload size (%d bytes).", maxResponseBytes),
		}
	case r.Trailer.Get(headerErrorType) != "":
		ferr = trailerError(r.Trailer)
	}

	f := p.fn
	f.mu.Lock()
	kind := postedResponse
	if ferr != nil {
		kind = postedError
		body = nil
	}
	ok := p.post(inv, kind, body, ferr)
	if ok && tooLarge {
		// Lambda's verdict, not the handler's: final whatever the runtime
		// does next (aws-lambda-go exits when its answer is refused).
		inv.complete(inv.result(), nil)
	}
	f.mu.Unlock()
	switch {
	case !ok:
		writeAPIError(w, http.StatusBadRequest, "InvalidRequestID", "the event was already answered or ended")
	case tooLarge:
		writeAPIError(w, http.StatusRequestEntityTooLarge, "RequestEntityTooLarge", ferr.ErrorMessage)
	default:
		writeAccepted(w)
	}
}

func (p *process) handleError(w http.ResponseWriter, r *http.Request) {
	inv := p.pending(r.PathValue("id"))
	if inv == nil {
		writeAPIError(w, http.StatusBadRequest, "InvalidRequestID", "no pending event with that request ID")
		return
	}
	ferr := readFunctionError(r)
	exiting := ferr.ErrorType == errorTypeExit || r.Header.Get(headerErrorType) == errorTypeExit

	f := p.fn
	f.mu.Lock()
	ok := p.post(inv, postedError, nil, ferr)
	if ok && exiting {
		inv.complete(nil, p.failure(ErrCrashed, inv.id, "runtime reported "+errorTypeExit, ferr))
		p.kill(ErrCrashed)
	}
	f.mu.Unlock()
	if !ok {
		writeAPIError(w, http.StatusBadRequest, "InvalidRequestID", "the event was already answered or ended")
		return
	}
	writeAccepted(w)
}

func (p *process) handleInitError(w http.ResponseWriter, r *http.Request) {
	ferr := readFunctionError(r)
	f := p.fn
	f.mu.Lock()
	if p.state != stateStarting || p.killing {
		f.mu.Unlock()
		writeAPIError(w, http.StatusForbidden, "InvalidStateTransition", "init already finished")
		return
	}
	p.initErr = p.failure(ErrInitFailed, "", "runtime reported an init error", ferr)
	// Lambda resets a sandbox whose init failed; the next call starts anew.
	p.kill(ErrInitFailed)
	f.mu.Unlock()
	writeAccepted(w)
}

// readFunctionError decodes an /error or /init/error body. Runtimes other
// than aws-lambda-go may send plain text; it becomes the message.
func readFunctionError(r *http.Request) *FunctionError {
	body, _ := io.ReadAll(io.LimitReader(r.Body, maxErrorBytes))
	fe, ok := decodeFunctionError(body)
	if !ok {
		fe = FunctionError{ErrorMessage: string(body)}
	}
	if fe.ErrorType == "" {
		fe.ErrorType = r.Header.Get(headerErrorType)
	}
	if fe.ErrorType == "" {
		fe.ErrorType = "Unknown"
	}
	return &fe
}

// trailerError decodes the error aws-lambda-go puts in /response trailers
// when the handler's response reader fails.
func trailerError(t http.Header) *FunctionError {
	fe := FunctionError{ErrorType: t.Get(headerErrorType)}
	if raw, err := base64.StdEncoding.DecodeString(t.Get(trailerErrorBody)); err == nil {
		if body, ok := decodeFunctionError(raw); ok {
			fe.ErrorMessage = body.ErrorMessage
			fe.StackTrace = body.StackTrace
		}
	}
	return &fe
}

// decodeFunctionError reads an error document. Its stackTrace is a list of
// strings in most runtimes but a list of {path, line, label} frames in
// aws-lambda-go's; frames become "path:line label" lines.
func decodeFunctionError(raw []byte) (FunctionError, bool) {
	var doc struct {
		ErrorMessage string          `json:"errorMessage"`
		ErrorType    string          `json:"errorType"`
		StackTrace   json.RawMessage `json:"stackTrace"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil || (doc.ErrorType == "" && doc.ErrorMessage == "") {
		return FunctionError{}, false
	}
	fe := FunctionError{ErrorMessage: doc.ErrorMessage, ErrorType: doc.ErrorType}
	if len(doc.StackTrace) == 0 {
		return fe, true
	}
	if json.Unmarshal(doc.StackTrace, &fe.StackTrace) == nil {
		return fe, true
	}
	var frames []struct {
		Path  string `json:"path"`
		Line  int    `json:"line"`
		Label string `json:"label"`
	}
	if json.Unmarshal(doc.StackTrace, &frames) == nil {
		fe.StackTrace = make([]string, 0, len(frames))
		for _, fr := range frames {
			fe.StackTrace = append(fe.StackTrace, fmt.Sprintf("%s:%d %s", fr.Path, fr.Line, fr.Label))
		}
	}
	return fe, true
}

func writeAccepted(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusAccepted)
	_, _ = io.WriteString(w, `{"status":"OK"}`)
}

func writeAPIError(w http.ResponseWriter, status int, errorType, message string) {
	body, _ := json.Marshal(FunctionError{ErrorType: errorType, ErrorMessage: message})
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}
