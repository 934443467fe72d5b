package emulator

import (
	"context"
	"errors"
	"net"
	"net/http"
	"time"
)

// Server is an Emulator serving HTTP on a local address.
type Server struct {
	*Emulator
	URL  string // like http://127.0.0.1:PORT
	http *http.Server
	done chan struct{}
}

// Start serves a new emulator on a random loopback port.
func Start(opts Options) (*Server, error) { return Listen("127.0.0.1:0", opts) }

// Listen serves a new emulator on addr.
func Listen(addr string, opts Options) (*Server, error) {
	e, err := New(opts)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	s := &Server{
		Emulator: e,
		URL:      "http://" + ln.Addr().String(),
		// Bounded reads, writes and idle connections, so that a slow or
		// stalled client cannot hold the server; a write may last as long
		// as the slowest answer a fault holds in the tests (10 minutes).
		http: &http.Server{Handler: e, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: time.Minute,
			WriteTimeout: 15 * time.Minute, IdleTimeout: 2 * time.Minute},
		done: make(chan struct{}),
	}
	go func() {
		defer close(s.done)
		_ = s.http.Serve(ln) // returns http.ErrServerClosed on Close
	}()
	return s, nil
}

// Close stops the server at once, closing every connection.
func (s *Server) Close() error {
	err := s.http.Close()
	<-s.done
	return err
}

// Shutdown stops the server after the requests in flight finish, or closes
// every connection when ctx ends first.
func (s *Server) Shutdown(ctx context.Context) error {
	err := s.http.Shutdown(ctx)
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		err = s.http.Close()
	}
	<-s.done
	return err
}
