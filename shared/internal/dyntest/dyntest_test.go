package dyntest_test

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/vip-platform/backend/shared/internal/dyntest"
)

const templatePath = "../../../template.yaml"

func s(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }

func TestMainTableFromTemplate(t *testing.T) {
	ctx := context.Background()
	db := dyntest.New(t)
	table := dyntest.CreateTableFromTemplate(t, db, templatePath, "MainTable")

	_, err := db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(table),
		Item: map[string]types.AttributeValue{
			"PK": s("USER#1"), "SK": s("PROFILE"),
			"GSI1PK": s("EMAIL#a@example.com"), "GSI1SK": s("USER#1"),
			"GSI2PK": s("ORG#1"), "GSI2SK": s("USER#1"),
		},
	})
	if err != nil {
		t.Fatalf("put: %v", err)
	}
	for _, idx := range []string{"GSI1", "GSI2"} {
		pk := map[string]string{"GSI1": "EMAIL#a@example.com", "GSI2": "ORG#1"}[idx]
		out, err := db.Query(ctx, &dynamodb.QueryInput{
			TableName:                 aws.String(table),
			IndexName:                 aws.String(idx),
			KeyConditionExpression:    aws.String("#pk = :pk"),
			ExpressionAttributeNames:  map[string]string{"#pk": idx + "PK"},
			ExpressionAttributeValues: map[string]types.AttributeValue{":pk": s(pk)},
		})
		if err != nil {
			t.Fatalf("query %s: %v", idx, err)
		}
		if len(out.Items) != 1 {
			t.Fatalf("query %s: %d items, want 1", idx, len(out.Items))
		}
	}

	// The key schema is the template's: an item without SK is refused.
	_, err = db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(table),
		Item:      map[string]types.AttributeValue{"PK": s("USER#2")},
	})
	if err == nil {
		t.Fatal("put without SK accepted")
	}
}

func TestTablesAreIsolated(t *testing.T) {
	ctx := context.Background()
	db := dyntest.New(t)
	a := dyntest.CreateTableFromTemplate(t, db, templatePath, "AuditTable")
	b := dyntest.CreateTableFromTemplate(t, db, templatePath, "AuditTable")
	if a == b {
		t.Fatalf("same table name %q twice", a)
	}
	item := map[string]types.AttributeValue{"PK": s("X"), "SK": s("Y")}
	if _, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(a), Item: item}); err != nil {
		t.Fatalf("put: %v", err)
	}
	out, err := db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(b), Key: item})
	if err != nil {
		t.Fatalf("get: %v", err)
	}
	if len(out.Item) != 0 {
		t.Fatalf("item leaked across tables: %v", out.Item)
	}
	_, err = db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(a), Item: item, ConditionExpression: aws.String("attribute_not_exists(PK)"),
	})
	var ccf *types.ConditionalCheckFailedException
	if !errors.As(err, &ccf) {
		t.Fatalf("conditional put on existing item: got %v, want ConditionalCheckFailedException", err)
	}
}
