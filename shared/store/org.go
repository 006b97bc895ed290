package store

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/vip-platform/backend/shared/domain"
	"github.com/vip-platform/backend/shared/ids"
)

// Org is a stored organization: the domain entity itself.
type Org = domain.Org

// OrgActive is the one organization status so far; it is stored so a later
// suspension of an organization needs no migration.
const OrgActive = "active"

func orgPK(id string) string            { return "ORG#" + id }
func orgKey(id string) StartKey         { return key(orgPK(id), skProfile) }
func orgInvitesGSI1PK(id string) string { return "ORG#" + id + "#INVITES" }

// orgItem is the stored organization (docs/data-model.md).
type orgItem struct {
	PK        string    `dynamodbav:"PK"`
	SK        string    `dynamodbav:"SK"`
	Type      string    `dynamodbav:"type"`
	ID        string    `dynamodbav:"id"`
	Name      string    `dynamodbav:"name"`
	Status    string    `dynamodbav:"status"`
	CreatedBy string    `dynamodbav:"createdBy"`
	CreatedAt time.Time `dynamodbav:"createdAt"`
	UpdatedAt time.Time `dynamodbav:"updatedAt"`
	Version   int64     `dynamodbav:"version"`
}

func (it orgItem) org() Org {
	return Org{ID: it.ID, Name: it.Name, CreatedBy: it.CreatedBy, CreatedAt: it.CreatedAt, UpdatedAt: it.UpdatedAt, Version: it.Version}
}

func decodeOrg(av map[string]types.AttributeValue) (Org, error) {
	var it orgItem
	if err := attributevalue.UnmarshalMap(av, &it); err != nil {
		return Org{}, fmt.Errorf("decode org: %w", err)
	}
	return it.org(), nil
}

// CreateOrgWithInvite creates an organization and the invite of its first
// org admin in one transaction, so an organization never exists without a
// way for its admin to join (and a failed invite leaves no orphan org).
// The invite must belong to the org. Both start at version 1.
func (s *Store) CreateOrgWithInvite(ctx context.Context, o Org, inv Invite) error {
	if !ids.Valid(o.ID, ids.Org) || o.Name == "" || o.CreatedAt.IsZero() {
		return wrap("create org", errors.New("org needs a valid id, a name and createdAt"))
	}
	if inv.OrgID != o.ID {
		return wrap("create org", errors.New("invite of another org"))
	}
	if o.UpdatedAt.IsZero() {
		o.UpdatedAt = o.CreatedAt
	}
	orgAV, err := attributevalue.MarshalMap(orgItem{
		PK: orgPK(o.ID), SK: skProfile, Type: "org", ID: o.ID, Name: o.Name, Status: OrgActive,
		CreatedBy: o.CreatedBy, CreatedAt: o.CreatedAt.UTC(), UpdatedAt: o.UpdatedAt.UTC(), Version: 1,
	})
	if err != nil {
		return wrap("create org", fmt.Errorf("encode org: %w", err))
	}
	invPut, err := s.invitePut(inv)
	if err != nil {
		return wrap("create org", err)
	}
	_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		{Put: &types.Put{TableName: aws.String(s.table), Item: orgAV, ConditionExpression: aws.String("attribute_not_exists(PK)")}},
		invPut,
	}})
	if err != nil {
		if _, ok := cancellation(err); ok {
			return wrap("create org", fmt.Errorf("org or invite exists: %w: %w", ErrConflict, err))
		}
		return wrap("create org", err)
	}
	return nil
}

// GetOrg returns the organization, or ErrNotFound (also for a malformed ID).
func (s *Store) GetOrg(ctx context.Context, id string) (Org, error) {
	if !ids.Valid(id, ids.Org) {
		return Org{}, wrap("get org", ErrNotFound)
	}
	av, found, err := s.getItem(ctx, orgKey(id))
	if err != nil {
		return Org{}, wrap("get org", err)
	}
	if !found {
		return Org{}, wrap("get org", ErrNotFound)
	}
	o, err := decodeOrg(av)
	return o, wrap("get org", err)
}

// GetOrgs returns the organizations with the given IDs that exist, keyed by
// ID, in as few BatchGetItem calls as possible (a listing page names at most
// MaxPageSize organizations). Malformed and unknown IDs are simply absent.
func (s *Store) GetOrgs(ctx context.Context, orgIDs []string) (map[string]Org, error) {
	out := make(map[string]Org, len(orgIDs))
	seen := make(map[string]bool, len(orgIDs))
	var keys []map[string]types.AttributeValue
	flush := func() error {
		if len(keys) == 0 {
			return nil
		}
		items, err := s.batchGet(ctx, keys)
		if err != nil {
			return err
		}
		for _, av := range items {
			o, err := decodeOrg(av)
			if err != nil {
				return err
			}
			out[o.ID] = o
		}
		keys = keys[:0]
		return nil
	}
	for _, id := range orgIDs {
		if seen[id] || !ids.Valid(id, ids.Org) {
			continue
		}
		seen[id] = true
		keys = append(keys, orgKey(id))
		if len(keys) == 100 {
			if err := flush(); err != nil {
				return nil, wrap("get orgs", err)
			}
		}
	}
	if err := flush(); err != nil {
		return nil, wrap("get orgs", err)
	}
	return out, nil
}

// ListOrgMembers returns the organization's active mentors and org admins,
// by display name then ID. Suspended accounts are left out: the list is what
// an org admin picks mentors from. Every page is read (an organization's
// staff is small; the API returns it whole).
func (s *Store) ListOrgMembers(ctx context.Context, orgID string) ([]User, error) {
	if !ids.Valid(orgID, ids.Org) {
		return nil, wrap("list org members", ErrNotFound)
	}
	p := dynamodb.NewQueryPaginator(s.db, &dynamodb.QueryInput{
		TableName:                 aws.String(s.table),
		IndexName:                 aws.String(indexGSI1),
		KeyConditionExpression:    aws.String("GSI1PK = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(orgGSI1PK(orgID))},
		Limit:                     aws.Int32(s.pageSize),
	})
	out := []User{}
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, wrap("list org members", err)
		}
		for _, av := range page.Items {
			u, err := decodeUser(av)
			if err != nil {
				return nil, wrap("list org members", err)
			}
			// The index projects whole users; the org and role are checked
			// again so only staff of this org are ever listed.
			if u.OrgID == orgID && u.Active() && (u.Role == string(domain.RoleMentor) || u.Role == string(domain.RoleOrgAdmin)) {
				out = append(out, u)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].DisplayName != out[j].DisplayName {
			return out[i].DisplayName < out[j].DisplayName
		}
		return out[i].ID < out[j].ID
	})
	return out, nil
}
