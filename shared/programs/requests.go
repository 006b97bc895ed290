package programs

import (
	"encoding/json/jsontext"
	"encoding/json/v2"
	"errors"
	"sort"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/vip-platform/backend/shared/apigw"
	"github.com/vip-platform/backend/shared/validate"
)

// Request bodies, member for member the schemas of /tmp/openapi (api-docs):
// handlers decode into them with apigw.Decode, which refuses unknown
// members, wrong types and duplicates; the service validates every field.
// Optional members of PATCH bodies are pointers, and DecodePatch refuses an
// explicit null for them, so "absent" and "null" cannot be confused.

// CreateInviteRequest is the openapi CreateInviteRequest.
type CreateInviteRequest struct {
	Email string `json:"email"`
	Role  string `json:"role"`
}

// CreateProgramRequest is the openapi CreateProgramRequest.
type CreateProgramRequest struct {
	Title               string    `json:"title"`
	Description         string    `json:"description"`
	Skills              []string  `json:"skills"`
	Capacity            int       `json:"capacity"`
	ApplicationOpensAt  time.Time `json:"applicationOpensAt"`
	ApplicationClosesAt time.Time `json:"applicationClosesAt"`
	StartsAt            time.Time `json:"startsAt"`
	EndsAt              time.Time `json:"endsAt"`
}

// UpdateProgramRequest is the openapi UpdateProgramRequest: absent members
// stay as they are.
type UpdateProgramRequest struct {
	Title               *string    `json:"title"`
	Description         *string    `json:"description"`
	Skills              []string   `json:"skills"`
	Capacity            *int       `json:"capacity"`
	ApplicationOpensAt  *time.Time `json:"applicationOpensAt"`
	ApplicationClosesAt *time.Time `json:"applicationClosesAt"`
	StartsAt            *time.Time `json:"startsAt"`
	EndsAt              *time.Time `json:"endsAt"`
}

// TransitionRequest is the openapi TransitionRequest.
type TransitionRequest struct {
	To string `json:"to"`
}

// CreateTaskRequest is the openapi CreateTaskRequest. Required, MaxScore
// and PassMark are pointers so that a missing member is reported as
// missing rather than read as false or 0.
type CreateTaskRequest struct {
	Title         string     `json:"title"`
	Instructions  string     `json:"instructions"`
	DueOffsetDays *int       `json:"dueOffsetDays"`
	DueDate       *time.Time `json:"dueDate"`
	Required      *bool      `json:"required"`
	MaxScore      *int       `json:"maxScore"`
	PassMark      *int       `json:"passMark"`
}

// UpdateTaskRequest is the openapi UpdateTaskRequest: absent members stay
// as they are; giving dueOffsetDays or dueDate switches the due form.
type UpdateTaskRequest struct {
	Title         *string    `json:"title"`
	Instructions  *string    `json:"instructions"`
	DueOffsetDays *int       `json:"dueOffsetDays"`
	DueDate       *time.Time `json:"dueDate"`
	Required      *bool      `json:"required"`
	MaxScore      *int       `json:"maxScore"`
	PassMark      *int       `json:"passMark"`
}

// DecodePatch decodes a PATCH (or create) body into v like apigw.Decode
// and also refuses explicit nulls: a pointer member set to null would
// otherwise read as "absent" and be silently ignored. An object with no
// members is refused too (minProperties: 1) when requireMember is set.
func DecodePatch(req events.APIGatewayProxyRequest, v any, maxBody int64, requireMember bool) error {
	if err := apigw.Decode(req, v, apigw.MaxBodyBytes(maxBody)); err != nil {
		return err
	}
	body, err := apigw.Body(req, maxBody)
	if err != nil {
		return err
	}
	var members map[string]jsontext.Value
	if err := json.Unmarshal(body, &members); err != nil {
		// apigw.Decode accepted it as an object, so this cannot happen.
		return errors.Join(errors.New("programs: re-read body"), err)
	}
	var errs validate.Errors
	names := make([]string, 0, len(members))
	for k := range members {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		if members[k].Kind() == 'n' {
			errs = append(errs, validate.FieldError{Field: k, Reason: "must not be null; leave it out to keep the current value"})
		}
	}
	if len(errs) > 0 {
		e := apigw.NewError(400, apigw.CodeInvalidBody, "The request body is not valid for this route.")
		e.Fields = errs
		return e
	}
	if requireMember && len(members) == 0 {
		return apigw.Validation(validate.Errors{{Field: "body", Reason: "must change at least one field"}})
	}
	return nil
}
