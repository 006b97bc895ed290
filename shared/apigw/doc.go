// Package apigw is the HTTP edge of every REST handler (API Gateway REST
// API, v1 proxy events): strict JSON body decoding, the single error
// envelope, security and CORS headers, the caller's Principal from the
// authorizer context, and validated path and query parameters.
//
// A handler is written against Handler and wired once in main:
//
//	func (h *Handler) Handle(ctx context.Context, req events.APIGatewayProxyRequest) (apigw.Response, error) {
//		p, err := apigw.PrincipalFrom(req)
//		if err != nil {
//			return apigw.Response{}, err // 401
//		}
//		var in createProgramInput
//		if err := apigw.Decode(req, &in); err != nil {
//			return apigw.Response{}, err // 400/413/415
//		}
//		...
//		return apigw.JSON(http.StatusCreated, out)
//	}
//
//	lambda.Start(apigw.Wrap("programs-create", logger, h.Handle, apigw.WithAllowedOrigins(cfg.AllowedOrigins)))
//
// Error bodies always look like
//
//	{"error":{"code":"validation_failed","message":"...","fields":[{"field":"email","reason":"..."}],"requestId":"..."}}
//
// and a 5xx never says more than {"error":{"code":"internal_error",...,"requestId":"..."}}.
package apigw
