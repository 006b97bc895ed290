package awsemu

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Staging labels with meaning to Secrets Manager.
const (
	StageCurrent  = "AWSCURRENT"
	StagePrevious = "AWSPREVIOUS"
	StagePending  = "AWSPENDING"
)

const (
	maxSecretsBody     = 1 << 20
	maxSecretValue     = 65536
	maxVersions        = 100
	maxStagesOfVersion = 20
)

var secretNameRE = regexp.MustCompile(`^[A-Za-z0-9/_+=.@-]{1,512}$`)

// secretsManager is a Secrets Manager emulator speaking awsJson1.1 — the
// operations a rotation function and the secrets cache need. Values live in
// memory only and are never logged.
type secretsManager struct {
	region   string
	account  string
	onRotate func(ctx context.Context, secretARN, token string) error
	log      *slog.Logger
	now      func() time.Time

	mu     sync.Mutex
	byName map[string]*secret
}

var _ http.Handler = (*secretsManager)(nil)

type secret struct {
	arn, name, description, kmsKeyID string
	tags                             []smTag
	created, lastChanged             time.Time
	lastAccessed, lastRotated        time.Time
	rotationEnabled                  bool
	rotationLambdaARN                string
	rotationRules                    *smRotationRules
	versions                         map[string]*secretVersion
	// order lists version IDs oldest first.
	order []string
}

type secretVersion struct {
	id           string
	str          *string
	bin          []byte
	stages       []string
	created      time.Time
	lastAccessed time.Time
}

func (v *secretVersion) hasValue() bool { return v.str != nil || v.bin != nil }

func (v *secretVersion) has(stage string) bool { return slices.Contains(v.stages, stage) }

func (v *secretVersion) sameValue(str *string, bin []byte) bool {
	if (v.str == nil) != (str == nil) || (v.bin == nil) != (bin == nil) {
		return false
	}
	return (str == nil || *v.str == *str) && bytes.Equal(v.bin, bin)
}

func newSecretsManager(region, account string, onRotate func(context.Context, string, string) error, log *slog.Logger) *secretsManager {
	return &secretsManager{
		region: region, account: account, onRotate: onRotate, log: log,
		now:    func() time.Time { return time.Now().UTC() },
		byName: map[string]*secret{},
	}
}

// smError is an error answered as {"__type": code, "message": msg}.
type smError struct {
	status int
	code   string
	msg    string
}

func (e *smError) Error() string { return e.code + ": " + e.msg }

func errNotFound(msg string) error {
	return &smError{http.StatusBadRequest, "ResourceNotFoundException", msg}
}
func errInvalidParam(msg string) error {
	return &smError{http.StatusBadRequest, "InvalidParameterException", msg}
}
func errInvalidRequest(msg string) error {
	return &smError{http.StatusBadRequest, "InvalidRequestException", msg}
}
func errExists(msg string) error {
	return &smError{http.StatusBadRequest, "ResourceExistsException", msg}
}

// smOps are the supported operations, by X-Amz-Target suffix.
var smOps = map[string]func(*secretsManager, context.Context, []byte) (any, error){
	"CreateSecret":             (*secretsManager).createSecret,
	"GetSecretValue":           (*secretsManager).getSecretValue,
	"PutSecretValue":           (*secretsManager).putSecretValue,
	"DescribeSecret":           (*secretsManager).describeSecret,
	"UpdateSecretVersionStage": (*secretsManager).updateSecretVersionStage,
	"ListSecretVersionIds":     (*secretsManager).listSecretVersionIds,
	"RotateSecret":             (*secretsManager).rotateSecret,
}

func (m *secretsManager) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/" || r.Method != http.MethodPost {
		http.NotFound(w, r)
		return
	}
	svc, op, _ := strings.Cut(r.Header.Get("X-Amz-Target"), ".")
	fn, ok := smOps[op]
	if svc != "secretsmanager" || !ok {
		writeJSONError(w, http.StatusBadRequest, "UnknownOperationException",
			fmt.Sprintf("operation %q is not supported by the local Secrets Manager", r.Header.Get("X-Amz-Target")))
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxSecretsBody))
	if err != nil {
		writeJSONError(w, http.StatusRequestEntityTooLarge, "InvalidRequestException", "request body too large")
		return
	}
	out, err := fn(m, r.Context(), body)
	if err != nil {
		var se *smError
		if !errors.As(err, &se) {
			m.log.Error("secrets manager operation failed", "op", op, "error", err)
			se = &smError{http.StatusInternalServerError, "InternalServiceError", "internal error"}
		}
		writeJSONError(w, se.status, se.code, se.msg)
		return
	}
	b, err := json.Marshal(out)
	if err != nil {
		writeJSONError(w, http.StatusInternalServerError, "InternalServiceError", "internal error")
		return
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	_, _ = w.Write(b)
}

func decodeInput(body []byte, v any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		body = []byte("{}")
	}
	if err := json.Unmarshal(body, v); err != nil {
		return &smError{http.StatusBadRequest, "SerializationException", "cannot decode request: " + err.Error()}
	}
	return nil
}

// epoch renders a time as Secrets Manager does: fractional epoch seconds.
func epoch(t time.Time) *float64 {
	if t.IsZero() {
		return nil
	}
	s := float64(t.UnixMilli()) / 1000
	return &s
}

// find resolves a SecretId: a name, a full ARN, or an ARN without the
// six-character suffix. Callers hold m.mu.
func (m *secretsManager) find(id string) (*secret, error) {
	if id == "" {
		return nil, errInvalidParam("SecretId is required")
	}
	if s, ok := m.byName[id]; ok {
		return s, nil
	}
	if strings.HasPrefix(id, "arn:") {
		for _, s := range m.byName {
			if s.arn == id || (strings.HasPrefix(s.arn, id+"-") && len(s.arn) == len(id)+7) {
				return s, nil
			}
		}
	}
	return nil, errNotFound("Secrets Manager can't find the specified secret.")
}

func (s *secret) version(id string) *secretVersion { return s.versions[id] }

func (s *secret) withStage(stage string) *secretVersion {
	for _, id := range s.order {
		if v := s.versions[id]; v.has(stage) {
			return v
		}
	}
	return nil
}

// moveStage attaches stage to v, removing it from whichever version had it.
// Moving AWSCURRENT puts AWSPREVIOUS on the version it left, as Secrets
// Manager does.
func (s *secret) moveStage(stage string, v *secretVersion) {
	var from *secretVersion
	for _, id := range s.order {
		w := s.versions[id]
		if w != v && w.has(stage) {
			w.stages = slices.DeleteFunc(w.stages, func(x string) bool { return x == stage })
			from = w
		}
	}
	if !v.has(stage) {
		v.stages = append(v.stages, stage)
	}
	if stage == StageCurrent && from != nil {
		s.moveStage(StagePrevious, from)
	}
}

func (s *secret) removeStage(stage string, v *secretVersion) {
	v.stages = slices.DeleteFunc(v.stages, func(x string) bool { return x == stage })
}

// addVersion stores a new version and forgets the oldest versions without
// staging labels beyond maxVersions, as Secrets Manager drops deprecated ones.
func (s *secret) addVersion(v *secretVersion) {
	s.versions[v.id] = v
	s.order = append(s.order, v.id)
	for len(s.order) > maxVersions {
		i := slices.IndexFunc(s.order, func(id string) bool { return len(s.versions[id].stages) == 0 })
		if i < 0 {
			return
		}
		delete(s.versions, s.order[i])
		s.order = slices.Delete(s.order, i, i+1)
	}
}

func validateToken(token string) error {
	if n := len(token); n < 32 || n > 64 {
		return errInvalidParam("ClientRequestToken must be 32 to 64 characters long")
	}
	return nil
}

func validateValue(str *string, bin []byte, required bool) error {
	switch {
	case str != nil && bin != nil:
		return errInvalidParam("You can't specify both SecretString and SecretBinary.")
	case required && str == nil && bin == nil:
		return errInvalidRequest("You must provide either SecretString or SecretBinary.")
	case str != nil && len(*str) > maxSecretValue, len(bin) > maxSecretValue:
		return errInvalidParam("The secret value is larger than 65536 bytes.")
	}
	return nil
}

func validateStages(stages []string) error {
	if len(stages) > maxStagesOfVersion {
		return errInvalidParam("A version can have at most 20 staging labels.")
	}
	for _, st := range stages {
		if st == "" || len(st) > 256 {
			return errInvalidParam("Staging labels must be 1 to 256 characters long.")
		}
	}
	return nil
}

type smTag struct {
	Key   string `json:"Key"`
	Value string `json:"Value"`
}

type smRotationRules struct {
	AutomaticallyAfterDays *int64  `json:"AutomaticallyAfterDays,omitempty"`
	Duration               *string `json:"Duration,omitempty"`
	ScheduleExpression     *string `json:"ScheduleExpression,omitempty"`
}

type smNameOutput struct {
	ARN       string `json:"ARN"`
	Name      string `json:"Name"`
	VersionID string `json:"VersionId,omitempty"`
}

// --- CreateSecret

type createSecretInput struct {
	Name               string  `json:"Name"`
	ClientRequestToken string  `json:"ClientRequestToken"`
	Description        string  `json:"Description"`
	KmsKeyID           string  `json:"KmsKeyId"`
	SecretString       *string `json:"SecretString"`
	SecretBinary       []byte  `json:"SecretBinary"`
	Tags               []smTag `json:"Tags"`
}

func (m *secretsManager) createSecret(_ context.Context, body []byte) (any, error) {
	var in createSecretInput
	if err := decodeInput(body, &in); err != nil {
		return nil, err
	}
	if !secretNameRE.MatchString(in.Name) {
		return nil, errInvalidParam("Name must be 1 to 512 characters of A-Z a-z 0-9 / _ + = . @ -")
	}
	if err := validateValue(in.SecretString, in.SecretBinary, false); err != nil {
		return nil, err
	}
	hasValue := in.SecretString != nil || in.SecretBinary != nil
	if hasValue {
		if in.ClientRequestToken == "" {
			in.ClientRequestToken = newUUID()
		}
		if err := validateToken(in.ClientRequestToken); err != nil {
			return nil, err
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	s, err := m.create(secretARN(m.region, m.account, in.Name), in.Name, in.Description, in.KmsKeyID, in.Tags)
	if err != nil {
		return nil, err
	}
	out := smNameOutput{ARN: s.arn, Name: s.name}
	if hasValue {
		v := &secretVersion{id: in.ClientRequestToken, str: in.SecretString, bin: in.SecretBinary, created: m.now()}
		s.addVersion(v)
		s.moveStage(StageCurrent, v)
		out.VersionID = v.id
	}
	return out, nil
}

// create registers a new secret without versions. Callers hold m.mu.
func (m *secretsManager) create(arn, name, description, kmsKeyID string, tags []smTag) (*secret, error) {
	if _, ok := m.byName[name]; ok {
		return nil, errExists(fmt.Sprintf("The operation failed because the secret %s already exists.", name))
	}
	now := m.now()
	s := &secret{
		arn: arn, name: name, description: description, kmsKeyID: kmsKeyID, tags: tags,
		created: now, lastChanged: now, versions: map[string]*secretVersion{},
	}
	m.byName[name] = s
	return s, nil
}

// provision creates a secret with a fixed ARN and an AWSCURRENT value, for
// Provision. A secret that already exists keeps its versions (a rotated
// value survives a second Provision); created reports which happened.
func (m *secretsManager) provision(arn, name, description, kmsKeyID string, tags []smTag, value func() (string, error)) (created bool, err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if s, ok := m.byName[name]; ok {
		if s.arn != arn {
			return false, fmt.Errorf("secret %s exists with ARN %s, want %s", name, s.arn, arn)
		}
		return false, nil
	}
	v, err := value()
	if err != nil {
		return false, fmt.Errorf("secret %s: generate value: %w", name, err)
	}
	if err := validateValue(&v, nil, true); err != nil {
		return false, fmt.Errorf("secret %s: %w", name, err)
	}
	s, err := m.create(arn, name, description, kmsKeyID, tags)
	if err != nil {
		return false, err
	}
	ver := &secretVersion{id: newUUID(), str: &v, created: m.now()}
	s.addVersion(ver)
	s.moveStage(StageCurrent, ver)
	return true, nil
}

// --- GetSecretValue

type getSecretValueInput struct {
	SecretID     string `json:"SecretId"`
	VersionID    string `json:"VersionId"`
	VersionStage string `json:"VersionStage"`
}

type getSecretValueOutput struct {
	ARN           string   `json:"ARN"`
	Name          string   `json:"Name"`
	VersionID     string   `json:"VersionId"`
	SecretString  *string  `json:"SecretString,omitempty"`
	SecretBinary  []byte   `json:"SecretBinary,omitempty"`
	VersionStages []string `json:"VersionStages"`
	CreatedDate   *float64 `json:"CreatedDate,omitempty"`
}

func (m *secretsManager) getSecretValue(_ context.Context, body []byte) (any, error) {
	var in getSecretValueInput
	if err := decodeInput(body, &in); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	s, err := m.find(in.SecretID)
	if err != nil {
		return nil, err
	}
	var v *secretVersion
	switch {
	case in.VersionID != "":
		if v = s.version(in.VersionID); v == nil || (in.VersionStage != "" && !v.has(in.VersionStage)) {
			return nil, errNotFound("Secrets Manager can't find the specified secret value for VersionId: " + in.VersionID)
		}
	default:
		stage := in.VersionStage
		if stage == "" {
			stage = StageCurrent
		}
		if v = s.withStage(stage); v == nil {
			return nil, errNotFound("Secrets Manager can't find the specified secret value for staging label: " + stage)
		}
	}
	if !v.hasValue() {
		return nil, errNotFound("Secrets Manager can't find the specified secret value for VersionId: " + v.id)
	}
	today := m.now().Truncate(24 * time.Hour)
	v.lastAccessed, s.lastAccessed = today, today
	return getSecretValueOutput{
		ARN: s.arn, Name: s.name, VersionID: v.id, SecretString: v.str, SecretBinary: v.bin,
		VersionStages: slices.Clone(v.stages), CreatedDate: epoch(v.created),
	}, nil
}

// --- PutSecretValue

type putSecretValueInput struct {
	SecretID           string   `json:"SecretId"`
	ClientRequestToken string   `json:"ClientRequestToken"`
	SecretString       *string  `json:"SecretString"`
	SecretBinary       []byte   `json:"SecretBinary"`
	VersionStages      []string `json:"VersionStages"`
}

type putSecretValueOutput struct {
	ARN           string   `json:"ARN"`
	Name          string   `json:"Name"`
	VersionID     string   `json:"VersionId"`
	VersionStages []string `json:"VersionStages"`
}

func (m *secretsManager) putSecretValue(_ context.Context, body []byte) (any, error) {
	var in putSecretValueInput
	if err := decodeInput(body, &in); err != nil {
		return nil, err
	}
	if err := validateValue(in.SecretString, in.SecretBinary, true); err != nil {
		return nil, err
	}
	if in.ClientRequestToken == "" {
		in.ClientRequestToken = newUUID()
	}
	if err := validateToken(in.ClientRequestToken); err != nil {
		return nil, err
	}
	stages := in.VersionStages
	if len(stages) == 0 {
		stages = []string{StageCurrent}
	}
	if err := validateStages(stages); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	s, err := m.find(in.SecretID)
	if err != nil {
		return nil, err
	}
	v := s.version(in.ClientRequestToken)
	switch {
	case v != nil && v.hasValue():
		// A retry of the same request is idempotent; anything else would
		// rewrite history.
		if !v.sameValue(in.SecretString, in.SecretBinary) {
			return nil, errExists("You can't modify an existing version, you can only create a new version.")
		}
		return putSecretValueOutput{ARN: s.arn, Name: s.name, VersionID: v.id, VersionStages: slices.Clone(v.stages)}, nil
	case v != nil:
		// The empty AWSPENDING version RotateSecret created gets its value.
		v.str, v.bin = in.SecretString, in.SecretBinary
	default:
		v = &secretVersion{id: in.ClientRequestToken, str: in.SecretString, bin: in.SecretBinary, created: m.now()}
		s.addVersion(v)
	}
	for _, st := range stages {
		s.moveStage(st, v)
	}
	s.lastChanged = m.now()
	return putSecretValueOutput{ARN: s.arn, Name: s.name, VersionID: v.id, VersionStages: slices.Clone(v.stages)}, nil
}

// --- DescribeSecret

type secretIDInput struct {
	SecretID string `json:"SecretId"`
}

type describeSecretOutput struct {
	ARN                string              `json:"ARN"`
	Name               string              `json:"Name"`
	Description        string              `json:"Description,omitempty"`
	KmsKeyID           string              `json:"KmsKeyId,omitempty"`
	RotationEnabled    bool                `json:"RotationEnabled"`
	RotationLambdaARN  string              `json:"RotationLambdaARN,omitempty"`
	RotationRules      *smRotationRules    `json:"RotationRules,omitempty"`
	CreatedDate        *float64            `json:"CreatedDate,omitempty"`
	LastChangedDate    *float64            `json:"LastChangedDate,omitempty"`
	LastAccessedDate   *float64            `json:"LastAccessedDate,omitempty"`
	LastRotatedDate    *float64            `json:"LastRotatedDate,omitempty"`
	NextRotationDate   *float64            `json:"NextRotationDate,omitempty"`
	Tags               []smTag             `json:"Tags,omitempty"`
	VersionIdsToStages map[string][]string `json:"VersionIdsToStages"`
}

func (m *secretsManager) describeSecret(_ context.Context, body []byte) (any, error) {
	var in secretIDInput
	if err := decodeInput(body, &in); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	s, err := m.find(in.SecretID)
	if err != nil {
		return nil, err
	}
	out := describeSecretOutput{
		ARN: s.arn, Name: s.name, Description: s.description, KmsKeyID: s.kmsKeyID,
		RotationEnabled: s.rotationEnabled, RotationLambdaARN: s.rotationLambdaARN, RotationRules: s.rotationRules,
		CreatedDate: epoch(s.created), LastChangedDate: epoch(s.lastChanged),
		LastAccessedDate: epoch(s.lastAccessed), LastRotatedDate: epoch(s.lastRotated),
		Tags: s.tags, VersionIdsToStages: map[string][]string{},
	}
	if s.rotationEnabled && s.rotationRules != nil && s.rotationRules.AutomaticallyAfterDays != nil {
		from := s.lastRotated
		if from.IsZero() {
			from = s.created
		}
		out.NextRotationDate = epoch(from.AddDate(0, 0, int(*s.rotationRules.AutomaticallyAfterDays)))
	}
	for _, id := range s.order {
		if v := s.versions[id]; len(v.stages) > 0 {
			out.VersionIdsToStages[id] = slices.Clone(v.stages)
		}
	}
	return out, nil
}

// --- UpdateSecretVersionStage

type updateStageInput struct {
	SecretID            string `json:"SecretId"`
	VersionStage        string `json:"VersionStage"`
	MoveToVersionID     string `json:"MoveToVersionId"`
	RemoveFromVersionID string `json:"RemoveFromVersionId"`
}

func (m *secretsManager) updateSecretVersionStage(_ context.Context, body []byte) (any, error) {
	var in updateStageInput
	if err := decodeInput(body, &in); err != nil {
		return nil, err
	}
	if err := validateStages([]string{in.VersionStage}); err != nil {
		return nil, errInvalidParam("VersionStage is required: " + err.Error())
	}
	if in.MoveToVersionID == "" && in.RemoveFromVersionID == "" {
		return nil, errInvalidParam("Specify MoveToVersionId, RemoveFromVersionId or both.")
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	s, err := m.find(in.SecretID)
	if err != nil {
		return nil, err
	}
	holder := s.withStage(in.VersionStage)
	var remove *secretVersion
	if in.RemoveFromVersionID != "" {
		if remove = s.version(in.RemoveFromVersionID); remove == nil {
			return nil, errNotFound("Secrets Manager can't find the specified secret version: " + in.RemoveFromVersionID)
		}
		if !remove.has(in.VersionStage) {
			return nil, errInvalidParam(fmt.Sprintf("The staging label %s is not attached to version %s, so it can't be removed from it.", in.VersionStage, remove.id))
		}
	}
	if in.MoveToVersionID == "" {
		if in.VersionStage == StageCurrent {
			return nil, errInvalidParam("You can't remove the staging label AWSCURRENT; move it to another version with MoveToVersionId.")
		}
		s.removeStage(in.VersionStage, remove)
		s.lastChanged = m.now()
		return smNameOutput{ARN: s.arn, Name: s.name}, nil
	}
	to := s.version(in.MoveToVersionID)
	if to == nil {
		return nil, errNotFound("Secrets Manager can't find the specified secret version: " + in.MoveToVersionID)
	}
	if holder != nil && holder != to && remove != holder {
		return nil, errInvalidParam(fmt.Sprintf("The staging label %s is currently attached to version %s; specify it in RemoveFromVersionId to move the label.", in.VersionStage, holder.id))
	}
	if in.VersionStage == StageCurrent && !to.hasValue() {
		return nil, errInvalidRequest("You can't attach AWSCURRENT to a version that has no secret value.")
	}
	rotated := in.VersionStage == StageCurrent && holder != to && to.has(StagePending)
	s.moveStage(in.VersionStage, to)
	s.lastChanged = m.now()
	if rotated {
		s.lastRotated = s.lastChanged
	}
	return smNameOutput{ARN: s.arn, Name: s.name}, nil
}

// --- ListSecretVersionIds

type listVersionsInput struct {
	SecretID          string `json:"SecretId"`
	IncludeDeprecated bool   `json:"IncludeDeprecated"`
	MaxResults        *int   `json:"MaxResults"`
	NextToken         string `json:"NextToken"`
}

type versionEntry struct {
	VersionID        string   `json:"VersionId"`
	VersionStages    []string `json:"VersionStages,omitempty"`
	CreatedDate      *float64 `json:"CreatedDate,omitempty"`
	LastAccessedDate *float64 `json:"LastAccessedDate,omitempty"`
	KmsKeyIDs        []string `json:"KmsKeyIds,omitempty"`
}

type listVersionsOutput struct {
	ARN       string         `json:"ARN"`
	Name      string         `json:"Name"`
	Versions  []versionEntry `json:"Versions"`
	NextToken string         `json:"NextToken,omitempty"`
}

func (m *secretsManager) listSecretVersionIds(_ context.Context, body []byte) (any, error) {
	var in listVersionsInput
	if err := decodeInput(body, &in); err != nil {
		return nil, err
	}
	limit := 100
	if in.MaxResults != nil {
		if *in.MaxResults < 1 || *in.MaxResults > 100 {
			return nil, errInvalidParam("MaxResults must be between 1 and 100.")
		}
		limit = *in.MaxResults
	}
	start := 0
	if in.NextToken != "" {
		raw, err := base64.RawURLEncoding.DecodeString(in.NextToken)
		n, convErr := strconv.Atoi(string(raw))
		if err != nil || convErr != nil || n < 0 {
			return nil, &smError{http.StatusBadRequest, "InvalidNextTokenException", "The NextToken value is invalid."}
		}
		start = n
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	s, err := m.find(in.SecretID)
	if err != nil {
		return nil, err
	}
	var all []versionEntry
	for i := len(s.order) - 1; i >= 0; i-- { // newest first
		v := s.versions[s.order[i]]
		if len(v.stages) == 0 && !in.IncludeDeprecated {
			continue
		}
		e := versionEntry{VersionID: v.id, VersionStages: slices.Clone(v.stages), CreatedDate: epoch(v.created), LastAccessedDate: epoch(v.lastAccessed)}
		if s.kmsKeyID != "" {
			e.KmsKeyIDs = []string{s.kmsKeyID}
		}
		all = append(all, e)
	}
	out := listVersionsOutput{ARN: s.arn, Name: s.name, Versions: []versionEntry{}}
	if start > len(all) {
		start = len(all)
	}
	end := min(start+limit, len(all))
	out.Versions = append(out.Versions, all[start:end]...)
	if end < len(all) {
		out.NextToken = base64.RawURLEncoding.EncodeToString([]byte(strconv.Itoa(end)))
	}
	return out, nil
}

// --- RotateSecret

type rotateSecretInput struct {
	SecretID           string           `json:"SecretId"`
	ClientRequestToken string           `json:"ClientRequestToken"`
	RotationLambdaARN  string           `json:"RotationLambdaARN"`
	RotationRules      *smRotationRules `json:"RotationRules"`
	RotateImmediately  *bool            `json:"RotateImmediately"`
}

// rotateSecret records the rotation configuration and, unless
// RotateImmediately is false, creates the empty AWSPENDING version and
// hands it to OnRotate — what Secrets Manager does before invoking the
// rotation Lambda. Unlike AWS it waits for the rotation and reports its
// failure, so local callers see at once that it went wrong.
func (m *secretsManager) rotateSecret(ctx context.Context, body []byte) (any, error) {
	var in rotateSecretInput
	if err := decodeInput(body, &in); err != nil {
		return nil, err
	}
	if r := in.RotationRules; r != nil {
		if r.AutomaticallyAfterDays != nil && (*r.AutomaticallyAfterDays < 1 || *r.AutomaticallyAfterDays > 1000) {
			return nil, errInvalidParam("RotationRules.AutomaticallyAfterDays must be between 1 and 1000.")
		}
		if r.AutomaticallyAfterDays == nil && r.ScheduleExpression == nil {
			return nil, errInvalidParam("RotationRules needs AutomaticallyAfterDays or ScheduleExpression.")
		}
	}
	now := in.RotateImmediately == nil || *in.RotateImmediately
	if now && m.onRotate == nil {
		return nil, errInvalidRequest("The local Secrets Manager has no rotation driver (awsemu Options.OnRotate), so it cannot rotate now.")
	}
	if in.ClientRequestToken == "" {
		in.ClientRequestToken = newUUID()
	}
	if err := validateToken(in.ClientRequestToken); err != nil {
		return nil, err
	}

	m.mu.Lock()
	s, err := m.find(in.SecretID)
	if err != nil {
		m.mu.Unlock()
		return nil, err
	}
	lambdaARN := in.RotationLambdaARN
	if lambdaARN == "" {
		lambdaARN = s.rotationLambdaARN
	}
	if lambdaARN == "" {
		m.mu.Unlock()
		return nil, errInvalidRequest("No Lambda rotation function ARN is associated with this secret.")
	}
	token := in.ClientRequestToken
	if now {
		if p := s.withStage(StagePending); p != nil && p.id != token && !p.has(StageCurrent) {
			m.mu.Unlock()
			return nil, errInvalidRequest("A previous rotation isn't complete. That rotation will be reattempted.")
		}
	}
	s.rotationEnabled, s.rotationLambdaARN = true, lambdaARN
	if in.RotationRules != nil {
		s.rotationRules = in.RotationRules
	}
	out := smNameOutput{ARN: s.arn, Name: s.name}
	if !now {
		m.mu.Unlock()
		return out, nil
	}
	v := s.version(token)
	if v == nil {
		v = &secretVersion{id: token, created: m.now()}
		s.addVersion(v)
	}
	done := v.has(StageCurrent)
	if !done {
		s.moveStage(StagePending, v)
	}
	out.VersionID = token
	m.mu.Unlock()
	if done {
		return out, nil
	}
	if err := m.onRotate(ctx, out.ARN, token); err != nil {
		m.log.Warn("secret rotation failed", "secret", out.Name, "version", token, "error", err)
		return nil, errInvalidRequest("Rotation of the secret failed; the devstack log has the rotation function's error. The AWSPENDING version stays for a retry.")
	}
	return out, nil
}
