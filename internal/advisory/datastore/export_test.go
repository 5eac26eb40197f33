// SPDX-License-Identifier: Apache-2.0

package datastore

// SetTestHookSnapshotWritten lets the external tests stop a Put between
// writing its snapshot and swapping "current" (where kill -9 leaves an
// orphan).
func SetTestHookSnapshotWritten(f func(dir string)) { testHookSnapshotWritten = f }
