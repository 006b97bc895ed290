package store_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/vip-platform/backend/shared/store"
)

func TestNormalizeEmail(t *testing.T) {
	long := strings.Repeat("a", 64) + "@" + strings.Repeat("b", 63) + "." + strings.Repeat("c", 63) + "." + strings.Repeat("d", 58) + ".io"
	if len(long) != 254 {
		t.Fatalf("fixture is %d characters, want 254", len(long))
	}
	tests := []struct {
		name, in, want string
	}{
		{"plain", "ada@example.com", "ada@example.com"},
		{"lowercases whole address", "Ada.Lovelace@Example.COM", "ada.lovelace@example.com"},
		{"trims white space", " \tada@example.com\n", "ada@example.com"},
		{"keeps plus tag", "ada+vip@example.com", "ada+vip@example.com"},
		{"keeps dots in local part", "a.d.a@example.com", "a.d.a@example.com"},
		{"subdomain and hyphen", "x@mail-1.example.co.uk", "x@mail-1.example.co.uk"},
		{"max length 254", long, long},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := store.NormalizeEmail(tc.in)
			if err != nil {
				t.Fatalf("NormalizeEmail(%q): %v", tc.in, err)
			}
			if got != tc.want {
				t.Fatalf("NormalizeEmail(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestNormalizeEmailRejects(t *testing.T) {
	tests := []struct{ name, in string }{
		{"empty", ""},
		{"blank", "   "},
		{"no at", "ada.example.com"},
		{"two ats", "ada@b@example.com"},
		{"quoted at", `"a@b"@example.com`},
		{"display name", "Ada <ada@example.com>"},
		{"angle brackets only", "<ada@example.com>"},
		{"comment", "ada@example.com (Ada)"},
		{"list", "ada@example.com, bob@example.com"},
		{"inner space", "ada lovelace@example.com"},
		{"control char", "ada\x00@example.com"},
		{"newline inside", "ada@exa\nmple.com"},
		{"non-ascii local", "adä@example.com"},
		{"non-ascii domain", "ada@exämple.com"},
		{"empty local", "@example.com"},
		{"empty domain", "ada@"},
		{"dotless domain", "ada@localhost"},
		{"ip literal", "ada@[192.0.2.1]"},
		{"numeric tld", "ada@192.0.2.1"},
		{"leading dot local", ".ada@example.com"},
		{"double dot local", "a..da@example.com"},
		{"double dot domain", "ada@example..com"},
		{"hyphen label edge", "ada@-example.com"},
		{"underscore domain", "ada@ex_ample.com"},
		{"local part too long", strings.Repeat("a", 65) + "@example.com"},
		{"label too long", "ada@" + strings.Repeat("b", 64) + ".com"},
		{"address too long", strings.Repeat("a", 64) + "@" + strings.Repeat(strings.Repeat("b", 60)+".", 4) + "com"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := store.NormalizeEmail(tc.in)
			if !errors.Is(err, store.ErrInvalidEmail) {
				t.Fatalf("NormalizeEmail(%q) = %q, %v; want ErrInvalidEmail", tc.in, got, err)
			}
		})
	}
}
