package stack

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/vip-platform/backend/infra/template"
)

// TypeRotationSchedule is the resource that ties a secret to its rotation
// function.
const TypeRotationSchedule = "AWS::SecretsManager::RotationSchedule"

// rotationSteps are the steps Secrets Manager invokes a rotation function
// with, in order.
var rotationSteps = []string{"createSecret", "setSecret", "testSecret", "finishSecret"}

// rotate is the emulated Secrets Manager's RotateSecret hook: like the real
// service it invokes the secret's rotation function (found through the
// template's RotationSchedule, never a hand-kept list) once per step.
func (s *Stack) rotate(ctx context.Context, secretARN, clientRequestToken string) error {
	fn, err := s.rotationFunction(secretARN)
	if err != nil {
		return err
	}
	for _, step := range rotationSteps {
		payload, err := json.Marshal(map[string]string{
			"Step": step, "SecretId": secretARN, "ClientRequestToken": clientRequestToken,
		})
		if err != nil {
			return err
		}
		res, err := s.Invoke(ctx, fn, payload)
		if err != nil {
			return fmt.Errorf("rotation %s %s: %w", fn, step, err)
		}
		if res.FunctionError != nil {
			return fmt.Errorf("rotation %s %s: %s", fn, step, res.FunctionError.ErrorType)
		}
	}
	s.log.Info("secret rotated", "secret", secretARN, "function", fn)
	return nil
}

// rotationFunction finds the function a RotationSchedule names for secretARN.
func (s *Stack) rotationFunction(secretARN string) (string, error) {
	for _, r := range s.Template.ResourcesOfType(TypeRotationSchedule) {
		id, err := s.Template.ResolveString(r.Properties["SecretId"], s.Env)
		if err != nil || id != secretARN {
			continue
		}
		ga, ok := r.Properties["RotationLambdaARN"].(template.Intrinsic)
		if !ok || ga.Fn != "Fn::GetAtt" {
			return "", fmt.Errorf("%s: RotationLambdaARN must be !GetAtt <Function>.Arn", r.LogicalID)
		}
		if l, ok := ga.Arg.([]any); ok && len(l) == 2 {
			if fn, ok := l[0].(string); ok {
				return fn, nil
			}
		}
	}
	return "", fmt.Errorf("no RotationSchedule in the template rotates %s", secretARN)
}
