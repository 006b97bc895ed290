package policy

import (
	"strings"
	"testing"
)

func BenchmarkCheck(b *testing.B) {
	cases := []struct{ name, password string }{
		{"typical", "kitten-violin-31-parsnip"},
		// 128 characters using every l33t symbol: the input that makes
		// zxcvbn's own l33t matcher take seconds.
		{"worst l33t", strings.Repeat("4@8({[<3690$5+%2!1|7q", 7)[:128]},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				_ = Check(c.password, "jane.doe@example.com", "Jane Doe")
			}
		})
	}
}
