package preset_test

import (
	"errors"

	"github.com/hookguard/hookguard/scheme"
)

// reason is the Reason of a verification error, "" for none.
func reason(err error) scheme.Reason {
	var e *scheme.Error
	if errors.As(err, &e) {
		return e.Reason
	}
	return ""
}
