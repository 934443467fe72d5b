package enos

import (
	"context"
	"sync"
)

// flight shares one fetch among the callers that need it at the same time.
// The fetch runs detached from any one caller's cancellation, so a caller
// that gives up does not fail the others; each caller waits only as long
// as its own context allows.
type flight[T any] struct {
	mu      sync.Mutex
	current *flightCall[T]
}

type flightCall[T any] struct {
	done chan struct{}
	val  T
	err  error
}

func (f *flight[T]) do(ctx context.Context, fetch func(context.Context) (T, error)) (T, error) {
	f.mu.Lock()
	call := f.current
	if call == nil {
		call = &flightCall[T]{done: make(chan struct{})}
		f.current = call
		go func() {
			call.val, call.err = fetch(context.WithoutCancel(ctx))
			f.mu.Lock()
			f.current = nil
			f.mu.Unlock()
			close(call.done)
		}()
	}
	f.mu.Unlock()
	select {
	case <-call.done:
		return call.val, call.err
	case <-ctx.Done():
		var zero T
		return zero, ctx.Err()
	}
}
