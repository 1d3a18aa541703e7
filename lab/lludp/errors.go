package lludp

import (
	"errors"
	"fmt"
)

// ErrMalformed is wrapped by every error Decode and DecodeBody return, so callers can count
// malformed packets with errors.Is(err, ErrMalformed).
var ErrMalformed = errors.New("lludp: malformed packet")

// malformedError is a decoding error. Its text always names a byte offset.
type malformedError struct {
	msg    string
	offset int
}

func (e *malformedError) Error() string { return e.msg }
func (e *malformedError) Unwrap() error { return ErrMalformed }

// errorf builds a decoding error; format must mention the offset.
func errorf(offset int, format string, args ...any) error {
	return &malformedError{msg: "lludp: " + fmt.Sprintf(format, args...), offset: offset}
}

// ErrorOffset reports the byte offset a decoding error names: an offset in the datagram for
// errors from [Decoder.Decode], an offset in the body for errors from DecodeBody. ok is false
// for errors this package did not produce.
func ErrorOffset(err error) (offset int, ok bool) {
	var e *malformedError
	if errors.As(err, &e) {
		return e.offset, true
	}
	return 0, false
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
