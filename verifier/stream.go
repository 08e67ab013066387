package verifier

import "hash"

// NewMAC returns a MAC keyed with key that has already consumed everything
// the scheme signs before the body, for a signer that hashes the body as it
// streams. Write the body to it, then call SumMAC. Not for token schemes.
func (s *Scheme) NewMAC(key []byte, id, ts string) hash.Hash {
	return s.newMAC(key, id, ts)
}

// SumMAC completes a MAC from NewMAC with what the scheme signs after the
// body, and returns the raw signature: the same bytes as Digest.
func (s *Scheme) SumMAC(m hash.Hash, id, ts string) []byte {
	writeParts(m, s.after, id, ts)
	return m.Sum(nil)
}
