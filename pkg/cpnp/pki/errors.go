/*
Copyright 2026 The cpnp-operator Authors.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

package pki

import (
	"errors"
	"fmt"
	"io/fs"
)

var (
	// ErrNotPEM means a file holds no PEM block at all (for example a DER
	// file, or the wrong file).
	ErrNotPEM = errors.New("no PEM data found")
	// ErrNoCertificate means a PEM file holds no CERTIFICATE block.
	ErrNoCertificate = errors.New("no CERTIFICATE PEM block found")
	// ErrNoPrivateKey means a PEM file holds no private key block
	// (PRIVATE KEY, EC PRIVATE KEY or RSA PRIVATE KEY).
	ErrNoPrivateKey = errors.New("no PRIVATE KEY PEM block found")
	// ErrKeyMismatch means a private key is not the one of the certificate
	// it is loaded with.
	ErrKeyMismatch = errors.New("private key does not match the certificate")
	// ErrNotCA means a certificate loaded as a CA cannot sign certificates.
	ErrNotCA = errors.New("certificate is not a CA (basic constraints CA:TRUE and key usage CertSign are required)")
	// ErrExists means InitDir would overwrite a file and InitOptions.Force
	// is not set. It also matches fs.ErrExist.
	ErrExists = fmt.Errorf("refusing to overwrite (set Force to replace it): %w", fs.ErrExist)
	// ErrInvalidRequest is matched by every error about the arguments of
	// NewCA, IssueServer, IssueClient and InitDir (a non-positive validity,
	// a missing name, a malformed URI SAN, ...).
	ErrInvalidRequest = errors.New("invalid certificate request")
)

// FileError reports a problem with one file: Path names it and Err says
// what is wrong. Err is a sentinel of this package (ErrNotPEM, ...), an
// error wrapping one, or the error of the operating system (which matches
// fs.ErrNotExist for a missing file, fs.ErrPermission, ...).
type FileError struct {
	// Path is the file, as the caller named it.
	Path string
	// Err is the problem.
	Err error
}

// Error implements error.
func (e *FileError) Error() string { return e.Path + ": " + e.Err.Error() }

// Unwrap returns Err, so errors.Is and errors.As see through a FileError.
func (e *FileError) Unwrap() error { return e.Err }

// fileError wraps err with path. An *fs.PathError is unwrapped first, so the
// message names the path once ("ca.crt: no such file or directory").
func fileError(path string, err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	return &FileError{Path: path, Err: err}
}

// invalid returns an error matching ErrInvalidRequest.
func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalidRequest, fmt.Sprintf(format, args...))
}
