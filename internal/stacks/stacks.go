// Package stacks deploys the project's swarm stack files (swarm/*.yml) to a
// testbed with `docker stack deploy` through the first manager's Docker
// API, and waits until every service of a stack runs its desired replicas.
// The stack file format is the Compose file format that `docker stack`
// implements; reimplementing its translation to swarm services would add
// nothing, so the docker CLI does that part.
package stacks

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/swarm"
	"github.com/docker/docker/client"

	testbed "github.com/alert-testbed/testbed"
)

// Stack is one stack file and the values substituted into it.
type Stack struct {
	Name string            // stack namespace, e.g. kafka
	File string            // path in the embedded swarm/ folder, e.g. swarm/kafka.yml
	Vars map[string]string // ${VAR} values
	// Files are written beside the stack file (path relative to it, e.g.
	// prometheus/prometheus.yml): the configs its services mount.
	Files map[string][]byte
}

// Hash identifies the stack file with its values; the services carry it
// as the label testbed.stack-hash, so a second deploy can be skipped.
func (s Stack) Hash() (string, error) {
	data, err := testbed.Files.ReadFile(s.File)
	if err != nil {
		return "", err
	}
	h := sha256.New()
	h.Write(data)
	keys := make([]string, 0, len(s.Vars))
	for k := range s.Vars {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(h, "\x00%s=%s", k, s.Vars[k])
	}
	fmt.Fprintf(h, "\x00files=%s", s.FilesHash())
	return hex.EncodeToString(h.Sum(nil))[:16], nil
}

// FilesHash identifies the contents of Files; stack files name their
// config objects with it, since swarm configs cannot be changed in place.
func (s Stack) FilesHash() string {
	h := sha256.New()
	names := make([]string, 0, len(s.Files))
	for n := range s.Files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(h, "%s\x00%d\x00", n, len(s.Files[n]))
		h.Write(s.Files[n])
	}
	return hex.EncodeToString(h.Sum(nil))[:12]
}

// Deploy runs `docker stack deploy` unless every service of the stack
// already carries this stack's hash; it returns whether it deployed.
// dockerHost is the manager's Docker API; workDir holds the rendered file.
func Deploy(ctx context.Context, api *client.Client, dockerHost, workDir string, s Stack) (bool, error) {
	hash, err := s.Hash()
	if err != nil {
		return false, err
	}
	services, err := Services(ctx, api, s.Name)
	if err != nil {
		return false, err
	}
	current := len(services) > 0
	for _, svc := range services {
		if svc.Spec.Labels["testbed.stack-hash"] != hash {
			current = false
		}
	}
	if current {
		return false, nil
	}
	data, err := testbed.Files.ReadFile(s.File)
	if err != nil {
		return false, err
	}
	if err := os.MkdirAll(workDir, 0o755); err != nil {
		return false, err
	}
	file := filepath.Join(workDir, filepath.Base(s.File))
	if err := os.WriteFile(file, data, 0o644); err != nil {
		return false, err
	}
	for name, content := range s.Files {
		p := filepath.Join(workDir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return false, err
		}
		if err := os.WriteFile(p, content, 0o644); err != nil {
			return false, err
		}
	}
	// --resolve-image never: the nodes pull from the testbed registry by an
	// address the host cannot resolve, so the CLI must not look images up.
	cmd := exec.CommandContext(ctx, "docker", "stack", "deploy", "--prune", "--resolve-image", "never", "-c", file, s.Name)
	cmd.Env = append(os.Environ(), "DOCKER_HOST="+dockerHost, "DOCKER_CONTEXT=", "STACK_HASH="+hash, "CONFIG_HASH="+s.FilesHash())
	for k, v := range s.Vars {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		return false, fmt.Errorf("docker stack deploy %s: %v\n%s", s.Name, err, strings.TrimSpace(string(out)))
	}
	return true, nil
}

// Services lists a stack's services with their running and desired task
// counts.
func Services(ctx context.Context, api *client.Client, stack string) ([]swarm.Service, error) {
	f := filters.NewArgs()
	if stack != "" {
		f.Add("label", "com.docker.stack.namespace="+stack)
	}
	svcs, err := api.ServiceList(ctx, swarm.ServiceListOptions{Filters: f, Status: true})
	if err != nil {
		return nil, fmt.Errorf("service ls: %w", err)
	}
	sort.Slice(svcs, func(i, j int) bool { return svcs[i].Spec.Name < svcs[j].Spec.Name })
	return svcs, nil
}

// Replicas returns running and desired task counts of a service.
func Replicas(s swarm.Service) (running, desired uint64) {
	if s.ServiceStatus == nil {
		return 0, 0
	}
	return s.ServiceStatus.RunningTasks, s.ServiceStatus.DesiredTasks
}

// WaitRunning waits until every service of the stack runs all its desired
// tasks, each from the service's current spec: after a deploy that changed
// a service (a new image, other environment), swarm replaces its tasks one
// after another, and until it has, the old ones still count as running. On
// timeout the error names the services that are not there, with the last
// error of their tasks; an update that swarm paused or rolled back fails at
// once.
func WaitRunning(ctx context.Context, api *client.Client, stack string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		svcs, err := Services(ctx, api, stack)
		if err != nil {
			return err
		}
		var behind []string
		for _, s := range svcs {
			if u := s.UpdateStatus; u != nil && (u.State == swarm.UpdateStatePaused || u.State == swarm.UpdateStateRollbackCompleted || u.State == swarm.UpdateStateRollbackPaused) {
				return fmt.Errorf("service %s: swarm's update %s: %s%s (`docker service ps %s` on a manager shows its tasks)", s.Spec.Name, u.State, u.Message, lastTaskError(ctx, api, s.ID), s.Spec.Name)
			}
			running, desired := Replicas(s)
			if desired == 0 || running < desired {
				behind = append(behind, fmt.Sprintf("%s %d/%d%s", s.Spec.Name, running, desired, lastTaskError(ctx, api, s.ID)))
				continue
			}
			// An old task still counts as running while swarm stops it
			// (its desired state already shutdown) and starts its
			// successor.
			current, err := currentRunning(ctx, api, s)
			if err != nil {
				return err
			}
			if current < desired {
				behind = append(behind, fmt.Sprintf("%s: %d of %d tasks running from its current spec (updating)", s.Spec.Name, current, desired))
			}
		}
		if len(svcs) > 0 && len(behind) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			if len(svcs) == 0 {
				return fmt.Errorf("stack %s has no services", stack)
			}
			return fmt.Errorf("stack %s not running after %s: %s", stack, timeout, strings.Join(behind, "; "))
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(2 * time.Second):
		}
	}
}

// currentRunning counts the service's tasks that run, are meant to, and
// run its current container spec (sameContainerSpec).
func currentRunning(ctx context.Context, api *client.Client, s swarm.Service) (uint64, error) {
	tasks, err := api.TaskList(ctx, swarm.TaskListOptions{Filters: filters.NewArgs(
		filters.Arg("service", s.ID), filters.Arg("desired-state", "running"))})
	if err != nil {
		return 0, fmt.Errorf("tasks of %s: %w", s.Spec.Name, err)
	}
	var n uint64
	for _, t := range tasks {
		if t.Status.State == swarm.TaskStateRunning && sameContainerSpec(t.Spec, s.Spec.TaskTemplate) {
			n++
		}
	}
	return n, nil
}

// sameContainerSpec says whether a task runs its service's current spec,
// by what a stack file sets and a deploy changes: the container's image,
// command and arguments, environment, hostname, labels, user, working
// directory, mounts, configs and secrets; the task's resources and
// networks; and the forced-update counter. Not compared: placement (swarm
// keeps a task whose node still meets a changed constraint) and what the
// service's spec reads back with the engine's defaults filled in where the
// task's has none (DNS config, privileges, stop grace period).
func sameContainerSpec(task, service swarm.TaskSpec) bool {
	if task.ForceUpdate != service.ForceUpdate || (task.ContainerSpec == nil) != (service.ContainerSpec == nil) {
		return false
	}
	if !reflect.DeepEqual(task.Resources, service.Resources) || !reflect.DeepEqual(task.Networks, service.Networks) {
		return false
	}
	if task.ContainerSpec == nil {
		return true
	}
	t, s := task.ContainerSpec, service.ContainerSpec
	return t.Image == s.Image && slices.Equal(t.Command, s.Command) && slices.Equal(t.Args, s.Args) &&
		slices.Equal(t.Env, s.Env) && t.Hostname == s.Hostname && maps.Equal(t.Labels, s.Labels) &&
		t.User == s.User && t.Dir == s.Dir && reflect.DeepEqual(t.Mounts, s.Mounts) &&
		reflect.DeepEqual(t.Configs, s.Configs) && reflect.DeepEqual(t.Secrets, s.Secrets)
}

func lastTaskError(ctx context.Context, api *client.Client, serviceID string) string {
	tasks, err := api.TaskList(ctx, swarm.TaskListOptions{Filters: filters.NewArgs(filters.Arg("service", serviceID))})
	if err != nil {
		return ""
	}
	var latest *swarm.Task
	for i := range tasks {
		if tasks[i].Status.Err != "" && (latest == nil || tasks[i].Status.Timestamp.After(latest.Status.Timestamp)) {
			latest = &tasks[i]
		}
	}
	if latest == nil {
		return ""
	}
	return " (" + latest.Status.Err + ")"
}
