package stacks

import (
	"testing"
	"time"

	"github.com/docker/docker/api/types/mount"
	"github.com/docker/docker/api/types/swarm"
)

// A task is from the service's current spec only when nothing a stack file
// sets differs; the defaults the engine fills into the service's spec and
// a placement change do not count.
func TestSameContainerSpec(t *testing.T) {
	spec := func(image string, force uint64, env ...string) swarm.TaskSpec {
		return swarm.TaskSpec{ForceUpdate: force, ContainerSpec: &swarm.ContainerSpec{Image: image, Env: env, Args: []string{"--collector.cpu"}}}
	}
	svc := spec("reg/kafka:b", 0, "KAFKA_HEAP_OPTS=-Xmx1g")
	// What the service's spec reads back with the engine's defaults, and
	// its placement: not a change of the task.
	grace := 10 * time.Second
	svc.ContainerSpec.DNSConfig, svc.ContainerSpec.StopGracePeriod = &swarm.DNSConfig{}, &grace
	svc.Placement = &swarm.Placement{Constraints: []string{"node.role == manager"}}
	with := func(change func(*swarm.TaskSpec)) swarm.TaskSpec {
		s := spec("reg/kafka:b", 0, "KAFKA_HEAP_OPTS=-Xmx1g")
		change(&s)
		return s
	}
	for _, c := range []struct {
		name string
		task swarm.TaskSpec
		same bool
	}{
		{"same", spec("reg/kafka:b", 0, "KAFKA_HEAP_OPTS=-Xmx1g"), true},
		{"image", spec("reg/kafka:a", 0, "KAFKA_HEAP_OPTS=-Xmx1g"), false},
		{"env", spec("reg/kafka:b", 0, "KAFKA_HEAP_OPTS=-Xmx2g"), false},
		{"forced update", spec("reg/kafka:b", 1, "KAFKA_HEAP_OPTS=-Xmx1g"), false},
		{"no container", swarm.TaskSpec{}, false},
		// 2026-12-05: node-exporter's collectors changed in its args only.
		{"args", with(func(s *swarm.TaskSpec) {
			s.ContainerSpec.Args = []string{"--collector.disable-defaults", "--collector.cpu"}
		}), false},
		{"command", with(func(s *swarm.TaskSpec) { s.ContainerSpec.Command = []string{"/bin/sh"} }), false},
		{"hostname", with(func(s *swarm.TaskSpec) { s.ContainerSpec.Hostname = "kafka-9" }), false},
		{"labels", with(func(s *swarm.TaskSpec) { s.ContainerSpec.Labels = map[string]string{"a": "b"} }), false},
		{"mounts", with(func(s *swarm.TaskSpec) {
			s.ContainerSpec.Mounts = []mount.Mount{{Source: "/proc", Target: "/host/proc"}}
		}), false},
		{"configs", with(func(s *swarm.TaskSpec) {
			s.ContainerSpec.Configs = []*swarm.ConfigReference{{ConfigID: "x", ConfigName: "prometheus-abc"}}
		}), false},
		{"resources", with(func(s *swarm.TaskSpec) {
			s.Resources = &swarm.ResourceRequirements{Limits: &swarm.Limit{MemoryBytes: 1 << 30}}
		}), false},
		{"networks", with(func(s *swarm.TaskSpec) { s.Networks = []swarm.NetworkAttachmentConfig{{Target: "testbed"}} }), false},
	} {
		if got := sameContainerSpec(c.task, svc); got != c.same {
			t.Errorf("%s: task %+v against service %+v: same %v, want %v", c.name, c.task.ContainerSpec, svc.ContainerSpec, got, c.same)
		}
	}
}
