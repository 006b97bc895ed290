package restapi

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"math/big"
)

const idAlphabet = "0123456789abcdefghijklmnopqrstuvwxyz"

// derivedID returns a stable lower-case alphanumeric ID of length n for a
// seed, shaped like API Gateway's API and resource IDs, so events and
// methodArns stay the same across devstack restarts.
func derivedID(seed string, n int) string {
	sum := sha256.Sum256([]byte(seed))
	v := new(big.Int).SetBytes(sum[:])
	base := big.NewInt(int64(len(idAlphabet)))
	out := make([]byte, n)
	mod := new(big.Int)
	for i := range out {
		v.DivMod(v, base, mod)
		out[i] = idAlphabet[mod.Int64()]
	}
	return string(out)
}

// newRequestID returns a random UUID (version 4), the form of API
// Gateway's requestId.
func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+).
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	var out [36]byte
	hex.Encode(out[0:8], b[0:4])
	out[8] = '-'
	hex.Encode(out[9:13], b[4:6])
	out[13] = '-'
	hex.Encode(out[14:18], b[6:8])
	out[18] = '-'
	hex.Encode(out[19:23], b[8:10])
	out[23] = '-'
	hex.Encode(out[24:], b[10:])
	return string(out[:])
}

// newExtendedID returns an ID shaped like API Gateway's extendedRequestId
// (also sent as x-amz-apigw-id).
func newExtendedID() string {
	var b [10]byte
	_, _ = rand.Read(b[:])
	return base64.StdEncoding.EncodeToString(b[:])
}
