package stack

import (
	"crypto/rand"
	"encoding/base64"
	"time"

	"github.com/vip-platform/backend/shared/auth/token"

	"github.com/vip-platform/backend/infra/devstack/awsemu"
	"github.com/vip-platform/backend/infra/template"
)

// secretGenerators returns a fresh-value generator for every secret in the
// template, chosen by the secret's `Metadata: Devstack: Generator:` entry, so
// dev secret values are generated at every start and never stored in the
// repository. Secrets without the entry get awsemu's default.
func secretGenerators(t *template.Template) awsemu.SecretValues {
	out := awsemu.SecretValues{}
	for _, r := range t.ResourcesOfType(template.TypeSecret) {
		dev, _ := r.Metadata["Devstack"].(map[string]any)
		name, _ := dev["Generator"].(string)
		if gen, ok := generators[name]; ok {
			out[r.LogicalID] = gen
		}
	}
	return out
}

// generators are the named dev secret generators.
var generators = map[string]func() (string, error){
	// ed25519-keyring: a fresh access-token signing key ring (current key
	// only), in the format the rotation function writes.
	"ed25519-keyring": func() (string, error) {
		k, err := token.NewKey(time.Now())
		if err != nil {
			return "", err
		}
		b, err := (&token.KeyRing{Current: k}).Marshal()
		return string(b), err
	},
	"random-32": func() (string, error) {
		b := make([]byte, 32)
		if _, err := rand.Read(b); err != nil {
			return "", err
		}
		return base64.RawURLEncoding.EncodeToString(b), nil
	},
}
