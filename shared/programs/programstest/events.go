package programstest

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/vip-platform/backend/shared/apigw"
	"github.com/vip-platform/backend/shared/apigw/apigwtest"
	"github.com/vip-platform/backend/shared/store"
)

// The IDs the sample events of events/<function>/ use (the authorizer's
// sub and org, and the path's programId and taskId).
const (
	EventOrgID           = "org_vt4uyqfwmojtclrr54bl5y4ama"
	EventAdminID         = "usr_gjgizvov6ifsi6dytdek2gplqq"
	EventMentorID        = "usr_ro3kqncxnje7goyhoo5fmaugk4"
	EventInternID        = "usr_n32bncopreielhxveokft47iqq"
	EventPlatformAdminID = "usr_f3u23yxzenkztqmpcxukaozswu"
	EventProgramID       = "prg_pzbvjwum7qtocannlryll624xe"
	EventTaskID          = "tsk_nzfzhu2tj6nblctnx3qakaatsm"
)

// EventWorld is the organization and people the sample events name.
type EventWorld struct {
	Org                   store.Org
	Admin, Mentor, Intern store.User
}

// SeedEventWorld creates the sample events' organization, its org admin
// and mentor, and the intern.
func (e *Env) SeedEventWorld(t testing.TB) EventWorld {
	t.Helper()
	w := EventWorld{Org: e.OrgWithID(t, EventOrgID, "Acme Robotics")}
	w.Admin = e.UserWithID(t, EventAdminID, apigw.RoleOrgAdmin, EventOrgID)
	w.Mentor = e.UserWithID(t, EventMentorID, apigw.RoleMentor, EventOrgID)
	w.Intern = e.UserWithID(t, EventInternID, apigw.RoleIntern, "")
	return w
}

// Events loads every sample event of events/<function>/.
func Events(t testing.TB, function string) []apigwtest.ProxyEvent {
	t.Helper()
	return apigwtest.LoadProxyEvents(t, RepoFile(t, "events/"+function))
}

// ErrorCode returns the error code of an error response ("" for a
// success), failing the test if an error body is not the envelope.
func ErrorCode(t testing.TB, resp events.APIGatewayProxyResponse) string {
	t.Helper()
	if resp.StatusCode < 400 {
		return ""
	}
	return apigwtest.DecodeError(t, resp).Code
}

// ErrorBody decodes an error response's envelope strictly.
func ErrorBody(t testing.TB, resp events.APIGatewayProxyResponse) apigw.ErrorBody {
	t.Helper()
	return apigwtest.DecodeError(t, resp)
}

// Payload is one CLI sample event (events/<function>/<case>.json).
type Payload struct {
	Name string
	Raw  []byte
}

// Payloads reads every *.json file of events/<function>/, in name order,
// failing if there is none.
func Payloads(t testing.TB, function string) []Payload {
	t.Helper()
	dir := RepoFile(t, "events/"+function)
	paths, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("programstest: no *.json events in %s (%v)", dir, err)
	}
	slices.Sort(paths)
	out := make([]Payload, 0, len(paths))
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, Payload{Name: strings.TrimSuffix(filepath.Base(p), ".json"), Raw: b})
	}
	return out
}
