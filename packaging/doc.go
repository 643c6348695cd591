// Package packaging holds the Debian package of vrrpctl: its nfpm
// configuration (nfpm.yaml), the systemd units, their /etc/default files,
// the maintainer scripts and build-deb, which `make deb` runs. Its test
// builds the package, installs it, checks what it installed and removes
// it. The package has no code.
package packaging
