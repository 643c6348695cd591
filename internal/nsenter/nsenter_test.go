package nsenter

import (
	"errors"
	"os"
	"testing"

	"github.com/vishvananda/netns"

	"github.com/vrrpctl/vrrpctl/internal/testenv"
)

func TestRunPathErrors(t *testing.T) {
	want := errors.New("from fn")
	if err := RunPath("", func() error { return want }); err != want {
		t.Errorf("RunPath(\"\") = %v; want fn's error as it is", err)
	}
	err := RunPath("/nonexistent/netns", func() error { t.Error("fn ran"); return nil })
	var e *Error
	if !errors.As(err, &e) || e.Op != "opening" || e.Path != "/nonexistent/netns" || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("RunPath(missing) = %#v", err)
	}
}

// TestRunStaysInNamespace enters the caller's own namespace (setns needs
// root even for that) and none at all: fn must see that namespace, and
// its error must come back as it is.
func TestRunStaysInNamespace(t *testing.T) {
	testenv.NeedRoot(t)
	self, err := netns.Get()
	if err != nil {
		t.Fatal(err)
	}
	defer self.Close()
	for _, ns := range []netns.NsHandle{self, netns.None()} {
		want := errors.New("from fn")
		err := Run(ns, func() error {
			cur, err := netns.Get()
			if err != nil {
				return err
			}
			defer cur.Close()
			if !cur.Equal(self) {
				t.Error("fn ran in another namespace")
			}
			return want
		})
		if err != want {
			t.Errorf("Run = %v; want fn's error as it is", err)
		}
	}
}
