//go:build !linux

package classify

import "time"

func threadCPU() time.Duration { return 0 }

func processCPU() time.Duration { return 0 }

const haveThreadCPU = false
