// naive: the whole-file store without any fsync (rewrite a temp file, rename it).
// Speaks powercut's exec protocol; powercut must catch it losing acked writes.
package main

import (
	"powercut/filestore"
	"powercut/kvproto"
)

func main() { kvproto.Serve(&filestore.Store{Durable: false}) }
