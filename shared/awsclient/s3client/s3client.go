// Package s3client builds S3 clients. It is apart from awsclient so that
// only the functions that use S3 link the S3 SDK (its package initialisation
// and size are a measurable part of a cold start: docs/performance.md).
package s3client

import (
	"os"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// New returns an S3 client, addressing buckets path-style when an S3 endpoint
// override is configured: emulators serve http://host:port/bucket/key, not
// bucket.host virtual hosts (which would also need wildcard DNS on
// 127.0.0.1). Against real S3 the SDK's default virtual-hosted style stays.
func New(cfg aws.Config) *s3.Client {
	pathStyle := s3EndpointOverridden(cfg)
	return s3.NewFromConfig(cfg, func(o *s3.Options) {
		if pathStyle {
			o.UsePathStyle = true
		}
	})
}

// s3EndpointOverridden mirrors the SDK's own precedence: a BaseEndpoint in
// cfg, or AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL unless configured
// endpoints are ignored.
func s3EndpointOverridden(cfg aws.Config) bool {
	if cfg.BaseEndpoint != nil && *cfg.BaseEndpoint != "" {
		return true
	}
	if strings.EqualFold(os.Getenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"), "true") {
		return false
	}
	return os.Getenv("AWS_ENDPOINT_URL_S3") != "" || os.Getenv("AWS_ENDPOINT_URL") != ""
}
