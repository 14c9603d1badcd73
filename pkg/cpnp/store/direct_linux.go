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

package store

import (
	"os"
	"syscall"
)

// openDirect opens the journal at path a second time for direct I/O
// (O_DIRECT: writes bypass the page cache and reach the device before
// they return), for the committer's frame writes. It returns nil when the
// file system refuses direct I/O (tmpfs, some network and FUSE file
// systems): frames are then written through the page cache. Either way a
// commit is acknowledged only after the fdatasync that follows the write
// (the device's cache flush), so durability is the same; direct writes
// only leave fdatasync less to do (issue #3: about 0.11 ms instead of
// 0.15 ms per commit on the development machine's ext4).
func openDirect(path string) *os.File {
	f, err := os.OpenFile(path, os.O_WRONLY|syscall.O_DIRECT, 0)
	if err != nil {
		return nil
	}
	return f
}
