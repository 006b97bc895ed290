package token

import "errors"

// ErrTokenInvalid matches (errors.Is) every reason Verify rejects a token
// for. Callers answer all of them with the same 401: the specific sentinel
// is for logs and metrics, never for the client. Verify errors that do not
// match ErrTokenInvalid are faults (the key ring could not be loaded) and
// deserve a 5xx. No error text ever contains the token.
var ErrTokenInvalid = errors.New("token: invalid access token")

// The specific rejection reasons; each also matches ErrTokenInvalid.
var (
	// ErrTokenMalformed: not a compact JWS of the expected shape or size, or a
	// header this service never issues.
	ErrTokenMalformed error = &rejection{"token: malformed access token"}
	// ErrTokenSignature: the algorithm is not EdDSA or the signature does not
	// verify.
	ErrTokenSignature error = &rejection{"token: access token signature invalid"}
	// ErrUnknownKey: the kid names no key of the ring (unknown, or rotated out).
	ErrUnknownKey error = &rejection{"token: access token signed by an unknown key"}
	// ErrTokenExpired: exp is in the past (beyond the leeway).
	ErrTokenExpired error = &rejection{"token: access token expired"}
	// ErrTokenNotYetValid: nbf or iat is in the future (beyond the leeway).
	ErrTokenNotYetValid error = &rejection{"token: access token not yet valid"}
	// ErrTokenClaims: a claim is missing, of the wrong issuer or audience, or
	// has a value this service never issues.
	ErrTokenClaims error = &rejection{"token: access token claims invalid"}
)

// rejection is a token-rejection sentinel that also matches ErrTokenInvalid.
type rejection struct{ msg string }

func (r *rejection) Error() string { return r.msg }

// Is makes every rejection match ErrTokenInvalid.
func (r *rejection) Is(target error) bool { return target == ErrTokenInvalid }
