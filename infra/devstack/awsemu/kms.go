package awsemu

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/nsmithuk/local-kms/src/cmk"
	"github.com/nsmithuk/local-kms/src/config"
	"github.com/nsmithuk/local-kms/src/data"
	"github.com/nsmithuk/local-kms/src/handler"
	"github.com/sirupsen/logrus"
)

// kmsOps maps X-Amz-Target operations to local-kms's handlers. It replaces
// src.HandleRequest's reflection dispatch so the handlers get a logger of
// ours: src's own logrus logger is unexported and writes to stderr.
var kmsOps = map[string]func(*handler.RequestHandler) handler.Response{
	"CancelKeyDeletion":                   (*handler.RequestHandler).CancelKeyDeletion,
	"CreateAlias":                         (*handler.RequestHandler).CreateAlias,
	"CreateKey":                           (*handler.RequestHandler).CreateKey,
	"Decrypt":                             (*handler.RequestHandler).Decrypt,
	"DeleteAlias":                         (*handler.RequestHandler).DeleteAlias,
	"DeleteImportedKeyMaterial":           (*handler.RequestHandler).DeleteImportedKeyMaterial,
	"DescribeKey":                         (*handler.RequestHandler).DescribeKey,
	"DisableKey":                          (*handler.RequestHandler).DisableKey,
	"DisableKeyRotation":                  (*handler.RequestHandler).DisableKeyRotation,
	"EnableKey":                           (*handler.RequestHandler).EnableKey,
	"EnableKeyRotation":                   (*handler.RequestHandler).EnableKeyRotation,
	"Encrypt":                             (*handler.RequestHandler).Encrypt,
	"GenerateDataKey":                     (*handler.RequestHandler).GenerateDataKey,
	"GenerateDataKeyPair":                 (*handler.RequestHandler).GenerateDataKeyPair,
	"GenerateDataKeyPairWithoutPlaintext": (*handler.RequestHandler).GenerateDataKeyPairWithoutPlaintext,
	"GenerateDataKeyWithoutPlaintext":     (*handler.RequestHandler).GenerateDataKeyWithoutPlaintext,
	"GenerateMac":                         (*handler.RequestHandler).GenerateMac,
	"GenerateRandom":                      (*handler.RequestHandler).GenerateRandom,
	"GetKeyPolicy":                        (*handler.RequestHandler).GetKeyPolicy,
	"GetKeyRotationStatus":                (*handler.RequestHandler).GetKeyRotationStatus,
	"GetParametersForImport":              (*handler.RequestHandler).GetParametersForImport,
	"GetPublicKey":                        (*handler.RequestHandler).GetPublicKey,
	"ImportKeyMaterial":                   (*handler.RequestHandler).ImportKeyMaterial,
	"ListAliases":                         (*handler.RequestHandler).ListAliases,
	"ListKeys":                            (*handler.RequestHandler).ListKeys,
	"ListResourceTags":                    (*handler.RequestHandler).ListResourceTags,
	"PutKeyPolicy":                        (*handler.RequestHandler).PutKeyPolicy,
	"ReEncrypt":                           (*handler.RequestHandler).ReEncrypt,
	"ScheduleKeyDeletion":                 (*handler.RequestHandler).ScheduleKeyDeletion,
	"Sign":                                (*handler.RequestHandler).Sign,
	"TagResource":                         (*handler.RequestHandler).TagResource,
	"UntagResource":                       (*handler.RequestHandler).UntagResource,
	"UpdateAlias":                         (*handler.RequestHandler).UpdateAlias,
	"UpdateKeyDescription":                (*handler.RequestHandler).UpdateKeyDescription,
	"Verify":                              (*handler.RequestHandler).Verify,
	"VerifyMac":                           (*handler.RequestHandler).VerifyMac,
}

// maxKMSBody caps request bodies; KMS's largest input (ImportKeyMaterial,
// a 4 KiB plaintext base64-encoded) is far below it.
const maxKMSBody = 1 << 20

// kmsGlobals guards local-kms's process-wide region and account (its config
// package globals): every open emulator in one process must agree on them.
var kmsGlobals struct {
	sync.Mutex
	users           int
	region, account string
}

func claimKMSGlobals(region, account string) error {
	kmsGlobals.Lock()
	defer kmsGlobals.Unlock()
	if kmsGlobals.users > 0 && (kmsGlobals.region != region || kmsGlobals.account != account) {
		return fmt.Errorf("KMS: local-kms keeps one region/account per process (%s/%s in use), cannot also serve %s/%s",
			kmsGlobals.region, kmsGlobals.account, region, account)
	}
	kmsGlobals.users++
	kmsGlobals.region, kmsGlobals.account = region, account
	config.AWSRegion, config.AWSAccountId = region, account
	return nil
}

func releaseKMSGlobals() {
	kmsGlobals.Lock()
	defer kmsGlobals.Unlock()
	kmsGlobals.users--
}

// kmsService serves local-kms's handlers and seeds keys with fixed IDs.
type kmsService struct {
	db      *data.Database
	logger  *logrus.Logger
	region  string
	account string
	// mu serializes seeding against itself; the handlers need no lock of
	// ours (LevelDB is safe for concurrent use).
	mu sync.Mutex
}

var _ http.Handler = (*kmsService)(nil)

func newKMSService(dir, region, account string, log *slog.Logger) (*kmsService, error) {
	if err := claimKMSGlobals(region, account); err != nil {
		return nil, err
	}
	db, err := kmsDatabaseOpen(dir)
	if err != nil {
		releaseKMSGlobals()
		return nil, fmt.Errorf("KMS: %w", err)
	}
	logger := logrus.New()
	logger.SetOutput(io.Discard)
	logger.SetLevel(logrus.InfoLevel)
	logger.AddHook(slogHook{log: log})
	return &kmsService{db: db, logger: logger, region: region, account: account}, nil
}

func (k *kmsService) close() {
	k.db.Close()
	releaseKMSGlobals()
}

func (k *kmsService) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.URL.Path != "/":
		http.NotFound(w, r)
		return
	case r.Method != http.MethodPost:
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	case !strings.Contains(r.Header.Get("Content-Type"), "json"):
		http.Error(w, "only JSON content types are accepted", http.StatusUnsupportedMediaType)
		return
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	_, op, _ := strings.Cut(r.Header.Get("X-Amz-Target"), ".")
	fn, ok := kmsOps[op]
	if !ok {
		writeJSONError(w, http.StatusBadRequest, "UnsupportedOperationException", fmt.Sprintf("operation %q is not supported by the local KMS", op))
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxKMSBody)
	resp := fn(handler.NewRequestHandler(r, k.logger, k.db))
	w.WriteHeader(resp.Code)
	_, _ = io.WriteString(w, resp.Body)
}

// keySpec is what Provision asks of one symmetric key.
type keySpec struct {
	ID          string
	Description string
	Policy      string
	Rotation    bool
	Disabled    bool
}

// ensureKey creates a symmetric key with a fixed ID unless it exists (a
// persisted data dir). It reports whether it created the key.
func (k *kmsService) ensureKey(s keySpec) (bool, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	arn := config.ArnPrefix() + "key/" + s.ID
	_, err := k.db.LoadKey(arn)
	notFound := data.KeyNotFoundError
	switch {
	case err == nil:
		return false, nil
	case !errors.As(err, &notFound):
		return false, fmt.Errorf("load key %s: %w", s.ID, err)
	}
	meta := cmk.KeyMetadata{
		Arn:          arn,
		KeyId:        s.ID,
		AWSAccountId: k.account,
		CreationDate: time.Now().Unix(),
		Enabled:      !s.Disabled,
		KeyManager:   "CUSTOMER",
		KeyState:     cmk.KeyStateEnabled,
		Origin:       cmk.KeyOriginAwsKms,
	}
	if s.Disabled {
		meta.KeyState = cmk.KeyStateDisabled
	}
	if s.Description != "" {
		d := s.Description
		meta.Description = &d
	}
	policy := s.Policy
	if policy == "" {
		policy = defaultKeyPolicy(k.account)
	}
	key := cmk.NewAesKey(meta, policy, cmk.KeyOriginAwsKms)
	if s.Rotation {
		// What local-kms's EnableKeyRotation sets: rotate a year from now.
		key.NextKeyRotation = time.Now().AddDate(1, 0, 0)
	}
	if err := k.db.SaveKey(key); err != nil {
		return false, fmt.Errorf("save key %s: %w", s.ID, err)
	}
	return true, nil
}

// ensureAlias points alias name at key id, creating or retargeting it.
func (k *kmsService) ensureAlias(name, keyID string) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if _, err := k.db.LoadKey(config.ArnPrefix() + "key/" + keyID); err != nil {
		return fmt.Errorf("alias %s: target key %s: %w", name, keyID, err)
	}
	a := &data.Alias{AliasArn: config.ArnPrefix() + name, AliasName: name, TargetKeyId: keyID}
	if err := k.db.SaveAlias(a); err != nil {
		return fmt.Errorf("save alias %s: %w", name, err)
	}
	return nil
}

func defaultKeyPolicy(account string) string {
	b, _ := json.Marshal(map[string]any{
		"Version": "2012-10-17",
		"Id":      "key-default-1",
		"Statement": []any{map[string]any{
			"Sid":       "Enable IAM User Permissions",
			"Effect":    "Allow",
			"Principal": map[string]any{"AWS": "arn:aws:iam::" + account + ":root"},
			"Action":    "kms:*",
			"Resource":  "*",
		}},
	})
	return string(b)
}

// slogHook forwards local-kms's logrus entries to slog at debug level: they
// name keys and operations, never plaintext.
type slogHook struct{ log *slog.Logger }

var _ logrus.Hook = slogHook{}

func (h slogHook) Levels() []logrus.Level { return logrus.AllLevels }

func (h slogHook) Fire(e *logrus.Entry) error {
	h.log.Debug(strings.TrimSpace(e.Message), "kms_level", e.Level.String())
	return nil
}

// writeJSONError writes an awsJson error body, which the SDK maps to a typed
// error by __type.
func writeJSONError(w http.ResponseWriter, status int, typ, msg string) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("X-Amzn-ErrorType", typ)
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"__type": typ, "message": msg})
}
