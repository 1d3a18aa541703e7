//go:build !linux

package main

// advise does nothing: transparent huge pages are a Linux feature.
func (h *hugePages) advise() {}
