package capture

import "io"

// source is a read buffer that hands out slices of itself, so records are
// parsed in place without copying or allocating. A slice returned by peek is
// valid until the next peek or discard.
type source struct {
	r        io.Reader
	buf      []byte
	pos, end int   // unread bytes are buf[pos:end]
	off      int64 // input offset of buf[pos]
	err      error // sticky: io.EOF once r is exhausted, or the read error
}

const (
	sourceBufSize = 256 << 10
	maxNoProgress = 100
)

func newSource(r io.Reader, size int) *source {
	return &source{r: r, buf: make([]byte, size)}
}

// peek returns the next n bytes without consuming them. If the input ends (or
// fails) first, it returns the bytes that remain and s.err says why.
func (s *source) peek(n int) []byte {
	if s.end-s.pos >= n {
		return s.buf[s.pos : s.pos+n]
	}
	s.fill(n)
	if s.end-s.pos < n {
		return s.buf[s.pos:s.end]
	}
	return s.buf[s.pos : s.pos+n]
}

func (s *source) fill(n int) {
	if n > len(s.buf) {
		grown := make([]byte, n)
		s.end = copy(grown, s.buf[s.pos:s.end])
		s.pos = 0
		s.buf = grown
	} else if len(s.buf)-s.pos < n {
		s.end = copy(s.buf, s.buf[s.pos:s.end])
		s.pos = 0
	}
	empty := 0
	for s.end-s.pos < n && s.err == nil {
		m, err := s.r.Read(s.buf[s.end:])
		s.end += m
		if err != nil {
			s.err = err
		} else if m == 0 {
			if empty++; empty >= maxNoProgress {
				s.err = io.ErrNoProgress
			}
		}
	}
}

// advance consumes n bytes that peek returned.
func (s *source) advance(n int) {
	s.pos += n
	s.off += int64(n)
}

// discard consumes up to n bytes without keeping them and returns how many
// there were.
func (s *source) discard(n int64) int64 {
	var done int64
	for done < n {
		if s.pos == s.end {
			if s.err != nil {
				break
			}
			s.pos, s.end = 0, 0
			s.fill(1)
			continue
		}
		k := int64(s.end - s.pos)
		if k > n-done {
			k = n - done
		}
		s.advance(int(k))
		done += k
	}
	return done
}

// readErr is the failure that stopped the input, or nil at a clean end.
func (s *source) readErr() error {
	if s.err == io.EOF {
		return nil
	}
	return s.err
}

// Read lets a decompressor consume the source, buffered bytes first.
func (s *source) Read(p []byte) (int, error) {
	if s.pos == s.end {
		if s.err != nil {
			return 0, s.err
		}
		if len(p) >= len(s.buf) {
			n, err := s.r.Read(p)
			s.off += int64(n)
			if err != nil {
				s.err = err
			}
			return n, err
		}
		s.pos, s.end = 0, 0
		s.fill(1)
		if s.pos == s.end {
			return 0, s.err
		}
	}
	n := copy(p, s.buf[s.pos:s.end])
	s.advance(n)
	return n, nil
}
