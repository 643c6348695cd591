package analyze

// RunWithoutPrefilter is Run decoding every frame, for the tests that hold
// the prefilter to it.
func RunWithoutPrefilter(src PacketSource, opt Options) (*Analysis, error) {
	return run(src, opt, false)
}
