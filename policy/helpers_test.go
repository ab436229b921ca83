package policy

import (
	"errors"

	"github.com/tearline/tearline/agreement"
)

func asFieldErr(err error, fe **agreement.FieldError) bool { return errors.As(err, fe) }
