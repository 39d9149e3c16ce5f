// Package exitcode holds the one table of process exit codes and the error
// type that carries a code from a library up to the command layer.
package exitcode

import (
	"errors"
	"fmt"
)

// Code is a process exit code. The numbers are public contract: never renumber.
type Code int

// The documented exit codes, shared by every command.
const (
	OK               Code = 0
	Internal         Code = 1
	VerifyFailed     Code = 2 // verification failed or differences found
	PolicyBlock      Code = 3
	ApprovalRequired Code = 4
	RegressFailed    Code = 5
	InvalidInput     Code = 6
)

// String names the code as the docs do.
func (c Code) String() string {
	switch c {
	case OK:
		return "ok"
	case Internal:
		return "internal_error"
	case VerifyFailed:
		return "verify_failed"
	case PolicyBlock:
		return "policy_block"
	case ApprovalRequired:
		return "approval_required"
	case RegressFailed:
		return "regress_failed"
	case InvalidInput:
		return "invalid_input"
	}
	return fmt.Sprintf("code_%d", int(c))
}

// Error is an error that knows which exit code it maps to.
type Error struct {
	Code Code
	Err  error
}

func (e *Error) Error() string { return e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

// Wrap attaches code to err. A nil err stays nil.
func Wrap(code Code, err error) error {
	if err == nil {
		return nil
	}
	return &Error{Code: code, Err: err}
}

// Invalidf reports bad user input (exit 6).
func Invalidf(format string, args ...any) error {
	return &Error{Code: InvalidInput, Err: fmt.Errorf(format, args...)}
}

// VerifyFailedf reports a failed verification or a difference (exit 2).
func VerifyFailedf(format string, args ...any) error {
	return &Error{Code: VerifyFailed, Err: fmt.Errorf(format, args...)}
}

// Of returns the exit code for err: OK for nil, the carried code for an
// *Error anywhere in the chain, Internal otherwise.
func Of(err error) Code {
	if err == nil {
		return OK
	}
	if e, ok := errors.AsType[*Error](err); ok {
		return e.Code
	}
	return Internal
}
