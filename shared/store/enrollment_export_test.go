package store

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

// PutEnrollmentForTest writes e as the accept transaction would, without
// the rest of the transaction, so enrollment reads can be tested alone.
func PutEnrollmentForTest(ctx context.Context, s *Store, e Enrollment) error {
	if err := checkNewEnrollment(e); err != nil {
		return err
	}
	av, err := attributevalue.MarshalMap(toEnrollmentItem(e))
	if err != nil {
		return fmt.Errorf("encode enrollment: %w", err)
	}
	_, err = s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.table), Item: av})
	return err
}
