// Package nsenter runs code in a network namespace. A network namespace is
// a property of an OS thread, not of a goroutine, so the code runs on a
// thread locked to a goroutine of its own, switched into the namespace and
// back. This is the project's one way of doing that.
package nsenter

import (
	"runtime"

	"github.com/vishvananda/netns"
)

// Error is a failure to switch a thread into or out of a namespace; the
// errors of the function run there are returned as they are.
type Error struct {
	Op   string // "finding the current", "opening", "entering" or "leaving"
	Path string // the namespace's path, when known
	Err  error
}

func (e *Error) Error() string {
	s := e.Op + " network namespace"
	if e.Path != "" {
		s += " " + e.Path
	}
	return s + ": " + e.Err.Error()
}

func (e *Error) Unwrap() error { return e.Err }

// Run runs fn on an OS thread switched into the network namespace ns and
// waits for it. Everything fn opens there (sockets, pcap handles, netlink
// handles, child processes) stays in ns. With netns.None(), fn runs on a
// locked thread of the caller's namespace, and whatever namespace fn moves
// the thread to (netns.NewNamed does) is left on return. If the thread
// cannot be switched back, it stays locked, so Go discards it when its
// goroutine ends instead of running other goroutines in the wrong namespace.
func Run(ns netns.NsHandle, fn func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := netns.Get()
		if err != nil {
			runtime.UnlockOSThread()
			errc <- &Error{Op: "finding the current", Err: err}
			return
		}
		defer orig.Close()
		if ns.IsOpen() {
			if err := netns.Set(ns); err != nil {
				runtime.UnlockOSThread()
				errc <- &Error{Op: "entering", Err: err}
				return
			}
		}
		ferr := fn()
		if err := netns.Set(orig); err != nil {
			errc <- &Error{Op: "leaving", Err: err}
			return
		}
		runtime.UnlockOSThread()
		errc <- ferr
	}()
	return <-errc
}

// RunPath is Run for the namespace bind-mounted at path, as
// /run/netns/NAME or /proc/PID/ns/net; with an empty path fn runs at once
// on the caller's thread and namespace.
func RunPath(path string, fn func() error) error {
	if path == "" {
		return fn()
	}
	ns, err := netns.GetFromPath(path)
	if err != nil {
		return &Error{Op: "opening", Path: path, Err: err}
	}
	defer ns.Close()
	err = Run(ns, fn)
	if e, ok := err.(*Error); ok {
		e.Path = path
	}
	return err
}
