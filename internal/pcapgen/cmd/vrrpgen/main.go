// Command vrrpgen writes the synthetic VRRP scenarios as capture files.
//
//	go run ./internal/pcapgen/cmd/vrrpgen -o DIR [scenario...]
//
// Each scenario is written to DIR/NAME.pcap (NAME.pcapng for pcapng ones);
// without names, all of them. -l lists the scenarios with their stories.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/vrrpctl/vrrpctl/internal/pcapgen"
)

func main() {
	dir := flag.String("o", ".", "directory to write the captures to")
	list := flag.Bool("l", false, "list the scenarios and exit")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: vrrpgen [-o DIR] [-l] [scenario...]\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	if *list {
		for _, s := range pcapgen.Scenarios() {
			fmt.Printf("%-23s %s\n", s.Name, s.Story)
		}
		return
	}
	scenarios := pcapgen.Scenarios()
	if flag.NArg() > 0 {
		scenarios = scenarios[:0]
		for _, name := range flag.Args() {
			s, ok := pcapgen.Get(name)
			if !ok {
				fmt.Fprintf(os.Stderr, "vrrpgen: no scenario %q (vrrpgen -l lists them)\n", name)
				os.Exit(2)
			}
			scenarios = append(scenarios, s)
		}
	}
	if err := os.MkdirAll(*dir, 0o755); err != nil {
		fmt.Fprintf(os.Stderr, "vrrpgen: %v\n", err)
		os.Exit(1)
	}
	for _, s := range scenarios {
		b, e, err := s.Generate()
		if err != nil {
			fmt.Fprintf(os.Stderr, "vrrpgen: %v\n", err)
			os.Exit(1)
		}
		ext := ".pcap"
		if len(b) >= 4 && b[0] == 0x0a && b[1] == 0x0d && b[2] == 0x0d && b[3] == 0x0a {
			ext = ".pcapng"
		}
		path := filepath.Join(*dir, s.Name+ext)
		if err := os.WriteFile(path, b, 0o644); err != nil {
			fmt.Fprintf(os.Stderr, "vrrpgen: %v\n", err)
			os.Exit(1)
		}
		fmt.Printf("%s: %d frames\n", path, e.Frames)
	}
}
