package experiment

import "github.com/alert-testbed/testbed/agents/alert"

// ValidateStream checks what `testbed stream` asks of a valid experiment
// besides Validate: its visits have no end, so it injects no faults (they
// are timed to visits and accounted at the end), replays no file (not on
// the swarm yet), and its records must fit kafka.max_message_bytes up to
// the last visit number the alert ids allow (alert.MaxVisit), whose header
// is longer than a run's.
func (e Experiment) ValidateStream() error {
	err := func() *Error {
		if len(e.Faults) > 0 {
			return errorf("faults", "a stream injects none (it has no end to account them at): run the experiment with `testbed run`, or take them out")
		}
		if e.Alert.Replay != "" {
			return errorf("alert.replay", "a stream replays no file yet (the agents read no files on the swarm): generate the alerts, or run it with alert-producer --replay from this host")
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
