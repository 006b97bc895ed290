package restapi

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/aws/aws-lambda-go/events"
)

// BenchmarkGatewayOverhead measures what the gateway adds per request —
// routing, event encoding, response decoding and mapping, logging to a
// discarding logger — with an invoker that answers at once.
func BenchmarkGatewayOverhead(b *testing.B) {
	cases := []struct {
		name    string
		target  string
		headers map[string][]string
	}{
		{name: "public", target: "/v1/echo/abc?x=1"},
		{name: "cached authorizer", target: "/v1/users/u1", headers: bearer},
	}
	for _, bc := range cases {
		b.Run(bc.name, func(b *testing.B) {
			inv := newFakeInvoker()
			inv.set("AuthFunction", policy("u", map[string]any{"role": "intern"}, stmt("Allow", "*")))
			inv.fallback = respond(events.APIGatewayProxyResponse{StatusCode: 200, Body: `{"ok":true}`,
				Headers: map[string]string{"Content-Type": "application/json", "Cache-Control": "no-store"}})
			g := newTestGateway(b, "api.yaml", inv, nil)
			r := httptest.NewRequest(http.MethodGet, bc.target, nil)
			for k, vs := range bc.headers {
				r.Header[k] = vs
			}
			b.ReportAllocs()
			for b.Loop() {
				w := httptest.NewRecorder()
				g.ServeHTTP(w, r)
				if w.Code != 200 {
					b.Fatalf("status %d", w.Code)
				}
				inv.mu.Lock()
				inv.calls = inv.calls[:0] // the fake's call log would grow without bound
				inv.mu.Unlock()
			}
		})
	}
}
