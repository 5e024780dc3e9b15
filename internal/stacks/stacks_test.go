package stacks

import (
	"testing"

	"github.com/docker/docker/api/types/swarm"
)

// A task is from the service's current spec only with the same image,
// environment and forced-update counter.
func TestSameContainerSpec(t *testing.T) {
	spec := func(image string, force uint64, env ...string) swarm.TaskSpec {
		return swarm.TaskSpec{ForceUpdate: force, ContainerSpec: &swarm.ContainerSpec{Image: image, Env: env}}
	}
	svc := spec("reg/kafka:b", 0, "KAFKA_HEAP_OPTS=-Xmx1g")
	for _, c := range []struct {
		task swarm.TaskSpec
		same bool
	}{
		{spec("reg/kafka:b", 0, "KAFKA_HEAP_OPTS=-Xmx1g"), true},
		{spec("reg/kafka:a", 0, "KAFKA_HEAP_OPTS=-Xmx1g"), false},
		{spec("reg/kafka:b", 0, "KAFKA_HEAP_OPTS=-Xmx2g"), false},
		{spec("reg/kafka:b", 1, "KAFKA_HEAP_OPTS=-Xmx1g"), false},
		{swarm.TaskSpec{}, false},
	} {
		if got := sameContainerSpec(c.task, svc); got != c.same {
			t.Errorf("task %+v against service %+v: same %v, want %v", c.task.ContainerSpec, svc.ContainerSpec, got, c.same)
		}
	}
}
