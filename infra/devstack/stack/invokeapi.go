package stack

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"

	"github.com/vip-platform/backend/infra/devstack/lambdart"
)

// invokeAPI serves the Lambda Invoke API (POST
// /2015-03-31/functions/{name}/invocations), the same endpoint `sam local
// start-lambda` offers, so `aws lambda invoke --endpoint-url` and the AWS SDK
// invoke devstack functions exactly as they invoke deployed ones.
type invokeAPI struct {
	stack *Stack
}

const maxInvokePayload = 6 << 20 // Lambda's synchronous payload limit

func (a *invokeAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	const prefix, suffix = "/2015-03-31/functions/", "/invocations"
	if r.Method != http.MethodPost || !strings.HasPrefix(r.URL.Path, prefix) || !strings.HasSuffix(r.URL.Path, suffix) {
		lambdaError(w, http.StatusNotFound, "ResourceNotFoundException", "unknown operation")
		return
	}
	name := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, prefix), suffix)
	if i := strings.LastIndex(name, ":function:"); i >= 0 { // a full ARN
		name = name[i+len(":function:"):]
	}
	if t := r.Header.Get("X-Amz-Invocation-Type"); t != "" && t != "RequestResponse" {
		lambdaError(w, http.StatusBadRequest, "InvalidParameterValueException", "the devstack supports RequestResponse invocations only")
		return
	}
	payload, err := io.ReadAll(io.LimitReader(r.Body, maxInvokePayload+1))
	if err != nil {
		lambdaError(w, http.StatusBadRequest, "InvalidRequestContentException", "could not read payload")
		return
	}
	if len(payload) > maxInvokePayload {
		lambdaError(w, http.StatusRequestEntityTooLarge, "RequestTooLargeException", "payload exceeds 6 MB")
		return
	}
	if len(payload) == 0 {
		payload = []byte("{}")
	}
	if !json.Valid(payload) {
		lambdaError(w, http.StatusBadRequest, "InvalidRequestContentException", "payload is not valid JSON")
		return
	}
	res, err := a.stack.Invoke(r.Context(), name, payload)
	w.Header().Set("X-Amz-Executed-Version", "$LATEST")
	switch {
	case errors.Is(err, lambdart.ErrUnknownFunction):
		lambdaError(w, http.StatusNotFound, "ResourceNotFoundException", "Function not found: "+name)
	case errors.Is(err, lambdart.ErrTimeout):
		unhandled(w, lambdart.FunctionError{ErrorType: "Sandbox.Timedout", ErrorMessage: "Task timed out"})
	case errors.Is(err, lambdart.ErrCrashed):
		unhandled(w, lambdart.FunctionError{ErrorType: "Runtime.ExitError", ErrorMessage: "Runtime exited"})
	case errors.Is(err, lambdart.ErrInitFailed):
		unhandled(w, lambdart.FunctionError{ErrorType: "Runtime.InitError", ErrorMessage: "Init failed"})
	case err != nil:
		lambdaError(w, http.StatusInternalServerError, "ServiceException", "invocation failed")
	case res.FunctionError != nil:
		unhandled(w, *res.FunctionError)
	default:
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(res.Payload)
	}
}

func unhandled(w http.ResponseWriter, fe lambdart.FunctionError) {
	w.Header().Set("X-Amz-Function-Error", "Unhandled")
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(fe)
}

func lambdaError(w http.ResponseWriter, status int, typ, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Amzn-ErrorType", typ)
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"Type": "User", "message": msg})
}
