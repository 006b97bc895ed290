package token

import (
	"context"
	"testing"
)

func BenchmarkIssue(b *testing.B) {
	c := &clock{now: testNow}
	issuer := newIssuer(b, StaticKeyRing{Ring: &KeyRing{Current: newTestKey(b)}}, c)
	s := mentor()
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := issuer.Issue(ctx, s); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerifyToken(b *testing.B) {
	c := &clock{now: testNow}
	src := StaticKeyRing{Ring: &KeyRing{Current: newTestKey(b)}}
	ctx := context.Background()
	raw, _, err := newIssuer(b, src, c).Issue(ctx, mentor())
	if err != nil {
		b.Fatal(err)
	}
	verifier := newVerifier(b, src, c)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := verifier.Verify(ctx, raw); err != nil {
			b.Fatal(err)
		}
	}
}
