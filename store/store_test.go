package store_test

import "time"

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
