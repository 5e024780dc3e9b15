package experiment

import "github.com/alert-testbed/testbed/agents/alert"

// ValidateStream checks what `testbed stream` asks of a valid experiment
// besides Validate: its visits have no end, so it injects no faults (they
// are timed to visits and accounted at the end), replays a file only
// over and over (alert.replay_mode infinite), and its records must fit kafka.max_message_bytes up to
// the last visit number the alert ids allow (alert.MaxVisit), whose header
// is longer than a run's.
func (e Experiment) ValidateStream() error {
	err := func() *Error {
		if len(e.Faults) > 0 {
			return errorf("faults", "a stream injects none (it has no end to account them at): run the experiment with `testbed run`, or take them out")
		}
		if e.Alert.ReplayMode == alert.ReplaySinglePass {
			return errorf("alert.replay_mode", "a stream has no end, and a single pass does: use %s (the file over and over, each pass's ids and times shifted), or `testbed run`", alert.ReplayInfinite)
		}
		endless := e
		endless.Visits = alert.MaxVisit
		return endless.checkRecordSize()
	}()
	if err != nil {
		err.File = e.File
		if len(e.Sweep) > 0 {
			err.Run = e.Name
		}
		return err
	}
	return nil
}
