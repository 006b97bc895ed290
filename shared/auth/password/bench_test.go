package password

import "testing"

// The benchmarks run argon2id at the production parameters: their figures
// are the per-login CPU cost and bound the login function's latency.

func BenchmarkHash(b *testing.B) {
	h, err := NewHasher(DefaultParams)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := h.Hash("correct horse battery staple"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerify(b *testing.B) {
	h, err := NewHasher(DefaultParams)
	if err != nil {
		b.Fatal(err)
	}
	encoded, err := h.Hash("correct horse battery staple")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if ok, err := h.Verify("correct horse battery staple", encoded); !ok || err != nil {
			b.Fatalf("Verify = %v, %v", ok, err)
		}
	}
}

func BenchmarkDummyVerify(b *testing.B) {
	h, err := NewHasher(DefaultParams)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		h.DummyVerify("correct horse battery staple")
	}
}
