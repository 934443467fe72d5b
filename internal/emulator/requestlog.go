package emulator

// Bounds of the request log: a long-running emulator (a shared CI host, a
// demo left on) keeps the newest requests only.
const (
	defaultRequestLogSize = 10000
	maxRequestLogBytes    = 64 << 20 // of request bodies
)

// requestLog keeps the newest requests, at most size of them and
// maxRequestLogBytes of their bodies, and counts every request by
// operation (Count stays exact when old entries are dropped).
type requestLog struct {
	size    int
	entries []Request // entries[start:] are kept
	start   int
	bytes   int
	counts  map[string]int
}

func (l *requestLog) add(r Request) {
	if l.counts == nil {
		l.counts = map[string]int{}
	}
	l.counts[r.Operation]++
	l.entries = append(l.entries, r)
	l.bytes += len(r.Body)
	for len(l.entries)-l.start > 1 && (len(l.entries)-l.start > l.size || l.bytes > maxRequestLogBytes) {
		l.bytes -= len(l.entries[l.start].Body)
		l.entries[l.start] = Request{}
		l.start++
	}
	// Dropped entries are given back once they are half the slice: each
	// entry is copied at most once per halving, so add is amortized O(1).
	if l.start > len(l.entries)/2 {
		l.entries = append([]Request(nil), l.entries[l.start:]...)
		l.start = 0
	}
}

func (l *requestLog) all() []Request { return append([]Request(nil), l.entries[l.start:]...) }

func (l *requestLog) reset() { *l = requestLog{size: l.size} }
