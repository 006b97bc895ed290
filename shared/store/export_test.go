package store

import "time"

// SetPageSize shrinks Query pages so tests exercise pagination.
func SetPageSize(s *Store, n int32) { s.pageSize = n }

// SetBatchRetry bounds the UnprocessedKeys retry for tests.
func SetBatchRetry(s *Store, attempts int, backoff time.Duration) {
	s.batchAttempts, s.batchBackoff = attempts, backoff
}
