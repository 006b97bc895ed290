package main

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/vip-platform/backend/shared/apigw"
	"github.com/vip-platform/backend/shared/obs"
)

// DynamoDB is the one call the health check makes.
type DynamoDB interface {
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
}

var _ DynamoDB = (*dynamodb.Client)(nil)

// sentinelKey is read on every check. The item need not exist: an answer,
// even "no such item", proves the table is reachable, readable with this
// function's role and decryptable with its KMS key.
const sentinelKey = "HEALTH"

// DefaultCheckTimeout keeps the check well inside the function's 5 s
// timeout, so a hanging table yields a clean 503 rather than a Lambda
// timeout (and API Gateway's bare 502).
const DefaultCheckTimeout = 2 * time.Second

// Handler answers GET /v1/health.
type Handler struct {
	db      DynamoDB
	table   string
	version string
	timeout time.Duration
}

// NewHandler checks the main table named table through db and reports
// version (obs.Version).
func NewHandler(db DynamoDB, table, version string, timeout time.Duration) (*Handler, error) {
	switch {
	case db == nil:
		return nil, errors.New("health: nil DynamoDB client")
	case table == "":
		return nil, errors.New("health: empty table name")
	case timeout <= 0:
		return nil, errors.New("health: check timeout must be positive")
	}
	return &Handler{db: db, table: table, version: version, timeout: timeout}, nil
}

// status is the public body: nothing about the table, endpoint or cause.
type status struct {
	Status  string `json:"status"`
	Version string `json:"version"`
}

// Handle returns 200 {"status":"ok"} when the main table answers, 503
// {"status":"unavailable"} otherwise, with the cause logged once.
func (h *Handler) Handle(ctx context.Context, req events.APIGatewayProxyRequest) (apigw.Response, error) {
	if req.HTTPMethod != http.MethodGet {
		return apigw.Response{}, apigw.MethodNotAllowed(http.MethodGet)
	}
	checkCtx, cancel := context.WithTimeout(ctx, h.timeout)
	defer cancel()
	_, err := h.db.GetItem(checkCtx, &dynamodb.GetItemInput{
		TableName: aws.String(h.table),
		Key: map[string]types.AttributeValue{
			"PK": &types.AttributeValueMemberS{Value: sentinelKey},
			"SK": &types.AttributeValueMemberS{Value: sentinelKey},
		},
		ProjectionExpression: aws.String("PK"),
	})
	if err != nil {
		obs.FromContext(ctx).LogAttrs(ctx, slog.LevelError, "health check failed: main table unreachable",
			slog.String("error", err.Error()))
		return apigw.JSON(http.StatusServiceUnavailable, status{Status: "unavailable", Version: h.version})
	}
	return apigw.JSON(http.StatusOK, status{Status: "ok", Version: h.version})
}
