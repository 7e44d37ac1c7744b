package loadgen

import (
	"os"
	"strconv"
	"strings"
	"time"
)

// processCPU returns the CPU time (user and system) a process has used so
// far, from /proc/<pid>/stat, and false where that is not available (not
// Linux, no such process). The resolution is the kernel's clock tick,
// usually 10ms.
func processCPU(pid int) (time.Duration, bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, false
	}
	// The command name, field 2, is in parentheses and may hold spaces.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, false
	}
	f := strings.Fields(s[i+1:])
	// Fields from 3 on: f[0] is field 3 (state); utime and stime are
	// fields 14 and 15.
	if len(f) < 13 {
		return 0, false
	}
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, false
	}
	const ticksPerSecond = 100 // USER_HZ on every Linux architecture Go supports
	return time.Duration(ut+st) * time.Second / ticksPerSecond, true
}

// cpuSample is the CPU time of the server process and of this process at
// one moment.
type cpuSample struct {
	server, self     time.Duration
	serverOK, selfOK bool
}

func sampleCPU(serverPID int) cpuSample {
	var s cpuSample
	if serverPID > 0 {
		s.server, s.serverOK = processCPU(serverPID)
	}
	s.self, s.selfOK = processCPU(os.Getpid())
	return s
}
