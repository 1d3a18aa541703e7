// Package freelist keeps spare slices for the models of one event loop: buffers a connection,
// a reply or a trace has finished with, handed to the next one instead of a new allocation;
// and Indexes, the free list of a slab (an array whose freed elements are reused).
// It is not safe for concurrent use, like the models it serves; what it keeps affects
// allocation only, never a byte of output.
package freelist
