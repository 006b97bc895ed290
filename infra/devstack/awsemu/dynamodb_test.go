package awsemu

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

func TestDynamoDBQueryOnGSI(t *testing.T) {
	e, _, env := provisioned(t, testTemplate, nil, Options{})
	db := e.Clients().DynamoDB
	ctx := t.Context()
	table := ref(t, env, "ItemsTable")
	items := []struct {
		pk, owner, title string
		created          int
	}{
		{"item#1", "usr_a", "first", 10},
		{"item#2", "usr_b", "second", 20},
		{"item#3", "usr_a", "third", 30},
		{"item#4", "usr_a", "fourth", 40},
	}
	for _, it := range items {
		if _, err := db.PutItem(ctx, &dynamodb.PutItemInput{
			TableName: aws.String(table),
			Item: map[string]ddbtypes.AttributeValue{
				"PK":        &ddbtypes.AttributeValueMemberS{Value: it.pk},
				"SK":        &ddbtypes.AttributeValueMemberS{Value: "meta"},
				"Owner":     &ddbtypes.AttributeValueMemberS{Value: it.owner},
				"CreatedAt": &ddbtypes.AttributeValueMemberN{Value: fmt.Sprint(it.created)},
				"Title":     &ddbtypes.AttributeValueMemberS{Value: it.title},
			},
		}); err != nil {
			t.Fatalf("PutItem: %v", err)
		}
	}
	tests := []struct {
		name  string
		owner string
		after int
		want  []string
	}{
		{"all of one owner, newest first", "usr_a", 0, []string{"fourth", "third", "first"}},
		{"range condition on the GSI sort key", "usr_a", 15, []string{"fourth", "third"}},
		{"another owner", "usr_b", 0, []string{"second"}},
		{"no items", "usr_c", 0, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// Pages of one item exercise ExclusiveStartKey on the index.
			p := dynamodb.NewQueryPaginator(db, &dynamodb.QueryInput{
				TableName:                aws.String(table),
				IndexName:                aws.String("ByOwner"),
				KeyConditionExpression:   aws.String("#o = :o AND CreatedAt > :after"),
				ExpressionAttributeNames: map[string]string{"#o": "Owner"},
				ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{
					":o":     &ddbtypes.AttributeValueMemberS{Value: tc.owner},
					":after": &ddbtypes.AttributeValueMemberN{Value: fmt.Sprint(tc.after)},
				},
				ScanIndexForward: aws.Bool(false),
				Limit:            aws.Int32(1),
			})
			var got []string
			for pages := 0; p.HasMorePages(); pages++ {
				if pages > 10 {
					t.Fatal("paginator does not end")
				}
				out, err := p.NextPage(ctx)
				if err != nil {
					t.Fatalf("Query: %v", err)
				}
				for _, it := range out.Items {
					got = append(got, it["Title"].(*ddbtypes.AttributeValueMemberS).Value)
				}
			}
			if !slices.Equal(got, tc.want) {
				t.Fatalf("titles = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestDynamoDBTableExistsWaiter(t *testing.T) {
	e, _, env := provisioned(t, repoTemplate, nil, Options{})
	w := dynamodb.NewTableExistsWaiter(e.Clients().DynamoDB, func(o *dynamodb.TableExistsWaiterOptions) {
		o.MinDelay, o.MaxDelay = 10*time.Millisecond, 20*time.Millisecond
	})
	if err := w.Wait(t.Context(), &dynamodb.DescribeTableInput{TableName: aws.String(ref(t, env, "MainTable"))}, 5*time.Second); err != nil {
		t.Fatalf("TableExists waiter: %v", err)
	}
}

func TestDynamoDBUnsupportedOperation(t *testing.T) {
	e, _, env := provisioned(t, repoTemplate, nil, Options{})
	_, err := e.Clients().DynamoDB.UpdateTimeToLive(t.Context(), &dynamodb.UpdateTimeToLiveInput{
		TableName:               aws.String(ref(t, env, "MainTable")),
		TimeToLiveSpecification: &ddbtypes.TimeToLiveSpecification{AttributeName: aws.String("expiresAt"), Enabled: aws.Bool(true)},
	})
	if code := errorCode(err); code != "UnknownOperationException" {
		t.Fatalf("UpdateTimeToLive error code = %q, want UnknownOperationException", code)
	}
}

func TestDynamoDBCallsAreCounted(t *testing.T) {
	e := start(t, Options{})
	before := e.DynamoDBCalls()
	db := e.Clients().DynamoDB
	for range 3 {
		_, _ = db.ListTables(context.Background(), &dynamodb.ListTablesInput{})
		_, _ = db.DescribeTable(context.Background(), &dynamodb.DescribeTableInput{TableName: aws.String("missing")})
	}
	after := e.DynamoDBCalls()
	if got := after["DescribeTable"] - before["DescribeTable"]; got != 3 {
		t.Errorf("DescribeTable counted %d times, want 3", got)
	}
	if got := after["ListTables"] - before["ListTables"]; got != 3 {
		t.Errorf("unsupported ListTables counted %d times, want 3 (every request counts)", got)
	}
}
