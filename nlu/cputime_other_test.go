//go:build !linux

package nlu_test

import "time"

func threadCPU() time.Duration { return 0 }

const haveThreadCPU = false
