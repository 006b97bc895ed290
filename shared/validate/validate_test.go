package validate

import (
	"errors"
	"regexp"
	"strings"
	"testing"

	"github.com/vip-platform/backend/shared/ids"
)

func TestChecks(t *testing.T) {
	slug := regexp.MustCompile(`^[a-z0-9-]+$`)
	tests := []struct {
		name  string
		check func(v *Validator) bool
		want  string // expected reason; "" means the check passes
	}{
		{"required ok", func(v *Validator) bool { return v.Required("f", "x") }, ""},
		{"required empty", func(v *Validator) bool { return v.Required("f", "") }, "is required"},
		{"required blank", func(v *Validator) bool { return v.Required("f", " \t ") }, "is required"},

		{"text ok", func(v *Validator) bool { return v.Text("f", "Zoë O'Brien – 李") }, ""},
		{"text empty ok", func(v *Validator) bool { return v.Text("f", "") }, ""},
		{"text NUL", func(v *Validator) bool { return v.Text("f", "a\x00b") }, "must not contain control characters or invalid text"},
		{"text newline", func(v *Validator) bool { return v.Text("f", "a\nb") }, "must not contain control characters or invalid text"},
		{"text DEL", func(v *Validator) bool { return v.Text("f", "a\x7fb") }, "must not contain control characters or invalid text"},
		{"text C1", func(v *Validator) bool { return v.Text("f", "a\u0085b") }, "must not contain control characters or invalid text"},
		{"text bidi override", func(v *Validator) bool { return v.Text("f", "abc\u202Egpj.exe") }, "must not contain control characters or invalid text"},
		{"text bidi isolate", func(v *Validator) bool { return v.Text("f", "a\u2066b") }, "must not contain control characters or invalid text"},
		{"text invalid utf8", func(v *Validator) bool { return v.Text("f", "a\xffb") }, "must not contain control characters or invalid text"},
		{"multiline ok", func(v *Validator) bool { return v.MultilineText("f", "line 1\r\nline\t2\n") }, ""},
		{"multiline NUL", func(v *Validator) bool { return v.MultilineText("f", "a\x00") }, "must not contain control characters or invalid text"},
		{"multiline ESC", func(v *Validator) bool { return v.MultilineText("f", "\x1b[31mred") }, "must not contain control characters or invalid text"},

		{"length ok", func(v *Validator) bool { return v.Length("f", "abc", 1, 3) }, ""},
		{"length runes not bytes", func(v *Validator) bool { return v.Length("f", "ééé", 3, 3) }, ""},
		{"length short", func(v *Validator) bool { return v.Length("f", "ab", 3, 10) }, "must be at least 3 characters"},
		{"length long", func(v *Validator) bool { return v.Length("f", "abcd", 1, 3) }, "must be at most 3 characters"},
		{"length exact", func(v *Validator) bool { return v.Length("f", "ab", 3, 3) }, "must be exactly 3 characters"},
		{"length invalid utf8", func(v *Validator) bool { return v.Length("f", "\xff", 0, 3) }, "must be valid text"},

		{"email ok", func(v *Validator) bool { return v.Email("f", "ada.lovelace+vip@example.co.uk") }, ""},
		{"email empty passes", func(v *Validator) bool { return v.Email("f", "") }, ""},
		{"email no at", func(v *Validator) bool { return v.Email("f", "ada.example.com") }, "must be a valid email address, like name@example.com"},
		{"email two ats", func(v *Validator) bool { return v.Email("f", "a@b@example.com") }, "must be a valid email address, like name@example.com"},
		{"email display name", func(v *Validator) bool { return v.Email("f", "Ada <ada@example.com>") }, "must be a valid email address, like name@example.com"},
		{"email no tld", func(v *Validator) bool { return v.Email("f", "ada@localhost") }, "must be a valid email address, like name@example.com"},
		{"email ip literal", func(v *Validator) bool { return v.Email("f", "ada@[127.0.0.1]") }, "must be a valid email address, like name@example.com"},
		{"email space", func(v *Validator) bool { return v.Email("f", "ada @example.com") }, "must be a valid email address, like name@example.com"},
		{"email non ascii", func(v *Validator) bool { return v.Email("f", "adä@example.com") }, "must be a valid email address, like name@example.com"},
		{"email quoted local", func(v *Validator) bool { return v.Email("f", `"a b"@example.com`) }, "must be a valid email address, like name@example.com"},
		{"email hyphen label", func(v *Validator) bool { return v.Email("f", "a@-x.com") }, "must be a valid email address, like name@example.com"},
		{"email too long", func(v *Validator) bool {
			return v.Email("f", strings.Repeat("a", 64)+"@"+strings.Repeat("b", 190)+".com")
		}, "must be a valid email address, like name@example.com"},
		{"email long local", func(v *Validator) bool { return v.Email("f", strings.Repeat("a", 65)+"@example.com") }, "must be a valid email address, like name@example.com"},

		{"oneof ok", func(v *Validator) bool { return v.OneOf("f", "mentor", "intern", "mentor") }, ""},
		{"oneof case", func(v *Validator) bool { return v.OneOf("f", "Mentor", "intern", "mentor") }, "must be one of: intern, mentor"},

		{"range ok", func(v *Validator) bool { return v.Range("f", 5, 1, 5) }, ""},
		{"range low", func(v *Validator) bool { return v.Range("f", 0, 1, 5) }, "must be between 1 and 5"},
		{"range high", func(v *Validator) bool { return v.Range("f", 6, 1, 5) }, "must be between 1 and 5"},

		{"pattern ok", func(v *Validator) bool {
			return v.Pattern("f", "go-101", slug, "must be lowercase letters, digits and hyphens")
		}, ""},
		{"pattern bad", func(v *Validator) bool {
			return v.Pattern("f", "Go 101", slug, "must be lowercase letters, digits and hyphens")
		}, "must be lowercase letters, digits and hyphens"},

		{"id ok", func(v *Validator) bool { return v.ID("f", ids.New(ids.User), ids.User) }, ""},
		{"id wrong type", func(v *Validator) bool { return v.ID("f", ids.New(ids.Org), ids.User) }, "must be a valid usr_ identifier"},
		{"id garbage", func(v *Validator) bool { return v.ID("f", "1", ids.User) }, "must be a valid usr_ identifier"},

		{"check ok", func(v *Validator) bool { return v.Check(true, "f", "nope") }, ""},
		{"check bad", func(v *Validator) bool { return v.Check(false, "f", "must start after it ends") }, "must start after it ends"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := New()
			ok := tt.check(v)
			err := v.Err()
			if tt.want == "" {
				if !ok || err != nil {
					t.Fatalf("ok=%v err=%v, want pass", ok, err)
				}
				return
			}
			if ok {
				t.Fatalf("check passed, want %q", tt.want)
			}
			var errs Errors
			if !errors.As(err, &errs) {
				t.Fatalf("Err() = %T %v, want Errors", err, err)
			}
			want := Errors{{Field: "f", Reason: tt.want}}
			if len(errs) != 1 || errs[0] != want[0] {
				t.Fatalf("Err() = %+v, want %+v", errs, want)
			}
		})
	}
}

func TestCollectsEveryFieldOnceInOrder(t *testing.T) {
	v := New()
	v.Required("email", "")
	v.Email("email", "") // skipped: email already failed
	v.Required("name", "Ada")
	v.Length("name", "Ada", 5, 10)
	v.Text("name", "\x00") // skipped: name already failed
	v.Range("hours", 99, 1, 40)
	v.Add("email", "second reason is dropped")

	var errs Errors
	if !errors.As(v.Err(), &errs) {
		t.Fatalf("Err() = %v, want Errors", v.Err())
	}
	want := Errors{
		{"email", "is required"},
		{"name", "must be at least 5 characters"},
		{"hours", "must be between 1 and 40"},
	}
	if len(errs) != len(want) {
		t.Fatalf("got %+v, want %+v", errs, want)
	}
	for i := range want {
		if errs[i] != want[i] {
			t.Fatalf("errs[%d] = %+v, want %+v", i, errs[i], want[i])
		}
	}
	if !v.Failed("email") || v.Failed("other") {
		t.Fatal("Failed() does not track failed fields")
	}
	if got := errs.Error(); got != "validation failed: email: is required; name: must be at least 5 characters; hours: must be between 1 and 40" {
		t.Fatalf("Error() = %q", got)
	}
}

func TestErrNilWhenAllPass(t *testing.T) {
	v := New()
	v.Required("email", "a@example.com")
	v.Email("email", "a@example.com")
	if err := v.Err(); err != nil {
		t.Fatalf("Err() = %#v, want untyped nil", err)
	}
}

func TestErrorTextHasNoValues(t *testing.T) {
	v := New()
	secret := "hunter2-very-secret"
	v.Length("password", secret, 50, 128)
	if strings.Contains(v.Err().Error(), secret) {
		t.Fatal("error text contains the submitted value")
	}
}

func TestIsText(t *testing.T) {
	if !IsText("a\tb", true) || IsText("a\tb", false) {
		t.Fatal("IsText multiline handling is wrong")
	}
}

func TestLengthWording(t *testing.T) {
	tests := []struct {
		name     string
		s        string
		min, max int
		want     string
	}{
		{"empty with min 1", "", 1, 10, "must not be empty"},
		{"exactly one", "ab", 1, 1, "must be exactly 1 character"},
		{"at most one", "ab", 0, 1, "must be at most 1 character"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := New()
			v.Length("f", tt.s, tt.min, tt.max)
			var errs Errors
			if !errors.As(v.Err(), &errs) || errs[0].Reason != tt.want {
				t.Fatalf("got %v, want %q", v.Err(), tt.want)
			}
		})
	}
}
