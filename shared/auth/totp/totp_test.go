package totp

import (
	"encoding/base32"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"
)

// rfcSecret is RFC 6238 Appendix B's SHA-1 seed, "12345678901234567890".
var rfcSecret = base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString([]byte("12345678901234567890"))

func TestValidateAtRFC6238Vectors(t *testing.T) {
	// RFC 6238 Appendix B lists 8-digit codes; a 6-digit code is the same
	// truncated value modulo 10^6, i.e. its last six digits.
	tests := []struct {
		name   string
		unix   int64
		rfc8   string
		wantSt int64
	}{
		{"T=59", 59, "94287082", 1},
		{"T=1111111109", 1111111109, "07081804", 37037036},
		{"T=1111111111", 1111111111, "14050471", 37037037},
		{"T=1234567890", 1234567890, "89005924", 41152263},
		{"T=2000000000", 2000000000, "69279037", 66666666},
		{"T=20000000000", 20000000000, "65353130", 666666666},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code := tc.rfc8[2:]
			step, ok := ValidateAt(rfcSecret, code, time.Unix(tc.unix, 0))
			if !ok || step != tc.wantSt {
				t.Fatalf("ValidateAt(%s) = %d, %v; want %d, true", code, step, ok, tc.wantSt)
			}
			if Step(time.Unix(tc.unix, 0)) != tc.wantSt {
				t.Fatalf("Step = %d, want %d", Step(time.Unix(tc.unix, 0)), tc.wantSt)
			}
		})
	}
}

func TestValidateAtSkewAndFormat(t *testing.T) {
	// At T=1111111111 (step 37037037) the RFC vector gives 050471; the codes
	// of neighbouring steps come from the library's generator.
	at := time.Unix(1111111111, 0)
	codeAt := func(step int64) string {
		c, err := totp.GenerateCode(rfcSecret, time.Unix(step*Period, 0))
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	tests := []struct {
		name     string
		secret   string
		code     string
		wantOK   bool
		wantStep int64
	}{
		{"current step", rfcSecret, "050471", true, 37037037},
		{"one step early", rfcSecret, codeAt(37037036), true, 37037036},
		{"one step late", rfcSecret, codeAt(37037038), true, 37037038},
		{"two steps early", rfcSecret, codeAt(37037035), false, 0},
		{"two steps late", rfcSecret, codeAt(37037039), false, 0},
		{"wrong code", rfcSecret, "050472", false, 0},
		{"empty", rfcSecret, "", false, 0},
		{"five digits", rfcSecret, "50471", false, 0},
		{"seven digits", rfcSecret, "0050471", false, 0},
		{"eight-digit RFC code", rfcSecret, "14050471", false, 0},
		{"space padded", rfcSecret, " 050471", false, 0},
		{"trailing newline", rfcSecret, "050471\n", false, 0},
		{"letters", rfcSecret, "05O47l", false, 0},
		{"full-width digits", rfcSecret, "０５０４７１", false, 0},
		{"secret lower case", strings.ToLower(rfcSecret), "050471", false, 0},
		{"secret padded", rfcSecret + "====", "050471", false, 0},
		{"secret too short", rfcSecret[:16], "050471", false, 0},
		{"secret with a line break", rfcSecret[:16] + "\n" + rfcSecret[16:], "050471", false, 0},
		{"secret not base32", "not a secret!", "050471", false, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			step, ok := ValidateAt(tc.secret, tc.code, at)
			if ok != tc.wantOK || step != tc.wantStep {
				t.Fatalf("ValidateAt = %d, %v; want %d, %v", step, ok, tc.wantStep, tc.wantOK)
			}
		})
	}
}

func TestValidateAfterRefusesReplay(t *testing.T) {
	at := time.Unix(1111111111, 0)
	const code, step = "050471", int64(37037037)
	tests := []struct {
		name     string
		lastStep int64
		at       time.Time
		wantOK   bool
	}{
		{"first use", -1, at, true},
		{"after an older code", step - 1, at, true},
		{"same code again", step, at, false},
		{"same code again in the next step", step, at.Add(Period * time.Second), false},
		{"after a newer code", step + 1, at, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := ValidateAfter(rfcSecret, code, tc.at, tc.lastStep)
			if ok != tc.wantOK || ok && got != step {
				t.Fatalf("ValidateAfter = %d, %v; want %d, %v", got, ok, step, tc.wantOK)
			}
		})
	}
}

func TestValidateAtNearEpoch(t *testing.T) {
	// Step 0's neighbour -1 does not exist; validation must neither wrap
	// around nor fail.
	c, err := totp.GenerateCode(rfcSecret, time.Unix(0, 0))
	if err != nil {
		t.Fatal(err)
	}
	if step, ok := ValidateAt(rfcSecret, c, time.Unix(5, 0)); !ok || step != 0 {
		t.Fatalf("ValidateAt near the epoch = %d, %v", step, ok)
	}
}

func TestGenerate(t *testing.T) {
	tests := []struct {
		name    string
		account string
		wantErr bool
	}{
		{"email", "jane.doe+admin@example.com", false},
		{"empty", "", true},
		{"blank", "   ", true},
		{"colon", "evil:account", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e, err := Generate(tc.account)
			if (err != nil) != tc.wantErr {
				t.Fatalf("Generate error = %v, wantErr %v", err, tc.wantErr)
			}
			if err != nil {
				return
			}
			raw, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(e.Secret)
			if err != nil || len(raw) != SecretBytes {
				t.Fatalf("secret decodes to %d bytes (%v), want %d", len(raw), err, SecretBytes)
			}
			u, err := url.Parse(e.URL)
			if err != nil {
				t.Fatalf("URL does not parse: %v", err)
			}
			q := u.Query()
			if u.Scheme != "otpauth" || u.Host != "totp" || u.Path != "/"+Issuer+":"+tc.account ||
				q.Get("issuer") != Issuer || q.Get("secret") != e.Secret || q.Get("algorithm") != "SHA1" ||
				q.Get("digits") != "6" || q.Get("period") != "30" {
				t.Fatalf("URL %s does not describe the enrollment", e.URL)
			}
			now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
			code, err := totp.GenerateCode(e.Secret, now)
			if err != nil {
				t.Fatal(err)
			}
			if _, ok := ValidateAt(e.Secret, code, now); !ok {
				t.Fatal("a code from the new secret does not validate")
			}
			if again, _ := Generate(tc.account); again.Secret == e.Secret {
				t.Fatal("two enrollments share a secret")
			}
			for _, out := range []string{fmt.Sprintf("%v", e), fmt.Sprintf("%+v", e), fmt.Sprintf("%#v", e)} {
				if strings.Contains(out, e.Secret) {
					t.Fatalf("formatted enrollment leaks the secret: %s", out)
				}
			}
		})
	}
}
