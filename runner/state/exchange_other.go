//go:build !linux

package state

import "errors"

// exchange is not implemented here: the caller renames instead.
func exchange(a, b string) error { return errors.ErrUnsupported }
