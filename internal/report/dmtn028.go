package report

// Published is one row of DMTN-028's summary table ("Below is a table of
// simulations ordered from the smallest total alert distribution duration
// to largest"): measured on AWS in 2018 with Docker for AWS, 10,000 alerts
// per visit with postage stamps (~136 KB each) every 39 s, Kafka 1.x.
// Consumers are consumer groups, each reading the whole stream. Times are
// seconds: producing is DMTN-028's "serialization and send to Kafka",
// consuming its transit time to the consumers, total their sum.
type Published struct {
	Producers, Consumers, Partitions int
	Producing, ProducingSD           float64
	Consuming, ConsumingSD           float64
	Total                            float64
}

// DMTN028AlertsPerVisit and DMTN028Stamps are the table's common settings.
const (
	DMTN028AlertsPerVisit = 10000
	DMTN028Stamps         = true
)

// DMTN028Table is DMTN-028's summary table, in its order (by total).
var DMTN028Table = []Published{
	{100, 11, 10, 3.75, 1.30, 10.8, 3.52, 14.55},
	{10, 2, 1, 7.46, 0.23, 11.0, 2.0, 18.46},
	{100, 2, 1, 5.9, 1.3, 14.9, 1.3, 20.8},
	{10, 4, 1, 6.26, 0.93, 17.91, 3.33, 24.17},
	{10, 6, 1, 7.15, 1.34, 21.14, 2.17, 28.29},
	{1, 2, 1, 33.1, 2.02, 0.16, 0.23, 33.26},
	{10, 11, 1, 8.82, 2.41, 2068, 1131, 2077},
}

// PublishedFor returns the table's row with these producers, consumer
// groups and partitions, if the run sends stamps as the table's did.
func PublishedFor(producers, consumers, partitions int, stamps bool) (Published, bool) {
	if stamps != DMTN028Stamps {
		return Published{}, false
	}
	for _, p := range DMTN028Table {
		if p.Producers == producers && p.Consumers == consumers && p.Partitions == partitions {
			return p, true
		}
	}
	return Published{}, false
}
