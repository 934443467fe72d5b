package enos

import (
	"context"
	"sync"
	"time"
)

// flight shares one fetch among the callers that need it at the same time.
// The fetch runs detached from any one caller's cancellation and bounded on
// its own, so a caller that gives up leaves the others waiting; each caller
// waits only as long as its own context allows. It is the one way this
// package shares a fetch (tokens, the server's zone and time, flows).
type flight[T any] struct {
	mu      sync.Mutex
	current *flightCall[T]
}

type flightCall[T any] struct {
	done chan struct{}
	val  T
	err  error
}

// do joins the fetch in flight or starts fetch, bounded by bound.
func (f *flight[T]) do(ctx context.Context, bound time.Duration, fetch func(context.Context) (T, error)) (T, error) {
	f.mu.Lock()
	call := f.current
	if call == nil {
		call = &flightCall[T]{done: make(chan struct{})}
		f.current = call
		go func() {
			fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), bound)
			defer cancel()
			call.val, call.err = fetch(fctx)
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

// cached is a value fetched in a flight on first need and kept once
// fetched; failures are not kept.
type cached[T any] struct {
	mu     sync.Mutex
	val    T
	known  bool
	flight flight[T]
}

// get returns the value, fetching it within bound unless it is known.
func (c *cached[T]) get(ctx context.Context, bound time.Duration, fetch func(context.Context) (T, error)) (T, error) {
	if v, ok := c.peek(); ok {
		return v, nil
	}
	return c.flight.do(ctx, bound, func(ctx context.Context) (T, error) {
		// A fetch that ended just before this one started did the work.
		if v, ok := c.peek(); ok {
			return v, nil
		}
		v, err := fetch(ctx)
		if err == nil {
			c.offer(v)
		}
		return v, err
	})
}

// peek returns the value when it is known.
func (c *cached[T]) peek() (T, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.val, c.known
}

// offer keeps v unless a value is known already: a value learnt on the way
// (a configured zone, an answer read for another purpose) saves the fetch.
func (c *cached[T]) offer(v T) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.known {
		c.val, c.known = v, true
	}
}

// cachedByKey is one cached value per key.
type cachedByKey[K comparable, T any] struct {
	mu    sync.Mutex
	byKey map[K]*cached[T]
}

func (c *cachedByKey[K, T]) of(key K) *cached[T] {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.byKey == nil {
		c.byKey = map[K]*cached[T]{}
	}
	v := c.byKey[key]
	if v == nil {
		v = &cached[T]{}
		c.byKey[key] = v
	}
	return v
}
