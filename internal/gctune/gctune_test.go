package gctune

import (
	"errors"
	"io/fs"
	"strings"
	"testing"
)

const meminfo = "MemTotal:       24684136 kB\nMemFree:        19818024 kB\n"

func files(m map[string]string) func(string) ([]byte, error) {
	return func(name string) ([]byte, error) {
		if v, ok := m[name]; ok {
			return []byte(v), nil
		}
		return nil, fs.ErrNotExist
	}
}

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestPlan(t *testing.T) {
	const machine = 24684136 << 10
	for _, c := range []struct {
		name        string
		env, files  map[string]string
		percent     int
		limit       int64
		noteContain string
	}{
		{"defaults", nil, map[string]string{"/proc/meminfo": meminfo}, Percent, machine / 2, "GC percent 400"},
		{"GOGC set", map[string]string{"GOGC": "100"}, map[string]string{"/proc/meminfo": meminfo}, 0, machine / 2, "GOGC=100 from the environment"},
		{"GOGC off", map[string]string{"GOGC": "off"}, nil, 0, 0, "GOGC=off"},
		{"GOMEMLIMIT set", map[string]string{"GOMEMLIMIT": "1GiB"}, map[string]string{"/proc/meminfo": meminfo}, Percent, 0, "GOMEMLIMIT=1GiB from the environment"},
		{"cgroup limit below the machine", nil, map[string]string{"/proc/meminfo": meminfo, "/sys/fs/cgroup/memory.max": "2147483648\n"}, Percent, 1 << 30, "half of 2048 MiB"},
		{"cgroup without a limit", nil, map[string]string{"/proc/meminfo": meminfo, "/sys/fs/cgroup/memory.max": "max\n"}, Percent, machine / 2, ""},
		{"cgroup limit above the machine", nil, map[string]string{"/proc/meminfo": meminfo, "/sys/fs/cgroup/memory.max": "99999999999999\n"}, Percent, machine / 2, ""},
		{"cgroup only", nil, map[string]string{"/sys/fs/cgroup/memory.max": "2147483648"}, Percent, 1 << 30, ""},
		{"nothing readable", nil, nil, Percent, 0, "no memory limit"},
		{"meminfo garbage", nil, map[string]string{"/proc/meminfo": "MemTotal: lots kB\nMemTotal: -5 kB\nMemTotal: 99999999999999999999 kB\n"}, Percent, 0, "no memory limit"},
	} {
		s := Plan(env(c.env), files(c.files))
		if s.Percent != c.percent || s.MemoryLimit != c.limit || !strings.Contains(s.Note, c.noteContain) {
			t.Errorf("%s: Plan = %+v; want percent %d, limit %d, a note with %q", c.name, s, c.percent, c.limit, c.noteContain)
		}
	}
}

// Reading /proc and /sys may fail in any way: no file is no limit.
func TestPlanReadErrors(t *testing.T) {
	s := Plan(env(nil), func(string) ([]byte, error) { return nil, errors.New("permission denied") })
	if s.Percent != Percent || s.MemoryLimit != 0 {
		t.Errorf("Plan with unreadable files = %+v", s)
	}
}
