package restapi

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
)

// TestOverLoopback runs the gateway behind a real HTTP server on 127.0.0.1,
// as the devstack does: what the client sees on the wire and what the
// function receives from a real connection.
func TestOverLoopback(t *testing.T) {
	inv := newFakeInvoker()
	inv.set("EchoFunction", respond(events.APIGatewayProxyResponse{StatusCode: 200, Body: "ok",
		MultiValueHeaders: map[string][]string{"Set-Cookie": {"a=1", "b=2"}}}))
	g := newTestGateway(t, "api.yaml", inv, nil)
	srv := httptest.NewServer(g)
	defer srv.Close()
	u, err := url.Parse(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(u.Host)

	resp, err := srv.Client().Post(srv.URL+"/v1/echo/1", "text/plain", strings.NewReader("hi"))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != "ok" {
		t.Fatalf("status %d body %q", resp.StatusCode, body)
	}
	if len(resp.Header.Values("Set-Cookie")) != 2 {
		t.Errorf("Set-Cookie = %v", resp.Header.Values("Set-Cookie"))
	}
	id := resp.Header.Get("x-amzn-RequestId")
	if !uuidLike.MatchString(id) {
		t.Errorf("x-amzn-RequestId = %q", id)
	}
	ev := decodeEvent(t, inv.callsTo("EchoFunction")[0])
	if ev.RequestContext.Identity.SourceIP != "127.0.0.1" || ev.Headers["X-Forwarded-Port"] != port ||
		ev.RequestContext.RequestID != id || ev.Body != "hi" || ev.RequestContext.DomainName != u.Host {
		t.Errorf("event from a real connection: sourceIp %q port %q requestId %q body %q domain %q",
			ev.RequestContext.Identity.SourceIP, ev.Headers["X-Forwarded-Port"], ev.RequestContext.RequestID, ev.Body, ev.RequestContext.DomainName)
	}

	// A chunked upload over the limit is cut off with 413.
	pr, pw := io.Pipe()
	go func() {
		chunk := make([]byte, 1<<20)
		for range 11 {
			if _, err := pw.Write(chunk); err != nil {
				return
			}
		}
		pw.Close()
	}()
	req, err := http.NewRequest(http.MethodPost, srv.URL+"/v1/echo/1", pr)
	if err != nil {
		t.Fatal(err)
	}
	resp, err = srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	pr.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("chunked oversized upload: status %d, want 413", resp.StatusCode)
	}
	if n := len(inv.callsTo("EchoFunction")); n != 1 {
		t.Errorf("oversized upload reached the function")
	}
}
