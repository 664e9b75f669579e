package engine

import (
	"errors"
	"fmt"
)

// ErrorCode classifies an application error so that front ends can map it
// onto their own vocabulary (HTTP status codes, exit codes).
type ErrorCode string

const (
	EInvalid      ErrorCode = "invalid"      // bad input from a user or designer
	ENotFound     ErrorCode = "not_found"    // no such conversation, user, flow, ...
	EConflict     ErrorCode = "conflict"     // the state does not allow it now
	EUnauthorized ErrorCode = "unauthorized" // missing or wrong credentials
	EUnavailable  ErrorCode = "unavailable"  // a dependency is down; retrying may help
	EInternal     ErrorCode = "internal"     // a bug or an unexpected failure
)

// Error is charla's application error. Message is safe to show to users;
// Err, when set, is the underlying cause and is only logged.
type Error struct {
	Code    ErrorCode
	Message string
	Err     error
}

func (e *Error) Error() string {
	switch {
	case e.Message != "" && e.Err != nil:
		return e.Message + ": " + e.Err.Error()
	case e.Message != "":
		return e.Message
	case e.Err != nil:
		return e.Err.Error()
	}
	return string(e.Code)
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error with the given code and a formatted message.
func Errorf(code ErrorCode, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrCode returns the code of the first *Error in err's chain, EInternal for
// any other non-nil error, and "" for nil.
func ErrCode(err error) ErrorCode {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) && e.Code != "" {
		return e.Code
	}
	return EInternal
}

// ErrMessage returns the user-safe message of err: the message of the first
// *Error in its chain that is not internal, or a generic text otherwise.
func ErrMessage(err error) string {
	var e *Error
	if errors.As(err, &e) && e.Code != EInternal && e.Message != "" {
		return e.Message
	}
	return "internal error"
}
