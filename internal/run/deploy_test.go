package run

import (
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/swarm"
)

func task(slot int, created time.Time, state swarm.TaskState, at time.Time) swarm.Task {
	t := swarm.Task{Slot: slot, Status: swarm.TaskStatus{State: state, Timestamp: at}}
	t.Meta.CreatedAt = created
	return t
}

// A producer slot is done when its newest task completed: a task that
// failed, was restarted or drained and got a new task in its slot is not
// the slot's end; one that got none within restartWait is an error.
func TestSlotsDone(t *testing.T) {
	t0 := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	now := t0.Add(time.Minute)
	cases := []struct {
		name  string
		tasks []swarm.Task
		done  bool
		err   string
	}{
		{"both complete", []swarm.Task{
			task(1, t0, swarm.TaskStateComplete, now), task(2, t0, swarm.TaskStateComplete, now)}, true, ""},
		{"one running", []swarm.Task{
			task(1, t0, swarm.TaskStateComplete, now), task(2, t0, swarm.TaskStateRunning, now)}, false, ""},
		{"failed, then a new task completed", []swarm.Task{
			task(1, t0, swarm.TaskStateComplete, now), task(2, t0, swarm.TaskStateFailed, t0.Add(5*time.Second)),
			task(2, t0.Add(5*time.Second), swarm.TaskStateComplete, now)}, true, ""},
		{"drained, its new task still running", []swarm.Task{
			task(1, t0, swarm.TaskStateComplete, now), task(2, t0, swarm.TaskStateShutdown, t0.Add(5*time.Second)),
			task(2, t0.Add(5*time.Second), swarm.TaskStateRunning, now)}, false, ""},
		{"failed just now, no new task yet", []swarm.Task{
			task(1, t0, swarm.TaskStateComplete, now), task(2, t0, swarm.TaskStateFailed, now.Add(-time.Second))}, false, ""},
		{"failed long ago, no new task", []swarm.Task{
			task(1, t0, swarm.TaskStateComplete, now), task(2, t0, swarm.TaskStateFailed, t0)}, false, "producer task 2 failed"},
		{"a slot missing", []swarm.Task{task(1, t0, swarm.TaskStateComplete, now)}, false, ""},
	}
	for _, c := range cases {
		done, err := slotsDone(c.tasks, 2, now)
		if done != c.done || (err == nil) != (c.err == "") || (err != nil && !strings.Contains(err.Error(), c.err)) {
			t.Errorf("%s: slotsDone = %v, %v; want %v, %q", c.name, done, err, c.done, c.err)
		}
	}
}
