package policy

import (
	"encoding/json"
	"errors"
	"fmt"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/interpreter"
)

// conditionCostLimit bounds the work one condition may do per decision.
// A condition is a scope filter over one object, not a program: a few
// hundred operations is plenty, and the bound stops a costly expression in
// a signed agreement from stalling releases.
const conditionCostLimit = 10_000

// condition is a compiled CEL expression from a terms entry. cel.Program is
// safe for concurrent use.
type condition struct {
	src string
	prg cel.Program
}

// newConditionEnv declares what a condition sees: the object as decoded
// JSON, the purpose, and the receiving party's country. One env serves all
// the terms of one agreement.
func newConditionEnv() (*cel.Env, error) {
	return cel.NewEnv(
		cel.Variable("object", cel.MapType(cel.StringType, cel.DynType)),
		cel.Variable("purpose", cel.StringType),
		cel.Variable("country", cel.StringType),
		cel.CrossTypeNumericComparisons(true), // JSON numbers are doubles; 50 >= 50.0 must hold
	)
}

func compileCondition(env *cel.Env, src string) (*condition, error) {
	ast, iss := env.Compile(src)
	if iss.Err() != nil {
		return nil, iss.Err()
	}
	if ast.OutputType() != cel.BoolType {
		return nil, fmt.Errorf("the condition is %s, not a boolean", ast.OutputType())
	}
	prg, err := env.Program(ast, cel.CostLimit(conditionCostLimit), cel.EvalOptions(cel.OptOptimize))
	if err != nil {
		return nil, err
	}
	return &condition{src: src, prg: prg}, nil
}

// activation resolves the condition's variables without building a map.
type activation struct {
	object  map[string]any
	purpose string
	country string
}

func (a *activation) ResolveName(name string) (any, bool) {
	switch name {
	case "object":
		return a.object, true
	case "purpose":
		return a.purpose, true
	case "country":
		return a.country, true
	}
	return nil, false
}

func (a *activation) Parent() interpreter.Activation { return nil }

var errNoObject = errors.New("no object content to evaluate the condition on")

// eval runs the condition. Anything but a boolean true or false, including
// a cost overrun or an object that does not decode, is an error: the caller
// refuses (fail closed).
func (c *condition) eval(obj *ObjectFacts, purpose, country string) (bool, error) {
	m := obj.Decoded
	if m == nil {
		if len(obj.Raw) == 0 {
			return false, errNoObject
		}
		if err := json.Unmarshal(obj.Raw, &m); err != nil {
			return false, fmt.Errorf("object content: %w", err)
		}
	}
	out, _, err := c.prg.Eval(&activation{object: m, purpose: purpose, country: country})
	if err != nil {
		return false, err
	}
	b, ok := out.(types.Bool)
	if !ok {
		return false, fmt.Errorf("the condition gave %v, not a boolean", out.Type())
	}
	return bool(b), nil
}
