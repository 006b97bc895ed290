package restapi

import (
	"encoding/base64"
	jsonv2 "encoding/json/v2"
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// proxyResponse is the Lambda proxy output format. API Gateway rejects any
// other member ("Malformed Lambda proxy response"), so decoding is strict:
// unknown or case-mismatched members, duplicates and trailing data fail.
type proxyResponse struct {
	StatusCode        *int                `json:"statusCode"`
	Headers           map[string]string   `json:"headers"`
	MultiValueHeaders map[string][]string `json:"multiValueHeaders"`
	Body              *string             `json:"body"`
	IsBase64Encoded   bool                `json:"isBase64Encoded"`
}

// errMalformed marks a function result that is not a valid proxy response.
var errMalformed = errors.New("malformed Lambda proxy response")

func decodeProxyResponse(payload []byte) (*proxyResponse, error) {
	var pr *proxyResponse
	if err := jsonv2.Unmarshal(payload, &pr, jsonv2.RejectUnknownMembers(true)); err != nil {
		return nil, fmt.Errorf("%w: %v", errMalformed, err)
	}
	if pr == nil {
		return nil, fmt.Errorf("%w: null", errMalformed)
	}
	if pr.StatusCode == nil {
		return nil, fmt.Errorf("%w: no statusCode", errMalformed)
	}
	if *pr.StatusCode < 100 || *pr.StatusCode > 599 {
		return nil, fmt.Errorf("%w: statusCode %d", errMalformed, *pr.StatusCode)
	}
	return pr, nil
}

// writeProxyResponse maps a proxy response onto the HTTP response:
// headers and multiValueHeaders merge (multiValueHeaders wins for a name in
// both), Content-Type defaults to application/json, and a base64 body is
// decoded only when the request's first Accept type is a binary media type;
// otherwise the client gets the base64 text, as from API Gateway.
func (g *Gateway) writeProxyResponse(w http.ResponseWriter, in *inbound, pr *proxyResponse) (int, error) {
	var body []byte
	if pr.Body != nil {
		body = []byte(*pr.Body)
	}
	if pr.IsBase64Encoded && g.isBinary(firstAccept(in.headers["Accept"])) {
		dec, err := base64.StdEncoding.DecodeString(string(body))
		if err != nil {
			return 0, fmt.Errorf("%w: body is not valid base64", errMalformed)
		}
		body = dec
	}
	h := w.Header()
	for k, v := range pr.Headers {
		if _, both := pr.MultiValueHeaders[k]; both {
			continue
		}
		h.Set(k, v)
	}
	for k, vs := range pr.MultiValueHeaders {
		h.Del(k)
		for _, v := range vs {
			h.Add(k, v)
		}
	}
	// The gateway's own request ID header is not the function's to set.
	h.Del("X-Amzn-Requestid")
	if h.Get("Content-Type") == "" {
		h.Set("Content-Type", "application/json")
	}
	w.WriteHeader(*pr.StatusCode)
	_, _ = w.Write(body)
	return *pr.StatusCode, nil
}

func firstAccept(accept string) string {
	first, _, _ := strings.Cut(accept, ",")
	return strings.TrimSpace(first)
}
