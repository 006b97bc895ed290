package programs

import (
	"strconv"
	"time"

	"github.com/vip-platform/backend/shared/store"
)

// ProgramView is the openapi Program: what an organization's members see.
type ProgramView struct {
	ID                  string    `json:"id"`
	OrgID               string    `json:"orgId"`
	Title               string    `json:"title"`
	Description         string    `json:"description"`
	Skills              []string  `json:"skills"`
	Capacity            int       `json:"capacity"`
	EnrolledCount       int       `json:"enrolledCount"`
	Status              string    `json:"status"`
	ApplicationOpensAt  time.Time `json:"applicationOpensAt"`
	ApplicationClosesAt time.Time `json:"applicationClosesAt"`
	StartsAt            time.Time `json:"startsAt"`
	EndsAt              time.Time `json:"endsAt"`
	Version             int64     `json:"version"`
	CreatedAt           time.Time `json:"createdAt"`
}

// ETag is the strong entity tag of the version, the value If-Match takes.
func (v ProgramView) ETag() string { return etag(v.Version) }

func etag(version int64) string { return `"` + strconv.FormatInt(version, 10) + `"` }

func programView(p store.Program) ProgramView {
	skills := p.Skills
	if skills == nil {
		skills = []string{}
	}
	return ProgramView{
		ID: p.ID, OrgID: p.OrgID, Title: p.Title, Description: p.Description, Skills: skills,
		Capacity: p.Capacity, EnrolledCount: p.Enrolled, Status: string(p.Status),
		ApplicationOpensAt: p.OpensAt, ApplicationClosesAt: p.ClosesAt, StartsAt: p.StartsAt, EndsAt: p.EndsAt,
		Version: p.Version, CreatedAt: p.CreatedAt,
	}
}

// PublicProgramView is the openapi PublicProgram: what anyone may see. It
// names the organization but carries no organization ID, no emails, no
// capacity or enrolment counts and no version (the struct has no such
// fields, so none can leak by accident).
type PublicProgramView struct {
	ID                  string    `json:"id"`
	Title               string    `json:"title"`
	Description         string    `json:"description"`
	Skills              []string  `json:"skills"`
	Status              string    `json:"status"`
	Organization        string    `json:"organization"`
	ApplicationOpensAt  time.Time `json:"applicationOpensAt"`
	ApplicationClosesAt time.Time `json:"applicationClosesAt"`
	StartsAt            time.Time `json:"startsAt"`
	EndsAt              time.Time `json:"endsAt"`
}

func publicView(p store.Program, orgName string) PublicProgramView {
	skills := p.Skills
	if skills == nil {
		skills = []string{}
	}
	return PublicProgramView{
		ID: p.ID, Title: p.Title, Description: p.Description, Skills: skills, Status: string(p.Status),
		Organization: orgName, ApplicationOpensAt: p.OpensAt, ApplicationClosesAt: p.ClosesAt,
		StartsAt: p.StartsAt, EndsAt: p.EndsAt,
	}
}

// ProgramList is the openapi ProgramList.
type ProgramList struct {
	Items      []ProgramView `json:"items"`
	NextCursor string        `json:"nextCursor,omitempty"`
}

// PublicProgramList is the openapi PublicProgramList.
type PublicProgramList struct {
	Items      []PublicProgramView `json:"items"`
	NextCursor string              `json:"nextCursor,omitempty"`
}

// TaskView is the openapi Task. Exactly one of DueOffsetDays and DueDate is
// set; the other is omitted.
type TaskView struct {
	ID            string    `json:"id"`
	ProgramID     string    `json:"programId"`
	Title         string    `json:"title"`
	Instructions  string    `json:"instructions"`
	DueOffsetDays int       `json:"dueOffsetDays,omitzero"`
	DueDate       time.Time `json:"dueDate,omitzero"`
	Required      bool      `json:"required"`
	MaxScore      int       `json:"maxScore"`
	PassMark      int       `json:"passMark"`
	Version       int64     `json:"version"`
}

// ETag is the strong entity tag of the version.
func (v TaskView) ETag() string { return etag(v.Version) }

func taskView(t store.Task) TaskView {
	return TaskView{
		ID: t.ID, ProgramID: t.ProgramID, Title: t.Title, Instructions: t.Instructions,
		DueOffsetDays: t.DueOffsetDays, DueDate: t.DueDate, Required: t.Required,
		MaxScore: t.MaxScore, PassMark: t.PassMark, Version: t.Version,
	}
}

// TaskList is the openapi TaskList.
type TaskList struct {
	Items []TaskView `json:"items"`
}

// InviteView is the openapi Invite. Code is the only copy of the invite
// code there will ever be: it is not stored, and must not be logged.
type InviteView struct {
	ID        string    `json:"id"`
	Email     string    `json:"email"`
	Role      string    `json:"role"`
	ExpiresAt time.Time `json:"expiresAt"`
	Code      string    `json:"code"`
}

// String leaves the code out, should a view ever be formatted into a log.
func (v InviteView) String() string { return "invite " + v.ID + " (" + v.Role + ")" }

// Member is one entry of the openapi MemberList: no email, no status.
type Member struct {
	ID          string `json:"id"`
	DisplayName string `json:"displayName"`
	Role        string `json:"role"`
}

// MemberList is the openapi MemberList.
type MemberList struct {
	Items []Member `json:"items"`
}
