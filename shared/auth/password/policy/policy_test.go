package policy

import (
	"errors"
	"strings"
	"testing"
)

func TestCheck(t *testing.T) {
	janeContext := []string{"jane.doe@example.com", "Jane Doe"}
	tests := []struct {
		name     string
		password string
		context  []string
		want     Code // "" means accepted
	}{
		{"strong passphrase", "kitten-violin-31-parsnip", nil, ""},
		{"strong with context", "kitten-violin-31-parsnip", janeContext, ""},
		{"random 12 characters", "vQ7#xL2!mZ9p", nil, ""},
		{"spaces are fine", "velvet  orbit  mango  91", nil, ""},
		{"no composition rules: all lower case", "mauve tractor quietly hums", nil, ""},
		{"exactly 128 characters", strongOf(128), nil, ""},
		{"12 CJK characters (36 bytes)", "日本語のパスワードです長", nil, ""},

		{"11 characters", "vQ7#xL2!mZ9", nil, CodeTooShort},
		{"11 CJK characters though 33 bytes", "日本語のパスワードです", nil, CodeTooShort},
		{"empty", "", nil, CodeTooShort},
		{"129 characters", strongOf(129), nil, CodeTooLong},
		{"invalid UTF-8", "valid prefix \xff\xfe then junk", nil, CodeInvalidText},

		{"common password with digits", "password1234", nil, CodeTooCommon},
		{"keyboard walk", "qwertyuiopasdf", nil, CodeTooCommon},
		{"l33t common password", "p@ssw0rd12345", nil, CodeTooCommon},
		{"l33t with ones", "L3tM31nN0w!!", nil, CodeTooCommon},
		{"season and year", "Summer2024!!", nil, CodeTooCommon},
		{"one repeated character", "aaaaaaaaaaaa", nil, CodeTooGuessable},
		{"repeated pair", strings.Repeat("ab", 64), nil, CodeTooGuessable},
		{"repeated short unit, cut short", strings.Repeat("xq7", 5), nil, CodeTooGuessable},
		{"digit sequence", "123456789012", nil, CodeTooGuessable},

		{"contains email local part", "xx-jane.doe-xx-91!", janeContext, CodePersonalInfo},
		{"contains domain label", "example-rocks-hard-42", janeContext, CodePersonalInfo},
		{"contains name, other case", "ilovejANE!!mauve", []string{"jane.d@corp.test", "JANE Doe"}, CodePersonalInfo},
		{"contains name in l33t", "J4ne-Tr1ps-Qz-Vox", janeContext, CodePersonalInfo},
		{"contains display-name word", "alexandra!2024xyz", []string{"Alexandra Smith"}, CodePersonalInfo},
		{"contains letters run of local part", "quiet-marco-lantern", []string{"marco1987@mail.test"}, CodePersonalInfo},
		{"contains digits run of local part", "lantern-1987-quiet", []string{"marco1987@mail.test"}, CodePersonalInfo},
		{"unicode name", "müller-lantern-quiet", []string{"Jürgen Müller"}, CodePersonalInfo},
		{"three-letter name is not rejected on sight", "doe-kitten-violin-31", janeContext, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := Check(tc.password, tc.context...)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("Check rejected a good password: %v", err)
				}
				return
			}
			var pe *Error
			if !errors.As(err, &pe) {
				t.Fatalf("Check error = %v, want *Error with code %s", err, tc.want)
			}
			if pe.Code != tc.want {
				t.Fatalf("code = %s (%s), want %s", pe.Code, pe.Reason, tc.want)
			}
			if tc.password != "" && strings.Contains(err.Error(), tc.password) {
				t.Fatal("error text echoes the password")
			}
			if !strings.HasPrefix(err.Error(), "password ") || pe.Reason == "" {
				t.Fatalf("error text %q is not a user-actionable sentence", err.Error())
			}
		})
	}
}

// strongOf returns a high-entropy password of exactly n characters.
func strongOf(n int) string {
	const alphabet = "Kq8#vZ1!mW4$rT7&yB3%nH6*xJ9@cF2^"
	var b strings.Builder
	for i := range n {
		b.WriteByte(alphabet[(i*7+i/len(alphabet))%len(alphabet)])
	}
	return b.String()
}

func TestReasons(t *testing.T) {
	tests := []struct {
		name     string
		password string
		context  []string
		want     string
	}{
		{"short", "short", nil, "password must be at least 12 characters"},
		{"long", strongOf(200), nil, "password must be at most 128 characters"},
		{"common", "password1234", nil, "password is too common"},
		{"guessable", "aaaaaaaaaaaa", nil, "password is too easy to guess"},
		{"personal", "jane.doe.is.great", []string{"jane.doe@example.com"}, "password must not contain your email or name"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := Check(tc.password, tc.context...)
			if err == nil || err.Error() != tc.want {
				t.Fatalf("Check error = %v, want %q", err, tc.want)
			}
		})
	}
}

func TestContextTokens(t *testing.T) {
	tests := []struct {
		name    string
		context []string
		want    []string
	}{
		{"email", []string{"Jane.Doe+work@Acme-Corp.example"},
			[]string{"jane.doe+work", "jane", "doe", "work", "acme-corp", "acme", "corp", "example"}},
		{"name with digits", []string{"R2D2 Unit"}, []string{"r2d2 unit", "r2d2", "r", "2", "d", "unit"}},
		{"blank", []string{"  "}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := contextTokens(tc.context)
			if strings.Join(got, "|") != strings.Join(tc.want, "|") {
				t.Fatalf("tokens = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestDeleetVariantsBounded(t *testing.T) {
	tests := []struct {
		name     string
		password string
		want     []string
	}{
		{"no symbols", "plain words here", []string{"plain words here"}},
		{"unambiguous", "p@ssw0rd", []string{"p@ssw0rd", "password"}},
		{"ambiguous one", "he11o", []string{"he11o", "heiio", "hello"}},
		// Every symbol of the l33t table at once: zxcvbn's own matcher would
		// try hundreds of combinations; the variants stay at five.
		{"every symbol", "4@8({[<3690$5+%2!1|7", []string{
			"4@8({[<3690$5+%2!1|7", "aabcccceggosstxziiit", "aabcccceggosstxziiil",
			"aabcccceggosstxzillt", "aabcccceggosstxzilll",
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := deleetVariants(tc.password)
			if len(got) > 5 {
				t.Fatalf("%d variants, want at most 5", len(got))
			}
			for _, w := range tc.want {
				found := false
				for _, g := range got {
					found = found || g == w
				}
				if !found {
					t.Fatalf("variants %q lack %q", got, w)
				}
			}
		})
	}
}

func TestRepeatedUnit(t *testing.T) {
	tests := []struct {
		name, in, unit string
		ok             bool
	}{
		{"pair", "abababab", "ab", true},
		{"cut short", "abcabcab", "abc", true},
		{"twice", "Summer24Summer24", "Summer24", true},
		{"not repeated", "abcdefgh", "", false},
		{"overlap only", "abcab", "", false},
		{"runes", "日本日本日本", "日本", true},
		{"single character", "a", "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			unit, ok := repeatedUnit(tc.in)
			if unit != tc.unit || ok != tc.ok {
				t.Fatalf("repeatedUnit(%q) = %q, %v; want %q, %v", tc.in, unit, ok, tc.unit, tc.ok)
			}
		})
	}
}

// FuzzCheck makes sure no input makes the policy (or zxcvbn under it) panic,
// and that no rejection echoes the password.
func FuzzCheck(f *testing.F) {
	for _, s := range []string{"password1234", "日本語のパスワードです長い", "4@8({[<3690$5+%2!1|7", "\xff\xfe", "aaaaaaaaaaaaaaaa"} {
		f.Add(s, "jane.doe@example.com")
	}
	f.Fuzz(func(t *testing.T, password, email string) {
		err := Check(password, email)
		if err == nil {
			return
		}
		var pe *Error
		if !errors.As(err, &pe) {
			t.Fatalf("error %v is not *Error", err)
		}
		if len(password) >= 4 && strings.Contains(pe.Reason, password) {
			t.Fatal("reason echoes the password")
		}
	})
}
