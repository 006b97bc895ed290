package account

import (
	"bytes"
	"context"
	"encoding/json/jsontext"
	"encoding/json/v2"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"unicode/utf8"

	"github.com/vip-platform/backend/shared/obs"
	"github.com/vip-platform/backend/shared/validate"
)

// errInternal is what the operator is told about a fault; the cause is in
// the function's log, under the invocation's request ID when there is one.
const errInternal = "internal error; the cause is logged"

// DecodePayload decodes a CLI invocation payload into v (a pointer to a
// struct) as strictly as REST bodies are decoded: unknown members (a typo'd
// "reasn"), duplicate or case-mismatched names, wrong types, trailing data
// and invalid UTF-8 are refused. The error names the member, never its value
// (payloads carry passwords), and never Go types.
func DecodePayload(raw []byte, v any) error {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return refuse("invalid payload: a JSON object is required", nil)
	}
	if raw[0] != '{' {
		return refuse("invalid payload: a JSON object is required", nil)
	}
	err := json.Unmarshal(raw, v, json.RejectUnknownMembers(true))
	if err == nil {
		return nil
	}
	var se *json.SemanticError
	var sy *jsontext.SyntacticError
	switch {
	case errors.As(err, &se) && errors.Is(err, json.ErrUnknownName):
		return refuse(fmt.Sprintf("invalid payload: %q is not an accepted field", member(se.JSONPointer)), nil)
	case errors.As(err, &se):
		return refuse(fmt.Sprintf("invalid payload: %q has the wrong type", member(se.JSONPointer)), nil)
	case errors.As(err, &sy) && errors.Is(err, jsontext.ErrDuplicateName):
		return refuse(fmt.Sprintf("invalid payload: %q appears more than once", member(sy.JSONPointer)), nil)
	case !utf8.Valid(raw):
		return refuse("invalid payload: not valid UTF-8", nil)
	}
	return refuse("invalid payload: not a single valid JSON object", nil)
}

// member renders the offending member's name, bounded and printable (it is
// caller-chosen text going back to the caller and into the log).
func member(p jsontext.Pointer) string {
	s := strings.TrimPrefix(string(p), "/")
	s = strings.ToValidUTF8(s, "\uFFFD")
	if r := []rune(s); len(r) > 64 {
		s = string(r[:64]) + "…"
	}
	return s
}

// RunCLI runs one admin CLI invocation: it decodes raw strictly into a P,
// runs op, and returns op's result or an error fit for the operator's
// terminal. Refusals and validation errors say what is wrong; any other
// error says only "internal error" and the request ID. Each invocation logs
// exactly one line: the outcome, with the full cause for failures.
func RunCLI[P, R any](ctx context.Context, log *slog.Logger, raw []byte, op func(context.Context, P) (R, error)) (R, error) {
	var zero R
	log = obs.WithRequest(ctx, log, "")
	var p P
	err := DecodePayload(raw, &p)
	if err == nil {
		var r R
		if r, err = op(obs.NewContext(ctx, log), p); err == nil {
			log.Info("invocation succeeded")
			return r, nil
		}
	}
	var ref *Refusal
	var ve validate.Errors
	switch {
	case errors.As(err, &ve):
		log.Info("invocation refused", slog.String("error", ve.Error()))
		return zero, errors.New("invalid payload: " + fieldList(ve))
	case errors.As(err, &ref):
		log.Info("invocation refused", slog.String("error", err.Error()))
		return zero, errors.New(ref.Message)
	}
	log.Error("invocation failed", slog.String("error", err.Error()))
	if id := invocationID(ctx); id != "" {
		return zero, errors.New(errInternal + " under request ID " + id)
	}
	return zero, errors.New(errInternal)
}

func fieldList(ve validate.Errors) string {
	parts := make([]string, len(ve))
	for i, f := range ve {
		parts[i] = f.Field + " " + f.Reason
	}
	return strings.Join(parts, "; ")
}
