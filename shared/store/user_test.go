package store_test

import (
	"bytes"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/vip-platform/backend/shared/ids"
	"github.com/vip-platform/backend/shared/store"
)

func TestNewRejectsBadConfig(t *testing.T) {
	db := &dynamodb.Client{}
	tests := []struct {
		name   string
		client store.DynamoDB
		table  string
		opts   []store.Option
	}{
		{"nil client", nil, "t", nil},
		{"empty table", db, "", nil},
		{"nil clock", db, "t", []store.Option{store.WithClock(nil)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := store.New(tc.client, tc.table, tc.opts...); err == nil {
				t.Fatal("New accepted a bad configuration")
			}
		})
	}
}

func TestCreateUserRoundTrip(t *testing.T) {
	e := newEnv(t)
	u := newUser("  Ada.Lovelace@Example.com ")
	u.OrgID = ids.New(ids.Org)
	u.Role = "mentor"
	u.MFA = store.MFA{Enabled: true, SecretCiphertext: []byte{1, 2, 3}, PendingCiphertext: []byte{4}, LastStep: 7}
	if err := e.st.CreateUser(ctx(t), u); err != nil {
		t.Fatalf("CreateUser: %v", err)
	}
	got, err := e.st.GetUser(ctx(t), u.ID)
	if err != nil {
		t.Fatalf("GetUser: %v", err)
	}
	want := u
	want.Email, want.EmailNorm, want.Status, want.Version = "Ada.Lovelace@Example.com", "ada.lovelace@example.com", store.UserActive, 1
	want.CreatedAt, want.UpdatedAt = base, base
	if !usersEqual(got, want) {
		t.Fatalf("GetUser = %+v\nwant %+v", got, want)
	}

	for _, email := range []string{"ada.lovelace@example.com", "ADA.LOVELACE@EXAMPLE.COM ", u.Email} {
		byEmail, err := e.st.GetUserByEmail(ctx(t), email)
		if err != nil {
			t.Fatalf("GetUserByEmail(%q): %v", email, err)
		}
		if byEmail.ID != u.ID {
			t.Fatalf("GetUserByEmail(%q) = %s, want %s", email, byEmail.ID, u.ID)
		}
	}

	// The org-members index of the data model holds the user.
	out, err := e.db.Query(ctx(t), &dynamodb.QueryInput{
		TableName: aws.String(e.table), IndexName: aws.String("GSI1"),
		KeyConditionExpression:    aws.String("GSI1PK = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": &types.AttributeValueMemberS{Value: "ORG#" + u.OrgID}},
	})
	if err != nil {
		t.Fatalf("query GSI1: %v", err)
	}
	if len(out.Items) != 1 {
		t.Fatalf("GSI1 has %d items for the org, want 1", len(out.Items))
	}
}

func TestCreateUserWithoutOrgHasNoIndexKey(t *testing.T) {
	e := newEnv(t)
	u := mustUser(t, e, "solo@example.com")
	out, err := e.db.GetItem(ctx(t), &dynamodb.GetItemInput{
		TableName: aws.String(e.table),
		Key: map[string]types.AttributeValue{
			"PK": &types.AttributeValueMemberS{Value: "USER#" + u.ID}, "SK": &types.AttributeValueMemberS{Value: "PROFILE"},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range []string{"GSI1PK", "GSI1SK", "orgId", "mfaSecret", "mfaPending"} {
		if _, ok := out.Item[a]; ok {
			t.Errorf("attribute %s present on a user without org/MFA", a)
		}
	}
}

func usersEqual(a, b store.User) bool {
	return a.ID == b.ID && a.Email == b.Email && a.EmailNorm == b.EmailNorm && a.DisplayName == b.DisplayName &&
		a.Role == b.Role && a.OrgID == b.OrgID && a.Status == b.Status && a.PasswordHash == b.PasswordHash &&
		a.MFA.Enabled == b.MFA.Enabled && bytes.Equal(a.MFA.SecretCiphertext, b.MFA.SecretCiphertext) &&
		bytes.Equal(a.MFA.PendingCiphertext, b.MFA.PendingCiphertext) && a.MFA.LastStep == b.MFA.LastStep &&
		a.CreatedAt.Equal(b.CreatedAt) && a.UpdatedAt.Equal(b.UpdatedAt) && a.Version == b.Version
}

func TestCreateUserRejectsInvalid(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name   string
		mutate func(*store.User)
	}{
		{"malformed id", func(u *store.User) { u.ID = "usr_x#PROFILE" }},
		{"id of another type", func(u *store.User) { u.ID = ids.New(ids.Org) }},
		{"invalid email", func(u *store.User) { u.Email = "Ada <ada@example.com>" }},
		{"emailNorm disagrees", func(u *store.User) { u.EmailNorm = "other@example.com" }},
		{"invalid org id", func(u *store.User) { u.OrgID = "ORG#1" }},
		{"empty role", func(u *store.User) { u.Role = " " }},
		{"unknown status", func(u *store.User) { u.Status = "deleted" }},
		{"no password hash", func(u *store.User) { u.PasswordHash = "" }},
		{"mfa enabled without secret", func(u *store.User) { u.MFA.Enabled = true }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			u := newUser("valid@example.com")
			tc.mutate(&u)
			err := e.st.CreateUser(ctx(t), u)
			if err == nil {
				t.Fatal("CreateUser accepted an invalid user")
			}
			if errors.Is(err, store.ErrEmailTaken) || errors.Is(err, store.ErrConflict) {
				t.Fatalf("validation failure reported as %v", err)
			}
		})
	}
	// None of them claimed the email.
	if err := e.st.CreateUser(ctx(t), newUser("valid@example.com")); err != nil {
		t.Fatalf("valid user after rejected ones: %v", err)
	}
}

func TestCreateUserEmailTaken(t *testing.T) {
	e := newEnv(t)
	first := mustUser(t, e, "taken@example.com")
	tests := []struct{ name, email string }{
		{"same address", "taken@example.com"},
		{"other case", "TAKEN@Example.Com"},
		{"surrounding space", " taken@example.com "},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			u := newUser(tc.email)
			err := e.st.CreateUser(ctx(t), u)
			if !errors.Is(err, store.ErrEmailTaken) {
				t.Fatalf("CreateUser(%q) = %v, want ErrEmailTaken", tc.email, err)
			}
			if _, err := e.st.GetUser(ctx(t), u.ID); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("loser's user item exists: %v", err)
			}
		})
	}
	got, err := e.st.GetUserByEmail(ctx(t), "taken@example.com")
	if err != nil || got.ID != first.ID {
		t.Fatalf("claim moved: %v %v", got.ID, err)
	}
}

func TestCreateUserConcurrentSameEmail(t *testing.T) {
	e := newEnv(t)
	const n = 20
	users := make([]store.User, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		users[i] = newUser(fmt.Sprintf("Race@Example.com%s", []string{"", " "}[i%2]))
		wg.Go(func() {
			<-start
			errs[i] = e.st.CreateUser(ctx(t), users[i])
		})
	}
	close(start)
	wg.Wait()
	winner := -1
	for i, err := range errs {
		switch {
		case err == nil:
			if winner >= 0 {
				t.Fatalf("two registrations succeeded: %d and %d", winner, i)
			}
			winner = i
		case !errors.Is(err, store.ErrEmailTaken):
			t.Fatalf("registration %d: %v, want ErrEmailTaken", i, err)
		}
	}
	if winner < 0 {
		t.Fatal("no registration succeeded")
	}
	got, err := e.st.GetUserByEmail(ctx(t), "race@example.com")
	if err != nil || got.ID != users[winner].ID {
		t.Fatalf("GetUserByEmail = %s, %v; want winner %s", got.ID, err, users[winner].ID)
	}
}

func TestGetUserNotFound(t *testing.T) {
	e := newEnv(t)
	u := mustUser(t, e, "present@example.com")
	tests := []struct {
		name string
		get  func() error
	}{
		{"unknown id", func() error { _, err := e.st.GetUser(ctx(t), ids.New(ids.User)); return err }},
		{"malformed id", func() error { _, err := e.st.GetUser(ctx(t), "nope"); return err }},
		{"key injection", func() error { _, err := e.st.GetUser(ctx(t), u.ID+"#SESSION#x"); return err }},
		{"unknown email", func() error { _, err := e.st.GetUserByEmail(ctx(t), "absent@example.com"); return err }},
		{"invalid email", func() error { _, err := e.st.GetUserByEmail(ctx(t), "present@example.com>"); return err }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.get(); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("got %v, want ErrNotFound", err)
			}
		})
	}
}

func TestUserUpdates(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name   string
		update func(u store.User, version int64) (store.User, error)
		check  func(t *testing.T, got store.User)
	}{
		{
			name: "set password",
			update: func(u store.User, v int64) (store.User, error) {
				return e.st.SetPassword(ctx(t), u.ID, "$argon2id$new", v)
			},
			check: func(t *testing.T, got store.User) {
				if got.PasswordHash != "$argon2id$new" {
					t.Errorf("PasswordHash = %q", got.PasswordHash)
				}
			},
		},
		{
			name: "suspend",
			update: func(u store.User, v int64) (store.User, error) {
				return e.st.SetStatus(ctx(t), u.ID, store.UserSuspended, v)
			},
			check: func(t *testing.T, got store.User) {
				if got.Status != store.UserSuspended || got.Active() {
					t.Errorf("Status = %q", got.Status)
				}
			},
		},
		{
			name: "set profile",
			update: func(u store.User, v int64) (store.User, error) {
				return e.st.SetProfile(ctx(t), u.ID, "Grace Hopper", v)
			},
			check: func(t *testing.T, got store.User) {
				if got.DisplayName != "Grace Hopper" {
					t.Errorf("DisplayName = %q", got.DisplayName)
				}
			},
		},
		{
			name: "enrol mfa",
			update: func(u store.User, v int64) (store.User, error) {
				return e.st.SetMFA(ctx(t), u.ID, store.MFA{PendingCiphertext: []byte("pending")}, v)
			},
			check: func(t *testing.T, got store.User) {
				if got.MFA.Enabled || string(got.MFA.PendingCiphertext) != "pending" || got.MFA.SecretCiphertext != nil {
					t.Errorf("MFA = %+v", got.MFA)
				}
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			u := mustUser(t, e, tc.name[:3]+ids.New(ids.User)[4:12]+"@example.com")
			e.clk.Advance(time.Minute)
			got, err := tc.update(u, u.Version)
			if err != nil {
				t.Fatalf("update: %v", err)
			}
			if got.Version != u.Version+1 {
				t.Errorf("Version = %d, want %d", got.Version, u.Version+1)
			}
			if !got.UpdatedAt.Equal(e.clk.Now()) || !got.CreatedAt.Equal(u.CreatedAt) {
				t.Errorf("UpdatedAt/CreatedAt = %v/%v", got.UpdatedAt, got.CreatedAt)
			}
			tc.check(t, got)
			stored, err := e.st.GetUser(ctx(t), u.ID)
			if err != nil || stored.Version != got.Version {
				t.Fatalf("stored version %d, %v", stored.Version, err)
			}
			tc.check(t, stored)

			if _, err := tc.update(u, u.Version); !errors.Is(err, store.ErrConflict) {
				t.Errorf("stale version: %v, want ErrConflict", err)
			}
			if _, err := tc.update(store.User{ID: ids.New(ids.User)}, 1); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("unknown user: %v, want ErrNotFound", err)
			}
			if _, err := tc.update(store.User{ID: "usr_bad"}, 1); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("malformed id: %v, want ErrNotFound", err)
			}
		})
	}
}

func TestUserUpdatesRejectInvalid(t *testing.T) {
	e := newEnv(t)
	u := mustUser(t, e, "inv@example.com")
	tests := []struct {
		name string
		call func() error
	}{
		{"empty password hash", func() error { _, err := e.st.SetPassword(ctx(t), u.ID, "", u.Version); return err }},
		{"unknown status", func() error { _, err := e.st.SetStatus(ctx(t), u.ID, "banned", u.Version); return err }},
		{"mfa enabled without secret", func() error {
			_, err := e.st.SetMFA(ctx(t), u.ID, store.MFA{Enabled: true}, u.Version)
			return err
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.call(); err == nil || errors.Is(err, store.ErrConflict) || errors.Is(err, store.ErrNotFound) {
				t.Fatalf("got %v, want a validation error", err)
			}
		})
	}
	if got, _ := e.st.GetUser(ctx(t), u.ID); got.Version != u.Version {
		t.Fatalf("rejected updates changed the version to %d", got.Version)
	}
}

func TestConcurrentUpdatesExactlyOneWins(t *testing.T) {
	e := newEnv(t)
	u := mustUser(t, e, "busy@example.com")
	const n = 10
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			_, errs[i] = e.st.SetProfile(ctx(t), u.ID, fmt.Sprintf("name %d", i), u.Version)
		})
	}
	wg.Wait()
	ok := 0
	for i, err := range errs {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, store.ErrConflict):
			t.Fatalf("update %d: %v", i, err)
		}
	}
	if ok != 1 {
		t.Fatalf("%d concurrent updates of version %d succeeded, want 1", ok, u.Version)
	}
}

func TestSetMFAKeepsLastStepAndClears(t *testing.T) {
	e := newEnv(t)
	u := mustUser(t, e, "mfa@example.com")
	if err := e.st.UseMFAStep(ctx(t), u.ID, 100); err != nil {
		t.Fatalf("UseMFAStep: %v", err)
	}
	got, err := e.st.SetMFA(ctx(t), u.ID, store.MFA{Enabled: true, SecretCiphertext: []byte("s"), LastStep: 1}, u.Version)
	if err != nil {
		t.Fatalf("enable: %v", err)
	}
	if !got.MFA.Enabled || string(got.MFA.SecretCiphertext) != "s" || got.MFA.LastStep != 100 {
		t.Fatalf("after enable: %+v", got.MFA)
	}
	got, err = e.st.SetMFA(ctx(t), u.ID, store.MFA{}, got.Version)
	if err != nil {
		t.Fatalf("disable: %v", err)
	}
	if got.MFA.Enabled || got.MFA.SecretCiphertext != nil || got.MFA.PendingCiphertext != nil || got.MFA.LastStep != 100 {
		t.Fatalf("after disable: %+v", got.MFA)
	}
}

func TestUseMFAStep(t *testing.T) {
	e := newEnv(t)
	u := mustUser(t, e, "steps@example.com")
	tests := []struct {
		name   string
		userID string
		step   int64
		want   error
	}{
		{"first step", u.ID, 1000, nil},
		{"later step", u.ID, 1001, nil},
		{"same step replayed", u.ID, 1001, store.ErrConflict},
		{"earlier step", u.ID, 999, store.ErrConflict},
		{"next step", u.ID, 1003, nil},
		{"unknown user", ids.New(ids.User), 5, store.ErrNotFound},
		{"malformed user", "usr_", 5, store.ErrNotFound},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := e.st.UseMFAStep(ctx(t), tc.userID, tc.step)
			if (tc.want == nil && err != nil) || (tc.want != nil && !errors.Is(err, tc.want)) {
				t.Fatalf("UseMFAStep(%d) = %v, want %v", tc.step, err, tc.want)
			}
		})
	}
	got, _ := e.st.GetUser(ctx(t), u.ID)
	if got.MFA.LastStep != 1003 || got.Version != u.Version {
		t.Fatalf("LastStep %d, Version %d", got.MFA.LastStep, got.Version)
	}
}

func TestUseMFAStepConcurrent(t *testing.T) {
	e := newEnv(t)
	u := mustUser(t, e, "replay@example.com")
	const n = 10
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { errs[i] = e.st.UseMFAStep(ctx(t), u.ID, 42) })
	}
	wg.Wait()
	ok := 0
	for i, err := range errs {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, store.ErrConflict):
			t.Fatalf("attempt %d: %v", i, err)
		}
	}
	if ok != 1 {
		t.Fatalf("one TOTP step accepted %d times, want 1", ok)
	}
}

func TestMarkBootstrapped(t *testing.T) {
	e := newEnv(t)
	if err := e.st.MarkBootstrapped(ctx(t)); err != nil {
		t.Fatalf("first: %v", err)
	}
	if err := e.st.MarkBootstrapped(ctx(t)); !errors.Is(err, store.ErrAlreadyBootstrapped) {
		t.Fatalf("second: %v, want ErrAlreadyBootstrapped", err)
	}
	admin := newUser("root@example.com")
	admin.Role = "admin"
	if err := e.st.CreateFirstAdmin(ctx(t), admin); !errors.Is(err, store.ErrAlreadyBootstrapped) {
		t.Fatalf("CreateFirstAdmin after marker: %v, want ErrAlreadyBootstrapped", err)
	}
	if _, err := e.st.GetUserByEmail(ctx(t), "root@example.com"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("admin created despite marker: %v", err)
	}
}

func TestCreateFirstAdmin(t *testing.T) {
	e := newEnv(t)
	mustUser(t, e, "taken@example.com")
	admin := newUser("taken@example.com")
	admin.Role = "admin"
	// A failed bootstrap leaves no marker behind, so it can be retried.
	if err := e.st.CreateFirstAdmin(ctx(t), admin); !errors.Is(err, store.ErrEmailTaken) {
		t.Fatalf("taken email: %v, want ErrEmailTaken", err)
	}
	admin.Email = "root@example.com"
	if err := e.st.CreateFirstAdmin(ctx(t), admin); err != nil {
		t.Fatalf("retry: %v", err)
	}
	got, err := e.st.GetUserByEmail(ctx(t), "root@example.com")
	if err != nil || got.ID != admin.ID || got.Role != "admin" {
		t.Fatalf("admin = %+v, %v", got, err)
	}
	if err := e.st.MarkBootstrapped(ctx(t)); !errors.Is(err, store.ErrAlreadyBootstrapped) {
		t.Fatalf("marker missing after CreateFirstAdmin: %v", err)
	}
}

func TestCreateFirstAdminConcurrent(t *testing.T) {
	e := newEnv(t)
	const n = 10
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			u := newUser(fmt.Sprintf("admin%d@example.com", i))
			u.Role = "admin"
			errs[i] = e.st.CreateFirstAdmin(ctx(t), u)
		})
	}
	wg.Wait()
	ok := 0
	for i, err := range errs {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, store.ErrAlreadyBootstrapped):
			t.Fatalf("bootstrap %d: %v", i, err)
		}
	}
	if ok != 1 {
		t.Fatalf("%d bootstraps succeeded, want 1", ok)
	}
}
